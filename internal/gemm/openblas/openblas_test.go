//go:build openblas && cgo

package openblas

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"syscall"
	"testing"

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

// threadCPU returns the calling thread's CPU time in seconds (Linux).
func threadCPU() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(1, &ru) // RUSAGE_THREAD
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
}

// BenchmarkSgemm reports GFLOP/s of OpenBLAS on one and two threads, by
// wall time and (one thread) by the thread's CPU time, as gemm's own
// benchmarks do; GOMAXPROCS=1 makes gemm.F32 (also run) single-core.
func BenchmarkSgemm(b *testing.B) {
	for _, s := range shapes {
		a, bm := operands(s.m, s.n, s.k)
		c := make([]float32, s.m*s.n)
		flops := 2 * float64(s.m*s.n*s.k)
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("%dx%dx%d/openblas/threads=%d", s.m, s.n, s.k, threads), func(b *testing.B) {
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				t0 := threadCPU()
				for b.Loop() {
					Sgemm(threads, s.m, s.n, s.k, a, s.k, bm, s.n, c, s.n)
				}
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				if t1 := threadCPU(); threads == 1 && t1 > t0 {
					b.ReportMetric(flops*float64(b.N)/(t1-t0)/1e9, "GFLOP/s-cpu")
				}
			})
		}
		b.Run(fmt.Sprintf("%dx%dx%d/gemm.F32", s.m, s.n, s.k), func(b *testing.B) {
			for b.Loop() {
				gemm.F32(s.m, s.n, s.k, a, s.k, bm, s.n, c, s.n)
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
