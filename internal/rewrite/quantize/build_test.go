package quantize

import (
	"math"
	"testing"

	"qcal/internal/graphio"
	"qcal/internal/testutil"
	"qcal/internal/tfpb"
)

// builder makes small FP32 graphs for the tests.
type builder struct{ g *tfpb.GraphDef }

func (b *builder) node(op, name string, inputs ...string) *tfpb.NodeDef {
	n := newNode(op, name, inputs...)
	b.g.Node = append(b.g.Node, n)
	return n
}

func (b *builder) placeholder(name string) {
	n := b.node("Placeholder", name)
	setType(n, "dtype", tfpb.DataType_DT_FLOAT)
}

func (b *builder) constant(name string, dims []int64, v ...float32) {
	b.g.Node = append(b.g.Node, constNode(name, tfpb.DataType_DT_FLOAT, dims, v, nil))
}

func (b *builder) op(op, name string, inputs ...string) *tfpb.NodeDef {
	n := b.node(op, name, inputs...)
	setType(n, "T", tfpb.DataType_DT_FLOAT)
	return n
}

func intList(v ...int64) *tfpb.AttrValue {
	return &tfpb.AttrValue{Value: &tfpb.AttrValue_List{List: &tfpb.AttrValue_ListValue{I: v}}}
}

// conv adds a 1×1 Conv2D from 1 to 1 channel with weight w.
func (b *builder) conv(name, in string, w float32) {
	b.constant(name+"/weight", []int64{1, 1, 1, 1}, w)
	n := b.op("Conv2D", name, in, name+"/weight")
	n.Attr["strides"] = intList(1, 1, 1, 1)
	n.Attr["dilations"] = intList(1, 1, 1, 1)
	setString(n, "padding", "SAME")
	setString(n, "data_format", "NHWC")
}

func (b *builder) biasAdd(name, in string, bias float32) {
	b.constant(name+"/bias", []int64{1}, bias)
	b.op("BiasAdd", name, in, name+"/bias")
}

func (b *builder) pool(op, name, in string) {
	n := b.op(op, name, in)
	n.Attr["ksize"] = intList(1, 2, 2, 1)
	n.Attr["strides"] = intList(1, 2, 2, 1)
	setString(n, "padding", "VALID")
}

func mustQuantize(t *testing.T, g *tfpb.GraphDef, o Options) *Result {
	t.Helper()
	res, err := Quantize(g, o)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// golden compares the text form of g with testdata/name.pbtxt, and checks
// that the golden file decodes to the same text again.
func golden(t *testing.T, name string, g *tfpb.GraphDef) {
	t.Helper()
	text, err := graphio.Encode(g, graphio.Text)
	if err != nil {
		t.Fatal(err)
	}
	path := "testdata/" + name + ".pbtxt"
	testutil.Golden(t, path, text)
	back, _, err := graphio.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	again, err := graphio.Encode(back, graphio.Text)
	if err != nil {
		t.Fatal(err)
	}
	if string(again) != string(text) && !testutil.Updating() {
		t.Errorf("%s: decoding and encoding the golden file changes it", path)
	}
}

// ops maps node names to ops.
func ops(g *tfpb.GraphDef) map[string]string {
	m := map[string]string{}
	for _, n := range g.Node {
		m[n.Name] = n.Op
	}
	return m
}

func nanValue() float64 { return math.NaN() }
