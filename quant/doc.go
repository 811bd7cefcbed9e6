// Package quant holds qcal's int8 semantics and graph instrumentation.
//
//   - Arithmetic: TensorFlow's QuantizeV2 (SCALED and MIN_FIRST, both round
//     modes, narrow range, ensure_minimum_range), Dequantize, Requantize and
//     RequantizationRange for quint8/qint8/qint32, the step of a range, and
//     the quantization error of a range over a histogram (MSE, SQNR, share
//     clipped), for strategies and audits; the weight rules of
//     quantize_graph and the qint32 bias pre-quantization of
//     fuse_quantized_conv_and_requantize (BiasScale, QuantizeBias).
//   - Instrumentation, the third step of qcal's flow: InsertLogging adds the
//     Print nodes (TensorFlow's insert_logging transform, TF-FORMATS §4) that
//     make an inference run write the `__requant_min_max` lines logparse
//     reads back.
//
// The package computes; it does not render output or read files.
package quant
