package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// benchOps runs f in a benchmark loop and reports ops/s in unit (GFLOP/s
// or GOP/s) by the mean time per call, and by the fastest call
// (unit-best): on a machine shared with other jobs the mean counts their
// turns too, while the fastest call is the one least disturbed.
func benchOps(b *testing.B, ops float64, bytes int64, unit string, f func()) {
	b.SetBytes(bytes)
	b.ReportAllocs()
	best := time.Duration(math.MaxInt64)
	for b.Loop() {
		t := time.Now()
		f()
		best = min(best, time.Since(t))
	}
	b.ReportMetric(ops*float64(b.N)/b.Elapsed().Seconds()/1e9, unit)
	b.ReportMetric(ops/best.Seconds()/1e9, unit+"-best")
}

// benchShapes are the products the executor runs most: the Keras MNIST
// CNN's second convolution as im2col + GEMM for a batch of 16 (the
// issue's 7744×50×450), its first for one image (784×32×9: small n and
// k), a square 512³, and a dense layer for a batch of 16 (1600 inputs,
// 10 classes: small m and n).
var benchShapes = []struct{ m, n, k int }{
	{7744, 50, 450},
	{784, 32, 9},
	{512, 512, 512},
	{16, 10, 1600},
}

// BenchmarkF32 reports GFLOP/s (2·m·n·k per product) for each kernel with
// one goroutine and with GOMAXPROCS (the exported F32).
func BenchmarkF32(b *testing.B) {
	for _, s := range benchShapes {
		r := rand.New(rand.NewPCG(1, 2))
		a, bm := randF32(r, s.m*s.k, false), randF32(r, s.k*s.n, false)
		c := make([]float32, s.m*s.n)
		run := func(name string, f func()) {
			b.Run(fmt.Sprintf("%dx%dx%d/%s", s.m, s.n, s.k, name), func(b *testing.B) {
				benchOps(b, 2*float64(s.m*s.n*s.k), int64(4*(s.m*s.k+s.k*s.n+s.m*s.n)), "GFLOP/s", f)
			})
		}
		for _, kern := range f32Kernels {
			run(kern.name+"/packed/1core", func() { f32Blocked(kern, false, 1, s.m, s.n, s.k, a, s.k, bm, s.n, c, s.n) })
			run(kern.name+"/inplace/1core", func() { f32Blocked(kern, true, 1, s.m, s.n, s.k, a, s.k, bm, s.n, c, s.n) })
		}
		run("F32", func() { F32(s.m, s.n, s.k, a, s.k, bm, s.n, c, s.n) })
	}
}

// BenchmarkU8S8 reports GOP/s (2·m·n·k: a multiply and an add per term)
// for each int8 kernel with one goroutine and with GOMAXPROCS (U8S8).
func BenchmarkU8S8(b *testing.B) {
	for _, s := range benchShapes {
		r := rand.New(rand.NewPCG(1, 2))
		a, bm := make([]uint8, s.m*s.k), make([]int8, s.k*s.n)
		for i := range a {
			a[i] = uint8(r.Uint32())
		}
		for i := range bm {
			bm[i] = int8(r.Uint32())
		}
		c := make([]int32, s.m*s.n)
		run := func(name string, f func()) {
			b.Run(fmt.Sprintf("%dx%dx%d/%s", s.m, s.n, s.k, name), func(b *testing.B) {
				benchOps(b, 2*float64(s.m*s.n*s.k), int64(s.m*s.k+s.k*s.n+4*s.m*s.n), "GOP/s", f)
			})
		}
		for _, kern := range u8s8Runners {
			run(kern.kernelName()+"/1core", func() { kern.run(1, s.m, s.n, s.k, a, s.k, bm, s.n, c, s.n) })
		}
		run("U8S8", func() { U8S8(s.m, s.n, s.k, a, s.k, bm, s.n, c, s.n) })
	}
}

// BenchmarkF32PackedB compares F32 with F32Packed (B packed once) on
// MobileNet v1 0.25/128's 1×1 convolutions at batch 1, where B, the
// layer's weights, is as large as A or larger: 32×32 pixels × 32 → 64
// channels, 8×8 × 128 → 128, 4×4 × 256 → 256.
func BenchmarkF32PackedB(b *testing.B) {
	for _, s := range []struct{ m, n, k int }{{1024, 64, 32}, {64, 128, 128}, {16, 256, 256}} {
		r := rand.New(rand.NewPCG(1, 2))
		a, bm := randF32(r, s.m*s.k, false), randF32(r, s.k*s.n, false)
		c := make([]float32, s.m*s.n)
		pb := PackF32(s.k, s.n, bm, s.n)
		for _, packed := range []bool{false, true} {
			name := "F32"
			f := func() { F32(s.m, s.n, s.k, a, s.k, bm, s.n, c, s.n) }
			if packed {
				name = "F32Packed"
				f = func() { F32Packed(s.m, a, s.k, pb, c, s.n) }
			}
			b.Run(fmt.Sprintf("%dx%dx%d/%s", s.m, s.n, s.k, name), func(b *testing.B) {
				benchOps(b, 2*float64(s.m*s.n*s.k), int64(4*(s.m*s.k+s.k*s.n+s.m*s.n)), "GFLOP/s", f)
			})
		}
	}
}
