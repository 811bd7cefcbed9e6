// Package exec runs frozen TensorFlow GraphDefs in pure Go.
//
// Its place in qcal's flow: `qcal eval`, calibration and fold_constants
// load a graph with Load (or New), which checks it whole before any input
// is read — every op has a kernel in internal/kernels (one error lists
// every missing op with its nodes), every attr a kernel needs is valid,
// every Const decodes — and then call Run once per batch. Run plans the
// nodes the requested outputs need (pruned, in topological order, inputs
// freed after their last use), checks the fed tensors against the
// Placeholders' dtypes and shapes, and calls the kernels node by node.
package exec
