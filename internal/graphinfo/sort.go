package graphinfo

import (
	"fmt"
	"strings"

	"google.golang.org/protobuf/proto"

	"qcal/internal/tfname"
	"qcal/internal/tfpb"
)

// CycleError is SortByExecutionOrder's error for a graph whose nodes cannot
// all be ordered. Its message starts with TensorFlow's words,
// "N nodes in a cycle", and goes on to name the nodes.
type CycleError struct {
	// Unsorted counts the nodes left over (TensorFlow's N): the nodes of
	// the cycles and every node downstream of one.
	Unsorted int
	// Cycles are the nodes of each cycle, in node order.
	Cycles [][]string
	// Blocked are the other leftover nodes, in node order: they wait on a
	// cycle.
	Blocked []string
}

func (e *CycleError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d nodes in a cycle", e.Unsorted)
	for i, c := range e.Cycles {
		if i == maxShownProblems {
			fmt.Fprintf(&b, "; (and %d more cycles)", len(e.Cycles)-i)
			break
		}
		fmt.Fprintf(&b, "; cycle: %s", quoteNames(c))
	}
	if len(e.Blocked) > 0 {
		fmt.Fprintf(&b, "; waiting on a cycle: %s", quoteNames(e.Blocked))
	}
	return b.String()
}

// isMerge reports whether op is one of the ops TensorFlow's sort lets run
// as soon as one data input is ready.
func isMerge(op string) bool {
	return op == "Merge" || op == "RefMerge" || op == "_XlaMerge"
}

// SortByExecutionOrder returns a copy of g whose nodes are in the order
// TensorFlow's graph transforms (SortByExecutionOrder in transform_utils.cc)
// put them, so that qcal's output matches theirs node for node:
//
//   - every node starts with a pending count, its number of inputs (data and
//     control); for Merge, RefMerge and _XlaMerge the number of control
//     inputs plus one, as one data input suffices;
//   - nodes without inputs are pushed, in node order, on a ready stack;
//   - each node's consumers are listed in node order, a consumer once per
//     input that names the node (by the text before ':' without '^');
//   - the stack is popped last-in first-out; each popped node is emitted and
//     its consumers' counts decremented, a consumer whose count reaches zero
//     being pushed.
//
// Names resolve to the last node of a name, as in TensorFlow. An input that
// names no node is an error in TensorFlow's words, "Node 'X': Unknown input
// node 'Y'" (Y as written, with any '^' or ':N'); nodes left over are a
// *CycleError. The library, versions and debug info are kept.
func SortByExecutionOrder(g *tfpb.GraphDef) (*tfpb.GraphDef, error) {
	nodes := g.GetNode()
	n := len(nodes)
	index := make(map[string]int, n)
	for i, nd := range nodes {
		index[nd.GetName()] = i
	}
	pending := make([]int, n)
	consumers := make([][]int, n)
	var ready []int
	for i, nd := range nodes {
		ins := nd.GetInput()
		if isMerge(nd.GetOp()) {
			c := 0
			for _, in := range ins {
				if strings.HasPrefix(in, "^") {
					c++
				}
			}
			pending[i] = c + 1
		} else {
			pending[i] = len(ins)
		}
		if len(ins) == 0 {
			ready = append(ready, i)
			continue
		}
		for _, in := range ins {
			j, ok := index[tfname.NodeName(in)]
			if !ok {
				return nil, fmt.Errorf("Node '%s': Unknown input node '%s'", nd.GetName(), in)
			}
			consumers[j] = append(consumers[j], i)
		}
	}
	order := make([]int, 0, n)
	emitted := make([]bool, n)
	for len(ready) > 0 {
		o := ready[len(ready)-1]
		ready = ready[:len(ready)-1]
		order = append(order, o)
		emitted[o] = true
		for _, c := range consumers[o] {
			pending[c]--
			if pending[c] == 0 {
				ready = append(ready, c)
			}
		}
	}
	if len(order) < n {
		return nil, cycleError(g, emitted, n-len(order))
	}
	out := proto.CloneOf(g)
	cloned := out.Node
	out.Node = make([]*tfpb.NodeDef, 0, n)
	for _, i := range order {
		out.Node = append(out.Node, cloned[i])
	}
	return out, nil
}

// cycleError describes the nodes SortByExecutionOrder could not emit.
func cycleError(g *tfpb.GraphDef, emitted []bool, unsorted int) *CycleError {
	e := &CycleError{Unsorted: unsorted}
	byName := make(map[string]int, len(g.GetNode()))
	for i, nd := range g.GetNode() {
		if _, ok := byName[nd.GetName()]; !ok {
			byName[nd.GetName()] = i
		}
	}
	inCycle := map[int]bool{}
	for _, c := range cycles(g, byName) {
		var names []string
		for _, i := range c {
			if !emitted[i] {
				inCycle[i] = true
				names = append(names, g.GetNode()[i].GetName())
			}
		}
		if len(names) > 0 {
			e.Cycles = append(e.Cycles, names)
		}
	}
	for i, nd := range g.GetNode() {
		if !emitted[i] && !inCycle[i] {
			e.Blocked = append(e.Blocked, nd.GetName())
		}
	}
	return e
}
