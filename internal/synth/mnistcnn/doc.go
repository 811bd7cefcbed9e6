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
// conv2's input comes from a Relu through a MaxPool, so Intel's quantize
// path turns conv2 into QuantizedConv2DWithBiasAndRelu fed by unsigned
// quint8 activations.
//
// The trainer is plain Go: forward and backward passes written out as
// loops (im2col and three matrix products), softmax cross-entropy, Adam,
// and a fixed seed. Every float32 product is rounded explicitly so no
// compiler may fuse it into an FMA, and random numbers come straight from
// PCG, whose output is fixed by definition: the same source and data give
// the same bytes.
package mnistcnn
