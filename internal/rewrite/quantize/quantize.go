package quantize

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"google.golang.org/protobuf/proto"

	"qcal/internal/tfpb"
	"qcal/quant"
)

// WideDeep is the -model_name for which the Intel path quantizes MatMul.
const WideDeep = "wide_deep_large_ds"

// Options control Quantize. The zero value (plus Outputs) is the plain path
// as TensorFlow's own quantize_graph.py wrote it.
type Options struct {
	// Outputs are the output node names (--output_node_names); required.
	Outputs []string
	// Intel selects the Intel path (--intel_cpu_eightbitize).
	Intel bool
	// PerChannel quantizes convolution weights per output channel
	// (--per_channel; Intel path only).
	PerChannel bool
	// WeightRounding makes the per-channel and depthwise weight codes of
	// the Intel path: quant.Truncate (the zero value) as Intel's script
	// does, or quant.RoundHalfEven, which loses half as much on average.
	// Per-tensor weights always round half to even (QuantizeV2 SCALED).
	WeightRounding quant.WeightRounding
	// ModelName is --model_name: "wide_deep_large_ds" quantizes MatMul on
	// the Intel path, "FasterRCNN" and "R-FCN" change the conv and concat
	// rules as Intel's script does.
	ModelName string
	// Fallback replaces every RequantizationRange by the Consts
	// fallback_quantization_min_value/max_value holding [FallbackMin,
	// FallbackMax] (--quantized_fallback_min/max).
	Fallback                 bool
	FallbackMin, FallbackMax float32
	// IntelScript writes the plain path as Intel's copy of quantize_graph.py
	// does (Tidx on Min/Max, round_mode on QuantizeV2, control inputs on the
	// dims Consts, one prologue per quantized tensor, weight ranges as
	// QuantizeV2 returns them). The Intel path always has these.
	IntelScript bool
	// KeepRedundant keeps the Dequantize → QuantizeV2 pairs and dead nodes
	// (--strip_redundant_quantization=false).
	KeepRedundant bool
	// ExcludedNodes names convolutions and matmuls the Intel path leaves in
	// FP32 (Intel's --excluded_nodes): the per-layer fallback of qcal tune.
	ExcludedNodes []string
}

// Node is an FP32 node that the rewrite turned into a quantized op.
type Node struct {
	Name  string   // the FP32 node (a fused chain: its convolution or matmul)
	Op    string   // its op
	As    string   // the quantized op that replaces it
	Fused []string // nodes fused into it (BiasAdd, Add, Relu...), in order
}

// Float is a node left in FP32, with the reason.
type Float struct {
	Name, Op, Reason string
}

// Result is what Quantize did.
type Result struct {
	// Graph is the quantized graph; the input graph is not modified.
	Graph *tfpb.GraphDef
	// Quantized lists the rewritten nodes in the order the tool visits them.
	Quantized []Node
	// Float lists the compute nodes left in FP32 (Const, Placeholder,
	// Identity and NoOp are not listed), in visiting order.
	Float []Float
	// Weights lists the Const nodes quantized as weights.
	Weights []string
	// Warnings are sentences for the user: behaviour of TF that changes
	// results (a Relu6 clamp lost) and where qcal departs from the tool.
	Warnings []string
	// LostClamps names the Relu6 nodes fused into an op that applies Relu
	// only, so that their clamp at 6 is lost (the per-tensor Intel path
	// does this; PerChannel keeps the clamps of convolutions).
	LostClamps []string
}

// frame is one entry of the tool's output_node_stack: the consumer, the
// input index being visited, whether that input is quantized, and (Intel)
// whether the node reached through it is fused into a quantized conv.
type frame struct {
	node     *tfpb.NodeDef
	index    int
	quantize bool
	fuse     bool
}

// op is the frame's node's op, or "" for no frame.
func (f *frame) op() string {
	if f == nil {
		return ""
	}
	return f.node.Op
}

type rewriter struct {
	opts       Options
	intelStyle bool // Intel's script conventions (always on the Intel path)
	nodes      map[string]*tfpb.NodeDef
	visited    map[string]bool
	merged     map[string]bool // merged_with_fake_quant
	stack      []*frame
	out        []*tfpb.NodeDef
	emitted    map[string]*tfpb.NodeDef // output_nodes_map
	cache      map[string][3]string     // quantized_node_dict
	convCount  int                      // Intel's conv_count (FasterRCNN rule)
	res        *Result
}

// Quantize rewrites g as quantize_graph.py --mode=eightbit does, with the
// tool's graph_util.remove_training_nodes first (outputs protected, as
// Intel's script does) and remove_redundant_quantization plus dead-node
// removal last. Bad graphs (a missing input, duplicate names, an unknown
// output, a weight Const that cannot be read) give an error naming the
// node, and no graph.
func Quantize(g *tfpb.GraphDef, opts Options) (*Result, error) {
	if g == nil {
		return nil, errors.New("quantize: nil graph")
	}
	if len(opts.Outputs) == 0 {
		return nil, errors.New("quantize: no output nodes given")
	}
	if opts.PerChannel && !opts.Intel {
		return nil, errors.New("quantize: per-channel weights need the Intel path")
	}
	if opts.WeightRounding != quant.Truncate && opts.WeightRounding != quant.RoundHalfEven {
		return nil, fmt.Errorf("quantize: unknown weight rounding %d", opts.WeightRounding)
	}
	if opts.WeightRounding != quant.Truncate && !opts.Intel {
		return nil, errors.New("quantize: rounded per-channel weights need the Intel path")
	}
	if opts.Fallback && !(opts.FallbackMin < opts.FallbackMax) {
		return nil, fmt.Errorf("quantize: invalid fallback range [%g, %g]: min must be below max", opts.FallbackMin, opts.FallbackMax)
	}
	for _, n := range g.Node {
		if n == nil {
			return nil, errors.New("quantize: graph holds a null node")
		}
	}
	trained, err := removeTrainingNodes(g.Node, opts.Outputs)
	if err != nil {
		return nil, err
	}
	r := &rewriter{
		opts:       opts,
		intelStyle: opts.Intel || opts.IntelScript,
		nodes:      map[string]*tfpb.NodeDef{},
		visited:    map[string]bool{},
		merged:     map[string]bool{},
		emitted:    map[string]*tfpb.NodeDef{},
		cache:      map[string][3]string{},
		res:        &Result{},
	}
	for _, n := range trained {
		if _, dup := r.nodes[n.Name]; dup {
			return nil, fmt.Errorf("node %q: duplicate node name", n.Name)
		}
		r.nodes[n.Name] = n
	}
	for _, name := range opts.Outputs {
		n, ok := r.nodes[name]
		if !ok {
			return nil, fmt.Errorf("output node %q not found in the graph", name)
		}
		if opts.Intel {
			// Intel's script makes the root its own parent.
			r.stack = append(r.stack, &frame{node: n, index: -1})
			err = r.intel(n)
			r.stack = r.stack[:len(r.stack)-1]
		} else {
			err = r.plain(n)
		}
		if err != nil {
			return nil, err
		}
	}
	if opts.Fallback {
		for _, c := range []struct {
			name string
			v    float32
		}{{"fallback_quantization_min_value", opts.FallbackMin}, {"fallback_quantization_max_value", opts.FallbackMax}} {
			if err := r.add(constNode(c.name, tfpb.DataType_DT_FLOAT, nil, []float32{c.v}, nil)); err != nil {
				return nil, err
			}
		}
	}
	nodes := r.out
	if !opts.KeepRedundant {
		nodes = removeRedundantQuantization(nodes)
		if nodes, err = extractSubGraph(nodes, opts.Outputs); err != nil {
			return nil, err
		}
	}
	out := &tfpb.GraphDef{Node: nodes}
	if g.Library != nil {
		// The tool drops the function library (and versions); a graph that
		// calls functions would not load without it, so qcal keeps it.
		out.Library = proto.Clone(g.Library).(*tfpb.FunctionDefLibrary)
	}
	r.res.Graph = out
	return r.res, nil
}

// input returns the node an input of n names.
func (r *rewriter) input(n *tfpb.NodeDef, in string) (*tfpb.NodeDef, error) {
	c, ok := r.nodes[nodeName(in)]
	if !ok {
		return nil, fmt.Errorf("node %q: input %q not found in the graph", n.Name, in)
	}
	return c, nil
}

// add appends a node to the output graph.
func (r *rewriter) add(n *tfpb.NodeDef) error {
	if _, dup := r.emitted[n.Name]; dup {
		return fmt.Errorf("node %q: the quantized graph would hold two nodes of this name (TF: duplicate node names detected)", n.Name)
	}
	r.emitted[n.Name] = n
	r.out = append(r.out, n)
	return nil
}

// addQuantized adds q, the quantized op that replaces n, and records the
// replacement, with the nodes fused into it, in the result.
func (r *rewriter) addQuantized(n, q *tfpb.NodeDef, fused ...string) error {
	if err := r.add(q); err != nil {
		return err
	}
	r.res.Quantized = append(r.res.Quantized, Node{Name: n.Name, Op: n.Op, As: q.Op, Fused: fused})
	return nil
}

// keep copies n unchanged into the output graph, noting why it stays FP32.
func (r *rewriter) keep(n *tfpb.NodeDef, reason string) error {
	switch n.Op {
	case "Const", "Placeholder", "PlaceholderV2", "PlaceholderWithDefault", "Identity", "NoOp":
	default:
		r.res.Float = append(r.res.Float, Float{Name: n.Name, Op: n.Op, Reason: reason})
	}
	return r.add(proto.Clone(n).(*tfpb.NodeDef))
}

func (r *rewriter) top() *frame {
	if len(r.stack) == 0 {
		return nil
	}
	return r.stack[len(r.stack)-1]
}

// frameAt returns the frame k entries below the top (1 = top), or nil.
func (r *rewriter) frameAt(k int) *frame {
	if k > len(r.stack) {
		return nil
	}
	return r.stack[len(r.stack)-k]
}

// shouldMergeFakeQuant is should_merge_with_fake_quant_node: the node being
// emitted is input 0 of a FakeQuantWithMinMaxVars.
func (r *rewriter) shouldMergeFakeQuant() bool {
	t := r.top()
	return t != nil && t.index == 0 && t.node.Op == "FakeQuantWithMinMaxVars"
}

func (r *rewriter) revisit(n *tfpb.NodeDef) error {
	if r.shouldMergeFakeQuant() || r.merged[n.Name] {
		return fmt.Errorf("node %q: unsupported graph structure: its output is processed by a FakeQuant node and must have no other consumers", n.Name)
	}
	return nil
}

func (r *rewriter) checkMerged(n *tfpb.NodeDef) error {
	if r.shouldMergeFakeQuant() && !r.merged[n.Name] {
		fq := r.top().node
		return fmt.Errorf("node %q: FakeQuant node %q failed to merge with it (op %s)", n.Name, fq.Name, n.Op)
	}
	return nil
}

func isFloat(n *tfpb.NodeDef) bool { return attrType(n, "T") == tfpb.DataType_DT_FLOAT }

// plain is eightbitize_nodes_recursively.
func (r *rewriter) plain(n *tfpb.NodeDef) error {
	if r.visited[n.Name] {
		return r.revisit(n)
	}
	r.visited[n.Name] = true
	for i, in := range n.Input {
		q := false
		switch n.Op {
		case "MatMul", "Conv2D", "BiasAdd", "MaxPool", "AvgPool", "Relu", "Relu6", "BatchNormWithGlobalNormalization":
			q = true
		case "Concat":
			q = i > 0 && isFloat(n)
		case "Reshape":
			q = i == 0 && isFloat(n)
		}
		if in != "" && in[0] == '^' {
			q = false // a control input carries no tensor to quantize
		}
		c, err := r.input(n, in)
		if err != nil {
			return err
		}
		r.stack = append(r.stack, &frame{node: n, index: i, quantize: q})
		err = r.plain(c)
		r.stack = r.stack[:len(r.stack)-1]
		if err != nil {
			return err
		}
	}
	var err error
	switch {
	case n.Op == "MatMul":
		err = r.binary(n, "QuantizedMatMul", "_eightbit_quantized_mat_mul")
	case n.Op == "Conv2D":
		err = r.binary(n, "QuantizedConv2D", "_eightbit_quantized_conv")
	case n.Op == "BiasAdd":
		err = r.binary(n, "QuantizedBiasAdd", "_eightbit_quantized_bias_add")
	case n.Op == "MaxPool" || n.Op == "AvgPool" || n.Op == "Relu" || n.Op == "Relu6":
		err = r.singleInput(n)
	case n.Op == "Concat" && isFloat(n):
		err = r.concat(n)
	case n.Op == "BatchNormWithGlobalNormalization":
		err = r.batchNorm(n)
	case n.Op == "Reshape" && isFloat(n):
		err = r.reshape(n)
	case n.Op == "FakeQuantWithMinMaxVars":
		// merged into the node that feeds it
	case n.Op == "Const":
		if t := r.top(); t != nil && t.quantize {
			err = r.plainWeight(n)
		} else {
			err = r.keep(n, "")
		}
	case n.Op == "Concat" || n.Op == "Reshape":
		err = r.keep(n, "T is not float")
	default:
		err = r.keep(n, fmt.Sprintf("%s has no quantized form on the plain path", n.Op))
	}
	if err != nil {
		return err
	}
	return r.checkMerged(n)
}

// binary rewrites MatMul, Conv2D and BiasAdd on the plain path: prologue,
// the quantized op, quantize-down and a MIN_FIRST Dequantize.
func (r *rewriter) binary(n *tfpb.NodeDef, op, suffix string) error {
	inputs, err := r.prologue(n)
	if err != nil {
		return err
	}
	name := n.Name + suffix
	q := newNode(op, name, inputs...)
	switch op {
	case "QuantizedMatMul":
		setType(q, "T1", tfpb.DataType_DT_QUINT8)
		setType(q, "T2", tfpb.DataType_DT_QUINT8)
		setType(q, "Toutput", tfpb.DataType_DT_QINT32)
		copyAttr(q, n, "transpose_a")
		copyAttr(q, n, "transpose_b")
	case "QuantizedConv2D":
		copyAttr(q, n, "strides")
		copyAttr(q, n, "padding")
		setType(q, "Tinput", tfpb.DataType_DT_QUINT8)
		setType(q, "Tfilter", tfpb.DataType_DT_QUINT8)
		setType(q, "out_type", tfpb.DataType_DT_QINT32)
	case "QuantizedBiasAdd":
		setType(q, "T1", tfpb.DataType_DT_QUINT8)
		setType(q, "T2", tfpb.DataType_DT_QUINT8)
		setType(q, "out_type", tfpb.DataType_DT_QINT32)
	}
	if err := r.addQuantized(n, q); err != nil {
		return err
	}
	down, err := r.quantizeDown(n, name)
	if err != nil {
		return err
	}
	return r.dequantize(down, n.Name)
}

// singleInput is eightbitize_single_input_tensor_node: pools and Relus.
func (r *rewriter) singleInput(n *tfpb.NodeDef) error {
	inputs, err := r.prologue(n)
	if err != nil {
		return err
	}
	name := n.Name + "_eightbit_quantized"
	q := newNode("Quantized"+n.Op, name, inputs...)
	if n.Op == "MaxPool" || n.Op == "AvgPool" {
		setType(q, "T", tfpb.DataType_DT_QUINT8)
		copyAttr(q, n, "ksize")
		copyAttr(q, n, "strides")
		copyAttr(q, n, "padding")
	} else {
		setType(q, "Tinput", tfpb.DataType_DT_QUINT8)
	}
	if err := r.addQuantized(n, q); err != nil {
		return err
	}
	if r.opts.Intel {
		return r.intelDequantize(name, n.Name, tfpb.DataType_DT_QUINT8)
	}
	return r.dequantize(name, n.Name)
}

// concat is eightbitize_concat_node (Concat v1: the axis comes first).
func (r *rewriter) concat(n *tfpb.NodeDef) error {
	ns := n.Name + "_eightbit"
	dims, red, err := r.commonNodes(ns, nodeName(n.Input[min(1, len(n.Input)-1)]))
	if err != nil {
		return err
	}
	var qs, mins, maxs []string
	for _, in := range n.Input[1:] {
		if in[0] == '^' {
			continue
		}
		t, err := r.quantizeInput(ns, in, dims, red, r.inputType(in))
		if err != nil {
			return err
		}
		qs, mins, maxs = append(qs, t[0]), append(mins, t[1]), append(maxs, t[2])
	}
	name := ns + "_quantized_concat"
	inputs := append(append(append([]string{n.Input[0]}, qs...), mins...), maxs...)
	q := newNode("QuantizedConcat", name, inputs...)
	setInt(q, "N", int64(len(qs)))
	setType(q, "T", tfpb.DataType_DT_QUINT8)
	if err := r.addQuantized(n, q); err != nil {
		return err
	}
	return r.dequantize(name, n.Name)
}

// reshape is eightbitize_reshape_node.
func (r *rewriter) reshape(n *tfpb.NodeDef) error {
	if len(n.Input) < 2 {
		return fmt.Errorf("node %q: Reshape has %d inputs, want 2", n.Name, len(n.Input))
	}
	ns := n.Name + "_eightbit"
	dims, red, err := r.commonNodes(ns, nodeName(n.Input[0]))
	if err != nil {
		return err
	}
	t, err := r.quantizeInput(ns, n.Input[0], dims, red, r.inputType(n.Input[0]))
	if err != nil {
		return err
	}
	name := ns + "_quantized_reshape"
	q := newNode("QuantizedReshape", name, t[0], n.Input[1], t[1], t[2])
	setType(q, "T", tfpb.DataType_DT_QUINT8)
	if err := r.addQuantized(n, q); err != nil {
		return err
	}
	return r.dequantize(name, n.Name)
}

// batchNorm is eightbitize_batch_norm_node.
func (r *rewriter) batchNorm(n *tfpb.NodeDef) error {
	if len(n.Input) < 5 {
		return fmt.Errorf("node %q: BatchNormWithGlobalNormalization has %d inputs, want 5", n.Name, len(n.Input))
	}
	ns := n.Name + "_eightbit"
	dims, red, err := r.commonNodes(ns, nodeName(n.Input[0]))
	if err != nil {
		return err
	}
	var inputs []string
	for _, in := range n.Input[:5] {
		t, err := r.quantizeInput(ns, in, dims, red, r.inputType(in))
		if err != nil {
			return err
		}
		inputs = append(inputs, t[:]...)
	}
	name := ns + "_quantized_batch_norm"
	q := newNode("QuantizedBatchNormWithGlobalNormalization", name, inputs...)
	setType(q, "Tinput", tfpb.DataType_DT_QUINT8)
	setType(q, "out_type", tfpb.DataType_DT_QINT32)
	copyAttr(q, n, "scale_after_normalization")
	copyAttr(q, n, "variance_epsilon")
	if err := r.addQuantized(n, q); err != nil {
		return err
	}
	down, err := r.quantizeDown(n, name)
	if err != nil {
		return err
	}
	return r.dequantize(down, n.Name)
}

// inputType is the T of the QuantizeV2 for an input: on the Intel path the
// T of the Dequantize that produces it, if one was emitted; else quint8.
func (r *rewriter) inputType(in string) tfpb.DataType {
	if r.opts.Intel {
		if p, ok := r.emitted[nodeName(in)]; ok && p.Op == "Dequantize" {
			return attrType(p, "T")
		}
	}
	return tfpb.DataType_DT_QUINT8
}

// prologue is add_eightbit_prologue_nodes: the dims Consts, then a
// QuantizeV2 prologue for each data input; it returns the quantized inputs,
// then their min/max pairs, then the control inputs.
func (r *rewriter) prologue(n *tfpb.NodeDef) ([]string, error) {
	if len(n.Input) == 0 {
		return nil, fmt.Errorf("node %q: %s has no inputs", n.Name, n.Op)
	}
	ns := n.Name + "_eightbit"
	dims, red, err := r.commonNodes(ns, nodeName(n.Input[0]))
	if err != nil {
		return nil, err
	}
	var qs, minmax, controls []string
	for _, in := range n.Input {
		if in[0] == '^' {
			controls = append(controls, in)
			continue
		}
		t, err := r.quantizeInput(ns, in, dims, red, r.inputType(in))
		if err != nil {
			return nil, err
		}
		qs = append(qs, t[0])
		minmax = append(minmax, t[1], t[2])
	}
	return append(append(qs, minmax...), controls...), nil
}

// commonNodes is add_common_quantization_nodes: the Reshape dims [-1] and
// reduction dims [0] Consts of a namespace (Intel's script gives them a
// control input from the node's first input).
func (r *rewriter) commonNodes(ns, control string) (dims, red string, err error) {
	dims, red = ns+"_reshape_dims", ns+"_reduction_dims"
	d := constNode(dims, tfpb.DataType_DT_INT32, []int64{1}, nil, []int32{-1})
	e := constNode(red, tfpb.DataType_DT_INT32, []int64{1}, nil, []int32{0})
	if r.intelStyle && control != "" {
		d.Input = append(d.Input, "^"+control)
		e.Input = append(e.Input, "^"+control)
	}
	if err := r.add(d); err != nil {
		return "", "", err
	}
	if err := r.add(e); err != nil {
		return "", "", err
	}
	return dims, red, nil
}

// quantizeInput is eightbitize_input_to_node: Reshape → Min, Max →
// QuantizeV2; it returns the QuantizeV2 and its :1 and :2 outputs.
func (r *rewriter) quantizeInput(ns, in, dims, red string, t tfpb.DataType) ([3]string, error) {
	u := uniqueName(in)
	if r.intelStyle {
		if c, ok := r.cache[u]; ok {
			return c, nil
		}
	}
	reshape := newNode("Reshape", ns+"_reshape_"+u, in, dims)
	setType(reshape, "T", tfpb.DataType_DT_FLOAT)
	mn := newNode("Min", ns+"_min_"+u, reshape.Name, red)
	mx := newNode("Max", ns+"_max_"+u, reshape.Name, red)
	for _, m := range []*tfpb.NodeDef{mn, mx} {
		setType(m, "T", tfpb.DataType_DT_FLOAT)
		if r.intelStyle {
			setType(m, "Tidx", tfpb.DataType_DT_INT32)
		}
		setBool(m, "keep_dims", false)
	}
	q := newNode("QuantizeV2", ns+"_quantize_"+u, in, mn.Name, mx.Name)
	setType(q, "T", t)
	switch {
	case r.intelStyle && r.opts.ModelName == WideDeep:
		setString(q, "mode", "MIN_FIRST")
	case r.opts.Intel:
		setString(q, "mode", "SCALED")
		setString(q, "round_mode", "HALF_TO_EVEN")
	case r.intelStyle:
		setString(q, "mode", "MIN_FIRST")
		setString(q, "round_mode", "HALF_AWAY_FROM_ZERO")
	default:
		setString(q, "mode", "MIN_FIRST")
	}
	for _, x := range []*tfpb.NodeDef{reshape, mn, mx, q} {
		if err := r.add(x); err != nil {
			return [3]string{}, err
		}
	}
	res := [3]string{q.Name, q.Name + ":1", q.Name + ":2"}
	if r.intelStyle {
		r.cache[u] = res
	}
	return res, nil
}

// quantizeDown is add_quantize_down_nodes: RequantizationRange (or the
// FakeQuant's range, or the fallback Consts) and Requantize to quint8.
func (r *rewriter) quantizeDown(n *tfpb.NodeDef, q string) (string, error) {
	outs := []string{q, q + ":1", q + ":2"}
	var minmax []string
	switch {
	case r.shouldMergeFakeQuant():
		fq := r.top().node
		if len(fq.Input) < 3 {
			return "", fmt.Errorf("node %q: FakeQuantWithMinMaxVars has %d inputs, want 3", fq.Name, len(fq.Input))
		}
		minmax = []string{fq.Input[1], fq.Input[2]}
		r.merged[n.Name] = true
	case r.opts.Fallback:
		minmax = []string{"fallback_quantization_min_value:0", "fallback_quantization_max_value:0"}
	default:
		rr := newNode("RequantizationRange", n.Name+"_eightbit_requant_range", outs...)
		setType(rr, "Tinput", tfpb.DataType_DT_QINT32)
		if err := r.add(rr); err != nil {
			return "", err
		}
		minmax = []string{rr.Name + ":0", rr.Name + ":1"}
	}
	req := newNode("Requantize", n.Name+"_eightbit_requantize", append(outs, minmax...)...)
	setType(req, "Tinput", tfpb.DataType_DT_QINT32)
	setType(req, "out_type", tfpb.DataType_DT_QUINT8)
	return req.Name, r.add(req)
}

// dequantize is add_dequantize_result_node: a MIN_FIRST quint8 Dequantize
// named after the FP32 node (or after the FakeQuant it merges with).
func (r *rewriter) dequantize(q, name string) error {
	minmax := []string{q + ":1", q + ":2"}
	if r.shouldMergeFakeQuant() {
		fq := r.top().node
		if !r.merged[name] {
			if len(fq.Input) < 3 {
				return fmt.Errorf("node %q: FakeQuantWithMinMaxVars has %d inputs, want 3", fq.Name, len(fq.Input))
			}
			minmax = []string{fq.Input[1], fq.Input[2]}
			r.merged[name] = true
		}
		name = fq.Name
	}
	d := newNode("Dequantize", name, q, minmax[0], minmax[1])
	setType(d, "T", tfpb.DataType_DT_QUINT8)
	setString(d, "mode", "MIN_FIRST")
	return r.add(d)
}

// intelDequantize is intel_cpu_add_dequantize_result_node: SCALED.
func (r *rewriter) intelDequantize(q, name string, t tfpb.DataType) error {
	d := newNode("Dequantize", name, q, q+":1", q+":2")
	setType(d, "T", t)
	setString(d, "mode", "SCALED")
	return r.add(d)
}

// plainWeight is quantize_weight_eightbit(MIN_FIRST): quint8 codes, the
// range Consts, and a Dequantize named as the weight.
func (r *rewriter) plainWeight(n *tfpb.NodeDef) error {
	c, err := readFloatConst(n)
	if err != nil {
		return err
	}
	w, err := eightbitWeight(c.values, r.intelStyle)
	if err != nil {
		return fmt.Errorf("node %q: %w", n.Name, err)
	}
	r.res.Weights = append(r.res.Weights, n.Name)
	base := n.Name + "_"
	d := newNode("Dequantize", n.Name, base+"quint8_const", base+"min", base+"max")
	setType(d, "T", tfpb.DataType_DT_QUINT8)
	setString(d, "mode", "MIN_FIRST")
	for _, x := range []*tfpb.NodeDef{
		constNode(base+"quint8_const", tfpb.DataType_DT_QUINT8, c.dims, nil, w.codes),
		constNode(base+"min", tfpb.DataType_DT_FLOAT, nil, []float32{w.min}, nil),
		constNode(base+"max", tfpb.DataType_DT_FLOAT, nil, []float32{w.max}, nil),
		d,
	} {
		if err := r.add(x); err != nil {
			return err
		}
	}
	return nil
}

// intelWeight is intel_cpu_quantize_weight_eightbit: qint8 codes (SCALED
// through QuantizeV2, or per channel by truncation), the range Consts and a
// SCALED qint8 Dequantize named as the weight.
func (r *rewriter) intelWeight(parent string, n *tfpb.NodeDef, perChannel bool) error {
	c, err := readFloatConst(n)
	if err != nil {
		return err
	}
	var codes []int32
	var mins, maxs []float32
	var rangeDims []int64
	switch {
	case parent == "DepthwiseConv2dNative" || (parent == "Conv2D" && perChannel):
		if len(c.dims) != 4 {
			return fmt.Errorf("node %q: %s filter has shape %v, want 4 dimensions", n.Name, parent, c.dims)
		}
		ch := c.dims[3]
		if parent == "DepthwiseConv2dNative" {
			ch = c.dims[2] * c.dims[3]
		}
		if ch == 0 || len(c.values) == 0 {
			return fmt.Errorf("node %q: filter has no elements", n.Name)
		}
		for _, v := range c.values {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return fmt.Errorf("node %q: weight holds %g", n.Name, v)
			}
		}
		q, ranges := perChannelCodes(c.values, int(ch), r.opts.WeightRounding)
		if r.opts.WeightRounding == quant.Truncate {
			r.warn(truncationNote)
		}
		codes = q
		for _, rg := range ranges {
			mins, maxs = append(mins, -rg), append(maxs, rg)
		}
		rangeDims = []int64{ch}
	default:
		w, err := scaledWeight(c.values)
		if err != nil {
			return fmt.Errorf("node %q: %w", n.Name, err)
		}
		codes, mins, maxs = w.codes, []float32{w.min}, []float32{w.max}
	}
	r.res.Weights = append(r.res.Weights, n.Name)
	base := n.Name + "_"
	d := newNode("Dequantize", n.Name, base+"qint8_const", base+"min", base+"max")
	setType(d, "T", tfpb.DataType_DT_QINT8)
	setString(d, "mode", "SCALED")
	for _, x := range []*tfpb.NodeDef{
		constNode(base+"qint8_const", tfpb.DataType_DT_QINT8, c.dims, nil, codes),
		constNode(base+"min", tfpb.DataType_DT_FLOAT, rangeDims, mins, nil),
		constNode(base+"max", tfpb.DataType_DT_FLOAT, rangeDims, maxs, nil),
		d,
	} {
		if err := r.add(x); err != nil {
			return err
		}
	}
	return nil
}

// truncationNote says what Intel's per-channel weight codes cost.
const truncationNote = "per-channel and depthwise weights are truncated toward zero, as Intel's script does (astype(int8)): each code is half a step smaller on average; -round-weights rounds them to the nearest step (MobileNet v1 0.25/128: int8 top-1 36.3% truncated, 46.8% rounded, FP32 47.5%)"

// warn adds a warning once.
func (r *rewriter) warn(s string) {
	if !slices.Contains(r.res.Warnings, s) {
		r.res.Warnings = append(r.res.Warnings, s)
	}
}
