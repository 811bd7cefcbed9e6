// Package graphinfo looks at a GraphDef without changing it: it checks that
// the graph is well formed (Check), orders its nodes as TensorFlow's graph
// transforms do (SortByExecutionOrder) and summarizes it as TensorFlow's
// summarize_graph tool does, with a view of its quantization (Summarize).
//
// In qcal's flow it serves the first step and every step that writes a graph:
// `qcal summarize` shows what a graph holds before it is quantized and
// instrumented, insert-logging and freeze check what they wrote, and
// `qcal convert -sort` reorders nodes. graphio reads the graph; report renders
// the Summary; nothing here reads files or prints.
//
// Node inputs are read as TensorFlow writes them (TF-FORMATS §1): `name`
// (output 0), `name:N` (output N), `^name` (a control dependency). Where this
// package reproduces a TensorFlow tool, it follows that tool's parsing even
// where it is lax (everything after the first ':' is ignored when only the
// node matters); Check is strict and reports what TensorFlow would reject
// when importing the graph.
package graphinfo
