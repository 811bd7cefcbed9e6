package transform

import "qcal/internal/tfpb"

// ConstEvaluator computes constant subgraphs for fold_constants. qcal's
// executor implements it; tests use small fakes.
type ConstEvaluator interface {
	// CanEvaluate reports whether the evaluator has a kernel for n (its op
	// with its attributes). fold_constants leaves other nodes as they are,
	// as TensorFlow leaves ops without a CPU kernel.
	CanEvaluate(n *tfpb.NodeDef) bool
	// Evaluate runs g, a closed graph: Const nodes and nodes whose inputs
	// all lie in g, none of them Placeholders. It returns the value of each
	// tensor of fetch ("node" or "node:1"), in order.
	Evaluate(g *tfpb.GraphDef, fetch []string) ([]*tfpb.TensorProto, error)
}
