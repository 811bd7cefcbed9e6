package graphinfo

import (
	"slices"

	"qcal/internal/tfname"
	"qcal/internal/tfpb"
)

// IntelView says what the Intel path of quantize_graph.py
// (`qcal quantize`, INT8-ARITHMETIC §1a) would do with an FP32 graph: it
// quantizes a Conv2D or DepthwiseConv2dNative only when a Relu or Relu6
// feeds its input 0 (directly or through MaxPool, AvgPool or ConcatV2) and
// its filter is a Const, and MatMul only for one model name; everything
// else stays FP32.
type IntelView struct {
	// Convs counts the Conv2D and DepthwiseConv2dNative nodes; Quantized
	// those the Intel path would quantize.
	Convs     int `json:"convs"`
	Quantized int `json:"quantized"`
	// Float lists the convolutions and MatMuls left in FP32, with reasons,
	// in node order.
	Float []FloatNode `json:"float"`
	// LostClamps counts the quantized Conv2D nodes followed by BiasAdd or
	// Add and a Relu6: without -per-channel the Intel path fuses the Relu6
	// into an ...AndRelu op and its clamp at 6 is lost. (Depthwise
	// convolutions keep theirs: qcal brings them down per channel.)
	LostClamps int `json:"lost_relu6_clamps"`
}

// FloatNode is a node left in FP32 and why.
type FloatNode struct {
	Name   string `json:"name"`
	Op     string `json:"op"`
	Reason string `json:"reason"`
}

// Reasons of a FloatNode.
const (
	ReasonNotReluFed     = "input 0 is not fed by a Relu or Relu6 (directly or through MaxPool, AvgPool or ConcatV2), as for a first convolution reading the graph input"
	ReasonFilterNotConst = "its filter is not a Const"
	ReasonMatMul         = "MatMul is quantized only with -model-name wide_deep_large_ds"
)

// intelView returns the view of g, or nil when g has no convolution and no
// MatMul. Identity nodes are looked through, as quantize_graph splices
// them out first.
func intelView(g *tfpb.GraphDef) *IntelView {
	byName := make(map[string]*tfpb.NodeDef, len(g.GetNode()))
	for _, n := range g.GetNode() {
		if _, ok := byName[n.GetName()]; !ok {
			byName[n.GetName()] = n
		}
	}
	// input returns the node input i of n names, through Identity nodes.
	input := func(n *tfpb.NodeDef, i int) *tfpb.NodeDef {
		for steps := 0; n != nil && steps <= len(byName); steps++ {
			if i >= len(n.GetInput()) {
				return nil
			}
			n = byName[tfname.NodeName(n.GetInput()[i])]
			if n.GetOp() != "Identity" {
				return n
			}
			i = 0
		}
		return nil
	}
	reluFed := func(n *tfpb.NodeDef) bool {
		for steps := 0; steps <= len(byName); steps++ {
			in := input(n, 0)
			switch in.GetOp() {
			case "Relu", "Relu6":
				return true
			case "MaxPool", "AvgPool", "ConcatV2":
				n = in
			default:
				return false
			}
		}
		return false
	}
	// readers lists the nodes reading each node's output 0 (through
	// Identity nodes, as input does).
	readers := map[string][]*tfpb.NodeDef{}
	for _, n := range g.GetNode() {
		if n.GetOp() == "Identity" {
			continue
		}
		for i, in := range n.GetInput() {
			if ref, ok := tfname.ParseInput(in); !ok || ref.Control || ref.Index != 0 {
				continue
			}
			if p := input(n, i); p != nil {
				readers[p.GetName()] = append(readers[p.GetName()], n)
			}
		}
	}
	only := func(n *tfpb.NodeDef, ops ...string) *tfpb.NodeDef {
		r := readers[n.GetName()]
		if len(r) != 1 || !slices.Contains(ops, r[0].GetOp()) {
			return nil
		}
		return r[0]
	}
	v := &IntelView{Float: []FloatNode{}}
	matmuls := 0
	for _, n := range g.GetNode() {
		switch n.GetOp() {
		case "Conv2D", "DepthwiseConv2dNative":
			v.Convs++
			switch {
			case !reluFed(n):
				v.Float = append(v.Float, FloatNode{n.GetName(), n.GetOp(), ReasonNotReluFed})
			case input(n, 1).GetOp() != "Const":
				v.Float = append(v.Float, FloatNode{n.GetName(), n.GetOp(), ReasonFilterNotConst})
			default:
				v.Quantized++
				if b := only(n, "BiasAdd", "Add"); n.GetOp() == "Conv2D" && b != nil && only(b, "Relu6") != nil {
					v.LostClamps++
				}
			}
		case "MatMul":
			matmuls++
			v.Float = append(v.Float, FloatNode{n.GetName(), n.GetOp(), ReasonMatMul})
		}
	}
	if v.Convs == 0 && matmuls == 0 {
		return nil
	}
	return v
}
