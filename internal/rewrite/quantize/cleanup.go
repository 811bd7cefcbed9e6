package quantize

import (
	"fmt"
	"slices"
	"strings"

	"google.golang.org/protobuf/proto"

	"qcal/internal/tfpb"
)

// removeTrainingNodes is graph_util.remove_training_nodes with the outputs
// protected: CheckNumerics nodes are dropped (and inputs naming them
// removed, as TF does), then Identity nodes are spliced out unless they
// have a control input or are a control input. It returns copies.
func removeTrainingNodes(nodes []*tfpb.NodeDef, protected []string) ([]*tfpb.NodeDef, error) {
	keep := func(name string) bool { return slices.Contains(protected, name) }
	removed := map[string]bool{}
	for _, n := range nodes {
		if n.Op == "CheckNumerics" && !keep(n.Name) {
			removed[n.Name] = true
		}
	}
	var after []*tfpb.NodeDef
	for _, n := range nodes {
		if removed[n.Name] {
			continue
		}
		c := proto.Clone(n).(*tfpb.NodeDef)
		c.Input = nil
		for _, in := range n.Input {
			if removed[strings.TrimPrefix(in, "^")] {
				continue
			}
			c.Input = append(c.Input, in)
		}
		after = append(after, c)
	}
	controlInputs := map[string]bool{}
	withControl := map[string]bool{}
	for _, n := range after {
		for _, in := range n.Input {
			if strings.Contains(in, "^") {
				controlInputs[strings.ReplaceAll(in, "^", "")] = true
				withControl[n.Name] = true
			}
		}
	}
	splice := map[string]string{}
	for _, n := range after {
		if n.Op == "Identity" && !keep(n.Name) && !withControl[n.Name] && !controlInputs[n.Name] {
			if len(n.Input) == 0 {
				return nil, fmt.Errorf("node %q: Identity has no input", n.Name)
			}
			splice[n.Name] = n.Input[0]
		}
	}
	var out []*tfpb.NodeDef
	for _, n := range after {
		if _, ok := splice[n.Name]; ok {
			continue
		}
		for i, in := range n.Input {
			name := strings.TrimPrefix(in, "^")
			for steps := 0; ; steps++ {
				next, ok := splice[name]
				if !ok {
					break
				}
				if steps > len(splice) {
					return nil, fmt.Errorf("node %q: input %q is a cycle of Identity nodes", n.Name, in)
				}
				in = next
				name = strings.TrimPrefix(in, "^")
			}
			n.Input[i] = in
		}
		out = append(out, n)
	}
	return out, nil
}

// removeRedundantQuantization is remove_redundant_quantization: a
// QuantizeV2 whose input is a Dequantize of the same T (the mode is not
// compared) and whose min/max come from Min/Max (or Dequantize) nodes over
// the same tensor is bypassed: its consumers read the Dequantize's inputs.
// The bypassed nodes stay; extractSubGraph drops them.
func removeRedundantQuantization(nodes []*tfpb.NodeDef) []*tfpb.NodeDef {
	byName := map[string]*tfpb.NodeDef{}
	for _, n := range nodes {
		byName[n.Name] = n
	}
	rename := map[string]string{}
	for _, n := range nodes {
		if (n.Op != "QuantizeV2" && n.Op != "Quantize") || len(n.Input) < 3 {
			continue
		}
		deq := byName[nodeName(n.Input[0])]
		if deq == nil || deq.Op != "Dequantize" || len(deq.Input) < 3 {
			continue
		}
		if !proto.Equal(n.Attr["T"], deq.Attr["T"]) {
			continue
		}
		mn, mx := byName[nodeName(n.Input[1])], byName[nodeName(n.Input[2])]
		if mn == nil || mx == nil || (mn.Op != "Min" && mn.Op != "Dequantize") || (mx.Op != "Max" && mx.Op != "Dequantize") ||
			len(mn.Input) == 0 || len(mx.Input) == 0 {
			continue
		}
		mnIn, mxIn := nodeName(mn.Input[0]), nodeName(mx.Input[0])
		same := mnIn == mxIn
		if !same {
			// The second pattern: Min over a Concat whose second input is a Min.
			if first := byName[mnIn]; first != nil && first.Op == "Concat" && len(first.Input) > 1 {
				if second := byName[nodeName(first.Input[1])]; second != nil && second.Op == "Min" && len(second.Input) > 0 {
					same = nodeName(second.Input[0]) == mxIn
				}
			}
		}
		if !same {
			continue
		}
		rename[withPort(n.Name)] = nodeName(deq.Input[0])
		rename[n.Name+":1"] = deq.Input[1]
		rename[n.Name+":2"] = deq.Input[2]
	}
	for _, n := range nodes {
		for i, in := range n.Input {
			if to, ok := rename[withPort(in)]; ok {
				n.Input[i] = to
			}
		}
	}
	return nodes
}

// extractSubGraph is graph_util.extract_sub_graph: the nodes the outputs
// reach through data and control inputs, in their order.
func extractSubGraph(nodes []*tfpb.NodeDef, outputs []string) ([]*tfpb.NodeDef, error) {
	byName := map[string]*tfpb.NodeDef{}
	for _, n := range nodes {
		byName[n.Name] = n
	}
	reached := map[string]bool{}
	queue := []string{}
	for _, o := range outputs {
		if byName[o] == nil {
			return nil, fmt.Errorf("output node %q is not in the quantized graph", o)
		}
		if !reached[o] {
			reached[o] = true
			queue = append(queue, o)
		}
	}
	for len(queue) > 0 {
		n := byName[queue[0]]
		queue = queue[1:]
		for _, in := range n.Input {
			name := nodeName(in)
			if byName[name] == nil {
				return nil, fmt.Errorf("node %q: input %q is not in the quantized graph", n.Name, in)
			}
			if !reached[name] {
				reached[name] = true
				queue = append(queue, name)
			}
		}
	}
	var out []*tfpb.NodeDef
	for _, n := range nodes {
		if reached[n.Name] {
			out = append(out, n)
		}
	}
	return out, nil
}
