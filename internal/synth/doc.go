// Package synth builds the project's own calibration fixtures: a small
// quantized graph with the node names and structure Intel's eightbit
// quantize_graph produces (TF-FORMATS §6), and calibration logs with the
// line formats TensorFlow's Print op writes (TF-FORMATS §2), noise included.
//
// `qcal demo` and the tests use it, so every machine has realistic inputs
// without third-party files. Output is deterministic for a given seed.
package synth
