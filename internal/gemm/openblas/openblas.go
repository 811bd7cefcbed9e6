//go:build openblas && cgo

// Package openblas is a yardstick for internal/gemm: OpenBLAS's sgemm
// (Debian's libopenblas-dev) through cgo, benchmarked beside gemm.F32 on
// the same shapes. It builds only with -tags openblas (cgo cannot share a
// package with gemm's Go assembly), never in the default build:
//
//	go test -tags openblas -bench . ./internal/gemm/openblas/
package openblas

// #cgo LDFLAGS: -lopenblas
// #include <cblas.h>
import "C"

// Sgemm sets C = A·B with cblas_sgemm, row-major, on threads OpenBLAS
// threads. m, n and k are positive.
func Sgemm(threads, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	C.openblas_set_num_threads(C.int(threads))
	C.cblas_sgemm(C.CblasRowMajor, C.CblasNoTrans, C.CblasNoTrans, C.blasint(m), C.blasint(n), C.blasint(k),
		1, (*C.float)(&a[0]), C.blasint(lda), (*C.float)(&b[0]), C.blasint(ldb), 0, (*C.float)(&c[0]), C.blasint(ldc))
}
