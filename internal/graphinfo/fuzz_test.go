package graphinfo

import (
	"errors"
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"

	"qcal/internal/synth"
	"qcal/internal/tfpb"
)

// fuzzSeeds are encoded graphs for the fuzzers to start from: the synthetic
// eightbit graph and small hand-made graphs with the shapes Check and
// SortByExecutionOrder care about.
func fuzzSeeds(f *testing.F) {
	seeds := []*tfpb.GraphDef{
		synth.Graph(synth.DemoLayers()[:2]),
		graph(node("a", "Const"), node("b", "Add", "a", "d"), node("c", "Relu", "b"), node("d", "Relu", "c")),
		graph(node("a", "Const"), node("m", "Merge", "a", "n", "^a"), node("n", "NextIteration", "m")),
		graph(node("x", "Placeholder"), node("x", "Relu", "x:1", "^x", "y:q")),
		graph(node("", ""), node("r", "RequantizationRange", "r:7")),
	}
	for _, g := range seeds {
		data, err := proto.Marshal(g)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
}

// FuzzCheck decodes fuzz bytes as a GraphDef and runs Check and Summarize:
// nothing may panic, and Err must agree with Errors.
func FuzzCheck(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		g := new(tfpb.GraphDef)
		if proto.Unmarshal(data, g) != nil {
			return
		}
		p := Check(g)
		if (p.Err() == nil) != (len(p.Errors) == 0) {
			t.Fatalf("Err() = %v with %d errors", p.Err(), len(p.Errors))
		}
		for _, e := range append(p.Errors, p.Warnings...) {
			if e.Kind == "" || e.Message == "" {
				t.Fatalf("problem without kind or message: %+v", e)
			}
		}
		s := Summarize(g)
		if s.Nodes != len(g.GetNode()) {
			t.Fatalf("Summary.Nodes = %d, graph has %d", s.Nodes, len(g.GetNode()))
		}
		OpCountsTFOrder(s.OpCounts)
	})
}

// FuzzSort decodes fuzz bytes as a GraphDef and sorts it: nothing may panic;
// a sorted graph is a permutation of the input in which every node follows
// its inputs (Merge nodes need one data input before them); an error is a
// missing input or a *CycleError counting the nodes left out.
func FuzzSort(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		g := new(tfpb.GraphDef)
		if proto.Unmarshal(data, g) != nil {
			return
		}
		sorted, err := SortByExecutionOrder(g)
		if err != nil {
			var ce *CycleError
			if errors.As(err, &ce) {
				if ce.Unsorted <= 0 || ce.Unsorted > len(g.GetNode()) {
					t.Fatalf("CycleError.Unsorted = %d of %d nodes", ce.Unsorted, len(g.GetNode()))
				}
			}
			return
		}
		if len(sorted.GetNode()) != len(g.GetNode()) {
			t.Fatalf("sorted %d nodes of %d", len(sorted.GetNode()), len(g.GetNode()))
		}
		// A permutation: the same multiset of nodes (compare encodings).
		enc := func(ns []*tfpb.NodeDef) []string {
			var out []string
			for _, n := range ns {
				b, err := proto.MarshalOptions{Deterministic: true}.Marshal(n)
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, string(b))
			}
			slices.Sort(out)
			return out
		}
		if !slices.Equal(enc(g.GetNode()), enc(sorted.GetNode())) {
			t.Fatal("sorted nodes are not a permutation of the input")
		}
		if !hasDuplicateNames(g) && !isTopological(sorted) {
			t.Fatalf("sorted order is not an execution order: %v", names(sorted))
		}
	})
}

func hasDuplicateNames(g *tfpb.GraphDef) bool {
	seen := map[string]bool{}
	for _, n := range g.GetNode() {
		if seen[n.GetName()] {
			return true
		}
		seen[n.GetName()] = true
	}
	return false
}
