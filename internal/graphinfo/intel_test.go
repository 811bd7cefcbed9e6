package graphinfo

import (
	"slices"
	"testing"
)

func TestIntelView(t *testing.T) {
	g := graph(
		node("x", "Placeholder"),
		node("w0", "Const"),
		node("c0", "Conv2D", "x", "w0"), // reads the input: FP32
		node("r0", "Relu", "c0"),
		node("r0/id", "Identity", "r0"),
		node("p0", "MaxPool", "r0/id"), // Relu → Identity → MaxPool: still Relu-fed
		node("w1", "Const"),
		node("w1/read", "Identity", "w1"),
		node("c1", "Conv2D", "p0", "w1/read"),          // quantized: filter through Identity
		node("c2", "DepthwiseConv2dNative", "p0", "x"), // filter not a Const
		node("mm", "MatMul", "x", "w0"),
	)
	v := Summarize(g).Quantization.Intel
	if v == nil || v.Convs != 3 || v.Quantized != 1 {
		t.Fatalf("view %+v", v)
	}
	want := []FloatNode{
		{"c0", "Conv2D", ReasonNotReluFed},
		{"c2", "DepthwiseConv2dNative", ReasonFilterNotConst},
		{"mm", "MatMul", ReasonMatMul},
	}
	if !slices.Equal(v.Float, want) {
		t.Errorf("Float %+v, want %+v", v.Float, want)
	}
	// No convolution, no MatMul: no view. A quantized graph: no view.
	if v := Summarize(graph(node("x", "Placeholder"), node("r", "Relu", "x"))).Quantization.Intel; v != nil {
		t.Errorf("view of a graph without convs: %+v", v)
	}
	if v := Summarize(graph(node("x", "Placeholder"), node("q", "QuantizeV2", "x"), node("c", "Conv2D", "x", "x"))).Quantization.Intel; v != nil {
		t.Errorf("view of a quantized graph: %+v", v)
	}
	// A cycle of Identity nodes ends the walk.
	if v := Summarize(graph(node("a", "Identity", "b"), node("b", "Identity", "a"), node("c", "Conv2D", "a", "b"))).Quantization.Intel; v == nil || v.Quantized != 0 {
		t.Errorf("cycle: %+v", v)
	}
}

// TestIntelViewLostClamps: a quantized Conv2D → BiasAdd (or Add) → Relu6
// loses its clamp on the per-tensor Intel path (quantize's LostClamps);
// a Relu, a depthwise conv (brought down per channel) or a BiasAdd with a
// second reader does not count.
func TestIntelViewLostClamps(t *testing.T) {
	g := graph(
		node("x", "Placeholder"),
		node("r", "Relu", "x"),
		node("w", "Const"),
		node("c1", "Conv2D", "r", "w"), node("b1", "BiasAdd", "c1", "w"), node("a1", "Relu6", "b1"), // counts
		node("c2", "Conv2D", "a1", "w"), node("b2", "Add", "c2", "w"), node("b2/id", "Identity", "b2"), node("a2", "Relu6", "b2/id"), // counts, through Identity
		node("c3", "Conv2D", "a2", "w"), node("b3", "BiasAdd", "c3", "w"), node("a3", "Relu", "b3"), // Relu: no clamp
		node("c4", "DepthwiseConv2dNative", "a3", "w"), node("b4", "BiasAdd", "c4", "w"), node("a4", "Relu6", "b4"), // per channel
		node("c5", "Conv2D", "a4", "w"), node("b5", "BiasAdd", "c5", "w"), node("a5", "Relu6", "b5"), node("o5", "Neg", "b5"), // two readers
	)
	v := Summarize(g).Quantization.Intel
	if v == nil || v.Quantized != 5 || v.LostClamps != 2 {
		t.Fatalf("view %+v, want 5 quantized, 2 lost clamps", v)
	}
}
