// Package tfpb holds the Go types of the TensorFlow protobuf messages that
// make up a GraphDef (generated from graph.proto), a V2 checkpoint's index
// and state file (checkpoint.proto), and a MetaGraphDef or SavedModel
// (meta_graph.proto).
//
// graph.proto is qcal's own description of TensorFlow's wire format (package
// tensorflow, TensorFlow's field numbers), complete enough that every field a
// real GraphDef carries decodes into a typed field and survives a load/save
// round trip. The generated .pb.go files are committed; generate_test.go checks
// that they are exactly what generate.sh produces. Reading and writing graph
// files (binary and text format, atomic saves) lives in package
// qcal/internal/graphio.
package tfpb

//go:generate bash generate.sh
