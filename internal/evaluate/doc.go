// Package evaluate runs a graph over a data set: the inference half of
// `qcal eval`, `qcal calibrate` and `qcal tune`.
//
// Its place in qcal's flow: internal/dataset streams preprocessed batches,
// internal/exec runs them (several batches at once, one per core), and
// evaluate scores the class scores against the labels (top-1, top-5) and
// writes one prediction row per example in data set order, the file
// `qcal report` pairs between an FP32 and an int8 run. It does not parse
// flags or print.
package evaluate
