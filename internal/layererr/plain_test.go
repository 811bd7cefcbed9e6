package layererr

import (
	"math"
	"testing"

	"qcal/internal/dataset"
	"qcal/internal/exec"
	"qcal/internal/rewrite/quantize"
	"qcal/internal/tensor"
	"qcal/internal/tfpb"
)

// TestMeasurePlainPath measures an MLP quantized on TF's plain eightbit
// path with dynamic ranges (x → MatMul mm → BiasAdd ba → Relu out): mm's
// and ba's quantized outputs go on to the next quantized op, so Measure
// reads them through Dequantize nodes it adds (MIN_FIRST, the mode of the
// plain path), and out through the graph's own Dequantize.
func TestMeasurePlainPath(t *testing.T) {
	w := tensor.FromF32([]int{2, 2}, []float32{1, -1, 0.5, 2})
	fp := &tfpb.GraphDef{Node: []*tfpb.NodeDef{
		placeholder("x", 2),
		node("w", "Const", nil, map[string]*tfpb.AttrValue{"dtype": typeAttr(tfpb.DataType_DT_FLOAT),
			"value": {Value: &tfpb.AttrValue_Tensor{Tensor: w.ToProto()}}}),
		node("mm", "MatMul", []string{"x", "w"}, map[string]*tfpb.AttrValue{"T": typeAttr(tfpb.DataType_DT_FLOAT),
			"transpose_a": {Value: &tfpb.AttrValue_B{}}, "transpose_b": {Value: &tfpb.AttrValue_B{}}}),
		constF32("b", 0.25, -0.5),
		node("ba", "BiasAdd", []string{"mm", "b"}, f32),
		node("out", "Relu", []string{"ba"}, f32),
	}}
	q, err := quantize.Quantize(fp, quantize.Options{Outputs: []string{"out"}})
	if err != nil {
		t.Fatal(err)
	}
	fpg, err := exec.New(fp, "fp32")
	if err != nil {
		t.Fatal(err)
	}
	qg, err := exec.New(q.Graph, "int8")
	if err != nil {
		t.Fatal(err)
	}
	layers, tapped, err := Tensors(fpg, qg)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ name, int8 string }{{"mm", "mm" + TapSuffix}, {"ba", "ba" + TapSuffix}, {"out", "out"}}
	if len(layers) != len(want) {
		t.Fatalf("%d tensors, want %d", len(layers), len(want))
	}
	for i, w := range want {
		if layers[i].Name != w.name || layers[i].Int8 != w.int8 {
			t.Errorf("tensor %d: %s read from %s, want %s from %s", i, layers[i].Name, layers[i].Int8, w.name, w.int8)
		}
	}
	for _, n := range tapped.GetNode() {
		if n.GetName() == "mm"+TapSuffix && (n.GetInput()[0] != "mm_eightbit_requantize" || string(n.GetAttr()["mode"].GetS()) != "MIN_FIRST") {
			t.Errorf("tap %v %v: want MIN_FIRST Dequantize of mm_eightbit_requantize", n.GetInput(), n.GetAttr()["mode"])
		}
	}
	if len(tapped.GetNode()) != len(q.Graph.GetNode())+2 {
		t.Errorf("%d nodes after tapping, want the %d of the int8 graph + 2", len(tapped.GetNode()), len(q.Graph.GetNode()))
	}

	src, err := dataset.Open(npy(t, 4, 1, 2, -1, 0.5, 0.25, -2, 3, 1), dataset.Options{BatchSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	res, err := Measure(fpg, qg, src, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Each value is off by at most a few quint8 steps of its batch's
	// range (x's step and the output's add up): mm of the first batch is
	// x·w = (2, 3), (−0.75, 2), range [−0.75, 3], step 3.75/255 ≈ 0.0147.
	// The largest error must stay below 0.1 and SQNR above 30 dB.
	// Measured: mm 49.59 dB (max 0.0115), ba 43.55 dB (max 0.034), out
	// 46.51 dB (max 0.0161).
	for _, l := range res.Layers {
		t.Logf("%s: SQNR %.2f dB, max %.4g, N %d", l.Name, l.SQNR(), l.MaxAbs, l.N)
		if l.N != 8 || !(l.SQNR() > 30) || math.IsInf(l.SQNR(), 0) || l.MaxAbs > 0.1 {
			t.Errorf("%s: N %d SQNR %.2f dB max %.4g; want 8, finite above 30 dB, max ≤ 0.1", l.Name, l.N, l.SQNR(), l.MaxAbs)
		}
	}
}
