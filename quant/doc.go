// Package quant holds qcal's int8 semantics and graph instrumentation.
//
// Instrumentation is the third step of qcal's flow: InsertLogging adds the
// Print nodes (TensorFlow's insert_logging transform, TF-FORMATS §4) that
// make an inference run write the `__requant_min_max` lines logparse reads
// back. The package computes; it does not render output or read files.
package quant
