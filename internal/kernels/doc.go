// Package kernels computes TensorFlow's ops on tensors: one function per op,
// looked up by op type in a registry.
//
// Its place in qcal's flow: internal/exec plans a GraphDef and, node by
// node, calls the kernel registered for the node's op with a Context (the
// NodeDef, its input tensors, a writer for Print's output) and keeps the
// tensors it returns. Kernels never read files or flags.
//
// The FP32 kernels live in the files named by their family (array.go,
// nn.go, math.go, ...); each file registers its ops in an init function
// with Register, so other families (the int8 kernels, int8_*.go) add
// themselves the same way without touching this file. Layouts are
// TensorFlow's defaults: NHWC activations, HWIO filters.
package kernels
