package mnistcnn

import _ "embed"

// Model is the committed model, mnist_demo_cnn.pb: the frozen GraphDef that
// `qcal demo` quantizes and tunes (see the package doc for how it was made).
//
//go:embed mnist_demo_cnn.pb
var Model []byte
