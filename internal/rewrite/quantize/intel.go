package quantize

import (
	"fmt"
	"slices"
	"strings"

	"qcal/internal/tfpb"
)

// findRelu is intel_cpu_find_relu_recursively: whether input 0 of a conv is
// a Relu or Relu6, directly or through ConcatV2, MaxPool or AvgPool (each
// followed through its input 0).
func (r *rewriter) findRelu(n *tfpb.NodeDef) bool {
	for steps := 0; steps <= len(r.nodes); steps++ {
		if n.Op == "Relu" || n.Op == "Relu6" {
			return true
		}
		if len(n.Input) == 0 {
			return false
		}
		in, ok := r.nodes[nodeName(n.Input[0])]
		if !ok {
			return false
		}
		switch in.Op {
		case "ConcatV2", "MaxPool", "AvgPool", "Relu", "Relu6":
			n = in
		default:
			return false
		}
	}
	return false
}

const reluReason = "input 0 is not a Relu or Relu6 output (directly or through MaxPool, AvgPool or ConcatV2): the Intel path quantizes only convolutions whose input is non-negative, so a first convolution fed by the graph input stays FP32"

// intel is intel_cpu_eightbitize_nodes_recursively.
func (r *rewriter) intel(n *tfpb.NodeDef) error {
	if r.visited[n.Name] {
		return r.revisit(n)
	}
	r.visited[n.Name] = true
	isConv := n.Op == "Conv2D" || n.Op == "DepthwiseConv2dNative"
	var quantizeConv, quantizeConcat, quantizeMatMul bool
	convReason := ""
	if isConv {
		if r.opts.ModelName != "FasterRCNN" && r.opts.ModelName != "R-FCN" {
			quantizeConv = r.findRelu(n)
			if !quantizeConv {
				convReason = reluReason
			}
		} else {
			quantizeConv = r.convCount != 39
			if !quantizeConv {
				convReason = "the 40th convolution stays FP32 for -model-name " + r.opts.ModelName + " (Intel's rule)"
			}
		}
		r.convCount++
	}
	if n.Op == "ConcatV2" {
		quantizeConcat = r.opts.ModelName != "FasterRCNN" && r.opts.ModelName != "R-FCN" && r.opts.ModelName != WideDeep &&
			!strings.Contains(n.Name, "map/while")
	}
	if n.Op == "MatMul" && r.opts.ModelName == WideDeep {
		quantizeMatMul = true
	}
	if (quantizeConv || quantizeMatMul) && slices.Contains(r.opts.ExcludedNodes, n.Name) {
		quantizeConv, quantizeMatMul = false, false
		convReason = "excluded (excluded_nodes)"
	}
	// The tool's quantize_input: set at a conv's Const filter (input 1) and
	// kept for later inputs, or for every input of a wide_deep MatMul.
	quantizeIn := false
	for i, in := range n.Input {
		c, err := r.input(n, in)
		if err != nil {
			return err
		}
		if quantizeConv && i == 1 && c.Op == "Const" {
			quantizeIn = true
		}
		if quantizeMatMul {
			quantizeIn = true
		}
		r.stack = append(r.stack, &frame{node: n, index: i, quantize: quantizeIn})
		err = r.intel(c)
		r.stack = r.stack[:len(r.stack)-1]
		if err != nil {
			return err
		}
	}
	if quantizeConv && !quantizeIn {
		convReason = "the filter is not a Const"
	}
	var err error
	top := r.top()
	switch {
	case isConv && quantizeConv && quantizeIn:
		err = r.intelConvFusion(n)
	case n.Op == "MatMul" && quantizeMatMul && quantizeIn:
		err = r.intelMatMulFusion(n)
	case (n.Op == "BiasAdd" || n.Op == "Add" || n.Op == "AddN") && top.fuse:
		// fused into the quantized convolution or matmul below it
	case (n.Op == "Relu" || n.Op == "Relu6") && top.fuse:
		// likewise
	case n.Op == "MaxPool" || n.Op == "AvgPool":
		err = r.singleInput(n)
	case n.Op == "ConcatV2" && quantizeConcat && isFloat(n):
		err = r.concatV2(n)
	case n.Op == "Const":
		parent := top.node
		switch {
		case (parent.Op == "Conv2D" || parent.Op == "DepthwiseConv2dNative") && top.quantize:
			err = r.intelWeight(parent.Op, n, r.opts.PerChannel)
		case parent.Op == "MatMul" && top.quantize && r.opts.ModelName == WideDeep:
			err = r.intelWeight(parent.Op, n, false)
		default:
			err = r.keep(n, "")
		}
	default:
		err = r.keep(n, intelReason(n, convReason, quantizeConcat, quantizeMatMul))
	}
	if err != nil {
		return err
	}
	return r.checkMerged(n)
}

// intelReason says why the Intel path leaves n in FP32.
func intelReason(n *tfpb.NodeDef, convReason string, concat, matmul bool) string {
	switch {
	case convReason != "":
		return convReason
	case n.Op == "MatMul" && !matmul:
		return "MatMul is quantized on the Intel path only with -model-name " + WideDeep
	case n.Op == "MatMul":
		return "a MatMul without a following BiasAdd is not quantized on the Intel path"
	case n.Op == "ConcatV2" && !concat:
		return "ConcatV2 is not quantized for this model name or inside map/while"
	case n.Op == "ConcatV2":
		return "T is not float"
	case n.Op == "BiasAdd" || n.Op == "Add" || n.Op == "AddN" || n.Op == "Relu" || n.Op == "Relu6":
		return n.Op + " is quantized on the Intel path only fused into a quantized convolution"
	}
	return n.Op + " has no quantized form on the Intel path"
}

// intelConvFusion picks the fused convolution of the pattern above the
// conv, marking the fused nodes (the frames of their consumers) as fused.
func (r *rewriter) intelConvFusion(n *tfpb.NodeDef) error {
	parent, grand := r.frameAt(1), r.frameAt(2)
	switch {
	case (parent.op() == "BiasAdd" || parent.op() == "Add") && (grand.op() == "Relu" || grand.op() == "Relu6"):
		bias, err := r.biasOf(parent.node)
		if err != nil {
			return err
		}
		grand.fuse = true
		if f := r.frameAt(3); f != nil {
			f.fuse = true
		}
		return r.intelConv(n, bias, "", "", grand.node)
	case parent.op() == "BiasAdd" && (grand.op() == "AddN" || grand.op() == "Add"):
		gg := r.frameAt(3)
		f4 := r.frameAt(4)
		if (gg.op() == "Relu" || gg.op() == "Relu6") && !gg.fuse && (f4 == nil || !f4.fuse) {
			bias, err := r.biasOf(parent.node)
			if err != nil {
				return err
			}
			grand.fuse, gg.fuse = true, true
			if f4 != nil {
				f4.fuse = true
			}
			add := grand.node
			idx := -1
			for i, in := range add.Input {
				if nodeName(in) == parent.node.Name {
					idx = 1 - i
					break
				}
			}
			if idx < 0 || idx >= len(add.Input) {
				return fmt.Errorf("node %q: cannot find the summand of %s %q", n.Name, add.Op, add.Name)
			}
			return r.intelConv(n, bias, "", nodeName(add.Input[idx]), gg.node)
		}
		if !grand.fuse {
			bias, err := r.biasOf(parent.node)
			if err != nil {
				return err
			}
			grand.fuse = true
			return r.intelConv(n, bias, parent.node.Name, "", nil)
		}
		return r.intelConv(n, nil, "", "", nil)
	case (parent.op() == "BiasAdd" || parent.op() == "Add") && grand != nil && !grand.fuse:
		bias, err := r.biasOf(parent.node)
		if err != nil {
			return err
		}
		grand.fuse = true
		return r.intelConv(n, bias, parent.node.Name, "", nil)
	}
	return r.intelConv(n, nil, "", "", nil)
}

// biasOf returns the node input 1 of a BiasAdd or Add names.
func (r *rewriter) biasOf(add *tfpb.NodeDef) (*tfpb.NodeDef, error) {
	if len(add.Input) < 2 {
		return nil, fmt.Errorf("node %q: %s has %d inputs, want 2", add.Name, add.Op, len(add.Input))
	}
	return r.input(add, add.Input[1])
}

// intelConv is intel_cpu_eightbitize_conv_node.
func (r *rewriter) intelConv(n, bias *tfpb.NodeDef, biasAdd, summand string, relu *tfpb.NodeDef) error {
	all, err := r.prologue(n)
	if err != nil {
		return err
	}
	var data, controls []string
	for _, in := range all {
		if in[0] == '^' {
			controls = append(controls, in)
		} else {
			data = append(data, in)
		}
	}
	if len(data) < 2 {
		return fmt.Errorf("node %q: %s has %d data inputs, want 2", n.Name, n.Op, len(data))
	}
	depthwise := n.Op == "DepthwiseConv2dNative"
	name := n.Name + "_eightbit_quantized_conv"
	if depthwise {
		name = n.Name + "_eightbit_quantized_depthwise_conv"
	}
	withBias := func(extra ...string) []string {
		in := append(append(append([]string{}, data[:2]...), bias.Name), data[2:]...)
		return append(append(in, extra...), controls...)
	}
	var op, deqName string
	var fused []string
	switch {
	case bias != nil && summand != "" && relu != nil:
		op, deqName = "QuantizedConv2DWithBiasSumAndRelu", relu.Name
		all = withBias(summand)
		name = n.Name + "_eightbit_quantized_conv"
		fused = r.fusedChain(3)
	case bias != nil && relu != nil:
		op, deqName = "QuantizedConv2DWithBiasAndRelu", relu.Name
		if depthwise {
			op = "QuantizedDepthwiseConv2DWithBiasAndRelu"
		}
		all = withBias()
		fused = r.fusedChain(2)
	case bias != nil && biasAdd != "":
		op, deqName = "QuantizedConv2DWithBias", biasAdd
		if depthwise {
			op = "QuantizedDepthwiseConv2DWithBias"
		}
		all = withBias()
		fused = r.fusedChain(1)
	default:
		op, deqName = "QuantizedConv2D", n.Name
		switch {
		case depthwise:
			op = "QuantizedDepthwiseConv2D"
		case r.opts.PerChannel:
			op = "QuantizedConv2DPerChannel"
		}
	}
	q := newNode(op, name, all...)
	copyAttr(q, n, "strides")
	copyAttr(q, n, "padding")
	copyAttr(q, n, "dilations")
	setType(q, "Tinput", tfpb.DataType_DT_QUINT8)
	setType(q, "Tfilter", tfpb.DataType_DT_QINT8)
	setType(q, "out_type", tfpb.DataType_DT_QINT32)
	if err := r.addQuantized(n, q, fused...); err != nil {
		return err
	}
	relu6 := relu != nil && relu.Op == "Relu6"
	if depthwise && !r.opts.PerChannel {
		r.warn(depthwiseNote)
	}
	if !r.opts.PerChannel && !depthwise {
		if relu6 {
			r.res.LostClamps = append(r.res.LostClamps, relu.Name)
			r.warn(fmt.Sprintf("node %q: Relu6 fused into %s %q, which applies Relu only: the clamp at 6 is lost (TensorFlow's Intel path does this; use -per-channel to keep it)", relu.Name, op, name))
		}
		down, err := r.quantizeDown(n, name)
		if err != nil {
			return err
		}
		return r.dequantize(down, deqName)
	}
	t := tfpb.DataType_DT_QINT8
	if relu != nil {
		t = tfpb.DataType_DT_QUINT8
	}
	down, err := r.perChannelDown(n, name, t, relu6)
	if err != nil {
		return err
	}
	return r.intelDequantize(down, deqName, t)
}

// depthwiseNote says where qcal departs from Intel's script: a depthwise
// conv's weights are always per channel (intel_cpu_quantize_weight_eightbit),
// so its qint32 range is a vector, one entry per output channel. Without
// --per_channel the script still follows it with a scalar
// RequantizationRange and Requantize, which read element 0 of that vector
// only: every channel would be requantized with channel 0's scale (the
// script's own TODO calls non-per-channel depthwise a bug). qcal writes the
// per-channel pair, the one that matches the weights.
const depthwiseNote = "depthwise convolutions are requantized per channel (RequantizationRangePerChannel, RequantizePerChannel) even without -per-channel: their weights are always per channel, and the scalar RequantizationRange Intel's script writes here would read only channel 0's range"

// fusedChain returns the names of the k nodes above the current one on the
// stack (its consumer, that one's consumer, ...).
func (r *rewriter) fusedChain(k int) []string {
	var names []string
	for i := 1; i <= k; i++ {
		if f := r.frameAt(i); f != nil {
			names = append(names, f.node.Name)
		}
	}
	return names
}

// perChannelDown is intel_cpu_add_quantize_down_nodes with per_channel:
// RequantizationRangePerChannel (clip_value_max 6 after a Relu6, else
// 1e30) and RequantizePerChannel to t.
func (r *rewriter) perChannelDown(n *tfpb.NodeDef, q string, t tfpb.DataType, relu6 bool) (string, error) {
	outs := []string{q, q + ":1", q + ":2"}
	rr := newNode("RequantizationRangePerChannel", n.Name+"_eightbit_requant_range", outs...)
	setType(rr, "T", tfpb.DataType_DT_QINT32)
	clip := float32(1e30)
	if relu6 {
		clip = 6
	}
	setFloat(rr, "clip_value_max", clip)
	if err := r.add(rr); err != nil {
		return "", err
	}
	req := newNode("RequantizePerChannel", n.Name+"_eightbit_requantize", append(outs, rr.Name+":0", rr.Name+":1")...)
	setType(req, "T", tfpb.DataType_DT_QINT32)
	setType(req, "out_type", t)
	return req.Name, r.add(req)
}

// intelMatMulFusion is the wide_deep_large_ds MatMul branch: MatMul +
// BiasAdd [+ Relu | + Add + Relu]; a MatMul without BiasAdd stays FP32.
func (r *rewriter) intelMatMulFusion(n *tfpb.NodeDef) error {
	parent, grand := r.frameAt(1), r.frameAt(2)
	switch {
	case parent.op() == "BiasAdd" && (grand.op() == "Relu" || grand.op() == "Relu6"):
		bias, err := r.biasOf(parent.node)
		if err != nil {
			return err
		}
		grand.fuse = true
		if f := r.frameAt(3); f != nil {
			f.fuse = true
		}
		return r.intelMatMul(n, bias, "", "", grand.node)
	case parent.op() == "BiasAdd" && (grand.op() == "AddN" || grand.op() == "Add"):
		gg, f4 := r.frameAt(3), r.frameAt(4)
		if (gg.op() == "Relu" || gg.op() == "Relu6") && !gg.fuse && (f4 == nil || !f4.fuse) {
			bias, err := r.biasOf(parent.node)
			if err != nil {
				return err
			}
			grand.fuse, gg.fuse = true, true
			if f4 != nil {
				f4.fuse = true
			}
			return r.intelMatMul(n, bias, "", nodeName(grand.node.Input[0]), gg.node)
		}
		if !grand.fuse {
			bias, err := r.biasOf(parent.node)
			if err != nil {
				return err
			}
			grand.fuse = true
			return r.intelMatMul(n, bias, parent.node.Name, "", nil)
		}
		return r.intelMatMul(n, nil, "", "", nil)
	case parent.op() == "BiasAdd" && grand != nil && !grand.fuse:
		bias, err := r.biasOf(parent.node)
		if err != nil {
			return err
		}
		grand.fuse = true
		return r.intelMatMul(n, bias, parent.node.Name, "", nil)
	}
	return r.keep(n, "a MatMul without a following BiasAdd is not quantized on the Intel path")
}

// intelMatMul is intel_cpu_eightbitize_matmul_node.
func (r *rewriter) intelMatMul(n, bias *tfpb.NodeDef, biasAdd, summand string, relu *tfpb.NodeDef) error {
	all, err := r.prologue(n)
	if err != nil {
		return err
	}
	name := n.Name + "_eightbit_quantized_mat_mul"
	var op, deqName string
	var fused []string
	withBias := func(extra ...string) []string {
		in := append(append(append([]string{}, all[:2]...), bias.Name), all[2:]...)
		return append(in, extra...)
	}
	if len(all) < 2 {
		return fmt.Errorf("node %q: MatMul has %d data inputs, want 2", n.Name, len(all))
	}
	q := newNode("", name)
	switch {
	case bias != nil && summand != "" && relu != nil:
		op, deqName, fused = "QuantizedMatMulWithBiasSumAndRelu", relu.Name, r.fusedChain(3)
		q.Input = withBias(summand)
	case bias != nil && relu != nil:
		op, deqName, fused = "QuantizedMatMulWithBiasAndRelu", relu.Name, r.fusedChain(2)
		q.Input = withBias()
		if strings.Contains(name, "hiddenlayer_0") {
			setString(q, "input_quant_mode", "MIN_FIRST")
		}
	case bias != nil && biasAdd != "":
		op, deqName, fused = "QuantizedMatMulWithBias", biasAdd, r.fusedChain(1)
		q.Input = withBias()
		setType(q, "Tbias", tfpb.DataType_DT_FLOAT)
	default:
		op, deqName = "QuantizedMatMul", n.Name
		q.Input = all
	}
	q.Op = op
	setType(q, "T1", tfpb.DataType_DT_QUINT8)
	setType(q, "T2", tfpb.DataType_DT_QINT8)
	setType(q, "Toutput", tfpb.DataType_DT_QINT32)
	copyAttr(q, n, "transpose_a")
	copyAttr(q, n, "transpose_b")
	if err := r.addQuantized(n, q, fused...); err != nil {
		return err
	}
	if relu != nil && relu.Op == "Relu6" {
		r.res.LostClamps = append(r.res.LostClamps, relu.Name)
		r.warn(fmt.Sprintf("node %q: Relu6 fused into %s %q, which applies Relu only: the clamp at 6 is lost (TensorFlow's Intel path does this)", relu.Name, op, name))
	}
	down, err := r.quantizeDown(n, name)
	if err != nil {
		return err
	}
	return r.dequantize(down, deqName)
}

// concatV2 is eightbitize_concatv2_node: QuantizedConcatV2(values...,
// axis, mins..., maxs...) and a SCALED Dequantize.
func (r *rewriter) concatV2(n *tfpb.NodeDef) error {
	var data []string
	for _, in := range n.Input {
		if in[0] != '^' {
			data = append(data, in)
		}
	}
	if len(data) < 2 {
		return fmt.Errorf("node %q: ConcatV2 has %d data inputs, want at least 2", n.Name, len(data))
	}
	ns := n.Name + "_eightbit"
	dims, red, err := r.commonNodes(ns, nodeName(n.Input[len(n.Input)-1]))
	if err != nil {
		return err
	}
	axis := data[len(data)-1]
	var qs, mins, maxs []string
	for _, in := range data[:len(data)-1] {
		t, err := r.quantizeInput(ns, in, dims, red, tfpb.DataType_DT_QUINT8)
		if err != nil {
			return err
		}
		qs, mins, maxs = append(qs, t[0]), append(mins, t[1]), append(maxs, t[2])
	}
	name := ns + "_quantized_concatv2"
	inputs := append(append(append(qs, axis), mins...), maxs...)
	q := newNode("QuantizedConcatV2", name, inputs...)
	setInt(q, "N", int64(len(qs)))
	setType(q, "T", tfpb.DataType_DT_QUINT8)
	if err := r.addQuantized(n, q); err != nil {
		return err
	}
	return r.intelDequantize(name, n.Name, tfpb.DataType_DT_QUINT8)
}
