// Package insertlogging is TensorFlow's insert_logging graph transform
// (TF-FORMATS §4): Insert adds the Print nodes that make an inference run
// of a quantized graph write the `__requant_min_max` lines logparse reads
// back.
//
// It is the third step of qcal's flow (`qcal insert-logging`), after
// quantization and before the calibration run; graphinfo checks what it
// writes. It is one of the graph rewrites under internal/rewrite; it takes
// a GraphDef and returns a new one, reads no files and prints nothing.
package insertlogging
