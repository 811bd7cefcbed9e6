package graphinfo

import (
	"slices"
	"strings"
	"testing"

	"qcal/internal/tfpb"
)

// problem finds the first problem of a kind.
func problem(ps []Problem, kind string) *Problem {
	for i := range ps {
		if ps[i].Kind == kind {
			return &ps[i]
		}
	}
	return nil
}

func TestCheckBadGraphs(t *testing.T) {
	tests := []struct {
		name  string
		g     *tfpb.GraphDef
		kind  string
		nodes []string // the problem's nodes
		msg   string   // a substring of its message
	}{
		{
			name:  "missing input",
			g:     graph(node("x", "Placeholder"), node("y", "Relu", "x"), node("z", "Add", "y", "nowhere:1")),
			kind:  KindMissingInput,
			nodes: []string{"z", "nowhere"},
			msg:   `node "z": input "nowhere:1" names no node`,
		},
		{
			name:  "missing control input",
			g:     graph(node("x", "Placeholder"), node("y", "Relu", "x", "^gone/frozen")),
			kind:  KindMissingInput,
			nodes: []string{"y", "gone/frozen"},
			msg:   `node "y": input "^gone/frozen" names no node`,
		},
		{
			name:  "cycle",
			g:     graph(node("x", "Placeholder"), node("a", "Add", "x", "c"), node("b", "Relu", "a"), node("c", "Relu", "b"), node("d", "Relu", "c")),
			kind:  KindCycle,
			nodes: []string{"a", "b", "c"},
			msg:   `cycle through 3 nodes: "a", "b", "c"`,
		},
		{
			name:  "cycle through a control edge",
			g:     graph(node("a", "Relu", "b"), node("b", "NoOp", "^a")),
			kind:  KindCycle,
			nodes: []string{"a", "b"},
			msg:   `cycle through 2 nodes`,
		},
		{
			name:  "self loop",
			g:     graph(node("a", "Identity", "a")),
			kind:  KindCycle,
			nodes: []string{"a"},
			msg:   `node "a" is its own input`,
		},
		{
			name:  "duplicate names",
			g:     graph(node("x", "Placeholder"), node("y", "Relu", "x"), node("y", "Relu", "x"), node("z", "Relu", "y")),
			kind:  KindDuplicate,
			nodes: []string{"y"},
			msg:   `node name "y" is used by 2 nodes (#1, #2)`,
		},
		{
			name: "empty name",
			g:    graph(node("x", "Placeholder"), node("", "Relu", "x")),
			kind: KindNoName,
			msg:  "node #1 has no name",
		},
		{
			name:  "empty op",
			g:     graph(node("x", "")),
			kind:  KindNoOp,
			nodes: []string{"x"},
			msg:   `node "x" has no op`,
		},
		{
			name:  "bad input",
			g:     graph(node("x", "Placeholder"), node("y", "Relu", "x:one")),
			kind:  KindBadInput,
			nodes: []string{"y"},
			msg:   `node "y": input "x:one" is not name, name:N or ^name`,
		},
		{
			name:  "output index",
			g:     graph(node("x", "Placeholder"), node("r", "RequantizationRange", "x", "x", "x"), node("y", "Add", "r:1", "r:2")),
			kind:  KindOutputIndex,
			nodes: []string{"y", "r"},
			msg:   `node "y": input "r:2" takes output 2, but "r" (op RequantizationRange) has 2 outputs`,
		},
		{
			name:  "control before data",
			g:     graph(node("x", "Placeholder"), node("y", "Add", "^x", "x")),
			kind:  KindControlOrder,
			nodes: []string{"y"},
			msg:   "control dependencies must come after regular dependencies",
		},
		{
			name: "print types",
			g: graph(node("x", "Placeholder"), &tfpb.NodeDef{Name: "p", Op: "Print", Input: []string{"x", "x"}, Attr: map[string]*tfpb.AttrValue{
				"U": {Value: &tfpb.AttrValue_List{List: &tfpb.AttrValue_ListValue{Type: []tfpb.DataType{1, 1, 1}}}},
			}}, node("y", "Relu", "p")),
			kind:  KindPrintTypes,
			nodes: []string{"p"},
			msg:   `Print node "p" logs 1 input but its attr U lists 3 types`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := Check(tc.g)
			got := problem(p.Errors, tc.kind)
			if got == nil {
				t.Fatalf("no %s error; errors: %v", tc.kind, p.Errors)
			}
			if !slices.Equal(got.Nodes, tc.nodes) {
				t.Errorf("nodes = %q, want %q", got.Nodes, tc.nodes)
			}
			if !strings.Contains(got.Message, tc.msg) {
				t.Errorf("message %q does not contain %q", got.Message, tc.msg)
			}
			if err := p.Err(); err == nil || !strings.Contains(err.Error(), got.Message) && len(p.Errors) <= maxShownProblems {
				t.Errorf("Err() = %v, want it to include %q", err, got.Message)
			}
		})
	}
}

func TestCheckLoopIsNotACycle(t *testing.T) {
	// A while loop as TF1 writes it: Enter → Merge → Switch → body →
	// NextIteration → back into Merge.
	g := graph(
		node("x", "Placeholder"),
		node("enter", "Enter", "x"),
		node("merge", "Merge", "enter", "next"),
		node("cond", "Less", "merge", "x"),
		node("switch", "Switch", "merge", "cond"),
		node("body", "Relu", "switch:1"),
		node("next", "NextIteration", "body"),
		node("exit", "Exit", "switch"),
	)
	if err := Check(g).Err(); err != nil {
		t.Errorf("Check: %v", err)
	}
	if _, err := SortByExecutionOrder(g); err != nil {
		t.Errorf("SortByExecutionOrder: %v", err)
	}
}

func TestCheckWarnings(t *testing.T) {
	g := graph(
		node("x", "Placeholder"),
		node("unused_input", "Placeholder"),
		node("w", "Const"),
		node("dead", "Const"),
		node("y", "MatMul", "x", "w"),
		node("y__print__", "Print", "y:0", "y:0"),
	)
	p := Check(g)
	if err := p.Err(); err != nil {
		t.Fatalf("errors: %v", err)
	}
	u := problem(p.Warnings, KindUnused)
	if u == nil || !slices.Equal(u.Nodes, []string{"unused_input", "dead"}) {
		t.Errorf("unused warning = %+v, want nodes unused_input, dead", u)
	}
	pu := problem(p.Warnings, KindPrintUnused)
	if pu == nil || !slices.Equal(pu.Nodes, []string{"y__print__"}) {
		t.Errorf("print-unused warning = %+v", pu)
	}
}

func TestProblemsErrTruncates(t *testing.T) {
	var nodes []*tfpb.NodeDef
	for _, n := range []string{"a", "b", "c", "d", "e"} {
		nodes = append(nodes, node(n, "Relu", "missing_"+n))
	}
	err := Check(graph(nodes...)).Err()
	if err == nil {
		t.Fatal("no error")
	}
	want := `node "a": input "missing_a" names no node; node "b": input "missing_b" names no node; node "c": input "missing_c" names no node (and 2 more)`
	if err.Error() != want {
		t.Errorf("Err() = %q\nwant    %q", err, want)
	}
	if (&Problems{}).Err() != nil {
		t.Error("no problems, but Err() is not nil")
	}
}
