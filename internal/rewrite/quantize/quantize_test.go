package quantize

import (
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"qcal/internal/tfpb"
	"qcal/quant"
)

// convReluGraph: input → conv0 (first conv, FP32) → Relu → conv1 with
// weight w1 → BiasAdd → act ("Relu" or "Relu6") → MaxPool.
func convReluGraph(act string, w1 ...float32) *tfpb.GraphDef {
	b := &builder{g: &tfpb.GraphDef{}}
	b.placeholder("input")
	b.conv("conv0", "input", 0.5)
	b.op("Relu", "relu0", "conv0")
	b.constant("conv1/weight", []int64{1, 1, 1, int64(len(w1))}, w1...)
	n := b.op("Conv2D", "conv1", "relu0", "conv1/weight")
	n.Attr["strides"] = intList(1, 1, 1, 1)
	n.Attr["dilations"] = intList(1, 1, 1, 1)
	setString(n, "padding", "SAME")
	b.constant("conv1/bias", []int64{int64(len(w1))}, make([]float32, len(w1))...)
	b.op("BiasAdd", "bias1", "conv1", "conv1/bias")
	b.op(act, "act1", "bias1")
	b.pool("MaxPool", "pool1", "act1")
	return b.g
}

// TestIntelGolden writes the Intel path's graph for a conv chain. Weight
// codes, SCALED qint8 (Eigen QuantizeV2, HALF_TO_EVEN) of w = [0.5, -0.25,
// 0.3, 0.1]: range [-0.25, 0.5]; s = min(-128/-0.25, 127/0.5) =
// min(512, 254) = 254; 0.5·254 = 127 → 127; -0.25·254 = -63.5 → -64 (to
// even); 0.3·254 = 76.2 → 76; 0.1·254 = 25.4 → 25; the Consts hold
// -128/254 = -0.503937 and 127/254 = 0.5.
func TestIntelGolden(t *testing.T) {
	res := mustQuantize(t, convReluGraph("Relu", 0.5, -0.25, 0.3, 0.1), Options{Outputs: []string{"pool1"}, Intel: true})
	golden(t, "intel_conv_relu_pool", res.Graph)
	w := findNode(res.Graph, "conv1/weight_qint8_const").Attr["value"].GetTensor().TensorContent
	if got := []int8{int8(w[0]), int8(w[1]), int8(w[2]), int8(w[3])}; !slices.Equal(got, []int8{127, -64, 76, 25}) {
		t.Errorf("codes %v, want [127 -64 76 25]", got)
	}
	mn := findNode(res.Graph, "conv1/weight_min").Attr["value"].GetTensor().FloatVal[0]
	mx := findNode(res.Graph, "conv1/weight_max").Attr["value"].GetTensor().FloatVal[0]
	if mn != float32(-128.0/254) || mx != 0.5 {
		t.Errorf("weight range [%g, %g], want [-0.503937, 0.5]", mn, mx)
	}
	if len(res.Warnings) != 0 {
		t.Errorf("warnings %q", res.Warnings)
	}
	if len(res.Quantized) != 2 || res.Quantized[0].As != "QuantizedConv2DWithBiasAndRelu" ||
		!slices.Equal(res.Quantized[0].Fused, []string{"bias1", "act1"}) || res.Quantized[1].As != "QuantizedMaxPool" {
		t.Errorf("Quantized = %+v", res.Quantized)
	}
}

// TestIntelRelu6 reproduces TF's Intel path on Conv + BiasAdd + Relu6: the
// fused op is QuantizedConv2DWithBiasAndRelu and the Relu6 node is gone,
// so the clamp at 6 is lost; the result says so. Per channel, the clamp
// survives as RequantizationRangePerChannel clip_value_max 6.
func TestIntelRelu6(t *testing.T) {
	res := mustQuantize(t, convReluGraph("Relu6", 0.5, -0.25), Options{Outputs: []string{"pool1"}, Intel: true})
	o := ops(res.Graph)
	if o["conv1_eightbit_quantized_conv"] != "QuantizedConv2DWithBiasAndRelu" {
		t.Errorf("fused op %q", o["conv1_eightbit_quantized_conv"])
	}
	for _, n := range res.Graph.Node {
		if n.Op == "Relu6" {
			t.Errorf("a Relu6 node survives: %q", n.Name)
		}
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], `node "act1": Relu6 fused into QuantizedConv2DWithBiasAndRelu`) ||
		!strings.Contains(res.Warnings[0], "clamp at 6 is lost") {
		t.Errorf("warnings %q", res.Warnings)
	}
	if !slices.Equal(res.LostClamps, []string{"act1"}) {
		t.Errorf("LostClamps %q, want [act1]", res.LostClamps)
	}

	pc := mustQuantize(t, convReluGraph("Relu6", 0.5, -0.25), Options{Outputs: []string{"pool1"}, Intel: true, PerChannel: true})
	golden(t, "intel_perchannel_relu6", pc.Graph)
	rr := findNode(pc.Graph, "conv1_eightbit_requant_range")
	if rr.Op != "RequantizationRangePerChannel" || rr.Attr["clip_value_max"].GetF() != 6 {
		t.Errorf("per-channel range node %v", rr)
	}
	// Per channel, the only warning is that the weights are truncated (as
	// Intel's script truncates them); rounded, there is none.
	if !slices.Equal(pc.Warnings, []string{truncationNote}) || len(pc.LostClamps) != 0 {
		t.Errorf("per-channel warnings %q, lost clamps %q", pc.Warnings, pc.LostClamps)
	}
	pr := mustQuantize(t, convReluGraph("Relu6", 0.5, -0.25), Options{Outputs: []string{"pool1"}, Intel: true, PerChannel: true, WeightRounding: quant.RoundHalfEven})
	if len(pr.Warnings) != 0 {
		t.Errorf("rounded per-channel warnings %q", pr.Warnings)
	}
	// Per channel: channel 0 holds 0.5 → r = 0.5, code 0.5·127/0.5 = 127;
	// channel 1 holds -0.25 → r = 0.25, code -127. The Consts hold -r, r.
	w := findNode(pc.Graph, "conv1/weight_qint8_const").Attr["value"].GetTensor().TensorContent
	if int8(w[0]) != 127 || int8(w[1]) != -127 {
		t.Errorf("per-channel codes %v, want [127 -127]", w)
	}
	// act1's Dequantize feeds the MaxPool's QuantizeV2 (both quint8), so
	// it is gone after stripping; look at it before.
	pcKeep := mustQuantize(t, convReluGraph("Relu6", 0.5, -0.25), Options{Outputs: []string{"pool1"}, Intel: true, PerChannel: true, KeepRedundant: true})
	d := findNode(pcKeep.Graph, "act1")
	if d.Op != "Dequantize" || attrType(d, "T") != tfpb.DataType_DT_QUINT8 || string(d.Attr["mode"].GetS()) != "SCALED" {
		t.Errorf("per-channel Dequantize %v", d)
	}
}

// TestIntelFirstConv: a conv fed by the input stays FP32 and says why.
func TestIntelFirstConv(t *testing.T) {
	res := mustQuantize(t, convReluGraph("Relu", 1), Options{Outputs: []string{"pool1"}, Intel: true})
	var got []string
	for _, f := range res.Float {
		got = append(got, f.Name+" "+f.Op)
	}
	if !slices.Equal(got, []string{"conv0 Conv2D", "relu0 Relu"}) {
		t.Errorf("Float = %q", got)
	}
	if !strings.Contains(res.Float[0].Reason, "first convolution fed by the graph input stays FP32") {
		t.Errorf("reason %q", res.Float[0].Reason)
	}
}

// mlp: x → MatMul(w) → BiasAdd(b) → Relu → FakeQuant? → output.
func mlp(fakeQuant bool) *tfpb.GraphDef {
	b := &builder{g: &tfpb.GraphDef{}}
	b.placeholder("x")
	b.constant("w", []int64{2, 2}, 1, -1, 0.5, 2)
	m := b.op("MatMul", "mm", "x", "w")
	setBool(m, "transpose_a", false)
	setBool(m, "transpose_b", false)
	b.constant("b", []int64{2}, 0.25, -0.5)
	b.op("BiasAdd", "ba", "mm", "b")
	last := "ba"
	if fakeQuant {
		b.constant("fq/min", nil, -1)
		b.constant("fq/max", nil, 3)
		b.node("FakeQuantWithMinMaxVars", "fq", "ba", "fq/min", "fq/max")
		last = "fq"
	}
	b.op("Relu", "out", last)
	return b.g
}

// TestPlainGolden writes the plain path for an MLP. Weight codes, MIN_FIRST
// quint8 of w = [1, -1, 0.5, 2]: range [-1, 2], range_scale = 255/3 = 85;
// round(v·85) - round(-1·85) = round(v·85) + 85: 1 → 170, -1 → 0,
// 0.5 → 42.5 → 43 (half away from zero) + 85 = 128, 2 → 255. Bias
// b = [0.25, -0.5]: range [-0.5, 0.25], range_scale = 255/0.75 = 340;
// 0.25·340 = 85, -0.5·340 = -170: codes 85 + 170 = 255 and 0.
func TestPlainGolden(t *testing.T) {
	res := mustQuantize(t, mlp(false), Options{Outputs: []string{"out"}})
	golden(t, "plain_mlp", res.Graph)
	w := findNode(res.Graph, "w_quint8_const").Attr["value"].GetTensor().TensorContent
	if !slices.Equal(w, []byte{170, 0, 128, 255}) {
		t.Errorf("w codes %v, want [170 0 128 255]", w)
	}
	b := findNode(res.Graph, "b_quint8_const").Attr["value"].GetTensor().TensorContent
	if !slices.Equal(b, []byte{255, 0}) {
		t.Errorf("b codes %v, want [255 0]", b)
	}
	var as []string
	for _, q := range res.Quantized {
		as = append(as, q.As)
	}
	if !slices.Equal(as, []string{"QuantizedMatMul", "QuantizedBiasAdd", "QuantizedRelu"}) {
		t.Errorf("Quantized %q", as)
	}
	// The Intel path leaves the MLP alone: MatMul only for wide_deep.
	intel := mustQuantize(t, mlp(false), Options{Outputs: []string{"out"}, Intel: true})
	if len(intel.Quantized) != 0 || intel.Float[0].Name != "mm" || !strings.Contains(intel.Float[0].Reason, WideDeep) {
		t.Errorf("Intel MLP: quantized %+v, float %+v", intel.Quantized, intel.Float)
	}
}

// TestPlainFakeQuantAndFallback: a FakeQuantWithMinMaxVars after a
// BiasAdd gives its range to the Requantize and its name to the Dequantize;
// fallback ranges replace every other RequantizationRange by Consts.
func TestPlainFakeQuantAndFallback(t *testing.T) {
	res := mustQuantize(t, mlp(true), Options{Outputs: []string{"out"}})
	req := findNode(res.Graph, "ba_eightbit_requantize")
	if req == nil || !slices.Equal(req.Input[3:], []string{"fq/min", "fq/max"}) {
		t.Fatalf("Requantize of the merged BiasAdd: %v", req)
	}
	keep := mustQuantize(t, mlp(true), Options{Outputs: []string{"out"}, KeepRedundant: true})
	if d := findNode(keep.Graph, "fq"); d == nil || d.Op != "Dequantize" || d.Input[0] != "ba_eightbit_requantize" {
		t.Errorf("fq should be the Dequantize of ba's Requantize, got %v", d)
	}
	if r := findNode(res.Graph, "out_eightbit_quantized"); r == nil || !slices.Equal(r.Input, []string{
		"ba_eightbit_requantize", "ba_eightbit_requantize:1", "ba_eightbit_requantize:2"}) {
		t.Errorf("QuantizedRelu should read ba's Requantize, got %v", r)
	}
	if findNode(res.Graph, "ba_eightbit_requant_range") != nil {
		t.Error("a merged node still has a RequantizationRange")
	}
	if findNode(res.Graph, "mm_eightbit_requant_range") == nil {
		t.Error("the MatMul lost its RequantizationRange")
	}

	fb := mustQuantize(t, mlp(false), Options{Outputs: []string{"out"}, Fallback: true, FallbackMin: -2, FallbackMax: 6})
	golden(t, "plain_mlp_fallback", fb.Graph)
	if got := rangeNodes(fb.Graph); len(got) != 0 {
		t.Errorf("fallback graph has ranges %q", got)
	}
	req = findNode(fb.Graph, "mm_eightbit_requantize")
	if !slices.Equal(req.Input[3:], []string{"fallback_quantization_min_value:0", "fallback_quantization_max_value:0"}) {
		t.Errorf("fallback Requantize inputs %q", req.Input)
	}
}

// TestRedundantPairIgnoresMode: a MIN_FIRST quint8 Dequantize feeding a
// SCALED quint8 QuantizeV2 is removed (TF compares T, not mode), as on the
// Intel path between a fused conv and the next conv.
func TestRedundantPairIgnoresMode(t *testing.T) {
	b := &builder{g: &tfpb.GraphDef{}}
	b.placeholder("input")
	b.conv("c0", "input", 1)
	b.op("Relu", "r0", "c0")
	b.conv("c1", "r0", 1)
	b.biasAdd("b1", "c1", 0)
	b.op("Relu", "r1", "b1")
	b.conv("c2", "r1", 1)
	b.biasAdd("b2", "c2", 0)
	b.op("Relu", "r2", "b2")
	keep := mustQuantize(t, b.g, Options{Outputs: []string{"r2"}, Intel: true, KeepRedundant: true})
	d, q := findNode(keep.Graph, "r1"), findNode(keep.Graph, "c2_eightbit_quantize_r1")
	if string(d.Attr["mode"].GetS()) != "MIN_FIRST" || string(q.Attr["mode"].GetS()) != "SCALED" {
		t.Fatalf("modes: Dequantize %s, QuantizeV2 %s", d.Attr["mode"].GetS(), q.Attr["mode"].GetS())
	}
	res := mustQuantize(t, b.g, Options{Outputs: []string{"r2"}, Intel: true})
	c2 := findNode(res.Graph, "c2_eightbit_quantized_conv")
	if !slices.Equal(c2.Input[:1], []string{"c1_eightbit_requantize"}) || findNode(res.Graph, "r1") != nil {
		t.Errorf("pair not removed: c2 inputs %q", c2.Input)
	}
}

func TestRemoveTrainingNodes(t *testing.T) {
	b := &builder{g: &tfpb.GraphDef{}}
	b.placeholder("x")
	b.constant("w", []int64{1, 1}, 2)
	b.op("Identity", "w/read", "w")
	b.op("CheckNumerics", "check", "x")
	m := b.op("MatMul", "mm", "x", "w/read")
	setBool(m, "transpose_a", false)
	setBool(m, "transpose_b", false)
	b.op("Identity", "out", "mm") // an output: protected
	res := mustQuantize(t, b.g, Options{Outputs: []string{"out"}})
	q := findNode(res.Graph, "mm_eightbit_quantized_mat_mul")
	if q == nil || q.Input[1] != "w_quint8_const" {
		t.Fatalf("the Identity w/read was not spliced out: %v", q)
	}
	if o := ops(res.Graph); o["out"] != "Identity" || o["w/read"] != "" || o["check"] != "" {
		t.Errorf("ops %v", o)
	}
}

func TestQuantizeErrors(t *testing.T) {
	bad := &builder{g: &tfpb.GraphDef{}}
	bad.placeholder("x")
	bad.op("Relu", "r", "missing")
	dup := &builder{g: &tfpb.GraphDef{}}
	dup.placeholder("x")
	dup.placeholder("x")
	nan := &builder{g: &tfpb.GraphDef{}}
	nan.placeholder("x")
	nan.g.Node = append(nan.g.Node, constNode("w", tfpb.DataType_DT_FLOAT, []int64{2}, []float32{1, float32(nanValue())}, nil))
	m := nan.op("MatMul", "mm", "x", "w")
	_ = m
	short := &builder{g: &tfpb.GraphDef{}}
	short.placeholder("x")
	c := constNode("w", tfpb.DataType_DT_FLOAT, []int64{3}, []float32{1, 2}, nil)
	c.Attr["value"].GetTensor().TensorContent = []byte{1, 2, 3}
	short.g.Node = append(short.g.Node, c)
	short.op("MatMul", "mm", "x", "w")
	tests := []struct {
		name string
		g    *tfpb.GraphDef
		o    Options
		want string
	}{
		{"no outputs", bad.g, Options{}, "no output nodes"},
		{"unknown output", bad.g, Options{Outputs: []string{"y"}}, `output node "y" not found`},
		{"missing input", bad.g, Options{Outputs: []string{"r"}}, `node "r": input "missing" not found`},
		{"duplicate", dup.g, Options{Outputs: []string{"x"}}, `node "x": duplicate node name`},
		{"nan weight", nan.g, Options{Outputs: []string{"mm"}}, `node "w": weight holds NaN`},
		{"short tensor_content", short.g, Options{Outputs: []string{"mm"}}, `node "w": tensor_content has 3 bytes, want 12`},
		{"per-channel without Intel", bad.g, Options{Outputs: []string{"r"}, PerChannel: true}, "per-channel weights need the Intel path"},
		{"rounding without Intel", bad.g, Options{Outputs: []string{"r"}, WeightRounding: quant.RoundHalfEven}, "rounded per-channel weights need the Intel path"},
		{"unknown rounding", bad.g, Options{Outputs: []string{"r"}, Intel: true, WeightRounding: 7}, "unknown weight rounding 7"},
		{"fallback min ≥ max", bad.g, Options{Outputs: []string{"r"}, Fallback: true, FallbackMin: 1, FallbackMax: 1}, "invalid fallback range"},
	}
	for _, tt := range tests {
		res, err := Quantize(tt.g, tt.o)
		if err == nil || !strings.Contains(err.Error(), tt.want) || res != nil {
			t.Errorf("%s: err %v, want %q and no result", tt.name, err, tt.want)
		}
	}
}

// TestInputUnchanged: the rewrite does not touch its input graph.
func TestInputUnchanged(t *testing.T) {
	for _, o := range []Options{{Outputs: []string{"v0/resnet_v10/Relu"}, Intel: true}, {Outputs: []string{"v0/resnet_v10/Relu"}}} {
		g := resnetBlock(false)
		before := proto.Clone(g)
		mustQuantize(t, g, o)
		if !proto.Equal(g, before) {
			t.Errorf("intel=%v: the input graph changed", o.Intel)
		}
	}
}
