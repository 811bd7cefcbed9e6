package gemm

// U8U8 sets C = A·B exactly (as U8S8 does), where A is m×k uint8 (row
// stride lda), B is k×n uint8 (row stride ldb) and C is m×n int32 (row
// stride ldc): the product of TensorFlow's quint8×quint8 reference path.
//
// It runs U8S8 on B − 128 (which fits int8) and adds 128·Σ_p A[i][p] to
// row i: A·B = A·(B − 128) + 128·(A·1), an identity in int32 arithmetic
// modulo 2³², so C is exact whenever the true sums fit int32, as they do
// for k ≤ 33025 = ⌊(2³¹−1)/255²⌋. It makes a copy of B (pooled).
func U8U8(m, n, k int, a []uint8, lda int, b []uint8, ldb int, c []int32, ldc int) {
	checkDims("U8U8", m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	if m == 0 || n == 0 {
		return
	}
	pb := getBuf[int8](k * n)
	defer putBuf(pb)
	bs := *pb
	for p := 0; p < k; p++ {
		row := b[p*ldb : p*ldb+n]
		d := bs[p*n : p*n+n]
		for j, v := range row {
			d[j] = int8(v ^ 0x80) // v − 128
		}
	}
	U8S8(m, n, k, a, lda, bs, n, c, ldc)
	for i := 0; i < m; i++ {
		var s int32
		for _, v := range a[i*lda : i*lda+k] {
			s += int32(v)
		}
		s *= 128
		for j := range c[i*ldc : i*ldc+n] {
			c[i*ldc+j] += s
		}
	}
}
