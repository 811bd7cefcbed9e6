package freezegraph

import (
	"qcal/internal/tfname"
	"qcal/internal/tfpb"
)

// use is input index of node: a consumer of an output.
type use struct{ node, index int }

// saverKeys reads, from the restore ops a tf.train.Saver adds to a graph,
// the checkpoint key of each variable it restores: RestoreV2's second input
// is a Const listing the keys, and its output i reaches its variable through
// Identity nodes and an Assign (reference variables) or AssignVariableOp
// (resource variables), whose first input is the variable. Keys of
// partitioned slices (a non-empty shape_and_slices entry) go to sliced
// instead, as "KEY" and the slice spec. When several savers name a
// variable, the first restore op in graph order wins.
func saverKeys(nodes []*tfpb.NodeDef, byName map[string]int) (keys map[string]string, sliced map[string][2]string) {
	var consumers map[int][]use
	keys, sliced = map[string]string{}, map[string][2]string{}
	for _, n := range nodes {
		if n.GetOp() != "RestoreV2" || len(n.GetInput()) < 3 {
			continue
		}
		names := constStrings(nodes, byName, n.GetInput()[1])
		slices := constStrings(nodes, byName, n.GetInput()[2])
		if names == nil {
			continue
		}
		if consumers == nil {
			consumers = map[int][]use{}
			for i, c := range nodes {
				for _, in := range c.GetInput() {
					if pi, ok := tfname.ParseInput(in); ok && !pi.Control {
						if j, ok := byName[pi.Node]; ok {
							consumers[j] = append(consumers[j], use{i, pi.Index})
						}
					}
				}
			}
		}
		for _, u := range consumers[byName[n.GetName()]] {
			if u.index >= len(names) {
				continue
			}
			partOf := u.index < len(slices) && slices[u.index] != ""
			for _, v := range assignedVariables(nodes, consumers, u.node, 0) {
				_, seen := keys[v]
				_, seenSlice := sliced[v]
				switch {
				case seen || seenSlice:
				case partOf:
					sliced[v] = [2]string{names[u.index], slices[u.index]}
				default:
					keys[v] = names[u.index]
				}
			}
		}
	}
	return keys, sliced
}

// assignedVariables follows a restored value from node i through Identity
// nodes to the Assign or AssignVariableOp nodes that store it and returns
// their variables.
func assignedVariables(nodes []*tfpb.NodeDef, consumers map[int][]use, i, depth int) []string {
	n := nodes[i]
	switch n.GetOp() {
	case "Assign", "AssignVariableOp":
		if len(n.GetInput()) > 0 {
			return []string{tfname.NodeName(n.GetInput()[0])}
		}
	case "Identity":
		if depth > 8 {
			return nil
		}
		var out []string
		for _, u := range consumers[i] {
			out = append(out, assignedVariables(nodes, consumers, u.node, depth+1)...)
		}
		return out
	}
	return nil
}

// constStrings returns the string_val of the DT_STRING Const that input
// names, or nil.
func constStrings(nodes []*tfpb.NodeDef, byName map[string]int, input string) []string {
	j, ok := byName[tfname.NodeName(input)]
	if !ok || nodes[j].GetOp() != "Const" {
		return nil
	}
	t := nodes[j].GetAttr()["value"].GetTensor()
	if t.GetDtype() != tfpb.DataType_DT_STRING {
		return nil
	}
	out := make([]string, len(t.GetStringVal()))
	for i, s := range t.GetStringVal() {
		out[i] = string(s)
	}
	return out
}
