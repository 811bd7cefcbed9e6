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
// The plain path is checked node for node and byte for byte against
// TensorFlow's own outputs (uTensor's quantize_graph pairs); the Intel path
// follows IntelAI/tools @66f88fd, the version INT8-ARITHMETIC.md describes,
// and its weights TF ≥ 1.14's Eigen QuantizeV2 SCALED.
//
// Where the tool would crash or write a graph TensorFlow rejects, qcal
// departs and says so in its doc comments: output nodes are protected from
// remove_training_nodes (TF's own script fails on an Identity output), a
// control input is never quantized (TF's script builds a prologue for
// "^x"), an attribute the FP32 node lacks is left out instead of written
// empty, the function library is kept, and bad graphs give errors naming
// the node instead of Python exceptions. Like the tool, the output has no
// versions.
//
// The rewrite is a pure function of the graph and the options: it reads no
// files and runs no kernels; the weight codes come from package quant.
package quantize
