package transform

import (
	"slices"
	"strings"
	"testing"

	"qcal/internal/tfpb"
)

func TestCheckUnknown(t *testing.T) {
	tests := []struct{ spec, want string }{
		{"fold_everything", `unknown transform "fold_everything" (known: fold_batch_norms, fold_constants, fold_old_batch_norms, freeze_requantization_ranges, fuse_quantized_conv_and_requantize, remove_attribute, remove_device, remove_nodes, rename_attribute, sort_by_execution_order, strip_unused_nodes)`},
		{"remove_nodes(ops=Identity)", `transform remove_nodes: unknown argument "ops" (known: op, max_inputs, ignore_errors)`},
		{"fuse_quantized_conv_and_requantize(min_max_log_file=a)", `transform fuse_quantized_conv_and_requantize: unknown argument "min_max_log_file" (known: ignore_errors)`},
		{"some_future_transform", "transform some_future_transform is not available yet"},
	}
	// A transform qcal will have says so instead of "unknown".
	pending["some_future_transform"] = "is not available yet"
	defer delete(pending, "some_future_transform")
	for _, tt := range tests {
		steps, err := Parse(tt.spec)
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = Apply(graph(), steps, Options{})
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want %q", tt.spec, err, tt.want)
		}
	}
}

func TestTransformsSorted(t *testing.T) {
	var got []string
	for _, tr := range Transforms() {
		got = append(got, tr.Name)
		if tr.Summary == "" || Lookup(tr.Name) != tr {
			t.Errorf("%s: no summary or lookup mismatch", tr.Name)
		}
	}
	if !slices.IsSorted(got) || len(got) != 11 {
		t.Errorf("Transforms() = %v", got)
	}
}

// chain is in → a → id1 → id2 → out, plus an unused branch and a Const.
func chain() *tfpb.GraphDef {
	return graph(
		placeholder("in"),
		node("a", "Relu", "in"),
		node("id1", "Identity", "a"),
		node("id2", "Identity", "id1", "^a"),
		node("out", "Softmax", "id2:0"),
		node("dead", "Relu", "a"),
		node("ctl", "NoOp", "^id2"),
	)
}

func TestRemoveNodes(t *testing.T) {
	g := chain()
	out, res := run(t, g, "remove_nodes(op=Identity)", Options{Outputs: []string{"out"}})
	// TF: consumers of a removed node take its first input; "^id2" becomes "^a"
	// (the node of the input id2 resolves to, through id1).
	if got := find(out, "out").GetInput(); !slices.Equal(got, []string{"a"}) {
		t.Errorf("out inputs = %v, want [a]", got)
	}
	if got := find(out, "ctl").GetInput(); !slices.Equal(got, []string{"^a"}) {
		t.Errorf("ctl inputs = %v, want [^a]", got)
	}
	if got := names(out); !slices.Equal(got, []string{"in", "a", "out", "dead", "ctl"}) {
		t.Errorf("nodes = %v", got)
	}
	// Changed: id1, id2 removed; out and ctl rewired.
	if res[0].Changed != 4 || res[0].Nodes != 5 {
		t.Errorf("changed %d nodes %d, want 4 and 5", res[0].Changed, res[0].Nodes)
	}
	// The input graph is untouched.
	if len(g.Node) != 7 || g.Node[4].Input[0] != "id2:0" {
		t.Error("input graph modified")
	}
	golden(t, "remove_nodes", out)
}

func TestRemoveNodesKeepsRequired(t *testing.T) {
	// TF keeps nodes named in -inputs/-outputs.
	out, res := run(t, chain(), "remove_nodes(op=Identity, op=Relu)", Options{Outputs: []string{"id2:0"}})
	if find(out, "id2") == nil || find(out, "id1") != nil || find(out, "a") != nil {
		t.Errorf("nodes = %v, want id2 kept, id1 and a removed", names(out))
	}
	// id2 now reads in directly: id1 → a → in.
	if got := find(out, "id2").GetInput(); !slices.Equal(got, []string{"in", "^in"}) {
		t.Errorf("id2 inputs = %v", got)
	}
	if len(res[0].Notes) != 1 || res[0].Notes[0] != "1 matching node kept because -inputs or -outputs name them" {
		t.Errorf("notes = %q", res[0].Notes)
	}
	// max_inputs: an Add with 2 inputs is removed only with max_inputs=2.
	g := graph(placeholder("x"), placeholder("y"), node("add", "Add", "x", "y"), node("o", "Neg", "add"))
	out, _ = run(t, g, "remove_nodes(op=Add)", Options{})
	if find(out, "add") == nil {
		t.Error("Add with 2 inputs removed with max_inputs=1")
	}
	out, _ = run(t, g, "remove_nodes(op=Add, max_inputs=2)", Options{})
	if find(out, "add") != nil || find(out, "o").GetInput()[0] != "x" {
		t.Errorf("max_inputs=2: nodes %v", names(out))
	}
	if _, _, err := Apply(g, []Step{{Name: "remove_nodes"}}, Options{}); err == nil || !strings.Contains(err.Error(), "expects at least one op argument") {
		t.Errorf("no op: %v", err)
	}
}

func TestStripUnusedNodes(t *testing.T) {
	g := chain()
	g.Node[1] = node("a", "Relu", "in")
	out, _ := run(t, g, `strip_unused_nodes(type=quint8, shape="1,28,-1,1")`, Options{Inputs: []string{"a"}, Outputs: []string{"out"}})
	// a is an input: it becomes a Placeholder (TF: dtype from type=, shape
	// from shape=), and what only fed it ("in") goes; dead and ctl are unused.
	if got := names(out); !slices.Equal(got, []string{"a", "id1", "id2", "out"}) {
		t.Fatalf("nodes = %v", got)
	}
	a := find(out, "a")
	if a.GetOp() != "Placeholder" || len(a.GetInput()) != 0 || a.GetAttr()["dtype"].GetType() != tfpb.DataType_DT_QUINT8 {
		t.Errorf("a = %v", a)
	}
	var dims []int64
	for _, d := range a.GetAttr()["shape"].GetShape().GetDim() {
		dims = append(dims, d.GetSize())
	}
	if !slices.Equal(dims, []int64{1, 28, -1, 1}) {
		t.Errorf("shape = %v", dims)
	}
	golden(t, "strip_unused_nodes", out)

	// Per-name type and shape (TF wants both lists as long as name's).
	out, _ = run(t, g, `strip_unused_nodes(name=a, type_for_name=int32, shape_for_name="3", name=zz, type_for_name=float, shape_for_name="1")`,
		Options{Inputs: []string{"a"}, Outputs: []string{"out"}})
	a = find(out, "a")
	if a.GetAttr()["dtype"].GetType() != tfpb.DataType_DT_INT32 || a.GetAttr()["shape"].GetShape().GetDim()[0].GetSize() != 3 {
		t.Errorf("per-name a = %v", a)
	}
	// No shape at all: a scalar, TF's default.
	out, _ = run(t, g, `strip_unused_nodes`, Options{Inputs: []string{"a"}, Outputs: []string{"out"}})
	if a = find(out, "a"); a.GetAttr()["shape"].GetShape() == nil || len(a.GetAttr()["shape"].GetShape().GetDim()) != 0 || a.GetAttr()["dtype"].GetType() != tfpb.DataType_DT_FLOAT {
		t.Errorf("default a = %v", a)
	}
	// A Placeholder input stays as it is.
	out, _ = run(t, g, `strip_unused_nodes`, Options{Inputs: []string{"in"}, Outputs: []string{"out"}})
	if find(out, "in").GetAttr()["shape"] != nil || find(out, "dead") != nil {
		t.Errorf("placeholder input: %v", out)
	}

	for _, tt := range []struct {
		spec string
		opt  Options
		want string
	}{
		{"strip_unused_nodes", Options{}, "needs -outputs"},
		{"strip_unused_nodes", Options{Outputs: []string{"nope"}}, `input node "nope" not found in graph`},
		{"strip_unused_nodes(type=floaty)", Options{Outputs: []string{"out"}}, `could not understand type "floaty"`},
		{"strip_unused_nodes(shape=\"1,x\")", Options{Outputs: []string{"out"}}, `could not parse "1,x" as a shape`},
		{"strip_unused_nodes(name=a)", Options{Outputs: []string{"out"}}, "you must pass a type_for_name argument for every name"},
		{"strip_unused_nodes(type=float, type=int32)", Options{Outputs: []string{"out"}}, "no more than one default type"},
	} {
		steps, _ := Parse(tt.spec)
		_, _, err := Apply(g, steps, tt.opt)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want %q", tt.spec, err, tt.want)
		}
	}
}

func TestAttributesAndDevice(t *testing.T) {
	g := graph(
		withAttr(withAttr(placeholder("x"), "_output_shapes", strAttr("s")), "T", typeAttr(tfpb.DataType_DT_FLOAT)),
		withAttr(withAttr(node("m", "Mul", "x", "x"), "_output_shapes", strAttr("s")), "T", typeAttr(tfpb.DataType_DT_FLOAT)),
	)
	g.Node[1].Device = "/device:CPU:0"
	out, res := run(t, g, "remove_attribute(attribute_name=_output_shapes, op_name=Mul)", Options{})
	if _, ok := find(out, "m").GetAttr()["_output_shapes"]; ok || find(out, "x").GetAttr()["_output_shapes"] == nil || res[0].Changed != 1 {
		t.Errorf("remove_attribute op_name=Mul: %v", out)
	}
	out, res = run(t, g, "remove_attribute(attribute_name=_output_shapes)", Options{})
	if find(out, "m").GetAttr()["_output_shapes"] != nil || find(out, "x").GetAttr()["_output_shapes"] != nil || res[0].Changed != 2 {
		t.Errorf("remove_attribute: %v", out)
	}
	out, _ = run(t, g, "rename_attribute(old_attribute_name=T, new_attribute_name=U, op_name=Mul)", Options{})
	if m := find(out, "m"); m.GetAttr()["T"] != nil || m.GetAttr()["U"].GetType() != tfpb.DataType_DT_FLOAT || find(out, "x").GetAttr()["T"] == nil {
		t.Errorf("rename_attribute: %v", out)
	}
	out, res = run(t, g, "remove_device", Options{})
	if find(out, "m").GetDevice() != "" || res[0].Changed != 1 || g.Node[1].Device == "" {
		t.Errorf("remove_device: %v", out)
	}
	for spec, want := range map[string]string{
		"remove_attribute":                                         "expects exactly one attribute_name",
		"rename_attribute(old_attribute_name=a)":                   "expects exactly one old_attribute_name and one new_attribute_name",
		"remove_attribute(attribute_name=a, op_name=X, op_name=Y)": `expected a single "op_name" argument, but found 2 occurrences`,
	} {
		steps, _ := Parse(spec)
		if _, _, err := Apply(g, steps, Options{}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", spec, err, want)
		}
	}
}

func TestSortAndIgnoreErrors(t *testing.T) {
	g := graph(node("b", "Neg", "a"), placeholder("a"))
	out, _ := run(t, g, "sort_by_execution_order", Options{})
	if got := names(out); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("sorted = %v", got)
	}
	// TF: a failing step with ignore_errors=true passes the graph on unchanged.
	out, res := run(t, g, "strip_unused_nodes(ignore_errors=True) sort_by_execution_order", Options{})
	if res[0].Ignored == nil || !strings.Contains(res[0].Ignored.Error(), "needs -outputs") || len(out.Node) != 2 || res[1].Changed != 0 {
		t.Errorf("ignore_errors: %+v", res)
	}
	steps, _ := Parse("remove_device(ignore_errors=maybe)")
	if _, _, err := Apply(g, steps, Options{}); err == nil || !strings.Contains(err.Error(), "as a boolean") {
		t.Errorf("ignore_errors=maybe: %v", err)
	}
	// TF's IsGraphValid after each step: an input naming no node fails.
	bad := graph(node("b", "Neg", "a"))
	steps, _ = Parse("remove_device")
	if _, _, err := Apply(bad, steps, Options{}); err == nil || err.Error() != `transform remove_device produced an invalid graph: node "b": input "a" names no node` {
		t.Errorf("invalid graph: %v", err)
	}
}

func TestRemoveNodesOtherOutputs(t *testing.T) {
	// A node whose output 1 is read is kept with a note: TF would rewire only
	// "n" and "n:0" and leave "n:1" naming a removed node.
	g := graph(placeholder("x"), node("s", "IdentityN", "x"), node("a", "Neg", "s"), node("b", "Neg", "s:1"))
	out, res := run(t, g, "remove_nodes(op=IdentityN)", Options{})
	if find(out, "s") == nil || len(res[0].Notes) != 1 || res[0].Notes[0] != `node "s" (IdentityN) kept: outputs other than 0 of it are consumed` {
		t.Errorf("nodes %v, notes %q", names(out), res[0].Notes)
	}
}
