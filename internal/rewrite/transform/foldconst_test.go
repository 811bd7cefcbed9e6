package transform

import (
	"slices"
	"strings"
	"testing"

	"qcal/internal/tfpb"
)

// fixedEvaluator answers every fetch "node:k" with the value k+0.5, and
// can evaluate any op.
type fixedEvaluator struct{ fetched *[]string }

func (fixedEvaluator) CanEvaluate(*tfpb.NodeDef) bool { return true }

func (f fixedEvaluator) Evaluate(g *tfpb.GraphDef, fetch []string) ([]*tfpb.TensorProto, error) {
	*f.fetched = append(*f.fetched, fetch...)
	var out []*tfpb.TensorProto
	for _, s := range fetch {
		k := float32(s[len(s)-1]-'0') + 0.5
		out = append(out, floatTensor([]float32{k}, nil))
	}
	return out, nil
}

func TestFoldConstantsAdd(t *testing.T) {
	// add = 1.5 + 2.25 = 3.75 (exact in float32), computed by the evaluator;
	// y = x · add stays (x is a Placeholder).
	g := graph(
		placeholder("x"),
		constF("a", nil, 1.5),
		constF("b", nil, 2.25),
		floatT(node("add", "Add", "a", "b")),
		floatT(node("y", "Mul", "x", "add")),
		node("wait", "NoOp", "^add"),
	)
	g.Node[3].Attr["_output_shapes"] = strAttr("stale")
	out, res := run(t, g, "fold_constants", Options{Evaluator: arithEvaluator{}})
	if got := constValues(t, out, "add"); !slices.Equal(got, []float32{3.75}) {
		t.Errorf("add = %v, want [3.75]", got)
	}
	// add becomes a Const in its place; a and b lose their last consumer and go.
	if got := names(out); !slices.Equal(got, []string{"x", "add", "y", "wait"}) {
		t.Errorf("nodes = %v", got)
	}
	if res[0].Changed != 3 {
		t.Errorf("changed %d, want 3 (add replaced, a and b removed)", res[0].Changed)
	}
	golden(t, "fold_constants", out)

	// exclude_op / exclude_node: nothing folds.
	for _, spec := range []string{"fold_constants(exclude_op=Add)", "fold_constants(exclude_node=add)"} {
		out, res := run(t, g, spec, Options{Evaluator: arithEvaluator{}})
		if find(out, "add").GetOp() != "Add" || res[0].Changed != 1 { // only _output_shapes cleared
			t.Errorf("%s: add = %v, changed %d", spec, find(out, "add"), res[0].Changed)
		}
	}
	// clear_output_shapes=false keeps the attribute on what is not folded.
	out, _ = run(t, g, "fold_constants(exclude_op=Add, clear_output_shapes=false)", Options{Evaluator: arithEvaluator{}})
	if find(out, "add").GetAttr()["_output_shapes"] == nil {
		t.Error("clear_output_shapes=false cleared _output_shapes")
	}
	// An op the evaluator has no kernel for stays.
	g2 := graph(constF("a", nil, 1), node("s", "Softplus", "a"), node("y", "Neg", "s"))
	out, _ = run(t, g2, "fold_constants", Options{Evaluator: arithEvaluator{}})
	if find(out, "s").GetOp() != "Softplus" || find(out, "y").GetOp() != "Neg" {
		t.Errorf("unsupported op folded: %v", names(out))
	}
}

func TestFoldConstantsOutputsAndInputs(t *testing.T) {
	g := graph(
		placeholder("x"),
		constF("w", []int64{2}, 1, 2),
		floatT(node("w/read", "Identity", "w")),
		floatT(node("y", "Mul", "x", "w/read")),
		node("dead", "Relu", "x"),
		constF("c", nil, 4),
		floatT(node("z", "Neg", "c")),
	)
	// With -outputs, as TF's RemoveUnusedNodes: only what y needs stays.
	out, _ := run(t, g, "fold_constants", Options{Evaluator: arithEvaluator{}, Inputs: []string{"x"}, Outputs: []string{"y"}})
	if got := names(out); !slices.Equal(got, []string{"x", "w/read", "y"}) {
		t.Errorf("nodes = %v", got)
	}
	if got := constValues(t, out, "w/read"); !slices.Equal(got, []float32{1, 2}) {
		t.Errorf("w/read = %v", got)
	}
	// An output that is itself constant becomes a Const of its name: z = −4.
	out, _ = run(t, g, "fold_constants", Options{Evaluator: arithEvaluator{}, Outputs: []string{"z", "y"}})
	if got := constValues(t, out, "z"); !slices.Equal(got, []float32{-4}) {
		t.Errorf("z = %v", got)
	}
	// A fed Const is not constant (TF: fed inputs become Recv nodes), but TF
	// requires inputs to be Placeholders.
	steps, _ := Parse("fold_constants")
	if _, _, err := Apply(g, steps, Options{Evaluator: arithEvaluator{}, Inputs: []string{"c"}, Outputs: []string{"z"}}); err == nil ||
		!strings.Contains(err.Error(), `input "c" was expected to be a Placeholder or PlaceholderWithDefault op, but was Const`) {
		t.Errorf("Const input: %v", err)
	}
	// A PlaceholderWithDefault input becomes a Placeholder and blocks folding.
	pwd := graph(constF("d", nil, 1), node("p", "PlaceholderWithDefault", "d"), floatT(node("y", "Neg", "p")))
	out, _ = run(t, pwd, "fold_constants", Options{Evaluator: arithEvaluator{}, Inputs: []string{"p"}, Outputs: []string{"y"}})
	if got := names(out); !slices.Equal(got, []string{"p", "y"}) || find(out, "p").GetOp() != "Placeholder" || len(find(out, "p").GetInput()) != 0 {
		t.Errorf("PlaceholderWithDefault input: %v", out)
	}
	if _, _, err := Apply(g, steps, Options{}); err == nil || !strings.Contains(err.Error(), "no evaluator") {
		t.Errorf("no evaluator: %v", err)
	}
}

func TestFoldConstantsMultiOutputAndSize(t *testing.T) {
	// A node read at outputs 0 and 1 becomes two Consts "<node>/__cf__<k>";
	// the fixed evaluator answers output k with k+0.5.
	g := graph(
		constF("v", []int64{2}, 7, 8),
		node("u", "Unpack", "v"),
		placeholder("x"),
		floatT(node("p", "Mul", "x", "u")),
		floatT(node("q", "Mul", "x", "u:1")),
		node("wait", "NoOp", "^u"),
	)
	var fetched []string
	out, _ := run(t, g, "fold_constants", Options{Evaluator: fixedEvaluator{&fetched}})
	if !slices.Equal(fetched, []string{"u:0", "u:1"}) {
		t.Errorf("fetched %v", fetched)
	}
	if got := names(out); !slices.Equal(got, []string{"u/__cf__0", "u/__cf__1", "x", "p", "q", "wait"}) {
		t.Fatalf("nodes = %v", got)
	}
	if !slices.Equal(find(out, "p").GetInput(), []string{"x", "u/__cf__0"}) || !slices.Equal(find(out, "q").GetInput(), []string{"x", "u/__cf__1"}) ||
		!slices.Equal(find(out, "wait").GetInput(), []string{"^u/__cf__0"}) {
		t.Errorf("rewired: p %v q %v wait %v", find(out, "p").GetInput(), find(out, "q").GetInput(), find(out, "wait").GetInput())
	}
	if got := constValues(t, out, "u/__cf__1"); !slices.Equal(got, []float32{1.5}) {
		t.Errorf("u:1 = %v", got)
	}
	// A 4-byte float is not more than 4 bytes; with max 3 nothing is written.
	out, res := run(t, g, "fold_constants(max_constant_size_in_bytes=3)", Options{Evaluator: fixedEvaluator{new([]string)}})
	if find(out, "u").GetOp() != "Unpack" || len(res[0].Notes) != 1 || !strings.Contains(res[0].Notes[0], "1 node left unfolded") {
		t.Errorf("size limit: %v %q", names(out), res[0].Notes)
	}
	out, _ = run(t, g, "fold_constants(max_constant_size_in_bytes=4)", Options{Evaluator: fixedEvaluator{new([]string)}})
	if find(out, "u") != nil {
		t.Errorf("4 bytes not folded at max 4: %v", names(out))
	}
}

func TestFoldConstantsMovesControlInputs(t *testing.T) {
	// TF's constant folding allows control inputs from non-constant nodes and
	// moves them onto the replacement: add waits for x through a's ^x and
	// for r through its own ^r.
	a := constF("a", nil, 1)
	a.Input = []string{"^x"}
	g := graph(
		placeholder("x"),
		node("r", "Relu", "x"),
		a,
		constF("b", nil, 2),
		floatT(node("add", "Add", "a", "b", "^r", "^b")),
		floatT(node("y", "Mul", "x", "add")),
	)
	out, _ := run(t, g, "fold_constants", Options{Evaluator: arithEvaluator{}, Outputs: []string{"y"}})
	add := find(out, "add")
	if add.GetOp() != "Const" || !slices.Equal(add.GetInput(), []string{"^r", "^x"}) {
		t.Errorf("add = %v", add)
	}
	if got := constValues(t, out, "add"); !slices.Equal(got, []float32{3}) {
		t.Errorf("add = %v, want [3]", got)
	}
	if got := names(out); !slices.Equal(got, []string{"x", "r", "add", "y"}) {
		t.Errorf("nodes = %v", got)
	}
}
