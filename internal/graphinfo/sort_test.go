package graphinfo

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"qcal/internal/tfpb"
)

func names(g *tfpb.GraphDef) []string {
	var out []string
	for _, n := range g.GetNode() {
		out = append(out, n.GetName())
	}
	return out
}

// TestSortByExecutionOrderTF checks TensorFlow's exact order on a graph
// worked through by hand with the rule of transform_utils.cc:
//
//	nodes   a b c=Add(a,b) d=Relu(c) e=Mul(c,b) f=Add(d,e) g=NoOp(^a) h=Merge(d,f,^b)
//	pending a0 b0 c2 d1 e2 f2 g1 h2 (Merge: 1 control + 1)
//	consumers, in node order: a→[c,g] b→[c,e,h] c→[d,e] d→[f,h] e→[f] f→[h]
//	ready stack [a b] (nodes without inputs, in node order)
//	pop b: c1 e1 h1                          stack [a]
//	pop a: c0 push, g0 push                  stack [c g]
//	pop g                                    stack [c]
//	pop c: d0 push, e0 push                  stack [d e]
//	pop e: f1                                stack [d]
//	pop d: f0 push, h0 push                  stack [f h]
//	pop h (a Merge runs on its first input)  stack [f]
//	pop f: h-1, not pushed again
//	order: b a g c e d h f
func TestSortByExecutionOrderTF(t *testing.T) {
	g := graph(
		node("a", "Const"),
		node("b", "Const"),
		node("c", "Add", "a", "b"),
		node("d", "Relu", "c"),
		node("e", "Mul", "c", "b"),
		node("f", "Add", "d", "e"),
		node("g", "NoOp", "^a"),
		node("h", "Merge", "d", "f", "^b"),
	)
	g.Versions = &tfpb.VersionDef{Producer: 27}
	g.Library = &tfpb.FunctionDefLibrary{Function: []*tfpb.FunctionDef{{}}}
	orig := proto.CloneOf(g)
	sorted, err := SortByExecutionOrder(g)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"b", "a", "g", "c", "e", "d", "h", "f"}
	if got := names(sorted); !slices.Equal(got, want) {
		t.Errorf("order = %v, want %v", got, want)
	}
	if sorted.GetVersions().GetProducer() != 27 || len(sorted.GetLibrary().GetFunction()) != 1 {
		t.Errorf("versions or library lost: %v", sorted)
	}
	if !proto.Equal(g, orig) {
		t.Error("SortByExecutionOrder changed its input")
	}
	// Sorting again keeps a valid order but need not be the identity: TF's
	// stack makes the order depend on node order.
	again, err := SortByExecutionOrder(sorted)
	if err != nil {
		t.Fatal(err)
	}
	if !isTopological(again) {
		t.Errorf("re-sorted order %v is not topological", names(again))
	}
}

func TestSortByExecutionOrderErrors(t *testing.T) {
	_, err := SortByExecutionOrder(graph(node("a", "Const"), node("b", "Relu", "^zz")))
	if err == nil || err.Error() != "Node 'b': Unknown input node '^zz'" {
		t.Errorf("unknown input: err = %v", err)
	}

	g := graph(
		node("a", "Const"),
		node("b", "Add", "a", "d"),
		node("c", "Relu", "b"),
		node("d", "Relu", "c"),
		node("e", "Relu", "d"),
		node("f", "Relu", "a"),
	)
	_, err = SortByExecutionOrder(g)
	var ce *CycleError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want a *CycleError", err)
	}
	if ce.Unsorted != 4 || len(ce.Cycles) != 1 || !slices.Equal(ce.Cycles[0], []string{"b", "c", "d"}) || !slices.Equal(ce.Blocked, []string{"e"}) {
		t.Errorf("CycleError = %+v", ce)
	}
	want := `4 nodes in a cycle; cycle: "b", "c", "d"; waiting on a cycle: "e"`
	if err.Error() != want {
		t.Errorf("message = %q, want %q", err, want)
	}
}

// isTopological is an independent check of an execution order: every input
// names a node placed earlier, except that a Merge node needs only one of
// its data inputs before it (it runs on the first that arrives), and loop
// back edges from NextIteration are left out.
func isTopological(g *tfpb.GraphDef) bool {
	pos := map[string]int{}
	for i, n := range g.GetNode() {
		pos[n.GetName()] = i
	}
	for i, n := range g.GetNode() {
		merge := n.GetOp() == "Merge" || n.GetOp() == "RefMerge"
		dataBefore, hasData := false, false
		for _, in := range n.GetInput() {
			control := strings.HasPrefix(in, "^")
			name, _, _ := strings.Cut(strings.TrimPrefix(in, "^"), ":")
			j, ok := pos[name]
			if !ok {
				return false
			}
			if g.GetNode()[j].GetOp() == "NextIteration" {
				continue
			}
			before := j < i
			if merge && !control {
				hasData = true
				dataBefore = dataBefore || before
				continue
			}
			if !before {
				return false
			}
		}
		if merge && hasData && !dataBefore {
			return false
		}
	}
	return true
}

func TestSortRealGraphs(t *testing.T) {
	for _, rg := range realGraphs(t) {
		t.Run(rg.name, func(t *testing.T) {
			sorted, err := SortByExecutionOrder(rg.g)
			if err != nil {
				t.Fatal(err)
			}
			if !isTopological(sorted) {
				t.Error("sorted order is not topological")
			}
			a, b := names(rg.g), names(sorted)
			slices.Sort(a)
			slices.Sort(b)
			if !slices.Equal(a, b) {
				t.Error("sorted nodes are not a permutation of the graph's nodes")
			}
			for _, n := range sorted.GetNode() {
				var orig *tfpb.NodeDef
				for _, m := range rg.g.GetNode() {
					if m.GetName() == n.GetName() {
						orig = m
					}
				}
				if !proto.Equal(n, orig) {
					t.Fatalf("node %q changed", n.GetName())
				}
			}
			t.Logf("%d nodes; originally topological: %v", len(b), isTopological(rg.g))
		})
	}
}
