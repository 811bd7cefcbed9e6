// Package mnistcnn trains the project's own small MNIST CNN and writes it
// as a frozen TensorFlow GraphDef: a model qcal may ship and test against,
// remade from source with `go generate ./internal/synth/mnistcnn`.
//
// Its place in qcal's flow: it is a fixture maker, like package synth. The
// FP32 graph it writes is what `qcal eval`, `qcal insert-logging`,
// calibration and the eightbit quantize rewrite take as input; nothing in
// qcal's own flow imports it.
//
// The network (NHWC, TF/Keras node names):
//
//	input [-1,28,28,1]
//	conv1/Conv2D 3×3×1×8 SAME, conv1/BiasAdd, conv1/Relu
//	pool1/MaxPool 2×2 stride 2 VALID
//	conv2/Conv2D 3×3×8×16 SAME, conv2/BiasAdd, conv2/Relu
//	pool2/MaxPool 2×2 stride 2 VALID
//	flatten/Reshape [-1, 784]
//	logits/MatMul 784×10, logits/BiasAdd
//	probs (Softmax)
//
// Intel's quantize_graph quantizes a Conv2D (without its s8 option) or a
// MatMul only when a Relu feeds it, looking back through MaxPool and
// other pass-through ops: conv2, fed by conv1/Relu through pool1, becomes
// QuantizedConv2DWithBiasAndRelu with quint8 input (the Conv2D → BiasAdd
// → Relu fusion); conv1 (fed by the input) and logits/MatMul (fed by a
// Reshape) stay FP32.
//
// The trainer is plain Go: forward and backward passes written out as
// loops (im2col and three matrix products), softmax cross-entropy, Adam,
// and a fixed seed. Every float32 product is rounded explicitly so no
// compiler may fuse it into an FMA, and random numbers come straight from
// PCG, whose output is fixed by definition: the same source and data give
// the same bytes.
//
// # The committed model
//
// mnist_demo_cnn.pb beside this file (embedded as Model) is this package's
// output, remade by `go generate ./internal/synth/mnistcnn` (about two
// minutes on one core; MNIST from the module cache, see gen). Recipe
// (Default): seed 14, 2 epochs of 937 batches of 64 shuffled training
// images, Adam with α = 0.002 in epoch 1 and 0.001 in epoch 2.
//
//	size     38,174 bytes (9,098 float32 parameters)
//	sha256   43020222824583034ba362199f13e614d5a1a96f2c02a555f9677ab732e87887
//	test     top-1 9839/10000 = 98.39% on MNIST's t10k set (the trainer's
//	         count; qcal's executor counts the same, image for image)
//
// The bytes were checked reproducible on linux/amd64 with Go 1.26, in
// separate processes and through the test's retrain. Nothing in the
// arithmetic depends on the machine: float32 loops with explicit
// rounding, and a softmax in float64 with the package's own exp
// (math.Exp runs FMA instructions on amd64 CPUs that have them).
package mnistcnn

//go:generate go run ./gen -o mnist_demo_cnn.pb
