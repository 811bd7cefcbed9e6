//go:build openblas && cgo

package openblas

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"qcal/internal/gemm"
)

// shapes are gemm's benchmark shapes: the MNIST CNN's second convolution
// for a batch of 16, its first for one image, and 512³.
var shapes = []struct{ m, n, k int }{{7744, 50, 450}, {784, 32, 9}, {512, 512, 512}}

func operands(m, n, k int) (a, b []float32) {
	r := rand.New(rand.NewPCG(1, 2))
	a, b = make([]float32, m*k), make([]float32, k*n)
	for i := range a {
		a[i] = float32(r.NormFloat64())
	}
	for i := range b {
		b[i] = float32(r.NormFloat64())
	}
	return a, b
}

// TestSameProduct checks that OpenBLAS and gemm.F32 agree within the
// rounding bound of gemm's tests, (k+1)·2⁻²⁴·Σ|a||b| (≤ 2× that for the
// difference of two such results), so that timings compare like with like.
func TestSameProduct(t *testing.T) {
	for _, s := range shapes {
		a, b := operands(s.m, s.n, s.k)
		c1, c2 := make([]float32, s.m*s.n), make([]float32, s.m*s.n)
		Sgemm(1, s.m, s.n, s.k, a, s.k, b, s.n, c1, s.n)
		gemm.F32(s.m, s.n, s.k, a, s.k, b, s.n, c2, s.n)
		for i := 0; i < s.m; i++ {
			for j := 0; j < s.n; j++ {
				var bound float64
				for p := 0; p < s.k; p++ {
					bound += math.Abs(float64(a[i*s.k+p]) * float64(b[p*s.n+j]))
				}
				tol := 2 * float64(s.k+1) * 0x1p-24 * bound
				if d := math.Abs(float64(c1[i*s.n+j]) - float64(c2[i*s.n+j])); d > tol {
					t.Fatalf("%dx%dx%d: c[%d][%d]: OpenBLAS %g, F32 %g", s.m, s.n, s.k, i, j, c1[i*s.n+j], c2[i*s.n+j])
				}
			}
		}
	}
}

// measure runs f in b's loop and reports GFLOP/s by the mean time per
// call and by the fastest call (GFLOP/s-best), as gemm's benchmarks do.
func measure(b *testing.B, flops float64, f func()) {
	best := time.Duration(math.MaxInt64)
	for b.Loop() {
		t := time.Now()
		f()
		best = min(best, time.Since(t))
	}
	b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	b.ReportMetric(flops/best.Seconds()/1e9, "GFLOP/s-best")
}

// BenchmarkSgemm reports GFLOP/s of OpenBLAS on one and two threads and
// of gemm.F32 (single-core under -cpu 1 or GOMAXPROCS=1).
func BenchmarkSgemm(b *testing.B) {
	for _, s := range shapes {
		a, bm := operands(s.m, s.n, s.k)
		c := make([]float32, s.m*s.n)
		flops := 2 * float64(s.m*s.n*s.k)
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("%dx%dx%d/openblas/threads=%d", s.m, s.n, s.k, threads), func(b *testing.B) {
				measure(b, flops, func() { Sgemm(threads, s.m, s.n, s.k, a, s.k, bm, s.n, c, s.n) })
			})
		}
		b.Run(fmt.Sprintf("%dx%dx%d/gemm.F32", s.m, s.n, s.k), func(b *testing.B) {
			measure(b, flops, func() { gemm.F32(s.m, s.n, s.k, a, s.k, bm, s.n, c, s.n) })
		})
	}
}
