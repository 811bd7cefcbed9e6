// Package transform is qcal's transform_graph: TensorFlow's graph transforms
// (tensorflow/tools/graph_transforms) run by name on a GraphDef.
//
// In qcal's flow it sits among the graph rewrites, between freezing a
// checkpoint and quantizing: `qcal transform -transforms 'strip_unused_nodes
// fold_constants fold_batch_norms fold_old_batch_norms'` prepares an FP32
// graph, and freeze_requantization_ranges then
// fuse_quantized_conv_and_requantize (IntelAI's transform: QuantizedConv2D*
// → Requantize with frozen ranges become QuantizedConv2D*AndRequantize, with
// qint32 biases from package quant) finish an int8 one. Parse reads
// transform_graph's list syntax, Check validates it against the registry
// (Transforms), and Apply runs the steps.
//
// The package never runs kernels itself: fold_constants evaluates constant
// subgraphs through an injected ConstEvaluator (qcal's executor), and
// freeze_requantization_ranges reads logs through an injected RangeReader
// (qcal's calibration pipeline) before handing the ranges to package freeze.
//
// Each transform follows TensorFlow's semantics, stated in its doc comment,
// and says where qcal differs: where TensorFlow would write a wrong or
// invalid graph, qcal leaves the nodes alone with a note, and a few
// transforms accept more than TensorFlow's (FusedBatchNormV2/V3 and a
// BiasAdd between conv and batch norm in fold_old_batch_norms). Unknown
// transforms and arguments are errors listing the known ones; TensorFlow
// ignores unknown arguments.
package transform
