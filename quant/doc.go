// Package quant is TensorFlow's int8 arithmetic as pure functions:
// QuantizeV2 (SCALED and MIN_FIRST, both round modes, narrow range,
// ensure_minimum_range), Dequantize, Requantize and RequantizationRange for
// quint8/qint8/qint32, the step of a range, and the quantization error of a
// range over a histogram (MSE, SQNR, share clipped), for strategies, audits
// and the int8 kernels; the weight rules of quantize_graph and the qint32
// bias pre-quantization of fuse_quantized_conv_and_requantize (BiasScale,
// QuantizeBias); the scales of Intel's fused convolutions and matmuls,
// the MIN_FIRST bias compensation of the matmuls among them
// (MatMulMinFirstBias, MatMulRequantScale).
//
// It imports no graph code: the graph rewrites (insert_logging and the
// others) live under internal/rewrite. The package computes; it does not
// render output or read files.
package quant
