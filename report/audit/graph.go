package audit

import (
	"cmp"
	"slices"
	"strings"

	"qcal/internal/tfname"
	"qcal/internal/tfpb"
)

// Graph is what an audit needs to know of the quantized graph a log
// was recorded from: each node's op, its position and depth, and the op of
// the node feeding each RequantizationRange (to see a fused Relu).
type Graph struct {
	// Name is the graph's file name, for messages.
	Name  string
	nodes map[string]*graphNode
	// ranges are the RequantizationRange(PerChannel) nodes in graph order.
	ranges []string
}

type graphNode struct {
	op string
	// order is the node's position in graph order: nodes sorted by depth,
	// then by their position in the GraphDef (a topological order whatever
	// the GraphDef's own order).
	order int
	// depth is the length in edges of the longest path from a source (a
	// node without inputs) to the node, over data and control inputs; -1
	// for nodes on or behind a cycle (TensorFlow loops).
	depth int
	// producerOp is the op of the node feeding input 0 ("" when unknown).
	producerOp string
}

// NewGraph indexes g for an audit. name is the graph's file name.
func NewGraph(g *tfpb.GraphDef, name string) *Graph {
	nodes := g.GetNode()
	ag := &Graph{Name: name, nodes: make(map[string]*graphNode, len(nodes))}
	index := make(map[string]int, len(nodes))
	for i, n := range nodes {
		if _, dup := index[n.GetName()]; !dup {
			index[n.GetName()] = i
		}
	}
	depth := tfname.Depths(nodes, nil)
	perm := make([]int, len(nodes))
	for i := range perm {
		perm[i] = i
	}
	key := func(i int) int {
		if depth[i] < 0 {
			return len(nodes) + 1 // cycles last
		}
		return depth[i]
	}
	slices.SortStableFunc(perm, func(a, b int) int { return cmp.Compare(key(a), key(b)) })
	for pos, i := range perm {
		n := nodes[i]
		if _, ok := ag.nodes[n.GetName()]; ok {
			continue
		}
		gn := &graphNode{op: n.GetOp(), order: pos, depth: depth[i]}
		if ins := n.GetInput(); len(ins) > 0 {
			if u, ok := index[tfname.NodeName(ins[0])]; ok {
				gn.producerOp = nodes[u].GetOp()
			}
		}
		ag.nodes[n.GetName()] = gn
		if tfname.IsRequantizationRange(gn.op) {
			ag.ranges = append(ag.ranges, n.GetName())
		}
	}
	return ag
}

// fusedRelu reports whether op is a quantized op with a fused Relu (its
// outputs are non-negative): QuantizedConv2DWithBiasAndRelu,
// QuantizedConv2DWithBiasSumAndRelu, QuantizedMatMulWithBiasAndRelu, ...
func fusedRelu(op string) bool {
	return strings.HasPrefix(op, "Quantized") && strings.Contains(op, "Relu")
}
