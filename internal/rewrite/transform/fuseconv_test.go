package transform

import (
	"encoding/binary"
	"math"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"qcal/internal/tfpb"
	"qcal/stats"
)

// The graphs here are what quantize_graph's Intel path writes (names
// <conv>_eightbit_quantized_conv, <conv>_eightbit_requant_range,
// <conv>_eightbit_requantize; Dequantize named after the Relu or BiasAdd)
// after freeze_requantization_ranges (<rr>/frozen_min:0, <rr>/frozen_max:0).

const spec = "fuse_quantized_conv_and_requantize"

func qtype(n *tfpb.NodeDef, key string, t tfpb.DataType) *tfpb.NodeDef {
	return withAttr(n, key, typeAttr(t))
}

// constQ8 is a qint8 weight Const (the transform never reads it).
func constQ8(name string, dims []int64, vals ...int8) *tfpb.NodeDef {
	var b []byte
	for _, v := range vals {
		b = append(b, byte(v))
	}
	shape := &tfpb.TensorShapeProto{}
	for _, d := range dims {
		shape.Dim = append(shape.Dim, &tfpb.TensorShapeProto_Dim{Size: d})
	}
	n := qtype(node(name, "Const"), "dtype", tfpb.DataType_DT_QINT8)
	n.Attr["value"] = &tfpb.AttrValue{Value: &tfpb.AttrValue_Tensor{Tensor: &tfpb.TensorProto{
		Dtype: tfpb.DataType_DT_QINT8, TensorShape: shape, TensorContent: b}}}
	return n
}

func listIntAttr(vals ...int64) *tfpb.AttrValue {
	return &tfpb.AttrValue{Value: &tfpb.AttrValue_List{List: &tfpb.AttrValue_ListValue{I: vals}}}
}

// qconv is an Intel quantized conv named <name>_eightbit_quantized_conv
// reading x (outputs 0-2) with weights <name>/weight_qint8_const, its range
// <name>/weight_min|max and, for ops with a bias, <name>/bias.
func qconv(op, name, x string, extra ...string) *tfpb.NodeDef {
	ins := []string{x, name + "/weight_qint8_const"}
	if strings.Contains(op, "Bias") {
		ins = append(ins, name+"/bias")
	}
	ins = append(ins, x+":1", x+":2", name+"/weight_min", name+"/weight_max")
	ins = append(ins, extra...)
	n := node(name+"_eightbit_quantized_conv", op, ins...)
	qtype(n, "Tinput", tfpb.DataType_DT_QUINT8)
	qtype(n, "Tfilter", tfpb.DataType_DT_QINT8)
	qtype(n, "out_type", tfpb.DataType_DT_QINT32)
	n.Attr["strides"] = listIntAttr(1, 1, 1, 1)
	n.Attr["dilations"] = listIntAttr(1, 1, 1, 1)
	n.Attr["padding"] = strAttr("VALID")
	return n
}

// weights returns a conv's weight Consts: 1×1 filter, cin → len(bias)
// channels, filter range [wmin, wmax] (scalars, or vectors per channel).
func weights(name string, cin int, wmin, wmax []float32, bias []float32) []*tfpb.NodeDef {
	cout := len(bias)
	codes := make([]int8, cin*cout)
	for i := range codes {
		codes[i] = int8(i%5 - 2)
	}
	var rdims []int64
	if len(wmin) > 1 {
		rdims = []int64{int64(len(wmin))}
	}
	out := []*tfpb.NodeDef{
		constQ8(name+"/weight_qint8_const", []int64{1, 1, int64(cin), int64(cout)}, codes...),
		constF(name+"/weight_min", rdims, wmin...),
		constF(name+"/weight_max", rdims, wmax...),
	}
	if bias != nil {
		out = append(out, constF(name+"/bias", []int64{int64(cout)}, bias...))
	}
	return out
}

// requant is the frozen quantize-down of conv <name>: its Consts and the
// Requantize <name>_eightbit_requantize.
func requant(name string, lo, hi float32) []*tfpb.NodeDef {
	rr := name + "_eightbit_requant_range"
	c := name + "_eightbit_quantized_conv"
	rq := node(name+"_eightbit_requantize", "Requantize", c, c+":1", c+":2", rr+"/frozen_min:0", rr+"/frozen_max:0")
	qtype(rq, "Tinput", tfpb.DataType_DT_QINT32)
	qtype(rq, "out_type", tfpb.DataType_DT_QUINT8)
	return []*tfpb.NodeDef{constF(rr+"/frozen_min", nil, lo), constF(rr+"/frozen_max", nil, hi), rq}
}

// dequant is quantize_graph's result Dequantize (MIN_FIRST quint8) of a
// requantized conv.
func dequant(name, conv string) *tfpb.NodeDef {
	rq := conv + "_eightbit_requantize"
	n := qtype(node(name, "Dequantize", rq, rq+":1", rq+":2"), "T", tfpb.DataType_DT_QUINT8)
	n.Attr["mode"] = strAttr("MIN_FIRST")
	return n
}

// quantizedInput is the SCALED quint8 QuantizeV2 of a Relu output, as the
// Intel path writes it for the first quantized conv.
func quantizedInput() []*tfpb.NodeDef {
	q := qtype(node("xq", "QuantizeV2", "relu0", "relu0_min", "relu0_max"), "T", tfpb.DataType_DT_QUINT8)
	q.Attr["mode"] = strAttr("SCALED")
	q.Attr["round_mode"] = strAttr("HALF_TO_EVEN")
	return []*tfpb.NodeDef{placeholder("relu0"), placeholder("relu0_min"), placeholder("relu0_max"), q}
}

// nearInt is 0x3dcce515 = 0.100046314…: scaled by 10795 its exact product
// is 1079.99996286, which float32 rounds to 1080.
var nearInt = math.Float32frombits(0x3dcce515)

// chainGraph: conv1 (QuantizedConv2DWithBiasAndRelu, frozen [0, 6]) feeds
// conv2 (QuantizedConv2DWithBias, frozen [-3, 4]) straight from its
// Requantize (remove_redundant_quantization dropped the Dequantize →
// QuantizeV2 between them); conv1 is also dequantized for "conv1/Relu".
func chainGraph() *tfpb.GraphDef {
	var nodes []*tfpb.NodeDef
	nodes = append(nodes, quantizedInput()...)
	nodes = append(nodes, weights("conv1", 2, []float32{-1}, []float32{0.75}, []float32{0.5, -0.25})...)
	nodes = append(nodes, qconv("QuantizedConv2DWithBiasAndRelu", "conv1", "xq"))
	nodes = append(nodes, requant("conv1", 0, 6)...)
	nodes = append(nodes, dequant("conv1/Relu", "conv1"))
	nodes = append(nodes, weights("conv2", 2, []float32{-0.5}, []float32{0.25}, []float32{0.1, -0.1, nearInt})...)
	nodes = append(nodes, qconv("QuantizedConv2DWithBias", "conv2", "conv1_eightbit_requantize"))
	nodes = append(nodes, requant("conv2", -3, 4)...)
	nodes = append(nodes, dequant("conv2/BiasAdd", "conv2"))
	return graph(nodes...)
}

func int32Values(t *testing.T, g *tfpb.GraphDef, name string) []int32 {
	t.Helper()
	n := find(g, name)
	tp := n.GetAttr()["value"].GetTensor()
	if n.GetAttr()["dtype"].GetType() != tfpb.DataType_DT_QINT32 || tp.GetDtype() != tfpb.DataType_DT_QINT32 {
		t.Fatalf("%s is not a qint32 Const: %v", name, n)
	}
	c := tp.GetTensorContent()
	out := make([]int32, len(c)/4)
	for i := range out {
		out[i] = int32(binary.LittleEndian.Uint32(c[4*i:]))
	}
	return out
}

func attrType(n *tfpb.NodeDef, key string) tfpb.DataType { return n.GetAttr()[key].GetType() }

func TestFuseQuantizedConvChain(t *testing.T) {
	g := chainGraph()
	out, res := run(t, g, spec, Options{})

	// The fused nodes take the Requantize's names and ops <conv>AndRequantize;
	// the Consts follow them; the convs are gone.
	c1, c2 := find(out, "conv1_eightbit_requantize"), find(out, "conv2_eightbit_requantize")
	if c1.GetOp() != "QuantizedConv2DWithBiasAndReluAndRequantize" || c2.GetOp() != "QuantizedConv2DWithBiasAndRequantize" {
		t.Fatalf("ops %s, %s", c1.GetOp(), c2.GetOp())
	}
	if find(out, "conv1_eightbit_quantized_conv") != nil || find(out, "conv2_eightbit_quantized_conv") != nil {
		t.Errorf("convs left: %v", names(out))
	}
	// Inputs: 0 x, 1 w, 2 bias, 3/4 x range, 5/6 w range, 7/8 frozen range (node names).
	want := []string{"conv1_eightbit_requantize", "conv2/weight_qint8_const", "conv2/bias",
		"conv1_eightbit_requantize:1", "conv1_eightbit_requantize:2", "conv2/weight_min", "conv2/weight_max",
		"conv2_eightbit_requant_range/frozen_min", "conv2_eightbit_requant_range/frozen_max"}
	if !slices.Equal(c2.GetInput(), want) {
		t.Errorf("conv2 inputs\n%q\nwant\n%q", c2.GetInput(), want)
	}
	// out_type: qint8 for QuantizedConv2DWithBias, quint8 with a fused Relu.
	if attrType(c1, "out_type") != tfpb.DataType_DT_QUINT8 || attrType(c2, "out_type") != tfpb.DataType_DT_QINT8 {
		t.Errorf("out_type %v, %v", attrType(c1, "out_type"), attrType(c2, "out_type"))
	}
	// conv1 reads a QuantizeV2: its bias stays float. conv2 reads the fused
	// conv1: its bias becomes qint32 with R_x from conv1's frozen range
	// [0, 6] and R_w = max(|-0.5|, |0.25|) = 0.5:
	//   R_x·R_w = f32(3.0); scale = f32(32385/3.0) = 10795;
	//   b = 0.1  → f32(0.1)·10795 = 1079.50001609 → f32 1079.5 → 1079;
	//   b = -0.1 → -1079 (C truncation toward zero);
	//   b = 0x3dcce515 → 1079.99996286 → f32 1080.0 → 1080.
	if attrType(c1, "Tbias") != tfpb.DataType_DT_FLOAT || attrType(c2, "Tbias") != tfpb.DataType_DT_QINT32 {
		t.Errorf("Tbias %v, %v", attrType(c1, "Tbias"), attrType(c2, "Tbias"))
	}
	if got := int32Values(t, out, "conv2/bias"); !slices.Equal(got, []int32{1079, -1079, 1080}) {
		t.Errorf("conv2 bias = %v, want [1079 -1079 1080]", got)
	}
	if got := constValues(t, out, "conv1/bias"); !slices.Equal(got, []float32{0.5, -0.25}) {
		t.Errorf("conv1 bias = %v", got)
	}
	// Dequantize after QuantizedConv2DWithBiasAndRequantize: qint8 SCALED;
	// after …AndReluAndRequantize it keeps quint8 MIN_FIRST.
	d1, d2 := find(out, "conv1/Relu"), find(out, "conv2/BiasAdd")
	if attrType(d1, "T") != tfpb.DataType_DT_QUINT8 || string(d1.GetAttr()["mode"].GetS()) != "MIN_FIRST" {
		t.Errorf("conv1/Relu = %v", d1)
	}
	if attrType(d2, "T") != tfpb.DataType_DT_QINT8 || string(d2.GetAttr()["mode"].GetS()) != "SCALED" {
		t.Errorf("conv2/BiasAdd = %v", d2)
	}
	// Changed: 2 convs and 4 Consts moved away (6 names: convs removed,
	// Consts moved count as unchanged), 2 Requantize replaced, conv2/bias,
	// conv2/BiasAdd: 2 + 2 + 1 + 1 = 6.
	if res[0].Changed != 6 || res[0].Nodes != len(g.GetNode())-2 {
		t.Errorf("changed %d, nodes %d", res[0].Changed, res[0].Nodes)
	}
	if !slices.Equal(res[0].Notes, []string{"fused 2 Requantize nodes into convolutions; 1 bias pre-quantized to qint32; 1 Dequantize node switched to qint8 SCALED"}) {
		t.Errorf("notes %q", res[0].Notes)
	}
	golden(t, "fuse_quantized_conv_and_requantize", out)

	// A second run changes nothing (the qint32 bias and the qint8 Dequantize stay).
	again, res2 := run(t, out, spec, Options{})
	if !proto.Equal(again, out) || res2[0].Changed != 0 || len(res2[0].Notes) != 0 {
		t.Errorf("second run: changed %d, notes %q", res2[0].Changed, res2[0].Notes)
	}
}

// TestFuseAfterFreeze runs the calibration's last two steps in one
// transform_graph call: freeze_requantization_ranges turns the
// RequantizationRange nodes into Consts, then the fusion takes them.
func TestFuseAfterFreeze(t *testing.T) {
	frozen := chainGraph()
	// Unfreeze: each pair of Consts back to a RequantizationRange.
	var nodes []*tfpb.NodeDef
	for _, n := range frozen.GetNode() {
		if rr, ok := strings.CutSuffix(n.GetName(), "/frozen_min"); ok {
			conv := strings.TrimSuffix(rr, "_eightbit_requant_range") + "_eightbit_quantized_conv"
			nodes = append(nodes, qtype(node(rr, "RequantizationRange", conv, conv+":1", conv+":2"), "Tinput", tfpb.DataType_DT_QINT32))
			continue
		}
		if strings.HasSuffix(n.GetName(), "/frozen_max") {
			continue
		}
		if n.GetOp() == "Requantize" {
			n = proto.Clone(n).(*tfpb.NodeDef)
			rr := strings.TrimSuffix(n.Input[3], "/frozen_min:0")
			n.Input[3], n.Input[4] = rr, rr+":1"
		}
		nodes = append(nodes, n)
	}
	g := graph(nodes...)
	fr := &fakeRanges{ranges: []stats.Range{
		{Node: "conv1_eightbit_requant_range", Side: stats.Both, Min: 0, Max: 6, Count: 1},
		{Node: "conv2_eightbit_requant_range", Side: stats.Both, Min: -3, Max: 4, Count: 1},
	}}
	// Unfrozen, the fusion leaves both alone and says why.
	same, res := run(t, g, spec, Options{})
	if !proto.Equal(same, g) || len(res[0].Notes) != 2 ||
		res[0].Notes[0] != `Requantize "conv1_eightbit_requantize" left alone: its requested output range (conv1_eightbit_requant_range, conv1_eightbit_requant_range:1) is not a pair of Consts; run freeze_requantization_ranges first` {
		t.Errorf("unfrozen: notes %q", res[0].Notes)
	}
	out, _ := run(t, g, "freeze_requantization_ranges(min_max_log_file=calib.log) "+spec, Options{Ranges: fr})
	want, _ := run(t, frozen, spec, Options{})
	if !proto.Equal(out, want) {
		t.Errorf("freeze then fuse differs from fusing the hand-frozen graph:\n%v\n%v", names(out), names(want))
	}
}

// sumGraph: conv1 as in chainGraph, then conv3, a
// QuantizedConv2DWithBiasSumAndRelu reading conv1's Requantize with the
// given summand as its last input.
func sumGraph(summand string, extra ...*tfpb.NodeDef) *tfpb.GraphDef {
	var nodes []*tfpb.NodeDef
	nodes = append(nodes, quantizedInput()...)
	nodes = append(nodes, weights("conv1", 2, []float32{-1}, []float32{0.75}, []float32{0.5, -0.25})...)
	nodes = append(nodes, qconv("QuantizedConv2DWithBiasAndRelu", "conv1", "xq"))
	nodes = append(nodes, requant("conv1", 0, 6)...)
	nodes = append(nodes, extra...)
	nodes = append(nodes, weights("conv3", 2, []float32{-0.5}, []float32{0.5}, []float32{-0.1, 0.2})...)
	nodes = append(nodes, qconv("QuantizedConv2DWithBiasSumAndRelu", "conv3", "conv1_eightbit_requantize", summand))
	nodes = append(nodes, requant("conv3", 0, 8)...)
	nodes = append(nodes, dequant("conv3/Relu", "conv3"))
	return graph(nodes...)
}

func TestFuseSum(t *testing.T) {
	fusedIns := []string{"conv1_eightbit_requantize", "conv3/weight_qint8_const", "conv3/bias",
		"conv1_eightbit_requantize:1", "conv1_eightbit_requantize:2", "conv3/weight_min", "conv3/weight_max",
		"conv3_eightbit_requant_range/frozen_min", "conv3_eightbit_requant_range/frozen_max"}
	scaledQ := func(name, in string, t tfpb.DataType) *tfpb.NodeDef {
		n := qtype(node(name, "QuantizeV2", in, in+"_min", in+"_max"), "T", t)
		n.Attr["mode"] = strAttr("SCALED")
		return n
	}
	deq := func(name, in string) *tfpb.NodeDef {
		return qtype(node(name, "Dequantize", in, in+":1", in+":2"), "T", tfpb.DataType_DT_QUINT8)
	}
	// conv2 as in chainGraph: a QuantizedConv2DWithBias whose fused output is qint8.
	signedConv := append(weights("conv2", 2, []float32{-0.5}, []float32{0.25}, []float32{0.1, -0.1}),
		qconv("QuantizedConv2DWithBias", "conv2", "xq"))
	signedConv = append(signedConv, requant("conv2", -3, 4)...)
	signedConv = append(signedConv, dequant("conv2/BiasAdd", "conv2"))
	tests := []struct {
		name     string
		g        *tfpb.GraphDef
		op       string
		tsummand tfpb.DataType
		summand  []string
	}{
		// The tool's rules for the summand's type (Tsummand):
		{"float Relu summand: quantized to quint8 by new nodes", sumGraph("res", node("res", "Relu", "relu0")),
			"QuantizedConv2DWithBiasSumAndReluAndRequantize", tfpb.DataType_DT_QUINT8, []string{"res/quantize", "res/quantize:1", "res/quantize:2"}},
		{"float Add summand: qint8, the signed variant", sumGraph("res", node("res", "AddV2", "relu0", "relu0")),
			"QuantizedConv2DWithBiasSignedSumAndReluAndRequantize", tfpb.DataType_DT_QINT8, []string{"res/quantize", "res/quantize:1", "res/quantize:2"}},
		{"Dequantize of a quint8 QuantizeV2: its T", sumGraph("res", scaledQ("q", "relu0", tfpb.DataType_DT_QUINT8), deq("res", "q")),
			"QuantizedConv2DWithBiasSumAndReluAndRequantize", tfpb.DataType_DT_QUINT8, []string{"q", "q:1", "q:2"}},
		{"Dequantize of a qint8 QuantizeV2", sumGraph("res", scaledQ("q", "relu0", tfpb.DataType_DT_QINT8), deq("res", "q")),
			"QuantizedConv2DWithBiasSignedSumAndReluAndRequantize", tfpb.DataType_DT_QINT8, []string{"q", "q:1", "q:2"}},
		{"Dequantize of a fused QuantizedConv2DWithBias: qint8", sumGraph("conv2/BiasAdd", signedConv...),
			"QuantizedConv2DWithBiasSignedSumAndReluAndRequantize", tfpb.DataType_DT_QINT8,
			[]string{"conv2_eightbit_requantize", "conv2_eightbit_requantize:1", "conv2_eightbit_requantize:2"}},
		{"Dequantize of a fused …AndRelu: quint8", sumGraph("conv1/Relu", dequant("conv1/Relu", "conv1")),
			"QuantizedConv2DWithBiasSumAndReluAndRequantize", tfpb.DataType_DT_QUINT8,
			[]string{"conv1_eightbit_requantize", "conv1_eightbit_requantize:1", "conv1_eightbit_requantize:2"}},
	}
	for _, tt := range tests {
		out, _ := run(t, tt.g, spec, Options{})
		f := find(out, "conv3_eightbit_requantize")
		if f.GetOp() != tt.op || attrType(f, "Tsummand") != tt.tsummand || attrType(f, "out_type") != tfpb.DataType_DT_QUINT8 {
			t.Errorf("%s: op %s, Tsummand %v, out_type %v", tt.name, f.GetOp(), attrType(f, "Tsummand"), attrType(f, "out_type"))
		}
		// Inputs 9/10/11: the summand and its range, after the frozen range.
		if want := append(slices.Clone(fusedIns), tt.summand...); !slices.Equal(f.GetInput(), want) {
			t.Errorf("%s: inputs\n%q\nwant\n%q", tt.name, f.GetInput(), want)
		}
		// The Sum conv reads the fused conv1: its bias is pre-quantized.
		// R_x = 6, R_w = 0.5 → scale 10795; -0.1 → -1079; f32(0.2)·10795 = 2159.00003 → 2159.
		if got := int32Values(t, out, "conv3/bias"); attrType(f, "Tbias") != tfpb.DataType_DT_QINT32 || !slices.Equal(got, []int32{-1079, 2159}) {
			t.Errorf("%s: bias %v, Tbias %v", tt.name, got, attrType(f, "Tbias"))
		}
	}
	// The float summand's nodes, as the tool names them, before the fused conv.
	out, _ := run(t, tests[1].g, spec, Options{})
	golden(t, "fuse_quantized_conv_and_requantize_sum", out)
	i := slices.Index(names(out), "conv3_eightbit_requantize")
	if got := names(out)[i-6 : i]; !slices.Equal(got, []string{"res/reshape_dims", "res/reduction_dims", "res/reshape", "res/min", "res/max", "res/quantize"}) {
		t.Errorf("summand nodes %q", got)
	}
	if q := find(out, "res/quantize"); !slices.Equal(q.GetInput(), []string{"res", "res/min", "res/max"}) ||
		attrType(q, "T") != tfpb.DataType_DT_QINT8 || string(q.GetAttr()["mode"].GetS()) != "SCALED" {
		t.Errorf("res/quantize = %v", q)
	}

	// A summand read at output 1 is left alone: the tool would quantize output 0.
	for _, g := range []*tfpb.GraphDef{
		sumGraph("res:1", node("res", "Split", "relu0")),
		sumGraph("res", placeholder("p"), node("res", "Dequantize", "p:1", "p:2", "p:3")),
	} {
		out, res := run(t, g, spec, Options{})
		if find(out, "conv3_eightbit_requantize").GetOp() != "Requantize" || len(res[0].Notes) != 2 ||
			!strings.HasPrefix(res[0].Notes[0], `Requantize "conv3_eightbit_requantize" left alone: its summand`) {
			t.Errorf("summand at output 1: notes %q", res[0].Notes)
		}
	}

	// A summand the tool cannot handle is an error naming the conv.
	bad := sumGraph("res", placeholder("p"), node("res", "Dequantize", "p", "p", "p"))
	steps, _ := Parse(spec)
	_, _, err := Apply(bad, steps, Options{})
	if err == nil || !strings.Contains(err.Error(), `node "conv3_eightbit_quantized_conv": its summand is Dequantize "res" of Placeholder "p", which cannot be fused`) {
		t.Errorf("error %v", err)
	}
}

func TestFusePerChannelAndDepthwise(t *testing.T) {
	perChannel := func(n *tfpb.NodeDef, out tfpb.DataType) *tfpb.NodeDef {
		if n.GetOp() == "Requantize" {
			n.Op = "RequantizePerChannel"
			delete(n.Attr, "Tinput")
			qtype(n, "T", tfpb.DataType_DT_QINT32)
			qtype(n, "out_type", out)
		}
		return n
	}
	// quantize_graph --per_channel: vector filter ranges; RequantizePerChannel
	// quint8 after a Relu, qint8 otherwise, and a SCALED Dequantize.
	var nodes []*tfpb.NodeDef
	nodes = append(nodes, quantizedInput()...)
	nodes = append(nodes, weights("conv1", 2, []float32{-1, -0.5}, []float32{0.75, 0.5}, []float32{0.5, -0.25})...)
	nodes = append(nodes, qconv("QuantizedConv2DWithBiasAndRelu", "conv1", "xq"))
	for _, n := range requant("conv1", 0, 6) {
		nodes = append(nodes, perChannel(n, tfpb.DataType_DT_QUINT8))
	}
	nodes = append(nodes, weights("conv2", 2, []float32{-0.5, -0.25, -1}, []float32{0.5, 0.25, 0.75}, []float32{0.1, -0.2, 2})...)
	nodes = append(nodes, qconv("QuantizedConv2DWithBias", "conv2", "conv1_eightbit_requantize"))
	for _, n := range requant("conv2", -3, 4) {
		nodes = append(nodes, perChannel(n, tfpb.DataType_DT_QINT8))
	}
	d := dequant("conv2/BiasAdd", "conv2")
	d.Attr["mode"] = strAttr("SCALED")
	qtype(d, "T", tfpb.DataType_DT_QINT8)
	nodes = append(nodes, d)
	// A depthwise conv after conv1 (its 2 channels, multiplier 1).
	nodes = append(nodes, weights("dw", 1, []float32{-0.5}, []float32{0.25}, []float32{-0.1, 0.3})...)
	nodes = append(nodes, qconv("QuantizedDepthwiseConv2DWithBiasAndRelu", "dw", "conv1_eightbit_requantize"))
	nodes = append(nodes, requant("dw", 0, 2)...)
	nodes = append(nodes, dequant("dw/Relu", "dw"))
	out, _ := run(t, graph(nodes...), spec, Options{})

	c2 := find(out, "conv2_eightbit_requantize")
	if c2.GetOp() != "QuantizedConv2DWithBiasAndRequantize" || attrType(c2, "out_type") != tfpb.DataType_DT_QINT8 {
		t.Errorf("conv2: %s %v", c2.GetOp(), attrType(c2, "out_type"))
	}
	// Per channel, R_x = 6 (conv1's frozen max): R_w = 0.5, 0.25, 1 →
	// scales 10795, 21590, 5397.5 (32385/6 exactly);
	// 0.1 → 1079; -0.2 → f32(-4318.00006) → -4318; 2 → 10795.
	if got := int32Values(t, out, "conv2/bias"); !slices.Equal(got, []int32{1079, -4318, 10795}) {
		t.Errorf("conv2 bias %v", got)
	}
	if d := find(out, "conv2/BiasAdd"); attrType(d, "T") != tfpb.DataType_DT_QINT8 || string(d.GetAttr()["mode"].GetS()) != "SCALED" {
		t.Errorf("conv2/BiasAdd %v", d)
	}
	dw := find(out, "dw_eightbit_requantize")
	if dw.GetOp() != "QuantizedDepthwiseConv2DWithBiasAndReluAndRequantize" || attrType(dw, "out_type") != tfpb.DataType_DT_QUINT8 ||
		attrType(dw, "Tbias") != tfpb.DataType_DT_QINT32 {
		t.Errorf("dw: %v", dw)
	}
	// R_x = 6, R_w = 0.5 → 10795: -0.1 → -1079; f32(0.3)·10795 = 3238.50013 → f32 3238.5 → 3238.
	if got := int32Values(t, out, "dw/bias"); !slices.Equal(got, []int32{-1079, 3238}) {
		t.Errorf("dw bias %v", got)
	}
	// After the Relu variant the Dequantize stays quint8 MIN_FIRST.
	if d := find(out, "dw/Relu"); attrType(d, "T") != tfpb.DataType_DT_QUINT8 || string(d.GetAttr()["mode"].GetS()) != "MIN_FIRST" {
		t.Errorf("dw/Relu %v", d)
	}
}

// editedChain returns chainGraph changed by f.
func editedChain(f func(g *tfpb.GraphDef)) *tfpb.GraphDef {
	g := chainGraph()
	f(g)
	return g
}

// TestFuseLeftAlone: where the tool would crash or write a graph TensorFlow
// cannot run, the Requantize stays, with a note.
func TestFuseLeftAlone(t *testing.T) {
	const rq2 = `Requantize "conv2_eightbit_requantize" left alone: `
	tests := []struct {
		name string
		g    *tfpb.GraphDef
		note string
	}{
		{"conv read elsewhere", editedChain(func(g *tfpb.GraphDef) {
			g.Node = append(g.Node, node("peek", "Identity", "conv2_eightbit_quantized_conv:1"))
		}), rq2 + `QuantizedConv2DWithBias "conv2_eightbit_quantized_conv" is also read by "peek"`},
		{"outputs swapped", editedChain(func(g *tfpb.GraphDef) {
			n := find(g, "conv2_eightbit_requantize")
			n.Input[1], n.Input[2] = n.Input[2], n.Input[1]
		}), rq2 + `inputs 0-2 are conv2_eightbit_quantized_conv, conv2_eightbit_quantized_conv:2, conv2_eightbit_quantized_conv:1, not outputs 0, 1, 2 of "conv2_eightbit_quantized_conv"`},
		{"no padding", editedChain(func(g *tfpb.GraphDef) {
			delete(find(g, "conv2_eightbit_quantized_conv").Attr, "padding")
		}), rq2 + `QuantizedConv2DWithBias "conv2_eightbit_quantized_conv" has no padding attribute`},
		{"quint8 filter (plain path)", editedChain(func(g *tfpb.GraphDef) {
			qtype(find(g, "conv2_eightbit_quantized_conv"), "Tfilter", tfpb.DataType_DT_QUINT8)
		}), rq2 + `QuantizedConv2DWithBias "conv2_eightbit_quantized_conv" has Tfilter=quint8; the fused kernels take qint8 filters (Intel's eightbit path)`},
		{"wrong input count", editedChain(func(g *tfpb.GraphDef) {
			n := find(g, "conv2_eightbit_quantized_conv")
			n.Input = n.Input[:6]
		}), rq2 + `QuantizedConv2DWithBias "conv2_eightbit_quantized_conv" has 6 data inputs, want 7`},
		{"qint8 output read as quint8", editedChain(func(g *tfpb.GraphDef) {
			g.Node = append(g.Node, node("pool", "QuantizedMaxPool", "conv2_eightbit_requantize", "conv2_eightbit_requantize:1", "conv2_eightbit_requantize:2"))
		}), rq2 + `its fused output would be qint8, but QuantizedMaxPool "pool" reads it as quint8`},
		{"Consts shared with an earlier fusion", editedChain(func(g *tfpb.GraphDef) {
			n := find(g, "conv2_eightbit_requantize")
			n.Input[3], n.Input[4] = "conv1_eightbit_requant_range/frozen_min", "conv1_eightbit_requant_range/frozen_max"
		}), rq2 + `a node of its pattern is already part of the fusion of "conv1_eightbit_requantize"`},
		{"a conv the tool does not fuse", editedChain(func(g *tfpb.GraphDef) {
			find(g, "conv2_eightbit_quantized_conv").Op = "QuantizedDepthwiseConv2DWithBias"
		}), `Requantize "conv2_eightbit_requantize" left alone: IntelAI's tool does not fuse QuantizedDepthwiseConv2DWithBias "conv2_eightbit_quantized_conv"`},
	}
	for _, tt := range tests {
		out, res := run(t, tt.g, spec, Options{})
		if n := find(out, "conv2_eightbit_requantize"); n.GetOp() != "Requantize" || !proto.Equal(n, find(tt.g, "conv2_eightbit_requantize")) {
			t.Errorf("%s: Requantize changed: %v", tt.name, n)
		}
		if find(out, "conv2_eightbit_quantized_conv") == nil {
			t.Errorf("%s: conv removed", tt.name)
		}
		// conv1 is fused all the same.
		if n := find(out, "conv1_eightbit_requantize"); n.GetOp() != "QuantizedConv2DWithBiasAndReluAndRequantize" {
			t.Errorf("%s: conv1 %s", tt.name, n.GetOp())
		}
		if !slices.Contains(res[0].Notes, tt.note) {
			t.Errorf("%s: notes\n%q\nwant %q", tt.name, res[0].Notes, tt.note)
		}
	}
}

// TestFuseFloatBias: the fusion happens but the bias stays float (Tbias
// float), with a note, where it cannot be quantized.
func TestFuseFloatBias(t *testing.T) {
	const c2 = `QuantizedConv2DWithBiasAndRequantize "conv2_eightbit_requantize" keeps a float bias: `
	tests := []struct {
		name string
		g    *tfpb.GraphDef
		note string
	}{
		{"shared bias", editedChain(func(g *tfpb.GraphDef) {
			g.Node = append(g.Node, node("other", "BiasAdd", "relu0", "conv2/bias"))
		}), c2 + `its bias "conv2/bias" is also read by "other"`},
		{"bias not a Const", editedChain(func(g *tfpb.GraphDef) {
			for i, n := range g.Node {
				if n.GetName() == "conv2/bias" {
					g.Node[i] = placeholder("conv2/bias")
				}
			}
		}), c2 + `its bias "conv2/bias" is not a float Const`},
		// conv1 frozen to [0, 0]: R_x·R_w = 0, scale +Inf, 0.1·Inf = +Inf.
		{"zero producer range", editedChain(func(g *tfpb.GraphDef) {
			find(g, "conv1_eightbit_requant_range/frozen_max").Attr["value"].GetTensor().TensorContent = []byte{0, 0, 0, 0}
		}), c2 + `bias "conv2/bias": bias 0: 0.1·+Inf = +Inf is not an int32 (input range [0, 0], filter range [-0.5, 0.25])`},
		{"channel count", editedChain(func(g *tfpb.GraphDef) {
			for i, n := range g.Node {
				switch n.GetName() {
				case "conv2/weight_min":
					g.Node[i] = constF(n.GetName(), []int64{2}, -1, -1)
				case "conv2/weight_max":
					g.Node[i] = constF(n.GetName(), []int64{2}, 1, 1)
				}
			}
		}), c2 + `bias "conv2/bias": number of filter output channels (2) is not equal to bias size (3)`},
	}
	for _, tt := range tests {
		out, res := run(t, tt.g, spec, Options{})
		n := find(out, "conv2_eightbit_requantize")
		if n.GetOp() != "QuantizedConv2DWithBiasAndRequantize" || attrType(n, "Tbias") != tfpb.DataType_DT_FLOAT {
			t.Errorf("%s: %s Tbias %v", tt.name, n.GetOp(), attrType(n, "Tbias"))
		}
		if !slices.Contains(res[0].Notes, tt.note) {
			t.Errorf("%s: notes\n%q\nwant %q", tt.name, res[0].Notes, tt.note)
		}
	}
}

// TestFuseControlInputs: every control input of the conv and the
// Requantize ends the fused node's inputs (the tool keeps the conv's last
// one only).
func TestFuseControlInputs(t *testing.T) {
	g := chainGraph()
	g.Node = append(g.Node, placeholder("a"), placeholder("b"))
	c := find(g, "conv1_eightbit_quantized_conv")
	c.Input = append(c.Input, "^a", "^b")
	rq := find(g, "conv1_eightbit_requantize")
	rq.Input = append(rq.Input, "^b", "^relu0")
	out, _ := run(t, g, spec, Options{})
	got := find(out, "conv1_eightbit_requantize").GetInput()
	if !slices.Equal(got[7:], []string{"conv1_eightbit_requant_range/frozen_min", "conv1_eightbit_requant_range/frozen_max", "^a", "^b", "^relu0"}) {
		t.Errorf("inputs %q", got)
	}
}

// TestFuseBareConv: a QuantizedConv2D (no bias) becomes
// QuantizedConv2DAndRequantize with out_type qint8 and no Tbias, and its
// Dequantize becomes qint8 SCALED.
func TestFuseBareConv(t *testing.T) {
	var nodes []*tfpb.NodeDef
	nodes = append(nodes, quantizedInput()...)
	nodes = append(nodes, weights("conv0", 2, []float32{-1}, []float32{1}, nil)...)
	nodes = append(nodes, qconv("QuantizedConv2D", "conv0", "xq"))
	nodes = append(nodes, requant("conv0", -2, 2)...)
	nodes = append(nodes, dequant("conv0/Conv2D", "conv0"))
	out, _ := run(t, graph(nodes...), spec, Options{})
	f := find(out, "conv0_eightbit_requantize")
	want := []string{"xq", "conv0/weight_qint8_const", "xq:1", "xq:2", "conv0/weight_min", "conv0/weight_max",
		"conv0_eightbit_requant_range/frozen_min", "conv0_eightbit_requant_range/frozen_max"}
	if f.GetOp() != "QuantizedConv2DAndRequantize" || !slices.Equal(f.GetInput(), want) || attrType(f, "out_type") != tfpb.DataType_DT_QINT8 {
		t.Errorf("fused %v", f)
	}
	if _, ok := f.GetAttr()["Tbias"]; ok {
		t.Errorf("Tbias set on a conv without bias")
	}
	if d := find(out, "conv0/Conv2D"); attrType(d, "T") != tfpb.DataType_DT_QINT8 || string(d.GetAttr()["mode"].GetS()) != "SCALED" {
		t.Errorf("Dequantize %v", d)
	}
}

// TestFuseAfterBiaslessProducer: a fused conv without bias (here an
// existing QuantizedConv2DAndReluAndRequantize) has its frozen range at
// inputs 6 and 7; qcal reads them there (the tool reads 7 and 8 whatever
// the op: its max as the min, and an input that does not exist).
func TestFuseAfterBiaslessProducer(t *testing.T) {
	var nodes []*tfpb.NodeDef
	nodes = append(nodes, quantizedInput()...)
	nodes = append(nodes, weights("conv0", 2, []float32{-1}, []float32{1}, nil)...)
	nodes = append(nodes, constF("f0min", nil, -2), constF("f0max", nil, 3))
	p := qtype(node("conv0_eightbit_requantize", "QuantizedConv2DAndReluAndRequantize",
		"xq", "conv0/weight_qint8_const", "xq:1", "xq:2", "conv0/weight_min", "conv0/weight_max", "f0min", "f0max"), "out_type", tfpb.DataType_DT_QUINT8)
	nodes = append(nodes, p)
	nodes = append(nodes, weights("conv1", 2, []float32{-0.5}, []float32{0.5}, []float32{0.1, 1})...)
	nodes = append(nodes, qconv("QuantizedConv2DWithBiasAndRelu", "conv1", "conv0_eightbit_requantize"))
	nodes = append(nodes, requant("conv1", 0, 6)...)
	out, _ := run(t, graph(nodes...), spec, Options{})
	// R_x = max(|-2|, |3|) = 3, R_w = 0.5 → f32(1.5); scale = 32385/1.5 = 21590;
	// 0.1 → f32(0.1)·21590 = 2159.00003 → 2159; 1 → 21590.
	if got := int32Values(t, out, "conv1/bias"); !slices.Equal(got, []int32{2159, 21590}) {
		t.Errorf("bias %v", got)
	}
}
