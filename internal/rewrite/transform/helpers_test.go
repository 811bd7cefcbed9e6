package transform

import (
	"encoding/binary"
	"math"
	"path/filepath"
	"slices"
	"testing"

	"qcal/internal/graphio"
	"qcal/internal/testutil"
	"qcal/internal/tfpb"
)

func node(name, op string, inputs ...string) *tfpb.NodeDef {
	return &tfpb.NodeDef{Name: name, Op: op, Input: inputs, Attr: map[string]*tfpb.AttrValue{}}
}

func graph(nodes ...*tfpb.NodeDef) *tfpb.GraphDef { return &tfpb.GraphDef{Node: nodes} }

func withAttr(n *tfpb.NodeDef, key string, v *tfpb.AttrValue) *tfpb.NodeDef {
	n.Attr[key] = v
	return n
}

func typeAttr(t tfpb.DataType) *tfpb.AttrValue {
	return &tfpb.AttrValue{Value: &tfpb.AttrValue_Type{Type: t}}
}
func floatAttr(f float32) *tfpb.AttrValue { return &tfpb.AttrValue{Value: &tfpb.AttrValue_F{F: f}} }
func boolAttr(b bool) *tfpb.AttrValue     { return &tfpb.AttrValue{Value: &tfpb.AttrValue_B{B: b}} }
func strAttr(s string) *tfpb.AttrValue {
	return &tfpb.AttrValue{Value: &tfpb.AttrValue_S{S: []byte(s)}}
}

// constF is a float Const written with tensor_content, as TF writes weights.
func constF(name string, dims []int64, vals ...float32) *tfpb.NodeDef {
	var b []byte
	for _, v := range vals {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	shape := &tfpb.TensorShapeProto{}
	for _, d := range dims {
		shape.Dim = append(shape.Dim, &tfpb.TensorShapeProto_Dim{Size: d})
	}
	n := node(name, "Const")
	n.Attr["dtype"] = typeAttr(tfpb.DataType_DT_FLOAT)
	n.Attr["value"] = &tfpb.AttrValue{Value: &tfpb.AttrValue_Tensor{Tensor: &tfpb.TensorProto{
		Dtype: tfpb.DataType_DT_FLOAT, TensorShape: shape, TensorContent: b}}}
	return n
}

func placeholder(name string) *tfpb.NodeDef {
	return withAttr(node(name, "Placeholder"), "dtype", typeAttr(tfpb.DataType_DT_FLOAT))
}

// floatT wraps node with T=float, as conv and arithmetic nodes carry.
func floatT(n *tfpb.NodeDef) *tfpb.NodeDef { return withAttr(n, "T", typeAttr(tfpb.DataType_DT_FLOAT)) }

func find(g *tfpb.GraphDef, name string) *tfpb.NodeDef {
	for _, n := range g.GetNode() {
		if n.GetName() == name {
			return n
		}
	}
	return nil
}

func names(g *tfpb.GraphDef) []string {
	var out []string
	for _, n := range g.GetNode() {
		out = append(out, n.GetName())
	}
	return out
}

func opCounts(g *tfpb.GraphDef) map[string]int {
	m := map[string]int{}
	for _, n := range g.GetNode() {
		m[n.GetOp()]++
	}
	return m
}

// constValues decodes a float Const of the graph.
func constValues(t *testing.T, g *tfpb.GraphDef, name string) []float32 {
	t.Helper()
	n := find(g, name)
	if n == nil || n.GetOp() != "Const" {
		t.Fatalf("no Const %q in %v", name, names(g))
	}
	v, _, err := floats(n.GetAttr()["value"].GetTensor())
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// run parses spec and applies it.
func run(t *testing.T, g *tfpb.GraphDef, spec string, opt Options) (*tfpb.GraphDef, []StepResult) {
	t.Helper()
	steps, err := Parse(spec)
	if err != nil {
		t.Fatal(err)
	}
	out, res, err := Apply(g, steps, opt)
	if err != nil {
		t.Fatalf("%s: %v", spec, err)
	}
	return out, res
}

// golden compares the graph's text form with testdata/NAME.pbtxt, and
// checks that the text decodes to the same graph.
func golden(t *testing.T, name string, g *tfpb.GraphDef) {
	t.Helper()
	text, err := graphio.Encode(g, graphio.Text)
	if err != nil {
		t.Fatal(err)
	}
	testutil.Golden(t, filepath.Join("testdata", name+".pbtxt"), text)
	back, _, err := graphio.Decode(text, name)
	if err != nil {
		t.Fatal(err)
	}
	again, err := graphio.Encode(back, graphio.Text)
	if err != nil || !slices.Equal(again, text) {
		t.Errorf("%s: text does not round-trip: %v", name, err)
	}
}
