package kernels_test

import (
	"bytes"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"qcal/internal/exec"
	"qcal/internal/kernels"
	"qcal/internal/tensor"
	"qcal/internal/tfpb"
	"qcal/logparse"
)

type nodeAttrs map[string]*tfpb.AttrValue

func typ(t tfpb.DataType) *tfpb.AttrValue {
	return &tfpb.AttrValue{Value: &tfpb.AttrValue_Type{Type: t}}
}
func str(s string) *tfpb.AttrValue { return &tfpb.AttrValue{Value: &tfpb.AttrValue_S{S: []byte(s)}} }
func ival(v int) *tfpb.AttrValue   { return &tfpb.AttrValue{Value: &tfpb.AttrValue_I{I: int64(v)}} }
func ints(v ...int64) *tfpb.AttrValue {
	return &tfpb.AttrValue{Value: &tfpb.AttrValue_List{List: &tfpb.AttrValue_ListValue{I: v}}}
}
func types(v ...tfpb.DataType) *tfpb.AttrValue {
	return &tfpb.AttrValue{Value: &tfpb.AttrValue_List{List: &tfpb.AttrValue_ListValue{Type: v}}}
}

func node(name, op string, a nodeAttrs, in ...string) *tfpb.NodeDef {
	return &tfpb.NodeDef{Name: name, Op: op, Input: in, Attr: a}
}

func constNode(name string, x *tensor.Tensor) *tfpb.NodeDef {
	return node(name, "Const", nodeAttrs{"dtype": typ(x.DType), "value": {Value: &tfpb.AttrValue_Tensor{Tensor: x.ToProto()}}})
}

// TestIntelGraphCalibrationRun builds the graph Intel's quantize_graph.py
// makes of Conv2D + BiasAdd + Relu + MaxPool (TF-FORMATS §6, with
// insert_logging's Print after the RequantizationRange), runs it through
// the executor, and checks (1) the Print line logparse reads back is the
// RequantizationRange's output, (2) the int8 result is the FP32 one within
// the quantization error.
func TestIntelGraphCalibrationRun(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	const n, h, ch, k, oc = 2, 8, 3, 3, 4
	x := make([]float32, n*h*h*ch)
	for i := range x {
		x[i] = r.Float32() * 1.5 // post-Relu activations: quint8 SCALED clips negatives
	}
	wf := make([]float32, k*k*ch*oc)
	var wmax float32
	for i := range wf {
		wf[i] = r.Float32()*0.6 - 0.3
		wmax = max(wmax, float32(math.Abs(float64(wf[i]))))
	}
	bias := []float32{0.1, -0.2, 0.05, 0}
	// Weights as Intel stores them: Eigen SCALED qint8 of [-wmax, wmax]:
	// s = min(128/wmax, 127/wmax) = 127/wmax; range [-128/s, 127/s].
	s := 127 / wmax
	wq := tensor.New(tfpb.DataType_DT_QINT8, []int{k, k, ch, oc})
	for i, v := range wf {
		wq.I8[i] = int8(math.RoundToEven(float64(v * s)))
	}
	g := &tfpb.GraphDef{Node: []*tfpb.NodeDef{
		node("x", "Placeholder", nodeAttrs{"dtype": typ(tfpb.DataType_DT_FLOAT)}),
		constNode("reshape_dims", tensor.FromI32([]int{1}, []int32{-1})),
		constNode("reduction_dims", tensor.FromI32([]int{1}, []int32{0})),
		node("x_reshape", "Reshape", nodeAttrs{"T": typ(tfpb.DataType_DT_FLOAT)}, "x", "reshape_dims"),
		node("x_min", "Min", nodeAttrs{"T": typ(tfpb.DataType_DT_FLOAT)}, "x_reshape", "reduction_dims"),
		node("x_max", "Max", nodeAttrs{"T": typ(tfpb.DataType_DT_FLOAT)}, "x_reshape", "reduction_dims"),
		node("x_quantize", "QuantizeV2", nodeAttrs{"T": typ(tfpb.DataType_DT_QUINT8), "mode": str("SCALED"), "round_mode": str("HALF_TO_EVEN")}, "x", "x_min", "x_max"),
		constNode("w_qint8_const", wq),
		constNode("w_min", tensor.FromF32(nil, []float32{-128 / s})),
		constNode("w_max", tensor.FromF32(nil, []float32{127 / s})),
		constNode("bias", tensor.FromF32([]int{oc}, bias)),
		node("conv", "QuantizedConv2DWithBiasAndRelu", nodeAttrs{"Tinput": typ(tfpb.DataType_DT_QUINT8), "Tfilter": typ(tfpb.DataType_DT_QINT8),
			"out_type": typ(tfpb.DataType_DT_QINT32), "strides": ints(1, 1, 1, 1), "padding": str("SAME")},
			"x_quantize", "w_qint8_const", "bias", "x_quantize:1", "x_quantize:2", "w_min", "w_max"),
		node("conv_eightbit_requant_range", "RequantizationRange", nodeAttrs{"Tinput": typ(tfpb.DataType_DT_QINT32)}, "conv", "conv:1", "conv:2"),
		node("conv_eightbit_requant_range__print__", "Print", nodeAttrs{"T": typ(tfpb.DataType_DT_FLOAT), "U": types(tfpb.DataType_DT_FLOAT, tfpb.DataType_DT_FLOAT),
			"message": str(";conv_eightbit_requant_range__print__;__requant_min_max:"), "first_n": ival(-1), "summarize": ival(1024)},
			"conv_eightbit_requant_range", "conv_eightbit_requant_range", "conv_eightbit_requant_range:1"),
		node("conv_eightbit_requantize", "Requantize", nodeAttrs{"Tinput": typ(tfpb.DataType_DT_QINT32), "out_type": typ(tfpb.DataType_DT_QUINT8)},
			"conv", "conv:1", "conv:2", "conv_eightbit_requant_range__print__", "conv_eightbit_requant_range:1"),
		node("pool", "QuantizedMaxPool", nodeAttrs{"T": typ(tfpb.DataType_DT_QUINT8), "ksize": ints(1, 2, 2, 1), "strides": ints(1, 2, 2, 1), "padding": str("VALID")},
			"conv_eightbit_requantize", "conv_eightbit_requantize:1", "conv_eightbit_requantize:2"),
		node("out", "Dequantize", nodeAttrs{"T": typ(tfpb.DataType_DT_QUINT8), "mode": str("SCALED")}, "pool", "pool:1", "pool:2"),
	}}
	gr, err := exec.New(g, "intel_conv")
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	gr.Log = kernels.NewPrintLog(&log)
	xt := tensor.FromF32([]int{n, h, h, ch}, x)
	outs, err := gr.Run(map[string]*tensor.Tensor{"x": xt}, []string{"out", "conv_eightbit_requant_range", "conv_eightbit_requant_range:1"})
	if err != nil {
		t.Fatal(err)
	}

	// (1) The Print line carries the RequantizationRange's outputs.
	rd := logparse.NewReader(strings.NewReader(log.String()), "run.log")
	if !rd.Scan() {
		t.Fatalf("no record in %q (%v)", log.String(), rd.Err())
	}
	rec := rd.Record()
	if rec.Node != "conv_eightbit_requant_range" || rec.Min != outs[1].F32[0] || rec.Max != outs[2].F32[0] {
		t.Errorf("record %s [%v %v], want conv_eightbit_requant_range [%v %v]", rec.Node, rec.Min, rec.Max, outs[1].F32[0], outs[2].F32[0])
	}

	// (2) FP32: conv (SAME) + bias + Relu + 2×2 max pool.
	win, _ := kernels.NewWindow(h, h, k, k, 1, 1, 1, 1, "SAME", nil)
	conv := make([]float32, n*h*h*oc)
	kernels.Conv2DF32(x, n, ch, wf, oc, win, conv, nil)
	var worst float64
	got := outs[0].F32
	for b := 0; b < n; b++ {
		for oy := 0; oy < h/2; oy++ {
			for ox := 0; ox < h/2; ox++ {
				for c := 0; c < oc; c++ {
					m := float32(0)
					for dy := 0; dy < 2; dy++ {
						for dx := 0; dx < 2; dx++ {
							m = max(m, conv[((b*h+2*oy+dy)*h+2*ox+dx)*oc+c]+bias[c])
						}
					}
					worst = max(worst, math.Abs(float64(got[((b*h/2+oy)*h/2+ox)*oc+c]-m)))
				}
			}
		}
	}
	// Error budget: the output step (range/255), plus the input's and the
	// weights' rounding (half a step each) over 27 taps — and Intel's
	// 128/127 quirk (the weights' range max(|min|, |max|) = 128/s while
	// their step is 1/s) scales the conv term up by 0.79%.
	step := float64(outs[2].F32[0]) / 255
	t.Logf("max |int8 - fp32| = %.4g (output step %.4g)", worst, step)
	if worst > 3*step {
		t.Errorf("int8 result off by %.4g, more than 3 output steps (%.4g)", worst, 3*step)
	}
}

// TestPrintFirstNAcrossRuns: with a PrintLog as the Graph's Log, first_n
// counts a Print node's lines over all runs of the loaded graph, as TF's
// kernel object does over a session.
func TestPrintFirstNAcrossRuns(t *testing.T) {
	g := &tfpb.GraphDef{Node: []*tfpb.NodeDef{
		node("x", "Placeholder", nodeAttrs{"dtype": typ(tfpb.DataType_DT_FLOAT)}),
		node("p", "Print", nodeAttrs{"T": typ(tfpb.DataType_DT_FLOAT), "U": types(tfpb.DataType_DT_FLOAT),
			"message": str("x:"), "first_n": ival(2), "summarize": ival(3)}, "x", "x"),
	}}
	gr, err := exec.New(g, "print")
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	gr.Log = kernels.NewPrintLog(&log)
	for run := 0; run < 4; run++ {
		out, err := gr.Run(map[string]*tensor.Tensor{"x": tensor.FromF32([]int{1}, []float32{float32(run)})}, []string{"p"})
		if err != nil {
			t.Fatal(err)
		}
		if out[0].F32[0] != float32(run) {
			t.Errorf("run %d: Print passed %v through", run, out[0].F32)
		}
	}
	if got, want := log.String(), "x:[0]\nx:[1]\n"; got != want {
		t.Errorf("log %q, want %q", got, want)
	}
}
