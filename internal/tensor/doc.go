// Package tensor holds the executor's values: a Tensor is a dtype, a shape
// and one typed slice of elements in row-major order.
//
// Its place in qcal's flow: internal/exec and internal/kernels pass Tensors
// between the nodes of a graph; FromProto turns the TensorProto of a Const
// node (or a feed) into a Tensor and ToProto turns a Tensor back into the
// form a frozen GraphDef stores. It knows nothing of graphs or ops.
package tensor
