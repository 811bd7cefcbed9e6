package main

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"qcal/internal/graphio"
	"qcal/internal/tensor"
	"qcal/internal/tfpb"
)

func tfConst(name string, dims []int64, vals ...float32) *tfpb.NodeDef {
	var b []byte
	for _, v := range vals {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	shape := &tfpb.TensorShapeProto{}
	for _, d := range dims {
		shape.Dim = append(shape.Dim, &tfpb.TensorShapeProto_Dim{Size: d})
	}
	return &tfpb.NodeDef{Name: name, Op: "Const", Attr: map[string]*tfpb.AttrValue{
		"dtype": {Value: &tfpb.AttrValue_Type{Type: tfpb.DataType_DT_FLOAT}},
		"value": {Value: &tfpb.AttrValue_Tensor{Tensor: &tfpb.TensorProto{Dtype: tfpb.DataType_DT_FLOAT, TensorShape: shape, TensorContent: b}}},
	}}
}

// bnGraph is x → Conv2D(w) → FusedBatchNorm → Relu, with an Identity on
// the weights and an unused branch.
func bnGraph() *tfpb.GraphDef {
	f := map[string]*tfpb.AttrValue{"T": {Value: &tfpb.AttrValue_Type{Type: tfpb.DataType_DT_FLOAT}}}
	bn := &tfpb.NodeDef{Name: "bn", Op: "FusedBatchNorm", Input: []string{"conv", "gamma", "beta", "mean", "var"}, Attr: map[string]*tfpb.AttrValue{
		"T": f["T"], "epsilon": {Value: &tfpb.AttrValue_F{F: 1}}}}
	return &tfpb.GraphDef{Node: []*tfpb.NodeDef{
		{Name: "x", Op: "Placeholder", Attr: map[string]*tfpb.AttrValue{"dtype": {Value: &tfpb.AttrValue_Type{Type: tfpb.DataType_DT_FLOAT}}}},
		tfConst("w0", []int64{1, 1, 1, 1}, 3),
		{Name: "w", Op: "Identity", Input: []string{"w0"}, Attr: f},
		{Name: "conv", Op: "Conv2D", Input: []string{"x", "w"}, Attr: f},
		tfConst("gamma", []int64{1}, 4), tfConst("beta", []int64{1}, 1), tfConst("mean", []int64{1}, 4), tfConst("var", []int64{1}, 3),
		bn,
		{Name: "y", Op: "Relu", Input: []string{"bn"}, Attr: f},
		{Name: "unused", Op: "Relu", Input: []string{"x"}, Attr: f},
	}}
}

func TestTransformCommand(t *testing.T) {
	dir := t.TempDir()
	in := saveGraph(t, dir, "in.pb", bnGraph())
	out := filepath.Join(dir, "out.pbtxt")
	// TF's --flag=value spelling, as transform_graph is called.
	code, stdout, stderr := qcal(t, "", "transform", "--in_graph="+in, "--out_graph="+out, "--inputs=x", "--outputs=y",
		"--transforms=remove_nodes(op=Identity) fold_old_batch_norms strip_unused_nodes")
	if code != 0 || stdout != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	// Changed: remove_nodes drops w and rewires conv (2); the fold rewrites
	// w0, replaces bn, adds conv_bn_offset and drops 4 Consts (7);
	// strip_unused_nodes drops "unused" (1).
	want := "qcal: transform: nodes changed: remove_nodes 2, fold_old_batch_norms 7, strip_unused_nodes 1; 6 nodes (from 11) written to " + out + "\n"
	if stderr != want {
		t.Errorf("stderr:\n got %q\nwant %q", stderr, want)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(data), "node {") {
		t.Errorf("not text: %.40q", data)
	}
	g := loadGraph(t, out)
	var names []string
	for _, n := range g.Node {
		names = append(names, n.Name+"="+n.Op)
	}
	if !slices.Equal(names, []string{"x=Placeholder", "w0=Const", "conv=Conv2D", "conv_bn_offset=Const", "bn=BiasAdd", "y=Relu"}) {
		t.Errorf("nodes = %v", names)
	}
	// gamma=4, var=3, eps=1 → scale = 1/sqrtf(4)·4 = 2: w0 = 3·2 = 6;
	// offset = (−4·2)+1 = −7.
	for _, n := range g.Node {
		want := map[string]float32{"w0": 6, "conv_bn_offset": -7}
		if w, ok := want[n.Name]; ok {
			if v := math.Float32frombits(binary.LittleEndian.Uint32(n.Attr["value"].GetTensor().TensorContent)); v != w {
				t.Errorf("%s = %v, want %v", n.Name, v, w)
			}
		}
	}

	// -output_as_text writes text whatever the name; a second run on the
	// output changes nothing.
	out2 := filepath.Join(dir, "out2.pb")
	code, _, stderr = qcal(t, "", "transform", "-in_graph", out, "-out_graph", out2, "-output_as_text", "-transforms", "fold_old_batch_norms")
	data2, _ := os.ReadFile(out2)
	if code != 0 || string(data2) != string(data) || !strings.Contains(stderr, "fold_old_batch_norms 0;") {
		t.Errorf("second pass: exit %d, stderr %q, same bytes %v", code, stderr, string(data2) == string(data))
	}

	// Binary to stdout.
	code, stdout, _ = qcal(t, "", "transform", "-in_graph", in, "-out_graph", "-", "-transforms", "remove_device")
	if g2, f, err := graphio.Decode([]byte(stdout), "stdout"); code != 0 || err != nil || f != graphio.Binary || len(g2.Node) != 11 {
		t.Errorf("stdout: exit %d, %v %v", code, f, err)
	}
}

func TestTransformCommandErrors(t *testing.T) {
	dir := t.TempDir()
	in := saveGraph(t, dir, "in.pb", bnGraph())
	out := filepath.Join(dir, "out.pb")
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"-out_graph", out, "-transforms", "remove_device"}, 2, "-in_graph is required"},
		{[]string{"-in_graph", in, "-transforms", "remove_device"}, 2, "-out_graph is required"},
		{[]string{"-in_graph", in, "-out_graph", out}, 2, "-transforms is required"},
		{[]string{"-in_graph", in, "-out_graph", out, "-transforms", "fold_all"}, 2, `unknown transform "fold_all" (known: fold_batch_norms, fold_constants,`},
		{[]string{"-in_graph", in, "-out_graph", out, "-transforms", "remove_nodes(opp=Identity)"}, 2, `transform remove_nodes: unknown argument "opp" (known: op, max_inputs, ignore_errors)`},
		{[]string{"-in_graph", in, "-out_graph", out, "-transforms", "remove_nodes(op=Identity"}, 2, "-transforms: column 13: remove_nodes( has no closing )"},
		{[]string{"-in_graph", in, "-out_graph", out, "-transforms", "strip_unused_nodes"}, 1, "transform strip_unused_nodes: needs -outputs"},
		{[]string{"-in_graph", in, "-out_graph", in, "-transforms", "remove_device"}, 1, "in.pb"},
		{[]string{"-in_graph", filepath.Join(dir, "nope.pb"), "-out_graph", out, "-transforms", "remove_device"}, 1, "nope.pb"},
		{[]string{"-in_graph", in, "-out_graph", out, "-transforms", "freeze_requantization_ranges(min_max_log_file=" + filepath.Join(dir, "none.log") + ")"}, 1, "none.log"},
	}
	for _, tt := range tests {
		code, _, stderr := qcal(t, "", append([]string{"transform"}, tt.args...)...)
		if code != tt.code || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tt.args, code, stderr, tt.code, tt.want)
		}
		if _, err := os.Stat(out); err == nil {
			t.Fatalf("%v: output written on failure", tt.args)
		}
	}
	code, stdout, _ := qcal(t, "", "transform", "-list")
	if code != 0 || !strings.Contains(stdout, "fold_old_batch_norms(ignore_errors)\n") || !strings.Contains(stdout, "remove_nodes(op, max_inputs, ignore_errors)\n") {
		t.Errorf("-list: %d %q", code, stdout)
	}
}

func TestTransformCommandFreezeRanges(t *testing.T) {
	dir := t.TempDir()
	graph := writeGraph(t, dir, rrA, rrB)
	log := writeText(t, dir, "cal.log", rec(rrA, "-1", "2")+rec(rrB, "0", "3")+rec(rrA, "-2", "4"))
	out := filepath.Join(dir, "frozen.pb")
	code, _, stderr := qcal(t, "", "transform", "-in_graph", graph, "-out_graph", out,
		"-transforms", "freeze_requantization_ranges(min_max_log_file="+log+", min_percentile=0, max_percentile=0)")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "qcal: freeze_requantization_ranges: froze 2 of 2 logged nodes") {
		t.Errorf("stderr %q", stderr)
	}
	// TF's rule with p = 0: min_index = round(n·0) = 0 of the sorted mins
	// [-2, -1] → -2; max_index = round(n·1) = 2, clamped to n−1 = 1 of the
	// sorted maxes [2, 4] → 4.
	g := loadGraph(t, out)
	for _, n := range g.Node {
		if n.Name == rrA+"/frozen_min" || n.Name == rrA+"/frozen_max" {
			v := math.Float32frombits(binary.LittleEndian.Uint32(n.Attr["value"].GetTensor().TensorContent))
			if want := map[bool]float32{true: -2, false: 4}[strings.HasSuffix(n.Name, "min")]; v != want {
				t.Errorf("%s = %v, want %v", n.Name, v, want)
			}
		}
	}
	// The log is an input too: never written over.
	code, _, stderr = qcal(t, "", "transform", "-in_graph", graph, "-out_graph", log,
		"-transforms", "freeze_requantization_ranges(min_max_log_file="+log+")")
	if code == 0 {
		t.Errorf("output over the log accepted: %s", stderr)
	}
}

// TestTransformFoldConstants folds with qcal's executor: the Identity "w"
// of the Const w0 becomes a Const holding w0's value (3), and w0, now
// unused, is dropped: 2 nodes changed, 11 → 10.
func TestTransformFoldConstants(t *testing.T) {
	dir := t.TempDir()
	in := saveGraph(t, dir, "in.pb", bnGraph())
	out := filepath.Join(dir, "out.pb")
	code, _, stderr := qcal(t, "", "transform", "-in_graph", in, "-out_graph", out, "-inputs", "x", "-outputs", "y,unused", "-transforms", "fold_constants")
	want := "qcal: transform: nodes changed: fold_constants 2; 10 nodes (from 11) written to " + out + "\n"
	if code != 0 || stderr != want {
		t.Fatalf("exit %d, stderr %q; want 0 and %q", code, stderr, want)
	}
	g := loadGraph(t, out)
	for _, n := range g.GetNode() {
		if n.GetName() == "w0" {
			t.Error("w0 is still in the graph")
		}
		if n.GetName() == "w" {
			v, err := tensor.FromProto(n.GetAttr()["value"].GetTensor())
			if n.GetOp() != "Const" || err != nil || len(v.F32) != 1 || v.F32[0] != 3 {
				t.Errorf("w after folding: %v (%v)", n, err)
			}
		}
	}
}
