// Package freeze writes calibrated ranges into a GraphDef.
//
// It is the last stage of the calibration half of qcal's flow: ranges from
// stats → freeze.Graph → a graph whose RequantizationRange ops have become
// Const nodes, so that Requantize no longer depends on the batch.
//
// The rewrite is TensorFlow's freeze_requantization_ranges (TF-FORMATS §3):
// each frozen node is replaced, at its position, by the Consts NAME/frozen_min
// and NAME/frozen_max (dtype DT_FLOAT, a scalar float tensor written in
// tensor_content), and every input NAME or NAME:0 becomes NAME/frozen_min:0,
// every NAME:1 becomes NAME/frozen_max:0. Where TensorFlow is wrong qcal does
// better and says so:
//   - control inputs ^NAME are rewired to ^NAME/frozen_min (TensorFlow leaves
//     them naming the removed node, and transform_graph then rejects its own
//     output: "Invalid graph with inputs referring to nonexistent nodes");
//   - RequantizationRangePerChannel nodes are frozen the same way;
//   - Min and Max ops logged with __min:/__max: become NAME/frozen_min_only
//     and NAME/frozen_max_only Consts (Intel's flow);
//   - the graph's versions and debug info are kept (transform_graph keeps
//     only the nodes and the function library).
//
// The package does not parse logs.
package freeze
