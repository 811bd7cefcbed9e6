package quantize

import (
	"slices"
	"sort"
	"strings"
	"testing"

	"qcal/internal/testutil"
	"qcal/internal/tfpb"
)

// TestIntelScriptPlainPath: Intel's copy of quantize_graph.py writes the
// plain path with Tidx on Min/Max, round_mode on QuantizeV2 and a control
// input on the dims Consts; on the reshape_2 pair those are the only
// differences from TensorFlow's own output.
func TestIntelScriptPlainPath(t *testing.T) {
	dir := testutil.RealData(t, "quantize_graph_pairs")
	fp32, want := loadPair(t, dir, "reshape_2")
	res := mustQuantize(t, fp32, Options{Outputs: []string{"y"}, IntelScript: true})
	d := diffNodes(res.Graph, want)
	sort.Strings(d)
	wantDiff := []string{
		`node "y_eightbit_max_x": extra attr Tidx`,
		`node "y_eightbit_min_x": extra attr Tidx`,
		`node "y_eightbit_quantize_x": extra attr round_mode`,
		`node "y_eightbit_reduction_dims": inputs ["^x"], want []`,
		`node "y_eightbit_reshape_dims": inputs ["^x"], want []`,
	}
	if !slices.Equal(d, wantDiff) {
		t.Errorf("differences\n%s\nwant\n%s", strings.Join(d, "\n"), strings.Join(wantDiff, "\n"))
	}
	// The weight codes and ranges are TF's: the range [-0.452, 0.340] is
	// wide enough that QuantizeV2 returns it unchanged.
	for _, n := range []string{"w_quint8_const", "w_min", "w_max"} {
		if g, w := findNode(res.Graph, n), findNode(want, n); g == nil || len(diffNodes(&tfpb.GraphDef{Node: []*tfpb.NodeDef{g}}, &tfpb.GraphDef{Node: []*tfpb.NodeDef{w}})) != 0 {
			t.Errorf("%s differs", n)
		}
	}
}

// TestIntelWideDeep: with -model-name wide_deep_large_ds the Intel path
// quantizes MatMul + BiasAdd (+ Relu) with qint8 weights and MIN_FIRST
// activations (no round_mode).
func TestIntelWideDeep(t *testing.T) {
	g := mlp(false)
	res := mustQuantize(t, g, Options{Outputs: []string{"out"}, Intel: true, ModelName: WideDeep, KeepRedundant: true})
	q := findNode(res.Graph, "mm_eightbit_quantized_mat_mul")
	if q == nil || q.Op != "QuantizedMatMulWithBiasAndRelu" {
		t.Fatalf("fused MatMul: %v", q)
	}
	if attrType(q, "T1") != tfpb.DataType_DT_QUINT8 || attrType(q, "T2") != tfpb.DataType_DT_QINT8 || q.Attr["Tbias"] != nil {
		t.Errorf("attrs %v", q.Attr)
	}
	if !slices.Equal(q.Input, []string{"mm_eightbit_quantize_x", "mm_eightbit_quantize_w", "b",
		"mm_eightbit_quantize_x:1", "mm_eightbit_quantize_x:2", "mm_eightbit_quantize_w:1", "mm_eightbit_quantize_w:2"}) {
		t.Errorf("inputs %q", q.Input)
	}
	qx := findNode(res.Graph, "mm_eightbit_quantize_x")
	if string(qx.Attr["mode"].GetS()) != "MIN_FIRST" || qx.Attr["round_mode"] != nil {
		t.Errorf("activation QuantizeV2 %v", qx.Attr)
	}
	// The weight's QuantizeV2 takes the weight Dequantize's T (qint8), so
	// stripping removes it.
	if qw := findNode(res.Graph, "mm_eightbit_quantize_w"); attrType(qw, "T") != tfpb.DataType_DT_QINT8 {
		t.Errorf("weight QuantizeV2 T %v", qw.Attr["T"])
	}
	if d := findNode(res.Graph, "out"); d.Op != "Dequantize" {
		t.Errorf("out: %v", d)
	}
	// Without the Relu: QuantizedMatMulWithBias with Tbias float, the
	// Dequantize named after the BiasAdd.
	b := &builder{g: &tfpb.GraphDef{}}
	b.placeholder("x")
	b.constant("w", []int64{1, 1}, 2)
	m := b.op("MatMul", "mm", "x", "w")
	setBool(m, "transpose_a", false)
	setBool(m, "transpose_b", true)
	b.biasAdd("ba", "mm", 1)
	b.op("Softmax", "out", "ba")
	res = mustQuantize(t, b.g, Options{Outputs: []string{"out"}, Intel: true, ModelName: WideDeep})
	q = findNode(res.Graph, "mm_eightbit_quantized_mat_mul")
	if q.Op != "QuantizedMatMulWithBias" || attrType(q, "Tbias") != tfpb.DataType_DT_FLOAT || !q.Attr["transpose_b"].GetB() {
		t.Errorf("MatMul+BiasAdd: %v", q)
	}
	if d := findNode(res.Graph, "ba"); d.Op != "Dequantize" {
		t.Errorf("ba: %v", d)
	}
}

// TestIntelConcatV2AndDepthwise: a ConcatV2 of two Relus becomes
// QuantizedConcatV2(values..., axis, mins..., maxs...) and a SCALED
// Dequantize; a depthwise conv after it gets per-channel weights even
// without -per-channel (Intel's script always does).
func TestIntelConcatV2AndDepthwise(t *testing.T) {
	b := &builder{g: &tfpb.GraphDef{}}
	b.placeholder("x")
	b.op("Relu", "r1", "x")
	b.op("Relu", "r2", "x")
	ax := constNode("axis", tfpb.DataType_DT_INT32, nil, nil, []int32{3})
	b.g.Node = append(b.g.Node, ax)
	c := b.op("ConcatV2", "cat", "r1", "r2", "axis")
	setInt(c, "N", 2)
	// Depthwise filter [1,1,2,1]: two channels, 0.5 and -2.
	b.constant("dw/weight", []int64{1, 1, 2, 1}, 0.5, -2)
	d := b.op("DepthwiseConv2dNative", "dw", "cat", "dw/weight")
	d.Attr["strides"] = intList(1, 1, 1, 1)
	setString(d, "padding", "SAME")
	res := mustQuantize(t, b.g, Options{Outputs: []string{"dw"}, Intel: true})
	q := findNode(res.Graph, "cat_eightbit_quantized_concatv2")
	if q == nil || q.Op != "QuantizedConcatV2" || q.Attr["N"].GetI() != 2 {
		t.Fatalf("concat: %v", q)
	}
	if !slices.Equal(q.Input, []string{"cat_eightbit_quantize_r1", "cat_eightbit_quantize_r2", "axis",
		"cat_eightbit_quantize_r1:1", "cat_eightbit_quantize_r2:1", "cat_eightbit_quantize_r1:2", "cat_eightbit_quantize_r2:2"}) {
		t.Errorf("concat inputs %q", q.Input)
	}
	dw := findNode(res.Graph, "dw_eightbit_quantized_depthwise_conv")
	if dw == nil || dw.Op != "QuantizedDepthwiseConv2D" || dw.Input[0] != "cat_eightbit_quantized_concatv2" {
		t.Fatalf("depthwise: %v", dw)
	}
	// Per channel: r = [0.5, 2]; codes 0.5·127/0.5 = 127, -2·127/2 = -127.
	w := findNode(res.Graph, "dw/weight_qint8_const").Attr["value"].GetTensor().TensorContent
	if int8(w[0]) != 127 || int8(w[1]) != -127 {
		t.Errorf("codes %v", w)
	}
	mx := findNode(res.Graph, "dw/weight_max").Attr["value"].GetTensor()
	if len(mx.TensorContent) != 8 || mx.TensorShape.Dim[0].Size != 2 {
		t.Errorf("per-channel max Const %v", mx)
	}
	// Its qint32 range is a vector (one entry per channel), so qcal brings
	// it down per channel even without -per-channel (Intel's script writes
	// a scalar RequantizationRange that reads only channel 0's range):
	// RequantizationRangePerChannel (clip 1e30, no Relu6), then
	// RequantizePerChannel to qint8 (no Relu fused) and a SCALED qint8
	// Dequantize, as intel_cpu_add_quantize_down_nodes writes them.
	o := ops(res.Graph)
	if o["dw"] != "Dequantize" || o["dw_eightbit_requant_range"] != "RequantizationRangePerChannel" || o["dw_eightbit_requantize"] != "RequantizePerChannel" {
		t.Errorf("ops %v", o)
	}
	rr := findNode(res.Graph, "dw_eightbit_requant_range")
	if rr.Attr["clip_value_max"].GetF() != 1e30 || rr.Attr["T"].GetType() != tfpb.DataType_DT_QINT32 {
		t.Errorf("range attrs %v", rr.Attr)
	}
	if req := findNode(res.Graph, "dw_eightbit_requantize"); req.Attr["out_type"].GetType() != tfpb.DataType_DT_QINT8 {
		t.Errorf("requantize attrs %v", req.Attr)
	}
	if d := findNode(res.Graph, "dw"); d.Attr["mode"].GetS() == nil || string(d.Attr["mode"].GetS()) != "SCALED" || d.Attr["T"].GetType() != tfpb.DataType_DT_QINT8 {
		t.Errorf("dequantize attrs %v", d.Attr)
	}
	if !slices.Contains(res.Warnings, depthwiseNote) {
		t.Errorf("warnings %q lack the depthwise note", res.Warnings)
	}
}

// TestIntelFakeQuant: the Intel recursion copies a FakeQuantWithMinMaxVars
// node; after an unfused conv the conv's Dequantize takes the FakeQuant's
// name and the copy collides with it ("Duplicate node names detected" in
// TF); after a fused conv the FakeQuant "failed to merge". Both are errors.
func TestIntelFakeQuant(t *testing.T) {
	for _, bias := range []bool{false, true} {
		b := &builder{g: &tfpb.GraphDef{}}
		b.placeholder("x")
		b.op("Relu", "r", "x")
		b.conv("c", "r", 1)
		in := "c"
		if bias {
			b.biasAdd("ba", "c", 0)
			in = "ba"
		}
		b.constant("fq/min", nil, 0)
		b.constant("fq/max", nil, 6)
		b.node("FakeQuantWithMinMaxVars", "fq", in, "fq/min", "fq/max")
		_, err := Quantize(b.g, Options{Outputs: []string{"fq"}, Intel: true})
		want := `node "fq": the quantized graph would hold two nodes of this name`
		if bias {
			want = `node "ba": FakeQuant node "fq" failed to merge with it`
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("bias=%v: err %v, want %q", bias, err, want)
		}
	}
}

// TestPrologueSharing: Intel's script quantizes a tensor once for all its
// consumers (the first consumer's names); TF's own script gives each
// consumer its own prologue.
func TestPrologueSharing(t *testing.T) {
	b := &builder{g: &tfpb.GraphDef{}}
	b.placeholder("x")
	b.op("Relu", "r", "x")
	b.pool("MaxPool", "p1", "r")
	b.pool("AvgPool", "p2", "r")
	b.op("Add", "out", "p1", "p2")
	// Before stripping (the pools then read the QuantizedRelu directly).
	tf := mustQuantize(t, b.g, Options{Outputs: []string{"out"}, KeepRedundant: true})
	if q := findNode(tf.Graph, "p2_eightbit_quantized"); q == nil || q.Input[0] != "p2_eightbit_quantize_r" {
		t.Errorf("TF script: AvgPool reads %v", q)
	}
	in := mustQuantize(t, b.g, Options{Outputs: []string{"out"}, IntelScript: true, KeepRedundant: true})
	if q := findNode(in.Graph, "p2_eightbit_quantized"); q == nil || q.Input[0] != "p1_eightbit_quantize_r" {
		t.Errorf("Intel script: AvgPool reads %v", q)
	}
	if findNode(in.Graph, "p2_eightbit_quantize_r") != nil {
		t.Error("Intel script: a second prologue for r")
	}
}

// TestPerChannelNoRelu: per channel, a Conv + BiasAdd without Relu
// requantizes to qint8 and dequantizes SCALED qint8 (clip_value_max 1e30).
func TestPerChannelNoRelu(t *testing.T) {
	b := &builder{g: &tfpb.GraphDef{}}
	b.placeholder("x")
	b.op("Relu", "r", "x")
	b.conv("c", "r", 0.5)
	b.biasAdd("ba", "c", 0.1)
	b.op("Softmax", "out", "ba")
	res := mustQuantize(t, b.g, Options{Outputs: []string{"out"}, Intel: true, PerChannel: true})
	rr, req, d := findNode(res.Graph, "c_eightbit_requant_range"), findNode(res.Graph, "c_eightbit_requantize"), findNode(res.Graph, "ba")
	if rr.Op != "RequantizationRangePerChannel" || rr.Attr["clip_value_max"].GetF() != 1e30 || attrType(rr, "T") != tfpb.DataType_DT_QINT32 {
		t.Errorf("range %v", rr)
	}
	if req.Op != "RequantizePerChannel" || attrType(req, "out_type") != tfpb.DataType_DT_QINT8 {
		t.Errorf("requantize %v", req)
	}
	if d.Op != "Dequantize" || attrType(d, "T") != tfpb.DataType_DT_QINT8 || string(d.Attr["mode"].GetS()) != "SCALED" {
		t.Errorf("dequantize %v", d)
	}
	if q := findNode(res.Graph, "c_eightbit_quantized_conv"); q.Op != "QuantizedConv2DWithBias" {
		t.Errorf("conv %v", q)
	}
}

// TestIntelDepthwiseRelu6PerTensor: without -per-channel, a depthwise conv
// with BiasAdd and Relu6 becomes QuantizedDepthwiseConv2DWithBiasAndRelu
// brought down per channel with clip_value_max 6 (intel_cpu_add_quantize_down_nodes
// after a Relu6), RequantizePerChannel to quint8 (a Relu is fused) and a
// SCALED quint8 Dequantize named after the Relu6: its clamp is kept, so it
// is not in LostClamps, unlike a Conv2D's on this path.
func TestIntelDepthwiseRelu6PerTensor(t *testing.T) {
	b := &builder{g: &tfpb.GraphDef{}}
	b.placeholder("x")
	b.op("Relu", "r1", "x")
	b.constant("dw/weight", []int64{1, 1, 2, 1}, 0.5, -2)
	d := b.op("DepthwiseConv2dNative", "dw", "r1", "dw/weight")
	d.Attr["strides"] = intList(1, 1, 1, 1)
	setString(d, "padding", "SAME")
	b.constant("bias", []int64{2}, 0.1, 0.2)
	b.op("BiasAdd", "ba", "dw", "bias")
	b.op("Relu6", "act", "ba")
	res := mustQuantize(t, b.g, Options{Outputs: []string{"act"}, Intel: true})
	o := ops(res.Graph)
	if o["dw_eightbit_quantized_depthwise_conv"] != "QuantizedDepthwiseConv2DWithBiasAndRelu" ||
		o["dw_eightbit_requant_range"] != "RequantizationRangePerChannel" || o["dw_eightbit_requantize"] != "RequantizePerChannel" || o["act"] != "Dequantize" {
		t.Fatalf("ops %v", o)
	}
	if rr := findNode(res.Graph, "dw_eightbit_requant_range"); rr.Attr["clip_value_max"].GetF() != 6 {
		t.Errorf("range attrs %v, want clip_value_max 6", rr.Attr)
	}
	if req := findNode(res.Graph, "dw_eightbit_requantize"); req.Attr["out_type"].GetType() != tfpb.DataType_DT_QUINT8 {
		t.Errorf("requantize attrs %v, want out_type quint8", req.Attr)
	}
	if deq := findNode(res.Graph, "act"); string(deq.Attr["mode"].GetS()) != "SCALED" || deq.Attr["T"].GetType() != tfpb.DataType_DT_QUINT8 {
		t.Errorf("dequantize attrs %v, want SCALED quint8", deq.Attr)
	}
	if len(res.LostClamps) != 0 || !slices.Contains(res.Warnings, depthwiseNote) {
		t.Errorf("lost clamps %q, warnings %q; want none and the depthwise note", res.LostClamps, res.Warnings)
	}
}
