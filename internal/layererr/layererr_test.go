package layererr

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"qcal/internal/dataset"
	"qcal/internal/exec"
	"qcal/internal/tensor"
	"qcal/internal/tfpb"
)

func node(name, op string, inputs []string, attrs map[string]*tfpb.AttrValue) *tfpb.NodeDef {
	return &tfpb.NodeDef{Name: name, Op: op, Input: inputs, Attr: attrs}
}

func typeAttr(t tfpb.DataType) *tfpb.AttrValue {
	return &tfpb.AttrValue{Value: &tfpb.AttrValue_Type{Type: t}}
}

func constF32(name string, v ...float32) *tfpb.NodeDef {
	x := tensor.FromF32(nil, v[:1])
	if len(v) > 1 {
		x = tensor.FromF32([]int{len(v)}, v)
	}
	return node(name, "Const", nil, map[string]*tfpb.AttrValue{
		"dtype": typeAttr(tfpb.DataType_DT_FLOAT),
		"value": {Value: &tfpb.AttrValue_Tensor{Tensor: x.ToProto()}},
	})
}

// placeholder is a float [?, width] input.
func placeholder(name string, width int64) *tfpb.NodeDef {
	s := &tfpb.TensorShapeProto{Dim: []*tfpb.TensorShapeProto_Dim{{Size: -1}, {Size: width}}}
	return node(name, "Placeholder", nil, map[string]*tfpb.AttrValue{
		"dtype": typeAttr(tfpb.DataType_DT_FLOAT), "shape": {Value: &tfpb.AttrValue_Shape{Shape: s}}})
}

var f32 = map[string]*tfpb.AttrValue{"T": typeAttr(tfpb.DataType_DT_FLOAT)}

// pair returns the test's two graphs. FP32: act = Relu(x), out = act + 0.
// "int8": act is x quantized to quint8 on [0, 255] in MIN_FIRST mode
// (q = round(x·255/255) − round(0) clamped to [0, 255]: step 1, Relu and
// rounding to integers in one) and dequantized, under the FP32 Relu's
// name, and out = act + offset.
func pair(t *testing.T, offset float32, extra ...*tfpb.NodeDef) (*exec.Graph, *exec.Graph) {
	t.Helper()
	fp := &tfpb.GraphDef{Node: []*tfpb.NodeDef{
		placeholder("x", 3),
		node("act", "Relu", []string{"x"}, f32),
		constF32("zero", 0),
		node("out", "Add", []string{"act", "zero"}, f32),
	}}
	fp.Node = append(fp.Node, extra...)
	qu8 := map[string]*tfpb.AttrValue{"T": typeAttr(tfpb.DataType_DT_QUINT8), "mode": {Value: &tfpb.AttrValue_S{S: []byte("MIN_FIRST")}}}
	q := &tfpb.GraphDef{Node: []*tfpb.NodeDef{
		placeholder("x", 3),
		constF32("lo", 0), constF32("hi", 255),
		node("act_q", "QuantizeV2", []string{"x", "lo", "hi"}, qu8),
		node("act", "Dequantize", []string{"act_q", "act_q:1", "act_q:2"}, qu8),
		constF32("offset", offset),
		node("out", "Add", []string{"act", "offset"}, f32),
	}}
	q.Node = append(q.Node, extra...)
	a, err := exec.New(fp, "fp32")
	if err != nil {
		t.Fatal(err)
	}
	b, err := exec.New(q, "int8")
	if err != nil {
		t.Fatal(err)
	}
	return a, b
}

// npy writes a float32 .npy file of shape (rows, len(v)/rows).
func npy(t *testing.T, rows int, v ...float32) string {
	t.Helper()
	dict := "{'descr': '<f4', 'fortran_order': False, 'shape': (" + itoa(rows) + ", " + itoa(len(v)/rows) + "), }"
	pad := 64 - (10+len(dict)+1)%64
	if pad == 64 {
		pad = 0
	}
	hdr := dict + strings.Repeat(" ", pad) + "\n"
	b := []byte("\x93NUMPY\x01\x00")
	b = binary.LittleEndian.AppendUint16(b, uint16(len(hdr)))
	b = append(b, hdr...)
	for _, f := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(f))
	}
	p := filepath.Join(t.TempDir(), "x.npy")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

func near(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol {
		t.Errorf("%s = %.9g, want %.9g (±%g)", what, got, want, tol)
	}
}

// TestMeasureByHand compares the two graphs of pair on two examples fed
// one a batch (the sums accumulate across batches). Both graphs have a
// second output, cls = ArgMax(act), int64: it is not compared.
func TestMeasureByHand(t *testing.T) {
	axis := tensor.FromI32(nil, []int32{1})
	fp, q := pair(t, 0.5,
		node("axis", "Const", nil, map[string]*tfpb.AttrValue{"dtype": typeAttr(tfpb.DataType_DT_INT32),
			"value": {Value: &tfpb.AttrValue_Tensor{Tensor: axis.ToProto()}}}),
		node("cls", "ArgMax", []string{"act", "axis"}, map[string]*tfpb.AttrValue{"T": typeAttr(tfpb.DataType_DT_FLOAT),
			"Tidx": typeAttr(tfpb.DataType_DT_INT32), "output_type": typeAttr(tfpb.DataType_DT_INT64)}))
	if len(fp.Outputs) != 2 {
		t.Fatalf("FP32 outputs %v, want out and cls", fp.Outputs)
	}
	path := npy(t, 2, -2, 1, 3.4, 0, -0.25, 2)
	src, err := dataset.Open(path, dataset.Options{BatchSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	res, err := Measure(fp, q, src, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Examples != 2 || res.Batches != 2 || res.Input != "x" || len(res.Layers) != 2 {
		t.Fatalf("%d examples, %d batches, input %q, %d layers; want 2, 2, x, 2", res.Examples, res.Batches, res.Input, len(res.Layers))
	}
	act, out := res.Layers[0], res.Layers[1]
	if act.Name != "act" || act.Int8 != "act" || act.Op != "Relu" || act.Output || out.Name != "out" || !out.Output {
		t.Fatalf("layers %+v, %+v: want act (Relu) then the output out", act, out)
	}
	// Worked by hand. FP32 act = Relu(x) = 0 1 3.4 0 0 2; int8 act rounds
	// to 0 1 3 0 0 2: the one error is 3.4−3 = 0.4.
	// Σx = 6.4, Σx² = 1 + 11.56 + 4 = 16.56, Σe² = 0.16,
	// SQNR = 10·log10(16.56/0.16) = 10·log10(103.5) = 20.1494 dB,
	// RMSE = √(0.16/6) = 0.163299, no sign changes.
	// (float32 3.4 is 3.4000000954: tolerances 1e-6.)
	if act.N != 6 {
		t.Errorf("act: N = %d, want 6", act.N)
	}
	near(t, "act SQNR", act.SQNR(), 10*math.Log10(103.5), 1e-5)
	near(t, "act SQNR", act.SQNR(), 20.1494, 1e-4)
	near(t, "act RMSE", act.RMSE(), math.Sqrt(0.16/6), 1e-6)
	near(t, "act max", act.MaxAbs, 0.4, 1e-6)
	near(t, "act mean", act.MeanX(), 6.4/6, 1e-6)
	near(t, "act sign share", act.SignShare(), 0, 0)
	// out adds 0.5 to the int8 act: errors −0.5 five times and −0.1 once
	// (3.4 vs 3.5): Σe² = 5·0.25 + 0.01 = 1.26, SQNR = 10·log10(16.56/1.26)
	// = 11.1869 dB, RMSE = √(1.26/6) = 0.458258, max 0.5; the three FP32
	// zeros became 0.5: sign share 3/6.
	near(t, "out SQNR", out.SQNR(), 10*math.Log10(16.56/1.26), 1e-5)
	near(t, "out SQNR", out.SQNR(), 11.1869, 1e-4)
	near(t, "out RMSE", out.RMSE(), math.Sqrt(1.26/6), 1e-6)
	near(t, "out max", out.MaxAbs, 0.5, 1e-6)
	near(t, "out sign share", out.SignShare(), 0.5, 0)
	if out.SignDiff != 3 {
		t.Errorf("out: %d sign changes, want 3", out.SignDiff)
	}
}

// TestMeasureEqual: with no offset and values the quantization keeps
// exactly, every error is 0 and SQNR is +Inf.
func TestMeasureEqual(t *testing.T) {
	fp, q := pair(t, 0)
	src, err := dataset.Open(npy(t, 3, 1, 2, 3, 0, 4, 5, 6, 7, 8), dataset.Options{BatchSize: 2, Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	res, err := Measure(fp, q, src, Options{Batches: 1})
	if err != nil {
		t.Fatal(err)
	}
	// Batches: 1 stops after the first batch of 2 examples.
	if res.Examples != 2 || res.Batches != 1 {
		t.Errorf("%d examples in %d batches, want 2 in 1", res.Examples, res.Batches)
	}
	for _, l := range res.Layers {
		if !math.IsInf(l.SQNR(), 1) || l.RMSE() != 0 || l.MaxAbs != 0 || l.SignDiff != 0 || l.N != 6 {
			t.Errorf("%s: SQNR %g RMSE %g max %g signs %d N %d; want +Inf, 0, 0, 0, 6", l.Name, l.SQNR(), l.RMSE(), l.MaxAbs, l.SignDiff, l.N)
		}
	}
}

// TestMeasureErrors: graphs with nothing in common, and an empty data set.
func TestMeasureErrors(t *testing.T) {
	fp, _ := pair(t, 0)
	other, err := exec.New(&tfpb.GraphDef{Node: []*tfpb.NodeDef{
		placeholder("x", 3), node("y", "Relu", []string{"x"}, f32),
	}}, "other.pb")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := Tensors(fp, other); err == nil || !strings.Contains(err.Error(), "fp32 and other.pb share no quantized layer's output") {
		t.Errorf("got %v, want an error saying the graphs share no layer", err)
	}
	// A data set row of 4 values cannot feed [?, 3].
	fp, q := pair(t, 0)
	src, err := dataset.Open(npy(t, 1, 1, 2, 3, 4), dataset.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if _, err := Measure(fp, q, src, Options{}); err == nil || !strings.Contains(err.Error(), "x.npy:0") {
		t.Errorf("got %v, want an error naming the batch x.npy:0", err)
	}
}
