package exec

import (
	"fmt"
	"qcal/internal/tfname"

	"qcal/internal/tfpb"
)

// Prune returns the part of g the outputs need: the nodes they name and,
// transitively, the nodes those read (data and control inputs), in g's
// order. New checks every node of the graph it gets, so a graph carrying
// nodes no kernel handles (summaries, savers, training ops) but whose
// outputs of interest need none of them loads with New(Prune(g, outs)).
// The nodes are shared with g, not copied.
func Prune(g *tfpb.GraphDef, outputs []string) (*tfpb.GraphDef, error) {
	byName := make(map[string]int, len(g.GetNode()))
	for i, n := range g.GetNode() {
		byName[n.GetName()] = i
	}
	keep := make([]bool, len(g.GetNode()))
	var stack []int
	for _, o := range outputs {
		in, ok := tfname.ParseInput(o)
		if !ok || in.Control {
			return nil, fmt.Errorf("malformed output name %q", o)
		}
		i, ok := byName[in.Node]
		if !ok {
			return nil, fmt.Errorf("output %q: no node named %q", o, in.Node)
		}
		if !keep[i] {
			keep[i] = true
			stack = append(stack, i)
		}
	}
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, s := range g.GetNode()[i].GetInput() {
			j, ok := byName[tfname.NodeName(s)]
			if ok && !keep[j] {
				keep[j] = true
				stack = append(stack, j)
			}
		}
	}
	out := &tfpb.GraphDef{Versions: g.GetVersions(), Library: g.GetLibrary()}
	for i, n := range g.GetNode() {
		if keep[i] {
			out.Node = append(out.Node, n)
		}
	}
	return out, nil
}

// Def returns the GraphDef the graph was made from. Callers must not
// change it.
func (gr *Graph) Def() *tfpb.GraphDef { return gr.def }
