package gemm

// F32 sets C = A·B, where A is m×k (row stride lda), B is k×n (row stride
// ldb) and C is m×n (row stride ldc), all row-major float32.
func F32(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	checkDims("F32", m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	for i := 0; i < m; i++ {
		ci := c[i*ldc : i*ldc+n]
		for j := range ci {
			ci[j] = 0
		}
		for p := 0; p < k; p++ {
			av := a[i*lda+p]
			bp := b[p*ldb : p*ldb+n]
			for j, bv := range bp {
				ci[j] += av * bv
			}
		}
	}
}

// U8S8 sets C = A·B exactly, where A is m×k uint8 (row stride lda), B is
// k×n int8 (row stride ldb) and C is m×n int32 (row stride ldc).
func U8S8(m, n, k int, a []uint8, lda int, b []int8, ldb int, c []int32, ldc int) {
	checkDims("U8S8", m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	for i := 0; i < m; i++ {
		ci := c[i*ldc : i*ldc+n]
		for j := range ci {
			ci[j] = 0
		}
		for p := 0; p < k; p++ {
			av := int32(a[i*lda+p])
			bp := b[p*ldb : p*ldb+n]
			for j, bv := range bp {
				ci[j] += av * int32(bv)
			}
		}
	}
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
