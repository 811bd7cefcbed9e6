// Package quantize is the eightbit rewrite of quantize_graph.py
// (`--mode=eightbit`), step 5 of qcal's flow: it turns a frozen FP32
// GraphDef into the int8 graph TensorFlow's tool writes, with
// RequantizationRange nodes whose ranges insert-logging, calibrate and
// freeze then fill in.
//
// Two paths, as in the tool (INT8-ARITHMETIC.md §0 and §1):
//   - the Intel path (`--intel_cpu_eightbitize`, the default here): fused
//     QuantizedConv2DWithBias[AndRelu|SumAndRelu] for convolutions fed by a
//     Relu, qint8 SCALED weights, QuantizedMaxPool/AvgPool/ConcatV2,
//     SCALED activations; everything else stays FP32;
//   - the plain path: QuantizedMatMul/Conv2D/BiasAdd/Relu/Relu6/MaxPool/
//     AvgPool/Concat/Reshape/BatchNormWithGlobalNormalization with MIN_FIRST
//     quint8 everywhere, as TensorFlow's own quantize_graph.py wrote it.
//
// The rewrite is a pure function of the graph and the options: it reads no
// files and runs no kernels; the weight codes come from package quant.
package quantize
