package exec

import (
	"testing"

	"qcal/internal/tensor"
	"qcal/internal/tfpb"
)

func placeholder(name string, dims ...int64) *tfpb.NodeDef {
	s := &tfpb.TensorShapeProto{}
	for _, d := range dims {
		s.Dim = append(s.Dim, &tfpb.TensorShapeProto_Dim{Size: d})
	}
	return mkNode(name, "Placeholder", nil, map[string]*tfpb.AttrValue{
		"dtype": typeAttr(tfpb.DataType_DT_FLOAT), "shape": {Value: &tfpb.AttrValue_Shape{Shape: s}}})
}

// TestStaticShapes: contradictions between shapes known before any input
// is read are refused at load, after propagation through other ops.
func TestStaticShapes(t *testing.T) {
	f := map[string]*tfpb.AttrValue{"T": typeAttr(tfpb.DataType_DT_FLOAT)}
	conv := map[string]*tfpb.AttrValue{
		"T": typeAttr(tfpb.DataType_DT_FLOAT), "padding": {Value: &tfpb.AttrValue_S{S: []byte("VALID")}},
		"strides": {Value: &tfpb.AttrValue_List{List: &tfpb.AttrValue_ListValue{I: []int64{1, 1, 1, 1}}}},
	}
	zeros := func(shape ...int) *tensor.Tensor { return tensor.New(tfpb.DataType_DT_FLOAT, shape) }
	cases := []struct {
		name  string
		nodes []*tfpb.NodeDef
		want  string // "" = loads
	}{
		{"matmul inner", []*tfpb.NodeDef{
			placeholder("x", -1, 784), constNode("w", zeros(100, 10)),
			mkNode("y", "MatMul", []string{"x", "w"}, f),
		}, `g: node "y" (MatMul): inner dimensions differ: [?,784] × [100,10] (784 against 100)`},
		// [?,28,28,1] → Reshape [-1,784] → MatMul with [700,10]: 784 ≠ 700.
		{"through reshape", []*tfpb.NodeDef{
			placeholder("x", -1, 28, 28, 1), constNode("s", tensor.FromI32([]int{2}, []int32{-1, 784})),
			mkNode("r", "Reshape", []string{"x", "s"}, f), constNode("w", zeros(700, 10)),
			mkNode("y", "MatMul", []string{"r", "w"}, f),
		}, `g: node "y" (MatMul): inner dimensions differ: [?,784] × [700,10] (784 against 700)`},
		{"through reshape fits", []*tfpb.NodeDef{
			placeholder("x", -1, 28, 28, 1), constNode("s", tensor.FromI32([]int{2}, []int32{-1, 784})),
			mkNode("r", "Reshape", []string{"x", "s"}, f), constNode("w", zeros(784, 10)),
			mkNode("y", "MatMul", []string{"r", "w"}, f),
		}, ""},
		// 28×28 VALID 3×3 → 26×26×32; a bias of 16 does not fit.
		{"conv then bias", []*tfpb.NodeDef{
			placeholder("x", -1, 28, 28, 1), constNode("k", zeros(3, 3, 1, 32)),
			mkNode("c", "Conv2D", []string{"x", "k"}, conv), constNode("b", zeros(16)),
			mkNode("y", "BiasAdd", []string{"c", "b"}, f),
		}, `g: node "y" (BiasAdd): bias [16] does not match the 32 channels of [?,26,26,32]`},
		// 26×26×32 flattened is 21632: a [21632, 10] dense layer fits.
		{"conv then flatten", []*tfpb.NodeDef{
			placeholder("x", 2, 28, 28, 1), constNode("k", zeros(3, 3, 1, 32)),
			mkNode("c", "Conv2D", []string{"x", "k"}, conv),
			constNode("s", tensor.FromI32([]int{2}, []int32{2, -1})), mkNode("r", "Reshape", []string{"c", "s"}, f),
			constNode("w", zeros(21632, 10)), mkNode("y", "MatMul", []string{"r", "w"}, f),
		}, ""},
		{"reshape count", []*tfpb.NodeDef{
			constNode("a", zeros(2, 3)), constNode("s", tensor.FromI32([]int{1}, []int32{4})),
			mkNode("r", "Reshape", []string{"a", "s"}, f),
		}, `g: node "r" (Reshape): cannot reshape [2,3] (6 elements) to [4] (4 elements)`},
		{"broadcast", []*tfpb.NodeDef{
			placeholder("x", -1, 3), constNode("b", zeros(4)),
			mkNode("y", "Add", []string{"x", "b"}, f),
		}, `g: node "y" (Add): shapes [?,3] and [4] cannot be broadcast`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := New(&tfpb.GraphDef{Node: c.nodes}, "g")
			switch {
			case c.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case c.want != "" && (err == nil || err.Error() != c.want):
				t.Errorf("got %v, want %s", err, c.want)
			}
		})
	}
}
