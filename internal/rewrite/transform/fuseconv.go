package transform

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strings"

	"google.golang.org/protobuf/proto"

	"qcal/internal/graphinfo"
	"qcal/internal/tfname"
	"qcal/internal/tfpb"
	"qcal/quant"
)

func init() {
	register(&Transform{
		Name: "fuse_quantized_conv_and_requantize",
		Summary: "fuse QuantizedConv2D*→Requantize with frozen (Const) ranges into QuantizedConv2D*AndRequantize; " +
			"qint32 biases after a fused conv, qint8 SCALED Dequantize after a signed one (IntelAI's tool)",
		run: fuseQuantizedConv,
	})
}

// fusableConvs are the convolutions IntelAI's fuse_quantized_conv_and_requantize
// fuses with a following Requantize, and the number of data inputs each
// has (x, w, [bias], min_x, max_x, min_w, max_w, [summand]). The tool's
// pattern also names QuantizedConv2DWithRelu, which is not a TensorFlow op.
var fusableConvs = map[string]int{
	"QuantizedConv2D":                         6,
	"QuantizedConv2DWithBias":                 7,
	"QuantizedConv2DWithBiasAndRelu":          7,
	"QuantizedConv2DWithBiasSumAndRelu":       8,
	"QuantizedDepthwiseConv2DWithBiasAndRelu": 7,
}

// fusedBiasOps are the fused ops whose bias the tool types (Tbias) and may
// pre-quantize.
var fusedBiasOps = []string{
	"QuantizedConv2DWithBiasAndRequantize",
	"QuantizedConv2DWithBiasAndReluAndRequantize",
	"QuantizedConv2DWithBiasSumAndReluAndRequantize",
	"QuantizedConv2DWithBiasSignedSumAndReluAndRequantize",
	"QuantizedDepthwiseConv2DWithBiasAndRequantize",
	"QuantizedDepthwiseConv2DWithBiasAndReluAndRequantize",
}

const (
	opRequantize           = "Requantize"
	opRequantizePerChannel = "RequantizePerChannel"
	opDequantize           = "Dequantize"
	opQuantizeV2           = "QuantizeV2"
	opSumConv              = "QuantizedConv2DWithBiasSumAndRelu"
)

// signedOutput reports whether the tool gives the fused form of conv op
// a qint8 output (out_type); the others are quint8.
func signedOutput(convOp string) bool {
	return convOp == "QuantizedConv2D" || convOp == "QuantizedConv2DWithBias"
}

// fusion is one Requantize to be fused with its convolution.
type fusion struct {
	rq, conv, lo, hi *tfpb.NodeDef
	out              tfpb.DataType // out_type of the fused op
	// The Sum variant: the summand's three inputs, its type, and the nodes
	// that quantize a float summand (nil when it is already quantized).
	summand      []string
	summandType  tfpb.DataType
	summandNodes []*tfpb.NodeDef
}

// fuseQuantizedConv is IntelAI's fuse_quantized_conv_and_requantize
// (tensorflow_quantization/graph_transforms/fuse_quantized_convolution.cc,
// INT8-ARITHMETIC.md §0 and §1c). It takes no arguments.
//
// Each Requantize or RequantizePerChannel whose input is one of the
// fusableConvs (outputs 0, 1, 2) and whose requested range is two Consts
// (freeze_requantization_ranges' NAME/frozen_min and NAME/frozen_max)
// becomes one node named as the Requantize, of op <conv op>AndRequantize,
// placed where the Requantize was and followed by the two Consts:
//   - inputs: the conv's data inputs (the Sum variant's without its
//     summand), then the two Consts (min_freezed_output, max_freezed_output),
//     then for the Sum variant the quantized summand and its range (:1, :2);
//   - attributes: Tinput, Tfilter, strides, padding, and padding_list and
//     dilations when present, from the conv; Tbias=float for the ops with
//     a bias; out_type qint8 for QuantizedConv2D and QuantizedConv2DWithBias,
//     quint8 for the others (they have a fused Relu); Tsummand for the Sum
//     variant, which becomes QuantizedConv2DWithBiasSignedSumAndReluAndRequantize
//     when the summand is qint8.
//
// A summand that is a Dequantize is replaced by its input (a QuantizeV2,
// Requantize or quantized op, whose outputs 1 and 2 are its range); a
// float summand gets the tool's nodes S/reshape_dims, S/reduction_dims,
// S/reshape, S/min, S/max and S/quantize (QuantizeV2 SCALED, quint8 after a
// Relu or Relu6, else qint8).
//
// Then, over the whole graph: a Dequantize reading a
// QuantizedConv2D[WithBias]AndRequantize becomes T=qint8, mode=SCALED (it
// keeps T=quint8 MIN_FIRST after the Relu variants), and each fused op with
// a bias whose input 0 is itself a fused …Conv2D…AndRequantize gets its
// float bias Const rewritten as qint32 codes (quant.QuantizeBias, with the
// producer's frozen range and the filter range of inputs 5 and 6) and
// Tbias=qint32; the others get Tbias=float.
//
// Where the tool would crash or write a graph TensorFlow cannot run, qcal
// leaves the nodes alone and says so in a note: a Requantize whose range
// is not two Consts, or that reads outputs other than 0, 1, 2 of one conv;
// a conv with other consumers (the tool deletes it anyway), the wrong
// number of inputs, a missing attribute (the tool CHECK-fails), or quint8
// filters (the fused kernels are qint8-filter only); a qint8 output that
// would feed a consumer other than a Dequantize (which expects quint8); a
// summand read from an output other than 0; a bias that is not a float
// Const used by this conv alone, whose length does not match the filter's
// channels (the tool fails), or whose codes do not fit int32 (its Tbias
// stays float). qcal also keeps every control
// input of the conv and of the Requantize (the tool keeps the conv's last
// one), reads the frozen range of a bias-less producer at its inputs 6 and
// 7 (the tool reads 7 and 8 whatever the op), creates a float summand's
// quantize nodes once when two convs share it, and leaves an already
// quantized qint32 bias alone, so running the transform twice changes
// nothing. A summand the tool cannot handle is an error, as in the tool.
func fuseQuantizedConv(c *call, g *tfpb.GraphDef) (*tfpb.GraphDef, error) {
	v := newView(g)
	fusions, err := planFusions(c, v)
	if err != nil {
		return nil, err
	}
	for _, f := range fusions {
		fused := fusedNode(f)
		repl := slices.Clone(f.summandNodes)
		repl = append(repl, fused, f.lo)
		if f.hi != f.lo {
			repl = append(repl, f.hi)
		}
		// The tool emits the Consts after the fused node and drops them
		// (and the conv) where they were.
		v.edits[f.conv.GetName()] = nil
		v.edits[f.lo.GetName()] = nil
		v.edits[f.hi.GetName()] = nil
		v.edits[f.rq.GetName()] = repl
	}
	out := v.apply()
	out, biases, deqs := fixFusedTypes(c, out)
	if len(fusions) > 0 || biases > 0 || deqs > 0 {
		c.notef("fused %d Requantize node%s into convolutions; %d bias%s pre-quantized to qint32; %d Dequantize node%s switched to qint8 SCALED",
			len(fusions), plural(len(fusions)), biases, pluralES(biases), deqs, plural(deqs))
	}
	return out, nil
}

func pluralES(n int) string {
	if n == 1 {
		return ""
	}
	return "es"
}

// planFusions finds the Requantize nodes to fuse, in graph order, and
// notes the ones left alone.
func planFusions(c *call, v *graphView) ([]*fusion, error) {
	claimed := map[string]string{} // node → the Requantize whose fusion took it
	var fusions []*fusion
	byRQ := map[string]*fusion{}
	for _, n := range v.g.GetNode() {
		if n.GetOp() != opRequantize && n.GetOp() != opRequantizePerChannel {
			continue
		}
		ins := dataInputs(n)
		if len(ins) != 5 {
			continue
		}
		conv := v.input(n, 0)
		if conv == nil {
			continue
		}
		nIn, ok := fusableConvs[conv.GetOp()]
		if !ok {
			if strings.HasPrefix(conv.GetOp(), "Quantized") && strings.Contains(conv.GetOp(), "Conv") {
				c.notef("%s %q left alone: IntelAI's tool does not fuse %s %q", n.GetOp(), n.GetName(), conv.GetOp(), conv.GetName())
			}
			continue
		}
		leave := func(format string, a ...any) {
			c.notef("%s %q left alone: %s", n.GetOp(), n.GetName(), fmt.Sprintf(format, a...))
		}
		if !readsOutputs(ins[:3], conv.GetName()) {
			leave("inputs 0-2 are %s, not outputs 0, 1, 2 of %q", strings.Join(ins[:3], ", "), conv.GetName())
			continue
		}
		lo, hi := v.input(n, 3), v.input(n, 4)
		if lo.GetOp() != opConst || hi.GetOp() != opConst {
			leave("its requested output range (%s, %s) is not a pair of Consts; run freeze_requantization_ranges first", ins[3], ins[4])
			continue
		}
		if by, ok := firstClaimed(claimed, conv, lo, hi); ok {
			leave("a node of its pattern is already part of the fusion of %q", by)
			continue
		}
		if got := len(dataInputs(conv)); got != nIn {
			leave("%s %q has %d data inputs, want %d", conv.GetOp(), conv.GetName(), got, nIn)
			continue
		}
		if a := missingAttr(conv, "Tinput", "Tfilter", "strides", "padding"); a != "" {
			leave("%s %q has no %s attribute", conv.GetOp(), conv.GetName(), a)
			continue
		}
		if t := conv.GetAttr()["Tfilter"].GetType(); t != tfpb.DataType_DT_QINT8 {
			leave("%s %q has Tfilter=%s; the fused kernels take qint8 filters (Intel's eightbit path)", conv.GetOp(), conv.GetName(), graphinfo.TypeName(t))
			continue
		}
		if other := otherUser(v, conv, n); other != nil {
			leave("%s %q is also read by %q", conv.GetOp(), conv.GetName(), other.GetName())
			continue
		}
		f := &fusion{rq: n, conv: conv, lo: lo, hi: hi, out: tfpb.DataType_DT_QUINT8}
		if signedOutput(conv.GetOp()) {
			f.out = tfpb.DataType_DT_QINT8
			if u := nonDequantizeReader(v, n); u != nil {
				leave("its fused output would be qint8, but %s %q reads it as quint8", u.GetOp(), u.GetName())
				continue
			}
		}
		for _, m := range []*tfpb.NodeDef{conv, lo, hi} {
			claimed[m.GetName()] = n.GetName()
		}
		fusions = append(fusions, f)
		byRQ[n.GetName()] = f
	}
	// The Sum variant's summand; its type may depend on another fusion.
	created := map[string]*fusion{} // float summand → the fusion that quantizes it
	kept := fusions[:0]
	for _, f := range fusions {
		if f.conv.GetOp() == opSumConv {
			ok, err := planSummand(c, v, f, byRQ, created)
			if err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
		}
		kept = append(kept, f)
	}
	return kept, nil
}

// readsOutputs reports whether ins are outputs 0 (written name or name:0),
// 1 and 2 of node name.
func readsOutputs(ins []string, name string) bool {
	for i, in := range ins {
		p, ok := tfname.ParseInput(in)
		if !ok || p.Control || p.Node != name || p.Index != i {
			return false
		}
	}
	return true
}

func firstClaimed(claimed map[string]string, nodes ...*tfpb.NodeDef) (string, bool) {
	for _, m := range nodes {
		if by, ok := claimed[m.GetName()]; ok {
			return by, true
		}
	}
	return "", false
}

func missingAttr(n *tfpb.NodeDef, names ...string) string {
	for _, a := range names {
		if _, ok := n.GetAttr()[a]; !ok {
			return a
		}
	}
	return ""
}

// otherUser returns a consumer of n other than user, or nil.
func otherUser(v *graphView, n, user *tfpb.NodeDef) *tfpb.NodeDef {
	for _, u := range v.users[n.GetName()] {
		if u != user {
			return u
		}
	}
	return nil
}

// nonDequantizeReader returns a node other than a Dequantize that reads
// output 0 of n, or nil.
func nonDequantizeReader(v *graphView, n *tfpb.NodeDef) *tfpb.NodeDef {
	for _, u := range v.users[n.GetName()] {
		if u.GetOp() == opDequantize {
			continue
		}
		for _, in := range u.GetInput() {
			if p, ok := tfname.ParseInput(in); ok && !p.Control && p.Node == n.GetName() && p.Index == 0 {
				return u
			}
		}
	}
	return nil
}

// planSummand works out the summand of a Sum fusion. It reports false
// (with a note) when the fusion must be left alone.
func planSummand(c *call, v *graphView, f *fusion, byRQ map[string]*fusion, created map[string]*fusion) (bool, error) {
	in := dataInputs(f.conv)[7]
	s := v.nodes[tfname.NodeName(in)]
	if s == nil {
		return false, fmt.Errorf("node %q: summand %q names no node", f.conv.GetName(), in)
	}
	// The tool takes the summand's node, so it would quantize (or look
	// through) output 0 whatever output the conv read.
	if p, _ := tfname.ParseInput(in); p.Index != 0 {
		c.notef("%s %q left alone: its summand %q is not output 0 of its node", f.rq.GetOp(), f.rq.GetName(), in)
		return false, nil
	}
	if s.GetOp() != opDequantize {
		t := tfpb.DataType_DT_QINT8
		if s.GetOp() == "Relu" || s.GetOp() == "Relu6" {
			t = tfpb.DataType_DT_QUINT8
		}
		q := s.GetName() + "/quantize"
		f.summand = []string{q, q + ":1", q + ":2"}
		f.summandType = t
		if _, done := created[s.GetName()]; done {
			return true, nil
		}
		nodes := summandQuantizeNodes(s, t)
		for _, m := range nodes {
			if v.nodes[m.GetName()] != nil {
				c.notef("%s %q left alone: the summand's quantize node %q would replace an existing node", f.rq.GetOp(), f.rq.GetName(), m.GetName())
				return false, nil
			}
		}
		f.summandNodes = nodes
		created[s.GetName()] = f
		return true, nil
	}
	src := v.input(s, 0)
	if src == nil {
		return false, fmt.Errorf("node %q: Dequantize %q has no input", f.conv.GetName(), s.GetName())
	}
	if p, _ := tfname.ParseInput(dataInputs(s)[0]); p.Index != 0 {
		c.notef("%s %q left alone: its summand, Dequantize %q, reads %q, whose range is not at outputs 1 and 2", f.rq.GetOp(), f.rq.GetName(), s.GetName(), dataInputs(s)[0])
		return false, nil
	}
	t := tfpb.DataType_DT_QUINT8
	attrType := func(name string) (tfpb.DataType, bool) {
		a, ok := src.GetAttr()[name]
		return a.GetType(), ok
	}
	switch op := src.GetOp(); {
	case op == opQuantizeV2:
		t, _ = attrType("T")
	case op == opRequantizePerChannel:
		t, _ = attrType("out_type")
	case op == opRequantize:
		// The tool assumes every Requantize after QuantizedConv2D[WithBias]
		// is fused into a qint8 one; qcal asks the fusion it plans.
		if o, ok := byRQ[src.GetName()]; ok {
			t = o.out
		} else if a, ok := attrType("out_type"); ok {
			t = a
		}
	case strings.HasPrefix(op, "Quantized"):
		if a, ok := attrType("T"); ok {
			t = a
		} else if a, ok := attrType("out_type"); ok {
			t = a
		}
	default:
		return false, fmt.Errorf("node %q: its summand is Dequantize %q of %s %q, which cannot be fused (the tool: \"Fusion is not supported, a fix is required.\")",
			f.conv.GetName(), s.GetName(), op, src.GetName())
	}
	f.summand = []string{src.GetName(), src.GetName() + ":1", src.GetName() + ":2"}
	f.summandType = t
	return true, nil
}

// summandQuantizeNodes are the tool's nodes that quantize a float summand s
// to type t: Reshape(s, [-1]), Min and Max over axis 0, QuantizeV2 SCALED.
func summandQuantizeNodes(s *tfpb.NodeDef, t tfpb.DataType) []*tfpb.NodeDef {
	name := s.GetName()
	dims := constNode(name+"/reshape_dims", int32Tensor([]int32{-1}, []int64{1}))
	dims.Input = []string{"^" + name}
	red := constNode(name+"/reduction_dims", int32Tensor([]int32{0}, []int64{1}))
	red.Input = []string{"^" + name}
	reshape := &tfpb.NodeDef{Name: name + "/reshape", Op: "Reshape", Input: []string{name, dims.GetName()},
		Attr: map[string]*tfpb.AttrValue{"T": typeValue(tfpb.DataType_DT_FLOAT)}}
	reduce := func(op, suffix string) *tfpb.NodeDef {
		return &tfpb.NodeDef{Name: name + suffix, Op: op, Input: []string{reshape.GetName(), red.GetName()},
			Attr: map[string]*tfpb.AttrValue{
				"T":         typeValue(tfpb.DataType_DT_FLOAT),
				"keep_dims": {Value: &tfpb.AttrValue_B{B: false}},
			}}
	}
	mn, mx := reduce("Min", "/min"), reduce("Max", "/max")
	q := &tfpb.NodeDef{Name: name + "/quantize", Op: opQuantizeV2, Input: []string{name, mn.GetName(), mx.GetName()},
		Attr: map[string]*tfpb.AttrValue{
			"T":    typeValue(t),
			"mode": {Value: &tfpb.AttrValue_S{S: []byte("SCALED")}},
		}}
	return []*tfpb.NodeDef{dims, red, reshape, mn, mx, q}
}

func typeValue(t tfpb.DataType) *tfpb.AttrValue {
	return &tfpb.AttrValue{Value: &tfpb.AttrValue_Type{Type: t}}
}

// int32Tensor encodes values as a DT_INT32 tensor with tensor_content.
func int32Tensor(vals []int32, dims []int64) *tfpb.TensorProto {
	t := qint32Tensor(vals, dims)
	t.Dtype = tfpb.DataType_DT_INT32
	return t
}

// qint32Tensor encodes values as a DT_QINT32 tensor with tensor_content,
// as Tensor::AsProtoTensorContent writes it.
func qint32Tensor(vals []int32, dims []int64) *tfpb.TensorProto {
	b := make([]byte, 0, 4*len(vals))
	for _, v := range vals {
		b = binary.LittleEndian.AppendUint32(b, uint32(v))
	}
	shape := &tfpb.TensorShapeProto{}
	for _, d := range dims {
		shape.Dim = append(shape.Dim, &tfpb.TensorShapeProto_Dim{Size: d})
	}
	return &tfpb.TensorProto{Dtype: tfpb.DataType_DT_QINT32, TensorShape: shape, TensorContent: b}
}

// fusedNode builds the fused convolution of f.
func fusedNode(f *fusion) *tfpb.NodeDef {
	op := f.conv.GetOp() + "AndRequantize"
	data := dataInputs(f.conv)
	if f.conv.GetOp() == opSumConv {
		data = data[:7]
		if f.summandType == tfpb.DataType_DT_QINT8 {
			op = "QuantizedConv2DWithBiasSignedSumAndReluAndRequantize"
		}
	}
	n := &tfpb.NodeDef{Name: f.rq.GetName(), Op: op, Attr: map[string]*tfpb.AttrValue{}}
	n.Input = append(slices.Clone(data), f.lo.GetName(), f.hi.GetName())
	n.Input = append(n.Input, f.summand...)
	for _, src := range []*tfpb.NodeDef{f.conv, f.rq} {
		for _, in := range src.GetInput() {
			if strings.HasPrefix(in, "^") && !slices.Contains(n.Input, in) {
				n.Input = append(n.Input, in)
			}
		}
	}
	for _, a := range []string{"Tinput", "Tfilter", "strides", "padding", "padding_list", "dilations"} {
		if v, ok := f.conv.GetAttr()[a]; ok {
			n.Attr[a] = proto.Clone(v).(*tfpb.AttrValue)
		}
	}
	if slices.Contains(fusedBiasOps, f.conv.GetOp()+"AndRequantize") {
		n.Attr["Tbias"] = typeValue(tfpb.DataType_DT_FLOAT)
	}
	n.Attr["out_type"] = typeValue(f.out)
	if f.summand != nil {
		n.Attr["Tsummand"] = typeValue(f.summandType)
	}
	return n
}

// fixFusedTypes is the tool's pass over the fused graph: Dequantize
// nodes after a signed fused conv become qint8 SCALED, and biases after a
// fused conv become qint32. It returns the graph and the numbers of
// biases quantized and Dequantize nodes switched.
func fixFusedTypes(c *call, g *tfpb.GraphDef) (*tfpb.GraphDef, int, int) {
	v := newView(g)
	repl := map[string]*tfpb.NodeDef{}
	biases, deqs := 0, 0
	for _, n := range g.GetNode() {
		switch {
		case n.GetOp() == opDequantize:
			src := v.input(n, 0)
			if src == nil || !(strings.HasPrefix(src.GetOp(), "QuantizedConv2DAndRequantize") ||
				strings.HasPrefix(src.GetOp(), "QuantizedConv2DWithBiasAndRequantize")) {
				continue
			}
			if n.GetAttr()["T"].GetType() == tfpb.DataType_DT_QINT8 && string(n.GetAttr()["mode"].GetS()) == "SCALED" {
				continue
			}
			m := proto.Clone(n).(*tfpb.NodeDef)
			if m.Attr == nil {
				m.Attr = map[string]*tfpb.AttrValue{}
			}
			m.Attr["T"] = typeValue(tfpb.DataType_DT_QINT8)
			m.Attr["mode"] = &tfpb.AttrValue{Value: &tfpb.AttrValue_S{S: []byte("SCALED")}}
			repl[n.GetName()] = m
			deqs++
		case slices.Contains(fusedBiasOps, n.GetOp()):
			tbias := tfpb.DataType_DT_FLOAT
			prev := v.input(n, 0)
			if prev != nil && strings.HasPrefix(prev.GetOp(), "Quantized") && strings.Contains(prev.GetOp(), "Conv2D") &&
				strings.HasSuffix(prev.GetOp(), "AndRequantize") {
				b, done, why := quantizedBias(v, n, prev)
				switch {
				case done:
					tbias = tfpb.DataType_DT_QINT32
				case why != "":
					c.notef("%s %q keeps a float bias: %s", n.GetOp(), n.GetName(), why)
				default:
					repl[b.GetName()] = b
					tbias = tfpb.DataType_DT_QINT32
					biases++
				}
			}
			if a, ok := n.GetAttr()["Tbias"]; ok && a.GetType() == tbias {
				continue
			}
			m := proto.Clone(n).(*tfpb.NodeDef)
			if m.Attr == nil {
				m.Attr = map[string]*tfpb.AttrValue{}
			}
			m.Attr["Tbias"] = typeValue(tbias)
			repl[n.GetName()] = m
		}
	}
	if len(repl) == 0 {
		return g, 0, 0
	}
	return mapNodes(g, func(n *tfpb.NodeDef) *tfpb.NodeDef {
		if m, ok := repl[n.GetName()]; ok {
			return m
		}
		return n
	}), biases, deqs
}

// quantizedBias returns the qint32 bias Const of fused conv n, whose input
// 0 is the fused conv prev. done reports that the bias already is a qint32
// Const and n's Tbias qint32 (a second run); why says why the bias stays
// float.
func quantizedBias(v *graphView, n, prev *tfpb.NodeDef) (b *tfpb.NodeDef, done bool, why string) {
	bias := v.input(n, 2)
	if bias == nil {
		return nil, false, "it has no input 2"
	}
	if bias.GetOp() == opConst && bias.GetAttr()["value"].GetTensor().GetDtype() == tfpb.DataType_DT_QINT32 &&
		n.GetAttr()["Tbias"].GetType() == tfpb.DataType_DT_QINT32 {
		return nil, true, ""
	}
	if !isFloatConst(bias) {
		return nil, false, fmt.Sprintf("its bias %q is not a float Const", bias.GetName())
	}
	if other := otherUser(v, bias, n); other != nil {
		return nil, false, fmt.Sprintf("its bias %q is also read by %q", bias.GetName(), other.GetName())
	}
	vals, dims, err := constFloats(bias)
	if err != nil {
		return nil, false, err.Error()
	}
	// The producer's frozen range: inputs 7 and 8 after a bias, 6 and 7 without.
	lo := 7
	if !strings.Contains(prev.GetOp(), "WithBias") {
		lo = 6
	}
	minX, err1 := scalarInput(v, prev, lo)
	maxX, err2 := scalarInput(v, prev, lo+1)
	minW, err3 := floatInput(v, n, 5)
	maxW, err4 := floatInput(v, n, 6)
	for _, err := range []error{err1, err2, err3, err4} {
		if err != nil {
			return nil, false, err.Error()
		}
	}
	codes, err := quant.QuantizeBias(vals, minX, maxX, minW, maxW)
	if err != nil {
		return nil, false, fmt.Sprintf("bias %q: %v", bias.GetName(), err)
	}
	b = constNode(bias.GetName(), qint32Tensor(codes, dims))
	b.Input = slices.Clone(bias.GetInput())
	b.Device = bias.GetDevice()
	return b, false, ""
}

// floatInput returns the values of the float Const that is n's i-th data
// input.
func floatInput(v *graphView, n *tfpb.NodeDef, i int) ([]float32, error) {
	in := v.input(n, i)
	if !isFloatConst(in) {
		return nil, fmt.Errorf("input %d of %q is not a float Const", i, n.GetName())
	}
	vals, _, err := constFloats(in)
	if err != nil {
		return nil, err
	}
	if len(vals) == 0 {
		return nil, fmt.Errorf("input %d of %q, Const %q, is empty", i, n.GetName(), in.GetName())
	}
	return vals, nil
}

// scalarInput returns the first value of n's i-th data input, a float
// Const (the tool reads element 0).
func scalarInput(v *graphView, n *tfpb.NodeDef, i int) (float32, error) {
	vals, err := floatInput(v, n, i)
	if err != nil {
		return 0, err
	}
	return vals[0], nil
}
