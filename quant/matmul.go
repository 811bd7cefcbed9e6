package quant

// This file holds the scales of Intel's fused quantized matmuls
// (QuantizedMatMulWithBias, …AndRelu, …AndReluAndRequantize: TensorFlow's
// MklDnnQuantizedMatMulOp in tensorflow/core/kernels/mkl_qmatmul_op.cc,
// read in the TF 2.0.0 tree that TF 1.15 shares and in the file's first
// version; facts re-implemented). They differ from the fused
// convolutions' (FusedConvBiasScale, FusedConvRequantScale) in two ways:
// a MIN_FIRST input carries an offset that the bias compensates, and the
// requantize scale goes through the qint32 output range.

// MatMulMinFirstBias returns the bias of a quantized matmul whose quint8
// input a was quantized with MIN_FIRST over [minX, maxX] (so a code q
// stands for minX + q·(maxX-minX)/255) and whose qint8 weights w (k×n)
// have the range [minW, maxW]; colSum[j] = Σ_p w[p, j] in int32. In
// accumulator units, with Q'a = 255/(maxX-minX) and Qw = 127/R_w:
//
//	b'[j] = Q'a·Qw·b[j] + Q'a·minX·colSum[j]
//
// because Σ_p a[i,p]·w[p,j] = Σ_p (q[i,p]/Q'a + minX)·w[p,j] and the
// integer product Σ q·w leaves the minX term out. TF computes it in
// float32 except one double division:
//
//	D      = f32(maxX - minX)
//	R_w    = max(|maxW|, |minW|)
//	qaMin  = f32(f32(255·minX) / D)
//	scale  = f32(32385 / double(f32(D·R_w)))
//	b'[j]  = f32(f32(b[j]·scale) + f32(float(colSum[j])·qaMin))
//
// Each product and sum is rounded to float32 on its own (no fused
// multiply-add). A TF build that lets the compiler contract the last line
// into an FMA can differ in the last bit. D = 0 gives Inf or NaN, as in TF;
// the kernel refuses such a range first.
func MatMulMinFirstBias(b []float32, colSum []int32, minX, maxX, minW, maxW float32) []float32 {
	if len(b) != len(colSum) {
		panic("quant: MatMulMinFirstBias: bias and column sums differ in length")
	}
	d := float32(maxX - minX)
	rw := max(abs32(maxW), abs32(minW))
	qaMin := float32(float32(255*minX) / d)
	scale := float32(32385.0 / float64(float32(d*rw)))
	out := make([]float32, len(b))
	for j, v := range b {
		out[j] = float32(float32(v*scale) + float32(float32(colSum[j])*qaMin))
	}
	return out
}

// MatMulRequantScale is the output scale of Intel's
// QuantizedMatMulWithBiasAndReluAndRequantize (the same for MIN_FIRST and
// SCALED inputs): the qint32 range [min_c, max_c] of
// MklRangeForMultiplication(quint8, qint8, qint32) over the input and
// weight ranges, then
//
//	S32   = max(|min_c|, |max_c|)        (= level·2³¹)
//	S8    = max(|minO|, |maxO|)
//	scale = f32(f32(S32 / S8) / 2²³)     (quint8 output; 2²⁴ for qint8)
//
// With level = (maxX-minX)/255 · (maxW-minW)/254 this is 256·level/S8: for
// weights of a symmetric range [-R, R] it is 256/255 times the convolution's
// FusedConvRequantScale (which divides by K = 255·127); for Eigen SCALED
// weights ([-128/s, 127/s]) the two agree up to rounding.
func MatMulRequantScale(output Type, minX, maxX, minW, maxW, minO, maxO float32) float32 {
	mn, mx := MklRangeForMultiplication(QUInt8, QInt8, QInt32, minX, maxX, minW, maxW)
	s32 := absMax(mn, mx)
	s8 := absMax(minO, maxO)
	div := float32(1 << 23)
	if output == QInt8 {
		div = 1 << 24
	}
	return float32(float32(s32/s8) / div)
}
