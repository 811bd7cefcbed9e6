package exec

import (
	"fmt"
	"math"

	"qcal/internal/kernels"
	"qcal/internal/tensor"
	"qcal/internal/tfpb"
)

// Static shapes: before any input is read, New propagates the shapes it
// can know (Placeholder shape attrs, Const values) through the common ops
// and refuses a graph where two known dimensions contradict each other
// (a MatMul whose inner dimensions differ, a bias that does not match the
// channels, a Reshape to a different number of elements). A shape is a
// []int with -1 for an unknown dimension, or nil when even the rank is
// unknown; an op outside the rules gives nil, so that only certain
// contradictions are errors.

// shapeRule computes a node's first output shape from its input shapes
// and, for inputs that are Consts, their values (nil otherwise).
type shapeRule func(n *tfpb.NodeDef, in [][]int, vals []*tensor.Tensor) ([]int, error)

var shapeRules = map[string]shapeRule{}

func init() {
	same := func(n *tfpb.NodeDef, in [][]int, vals []*tensor.Tensor) ([]int, error) { return in[0], nil }
	for _, op := range []string{"Identity", "StopGradient", "Relu", "Relu6", "Elu", "Sigmoid", "Tanh", "Erf",
		"Exp", "Log", "Sqrt", "Rsqrt", "Square", "Neg", "Softmax", "LogSoftmax", "LeakyRelu", "Reciprocal",
		"Floor", "Abs", "FakeQuantWithMinMaxVars", "Cast"} {
		shapeRules[op] = same
	}
	for _, op := range []string{"Add", "AddV2", "Sub", "Mul", "RealDiv", "Maximum", "Minimum", "SquaredDifference",
		"Equal", "NotEqual", "Less", "LessEqual", "Greater", "GreaterEqual"} {
		shapeRules[op] = broadcastRule
	}
	shapeRules["BiasAdd"] = biasRule
	shapeRules["MatMul"] = matMulRule
	shapeRules["Reshape"] = reshapeRule
	for _, op := range []string{"Conv2D", "DepthwiseConv2dNative"} {
		shapeRules[op] = convRule
	}
	for _, op := range []string{"FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3"} {
		shapeRules[op] = batchNormRule
	}
}

// dimsAgree reports whether two dimensions can be equal.
func dimsAgree(a, b int) bool { return a < 0 || b < 0 || a == b }

func broadcastRule(n *tfpb.NodeDef, in [][]int, _ []*tensor.Tensor) ([]int, error) {
	if len(in) != 2 || in[0] == nil || in[1] == nil {
		return nil, nil
	}
	out, err := kernels.BroadcastShape(in[0], in[1])
	if err != nil {
		return nil, fmt.Errorf("shapes %s and %s cannot be broadcast", shapeString(in[0]), shapeString(in[1]))
	}
	return out, nil
}

func biasRule(n *tfpb.NodeDef, in [][]int, _ []*tensor.Tensor) ([]int, error) {
	if len(in) != 2 || in[0] == nil || in[1] == nil || len(in[0]) == 0 || len(in[1]) != 1 {
		return in[0], nil
	}
	if c := in[0][len(in[0])-1]; !dimsAgree(c, in[1][0]) {
		return nil, fmt.Errorf("bias %s does not match the %d channels of %s", shapeString(in[1]), c, shapeString(in[0]))
	}
	return in[0], nil
}

func matMulRule(n *tfpb.NodeDef, in [][]int, _ []*tensor.Tensor) ([]int, error) {
	if len(in) != 2 || len(in[0]) != 2 || len(in[1]) != 2 {
		return nil, nil
	}
	ta, _ := kernels.AttrBool(n, "transpose_a")
	tb, _ := kernels.AttrBool(n, "transpose_b")
	m, ka := in[0][0], in[0][1]
	if ta {
		m, ka = ka, m
	}
	kb, nn := in[1][0], in[1][1]
	if tb {
		kb, nn = nn, kb
	}
	if !dimsAgree(ka, kb) {
		return nil, fmt.Errorf("inner dimensions differ: %s × %s (%d against %d)", shapeString(in[0]), shapeString(in[1]), ka, kb)
	}
	return []int{m, nn}, nil
}

func reshapeRule(n *tfpb.NodeDef, in [][]int, vals []*tensor.Tensor) ([]int, error) {
	if len(vals) != 2 || vals[1] == nil {
		return nil, nil
	}
	shape, err := vals[1].IntValues()
	if err != nil {
		return nil, nil
	}
	total, known := 1, true
	for _, d := range in[0] {
		if d < 0 || d > maxSafe || total > maxSafe/max(d, 1) {
			known = false // unknown, or too large to multiply safely
			continue
		}
		total *= d
	}
	if in[0] == nil {
		known = false
	}
	prod, unknown := 1, -1
	for i, d := range shape {
		switch {
		case d == -1:
			unknown = i
		case d < 0 || d > maxSafe || prod > maxSafe/max(d, 1):
			return nil, nil // the kernel reports it with the values at hand
		default:
			prod *= d
		}
	}
	out := append([]int{}, shape...)
	if known {
		switch {
		case unknown >= 0 && (prod == 0 || total%prod != 0):
			return nil, fmt.Errorf("cannot reshape %s (%d elements) to %v", shapeString(in[0]), total, shape)
		case unknown >= 0:
			out[unknown] = total / prod
		case prod != total:
			return nil, fmt.Errorf("cannot reshape %s (%d elements) to %v (%d elements)", shapeString(in[0]), total, shape, prod)
		}
	}
	return out, nil
}

func convRule(n *tfpb.NodeDef, in [][]int, _ []*tensor.Tensor) ([]int, error) {
	if len(in) != 2 || len(in[0]) != 4 || len(in[1]) != 4 {
		return nil, nil
	}
	x, f := in[0], in[1]
	if !dimsAgree(x[3], f[2]) {
		return nil, fmt.Errorf("filter %s has %d input channels, the input %s has %d", shapeString(f), f[2], shapeString(x), x[3])
	}
	oc := f[3]
	if n.GetOp() == "DepthwiseConv2dNative" {
		oc = -1
		if x[3] >= 0 && f[3] >= 0 {
			oc = x[3] * f[3]
		} else if f[2] >= 0 && f[3] >= 0 {
			oc = f[2] * f[3]
		}
	}
	out := []int{x[0], -1, -1, oc}
	strides, err1 := kernels.AttrInts(n, "strides")
	padding, err2 := kernels.AttrString(n, "padding")
	if err1 != nil || err2 != nil || len(strides) != 4 || (padding != "SAME" && padding != "VALID") {
		return out, nil
	}
	dil := []int{1, 1, 1, 1}
	if d, err := kernels.AttrInts(n, "dilations"); err == nil && len(d) == 4 {
		dil = d
	}
	for i := 0; i < 2; i++ {
		h, k := x[1+i], f[i]
		if h < 0 || k < 0 {
			continue
		}
		win, err := kernels.NewWindow(h, h, k, k, strides[1+i], strides[1+i], dil[1+i], dil[1+i], padding, nil)
		if err != nil {
			return nil, err
		}
		out[1+i] = win.OH
	}
	return out, nil
}

func batchNormRule(n *tfpb.NodeDef, in [][]int, _ []*tensor.Tensor) ([]int, error) {
	if len(in) != 5 || len(in[0]) != 4 {
		return in[0], nil
	}
	for i := 1; i < 5; i++ {
		if len(in[i]) == 1 && !dimsAgree(in[i][0], in[0][3]) {
			return nil, fmt.Errorf("input %d %s does not match the %d channels of %s", i, shapeString(in[i]), in[0][3], shapeString(in[0]))
		}
	}
	return in[0], nil
}

// checkShapes propagates the static shapes in a topological order of the
// whole graph and returns the first contradiction found. Nodes in cycles
// are left out (Run reports cycles).
func (gr *Graph) checkShapes() error {
	shapes := make([][]int, len(gr.nodes))
	done := make([]bool, len(gr.nodes))
	pending := make([]int, len(gr.nodes))
	consumers := make([][]int, len(gr.nodes))
	var ready []int
	for i, nd := range gr.nodes {
		for _, r := range nd.inputs {
			pending[i]++
			consumers[r.node] = append(consumers[r.node], i)
		}
		if pending[i] == 0 {
			ready = append(ready, i)
		}
	}
	for len(ready) > 0 {
		i := ready[len(ready)-1]
		ready = ready[:len(ready)-1]
		done[i] = true
		nd := gr.nodes[i]
		switch {
		case nd.value != nil:
			shapes[i] = nd.value.Shape
		case nd.input != nil:
			shapes[i] = nd.input.Shape
		default:
			if rule := shapeRules[nd.def.GetOp()]; rule != nil {
				in := make([][]int, len(nd.inputs))
				vals := make([]*tensor.Tensor, len(nd.inputs))
				for j, r := range nd.inputs {
					if r.index == 0 {
						in[j] = shapes[r.node]
					}
					vals[j] = gr.nodes[r.node].value
				}
				s, err := rule(nd.def, in, vals)
				if err != nil {
					return fmt.Errorf("node %q (%s): %w", nd.def.GetName(), nd.def.GetOp(), err)
				}
				shapes[i] = s
			}
		}
		for _, c := range consumers[i] {
			pending[c]--
			if pending[c] == 0 {
				ready = append(ready, c)
			}
		}
	}
	return nil
}

// maxSafe bounds the dimensions and products the static shape check
// multiplies (2^40, or the largest int on 32-bit systems).
const maxSafe = min(1<<40, math.MaxInt)
