// Package kernels computes TensorFlow's ops on tensors: one function per op,
// looked up by op type in a registry.
//
// Its place in qcal's flow: internal/exec plans a GraphDef and, node by
// node, calls the kernel registered for the node's op with a Context (the
// NodeDef, its input tensors, a writer for Print's output, reusable
// buffers) and keeps the tensors it returns. Kernels never read files or
// flags. Layouts are TensorFlow's defaults: NHWC activations, HWIO filters.
//
// The FP32 kernels live in files named by their family (basic.go,
// array.go, math.go, nn.go, reduce.go, cast.go, fused.go); each registers
// its ops in an init function. Another family (the int8 kernels,
// int8_*.go) adds itself the same way without touching these files:
//
//	func init() {
//		Register(Def{Op: "QuantizedRelu", Run: quantizedRelu, Check: CheckType("Tinput", ...)})
//	}
//
// A kernel reads its attrs through the Context (c.Int, c.Ints, c.String,
// c.Float, c.Bool, c.Type; errors name the node and the attr), checks its
// inputs (c.WantInputs, c.Float32Input, c.IntsInput), allocates outputs
// with c.New (recycled buffers), and returns errors made with c.Errorf.
// Def.Check runs at load time, before any input is read; Def.TInputs lets
// the executor check input dtypes against the T attr at load time too.
// NewWindow computes TensorFlow's output size and padding for SAME, VALID
// and EXPLICIT; Im2Col (generic, with a pad value for zero points) and
// Parallel (both cores for large loops) are shared with the int8 kernels.
//
// The int8 kernels' inner loops (int8_fast.go) have AVX2 forms in
// int8_amd64.s, chosen at run time (golang.org/x/sys/cpu) and left out with
// the purego build tag; each fast loop is tested bit for bit against the
// obvious loop it replaced, kept in int8_fast_test.go.
//
// The depthwise convolution (depthwise.go) and the fused bias/Relu/Relu6
// epilogue have AVX assembly (depthwise_amd64.s, chosen at run time from
// the CPU's features, off with -tags purego) that gives the Go loops'
// bits: products rounded before they are summed in the same order, Go's
// max/min on ±0 and NaN. Conv2D packs a Const filter for GEMM once per
// graph (Context.Packs; Context.Const says which inputs are Consts).
package kernels
