package exec

import (
	"math"
	"testing"

	"qcal/internal/tensor"
	"qcal/internal/tfpb"
)

// TestFuseAddBias: a convolution → Add of a Const vector with one value per
// output channel → Relu6 (what fold_batch_norms writes) runs as one fused
// step and gives the separate kernels' bits; an Add of anything else (a
// scalar, a per-pixel Const, a fed tensor, a second input first) stays
// apart.
func TestFuseAddBias(t *testing.T) {
	f := map[string]*tfpb.AttrValue{"T": typeAttr(tfpb.DataType_DT_FLOAT)}
	conv := map[string]*tfpb.AttrValue{
		"T": typeAttr(tfpb.DataType_DT_FLOAT), "padding": {Value: &tfpb.AttrValue_S{S: []byte("SAME")}},
		"strides": {Value: &tfpb.AttrValue_List{List: &tfpb.AttrValue_ListValue{I: []int64{1, 2, 2, 1}}}},
	}
	vals := func(n int, scale float32) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = (float32(i%13) - 6.3) * scale
		}
		return v
	}
	x := tensor.FromF32([]int{1, 7, 6, 3}, vals(7*6*3, 0.9))
	for _, c := range []struct {
		name, op, add string
		w, b          *tensor.Tensor
		bInput        string // the Add's inputs
		want          string // the steps
	}{
		{"conv", "Conv2D", "Add", tensor.FromF32([]int{3, 3, 3, 4}, vals(108, 0.37)), tensor.FromF32([]int{4}, vals(4, 1.1)),
			"", "Const Const _FusedConv2D"},
		{"conv AddV2", "Conv2D", "AddV2", tensor.FromF32([]int{3, 3, 3, 4}, vals(108, 0.37)), tensor.FromF32([]int{4}, vals(4, 1.1)),
			"", "Const Const _FusedConv2D"},
		{"depthwise ×2", "DepthwiseConv2dNative", "Add", tensor.FromF32([]int{3, 3, 3, 2}, vals(54, 0.5)), tensor.FromF32([]int{6}, vals(6, 1.3)),
			"", "Const Const _FusedDepthwiseConv2dNative"},
		{"scalar", "Conv2D", "Add", tensor.FromF32([]int{3, 3, 3, 4}, vals(108, 0.37)), tensor.FromF32([]int{1}, []float32{0.5}),
			"", "Const Const Conv2D Add Relu6"},
		{"per pixel", "Conv2D", "Add", tensor.FromF32([]int{3, 3, 3, 4}, vals(108, 0.37)), tensor.FromF32([]int{3, 4}, vals(12, 1)),
			"", "Const Const Conv2D Add Relu6"},
		{"bias first", "Conv2D", "Add", tensor.FromF32([]int{3, 3, 3, 4}, vals(108, 0.37)), tensor.FromF32([]int{4}, vals(4, 1.1)),
			"b conv", "Const Const Conv2D Add Relu6"},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := []string{"conv", "b"}
			if c.bInput != "" {
				in = []string{"b", "conv"}
			}
			build := func() *Graph {
				g := &tfpb.GraphDef{Node: []*tfpb.NodeDef{
					mkNode("x", "Placeholder", nil, map[string]*tfpb.AttrValue{"dtype": typeAttr(tfpb.DataType_DT_FLOAT)}),
					constNode("w", c.w), constNode("b", c.b),
					mkNode("conv", c.op, []string{"x", "w"}, conv),
					mkNode("add", c.add, in, f),
					mkNode("act", "Relu6", []string{"add"}, f),
				}}
				gr, err := New(g, "g")
				if err != nil {
					t.Fatal(err)
				}
				return gr
			}
			gr, plain := build(), build()
			plain.NoFusion = true
			if got := stepOps(t, gr, []string{"x"}, []string{"act"}); got != c.want {
				t.Errorf("steps %q, want %q", got, c.want)
			}
			got, err := gr.Run(map[string]*tensor.Tensor{"x": x}, []string{"act"})
			if err != nil {
				t.Fatal(err)
			}
			want, err := plain.Run(map[string]*tensor.Tensor{"x": x}, []string{"act"})
			if err != nil {
				t.Fatal(err)
			}
			if tensor.ShapeString(got[0].Shape) != tensor.ShapeString(want[0].Shape) {
				t.Fatalf("shape %v, want %v", got[0].Shape, want[0].Shape)
			}
			clipped := 0
			for i, v := range want[0].F32 {
				if math.Float32bits(got[0].F32[i]) != math.Float32bits(v) {
					t.Fatalf("element %d = %v, the separate kernels give %v", i, got[0].F32[i], v)
				}
				if v == 6 || v == 0 {
					clipped++
				}
			}
			if clipped == 0 || clipped == len(want[0].F32) {
				t.Errorf("%d of %d values clipped: the test should see both sides of Relu6", clipped, len(want[0].F32))
			}
		})
	}
	// A fed bias is not a Const's value: no fusion.
	g := &tfpb.GraphDef{Node: []*tfpb.NodeDef{
		mkNode("x", "Placeholder", nil, map[string]*tfpb.AttrValue{"dtype": typeAttr(tfpb.DataType_DT_FLOAT)}),
		constNode("w", tensor.FromF32([]int{3, 3, 3, 4}, vals(108, 0.37))), constNode("b", tensor.FromF32([]int{4}, vals(4, 1.1))),
		mkNode("conv", "Conv2D", []string{"x", "w"}, conv),
		mkNode("add", "Add", []string{"conv", "b"}, f),
	}}
	gr, err := New(g, "g")
	if err != nil {
		t.Fatal(err)
	}
	if got := stepOps(t, gr, []string{"x", "b"}, []string{"add"}); got != "Const Conv2D Add" {
		t.Errorf("fed bias: steps %q", got)
	}
}
