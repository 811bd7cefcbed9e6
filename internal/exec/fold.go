package exec

import (
	"fmt"

	"qcal/internal/kernels"
	"qcal/internal/tensor"
	"qcal/internal/tfpb"
)

// ConstFolder computes constant subgraphs with the executor: what
// transform's fold_constants needs (it satisfies transform.ConstEvaluator,
// which this package does not import).
type ConstFolder struct{}

// CanEvaluate reports whether n has a kernel whose attribute check passes
// and is not stateful (Print and its kind are never folded away).
func (ConstFolder) CanEvaluate(n *tfpb.NodeDef) bool {
	d, ok := kernels.Lookup(n.GetOp())
	if !ok || d.Stateful {
		return false
	}
	return d.Check == nil || d.Check(n) == nil
}

// Evaluate runs g, a closed graph with no Placeholder, and returns the
// tensors named by fetch as TensorProtos.
func (ConstFolder) Evaluate(g *tfpb.GraphDef, fetch []string) ([]*tfpb.TensorProto, error) {
	gr, err := New(g, "constant subgraph")
	if err != nil {
		return nil, err
	}
	return runProtos(gr, nil, fetch)
}

// Runner runs whole graphs with fed TensorProtos: the numeric proof that a
// rewrite keeps a graph's outputs.
type Runner struct{}

// Run loads g, feeds it and returns the tensors named by fetch.
func (Runner) Run(g *tfpb.GraphDef, feeds map[string]*tfpb.TensorProto, fetch []string) ([]*tfpb.TensorProto, error) {
	gr, err := New(g, "graph")
	if err != nil {
		return nil, err
	}
	return runProtos(gr, feeds, fetch)
}

func runProtos(gr *Graph, feeds map[string]*tfpb.TensorProto, fetch []string) ([]*tfpb.TensorProto, error) {
	in := make(map[string]*tensor.Tensor, len(feeds))
	for name, p := range feeds {
		t, err := tensor.FromProto(p)
		if err != nil {
			return nil, fmt.Errorf("feed %q: %w", name, err)
		}
		in[name] = t
	}
	outs, err := gr.Run(in, fetch)
	if err != nil {
		return nil, err
	}
	ps := make([]*tfpb.TensorProto, len(outs))
	for i, t := range outs {
		ps[i] = t.ToProto()
	}
	return ps, nil
}
