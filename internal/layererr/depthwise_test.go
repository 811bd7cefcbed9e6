package layererr

import (
	"testing"

	"qcal/internal/exec"
	"qcal/internal/rewrite/quantize"
	"qcal/internal/tensor"
	"qcal/internal/tfpb"
)

// TestTensorsDepthwiseRelu6: two depthwise convolutions with BiasAdd and
// Relu6, then a Conv2D with BiasAdd and Relu, quantized on the per-tensor
// Intel path. Each depthwise output feeds the next convolution directly
// (its Dequantize went with the next QuantizeV2), so Tensors reads it
// through a Dequantize it adds, standing for the Relu6 (the Intel path
// fuses a Relu6 into an ...AndRelu op). Those Requantize nodes are
// RequantizePerChannel (depthwise convolutions are brought down per
// channel), so the taps are SCALED although the graph's own Dequantize
// (the Conv2D's, named after its Relu, the output) is MIN_FIRST.
func TestTensorsDepthwiseRelu6(t *testing.T) {
	ints := func(v ...int64) *tfpb.AttrValue {
		return &tfpb.AttrValue{Value: &tfpb.AttrValue_List{List: &tfpb.AttrValue_ListValue{I: v}}}
	}
	str := func(s string) *tfpb.AttrValue { return &tfpb.AttrValue{Value: &tfpb.AttrValue_S{S: []byte(s)}} }
	shape := &tfpb.TensorShapeProto{Dim: []*tfpb.TensorShapeProto_Dim{{Size: -1}, {Size: 2}, {Size: 2}, {Size: 2}}}
	w := func(name string, v ...float32) *tfpb.NodeDef {
		c := constF32(name, v...)
		c.Attr["value"] = &tfpb.AttrValue{Value: &tfpb.AttrValue_Tensor{Tensor: tensor.FromF32([]int{1, 1, 2, 1}, v).ToProto()}}
		return c
	}
	dw := func(name, in, filter string) *tfpb.NodeDef {
		return node(name, "DepthwiseConv2dNative", []string{in, filter}, map[string]*tfpb.AttrValue{
			"T": typeAttr(tfpb.DataType_DT_FLOAT), "strides": ints(1, 1, 1, 1), "padding": str("SAME")})
	}
	g := &tfpb.GraphDef{Node: []*tfpb.NodeDef{
		node("x", "Placeholder", nil, map[string]*tfpb.AttrValue{"dtype": typeAttr(tfpb.DataType_DT_FLOAT), "shape": {Value: &tfpb.AttrValue_Shape{Shape: shape}}}),
		node("r0", "Relu", []string{"x"}, f32),
		w("w1", 0.5, -2), dw("c1", "r0", "w1"), constF32("bias1", 0.25, 1), node("b1", "BiasAdd", []string{"c1", "bias1"}, f32), node("r1", "Relu6", []string{"b1"}, f32),
		w("w2", 1, 3), dw("c2", "r1", "w2"), constF32("bias2", 0, -0.5), node("b2", "BiasAdd", []string{"c2", "bias2"}, f32), node("r2", "Relu6", []string{"b2"}, f32),
		w("w3", 1, -1), node("c3", "Conv2D", []string{"r2", "w3"}, map[string]*tfpb.AttrValue{
			"T": typeAttr(tfpb.DataType_DT_FLOAT), "strides": ints(1, 1, 1, 1), "padding": str("SAME")}),
		constF32("bias3", 0.5), node("b3", "BiasAdd", []string{"c3", "bias3"}, f32), node("r3", "Relu", []string{"b3"}, f32),
	}}
	q, err := quantize.Quantize(g, quantize.Options{Outputs: []string{"r3"}, Intel: true})
	if err != nil {
		t.Fatal(err)
	}
	fp, err := exec.New(g, "fp32")
	if err != nil {
		t.Fatal(err)
	}
	i8, err := exec.New(q.Graph, "int8")
	if err != nil {
		t.Fatal(err)
	}
	layers, withTaps, err := Tensors(fp, i8)
	if err != nil {
		t.Fatal(err)
	}
	if len(layers) != 3 || layers[0].Name != "r1" || layers[0].Int8 != "r1"+TapSuffix || layers[1].Name != "r2" || layers[1].Int8 != "r2"+TapSuffix ||
		layers[2].Name != "r3" || layers[2].Int8 != "r3" {
		for _, l := range layers {
			t.Logf("layer %+v", *l)
		}
		t.Fatalf("want r1 and r2 through taps, r3 through the graph's Dequantize")
	}
	taps := 0
	for _, n := range withTaps.GetNode() {
		switch n.GetName() {
		case "r3":
			// The graph's own: the per-tensor conv's MIN_FIRST Dequantize.
			if string(n.GetAttr()["mode"].GetS()) != "MIN_FIRST" {
				t.Errorf("r3: %v", n)
			}
		case "r1" + TapSuffix, "r2" + TapSuffix:
			taps++
			want := "c" + n.GetName()[1:2] + "_eightbit_requantize"
			if n.GetInput()[0] != want || string(n.GetAttr()["mode"].GetS()) != "SCALED" || n.GetAttr()["T"].GetType() != tfpb.DataType_DT_QUINT8 {
				t.Errorf("tap %v, want SCALED quint8 reading %s", n, want)
			}
		}
	}
	if taps != 2 {
		t.Errorf("%d taps, want 2", taps)
	}
}
