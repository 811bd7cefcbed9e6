// Package tfname holds TensorFlow's names in one place: the op names qcal
// looks for, the suffixes TensorFlow's and Intel's tools give the nodes they
// add (NAME__print__, NAME_eightbit_requant_range), the reading of a node
// input (`name`, `name:1`, `^name`) and a graph's depth.
//
// It sits below everything that reads graphs or logs: logparse takes the
// Print suffix from here, and freeze, the audit, summarize, insert-logging
// and the executor take op names, input parsing and depths. It is a leaf: it
// imports only the standard library, and works on any node type with
// GetName and GetInput (tfpb.NodeDef among them), so that logparse, which
// must not know graphs, can import it.
package tfname
