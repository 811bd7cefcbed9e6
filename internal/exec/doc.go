// Package exec runs frozen TensorFlow GraphDefs in pure Go.
//
// Its place in qcal's flow: `qcal eval`, calibration and fold_constants
// load a graph with Load (or New), which checks it whole before any input
// is read — every op has a kernel in internal/kernels (one error lists
// every missing op with its nodes), the graph is frozen, every attr a
// kernel needs is valid, every Const decodes, every edge carries the dtype
// its consumer expects, and the shapes known from Placeholders and Consts
// agree through the common ops — and then call Run once per batch.
//
// Run plans the nodes the requested outputs need: pruned to them, in
// topological order (ties by node order, so plans are deterministic),
// control inputs honoured, fed nodes not run. Chains Conv2D, MatMul or
// DepthwiseConv2dNative → BiasAdd → Relu/Relu6 whose intermediates nothing
// else reads run as one fused kernel, as TensorFlow's grappler remapper
// arranges; so does a convolution → Add of a Const vector of one value per
// output channel (BiasAdd's arithmetic; fold_batch_norms writes such Adds). Fed tensors are checked against their Placeholder's dtype and
// shape. Each value is dropped after its last use, and float buffers no
// live value holds are reused for later outputs. Plans are cached per set
// of feeds and fetches; Run may be called from several goroutines.
//
//	g, err := exec.Load("mnist.pb")
//	out, err := g.Run(map[string]*tensor.Tensor{"x": batch}, []string{"logits"})
package exec
