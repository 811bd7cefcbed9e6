// Package graphio reads and writes TensorFlow GraphDef files for the rest of
// qcal: the summarize, insert-logging and freeze steps load a graph with Load,
// change it, and store it with Save.
//
// Both of TensorFlow's serializations are handled. The format of an input is
// detected from its bytes, never from its name, because text-format graphs are
// regularly saved under a .pb name. Input that is not a GraphDef (a log file,
// an image, a SavedModel, random bytes) is rejected with an error that names
// the file, wraps ErrNotGraphDef and says what was found instead.
//
// Output is deterministic: the same graph always encodes to the same bytes.
// Binary output is protobuf's deterministic serialization (map entries sorted
// by key). Text output is written by this package rather than by prototext,
// whose output deliberately varies its whitespace; it uses the layout of
// TensorFlow's own text files (fields in field-number order, two-space
// indentation, map entries as `attr { key: "k" value { ... } }` sorted by key,
// enum values by name, bytes as C-style octal escapes) so that TensorFlow's
// text parser reads it back.
//
// The containers a graph arrives in before it is frozen are read too:
// LoadMetaGraph reads a .meta file (MetaGraphDef with its saver, collections
// and signatures; Variables decodes the variable collections), and
// LoadSavedModel reads a SavedModel directory, picks a meta graph by its tags
// and finds the variables checkpoint beside it. Reading that checkpoint is
// package qcal/internal/checkpoint's job; freezing its values into the graph
// is qcal/internal/rewrite/freezegraph's.
//
// Save writes atomically (temporary file in the target directory, fsync,
// rename), so a failure never leaves a partial graph, and it refuses to write
// over any of the inputs it is given.
package graphio
