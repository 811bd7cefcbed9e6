package gemm

import "runtime"

// F32 sets C = A·B, where A is m×k (row stride lda), B is k×n (row stride
// ldb) and C is m×n (row stride ldc), all row-major float32. C must not
// overlap A or B; the elements between C's rows (ldc > n) are left alone.
//
// Each element of C is summed in the same order (k ascending, in blocks of
// f32KC) whatever the number of goroutines, so the result is deterministic
// on a given machine. The assembly kernels (AVX2, AVX-512) round once per
// multiply-add (FMA) and agree bit for bit; the portable one (other CPUs,
// -tags purego) rounds twice unless the compiler fuses its multiply-adds
// (GOAMD64=v3), so it may differ in the last bits. The
// error is at most about (k+1)·2⁻²⁴·Σ|a||b| per element (gemm_test.go).
func F32(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	checkDims("F32", m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	f32Blocked(f32KernelFor(n), f32Direct(n), workers(m, n, k), m, n, k, a, lda, b, ldb, c, ldc)
}

// F32B is a k×n matrix B packed once for F32Packed: a layer's weights,
// which every call of F32 would otherwise copy into the kernel's panels
// again (a tenth of MobileNet v1 0.25/128's time at batch 1). It is
// immutable and safe for concurrent use.
type F32B struct {
	k, n int
	kern f32Kernel
	p    []float32
}

// PackF32 packs the k×n matrix b (row stride ldb) for F32Packed, with the
// kernel F32 would pick for n columns; the result does not share b.
func PackF32(k, n int, b []float32, ldb int) *F32B {
	checkDims("PackF32", 1, n, k, k, k, len(b), ldb, n, n)
	kern := f32KernelFor(n)
	pb := &F32B{k: k, n: n, kern: kern}
	if n > 0 && k > 0 {
		pb.p = make([]float32, (n+kern.nr-1)/kern.nr*k*kern.nr)
		f32PackB(pb.p, b, ldb, k, n, kern.nr)
	}
	return pb
}

// F32Packed sets C = A·B for B packed by PackF32: the same bits as F32 on
// the matrix B was packed from (the same kernel, blocking and order).
func F32Packed(m int, a []float32, lda int, b *F32B, c []float32, ldc int) {
	n, k := b.n, b.k
	checkDims("F32Packed", m, n, k, len(a), lda, (k-1)*n+n, n, len(c), ldc)
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		for i := 0; i < m; i++ {
			clear(c[i*ldc : i*ldc+n])
		}
		return
	}
	f32Packed(b.kern, f32Direct(n), workers(m, n, k), m, n, k, a, lda, b.p, c, ldc)
}

// U8S8 sets C = A·B exactly, where A is m×k uint8 (row stride lda), B is
// k×n int8 (row stride ldb) and C is m×n int32 (row stride ldc). C must
// not overlap A or B; the elements between C's rows are left alone.
//
// Exactly means as int32 arithmetic would: each sum of products is exact
// while it fits in int32, which it does for k ≤ 65793 (2³¹ / (255·128));
// beyond that it wraps modulo 2³² like int32 addition.
func U8S8(m, n, k int, a []uint8, lda int, b []int8, ldb int, c []int32, ldc int) {
	checkDims("U8S8", m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	u8s8KernelFor(n).run(workers(m, n, k), m, n, k, a, lda, b, ldb, c, ldc)
}

// U8S8B is a k×n int8 matrix packed once for U8S8Packed: the filter of a
// convolution that runs batch after batch. It is read-only and may be
// shared by goroutines.
type U8S8B struct {
	k, n int
	kern u8s8Runner
	bp   any
}

// PackU8S8 packs the k×n matrix b (row stride ldb) for U8S8Packed, in the
// panels of the kernel U8S8 would use for n columns.
func PackU8S8(k, n int, b []int8, ldb int) *U8S8B {
	switch {
	case k < 0 || n < 0:
		panic("gemm: PackU8S8: negative dimension")
	case ldb < n:
		panic("gemm: PackU8S8: leading dimension smaller than a row")
	case n > 0 && k > 0 && len(b) < (k-1)*ldb+n:
		panic("gemm: PackU8S8: slice too short for its matrix")
	}
	kern := u8s8KernelFor(n)
	return &U8S8B{k: k, n: n, kern: kern, bp: kern.pack(k, n, b, ldb)}
}

// Dims returns the matrix's k and n.
func (b *U8S8B) Dims() (k, n int) { return b.k, b.n }

// U8S8Packed sets C = A·B as U8S8 does, B packed by PackU8S8; A is m×k.
func U8S8Packed(m int, a []uint8, lda int, b *U8S8B, c []int32, ldc int) {
	k, n := b.k, b.n
	checkDims("U8S8Packed", m, n, k, len(a), lda, max(0, k*n), n, len(c), ldc)
	b.kern.runPacked(workers(m, n, k), m, n, k, a, lda, b.bp, c, ldc)
}

// f32KernelFor is the kernel F32 runs for n columns; PackF32 packs for
// the same one, so that F32Packed gives F32's bits.
func f32KernelFor(n int) f32Kernel {
	if n <= f32Narrow.nr {
		return f32Narrow
	}
	return f32Best
}

// u8s8KernelFor is the kernel U8S8 runs for n columns, which PackU8S8
// packs for too.
func u8s8KernelFor(n int) u8s8Runner {
	if n <= u8s8Narrow.tileWidth() {
		return u8s8Narrow
	}
	return u8s8Best
}

// parallelOps is the number of multiply-adds (m·n·k) from which a product
// is split over goroutines: below it, starting them costs more than it
// saves (about 20 µs of work on one core at 25 GFLOP/s).
const parallelOps = 1 << 18

// workers returns how many goroutines multiply an m×k by a k×n matrix.
func workers(m, n, k int) int {
	if m*n*k < parallelOps {
		return 1
	}
	return runtime.GOMAXPROCS(0)
}

// checkDims panics (a programmer's mistake, not bad data) when a slice is
// too short for its matrix.
func checkDims(fn string, m, n, k, la, lda, lb, ldb, lc, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic("gemm: " + fn + ": negative dimension")
	}
	if m == 0 || n == 0 {
		return
	}
	if lda < k || ldb < n || ldc < n {
		panic("gemm: " + fn + ": leading dimension smaller than a row")
	}
	if (k > 0 && la < (m-1)*lda+k) || (k > 0 && lb < (k-1)*ldb+n) || lc < (m-1)*ldc+n {
		panic("gemm: " + fn + ": slice too short for its matrix")
	}
}
