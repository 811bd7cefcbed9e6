package graphinfo

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"qcal/internal/tfname"
	"qcal/internal/tfpb"
)

// Kinds of Problem.
const (
	// Errors: TensorFlow refuses to import or run such a graph.
	KindNoName       = "no-name"        // a node without a name
	KindNoOp         = "no-op"          // a node without an op
	KindDuplicate    = "duplicate-name" // two nodes with one name
	KindBadInput     = "bad-input"      // an input that is not `name`, `name:N` or `^name`
	KindMissingInput = "missing-input"  // an input naming no node
	KindControlOrder = "control-order"  // a data input after a control input
	KindOutputIndex  = "output-index"   // name:N beyond the outputs of name's op
	KindCycle        = "cycle"          // nodes that depend on themselves
	KindPrintTypes   = "print-types"    // a Print node whose attr U does not match its inputs

	// Warnings: TensorFlow runs the graph, but something is likely amiss.
	KindUnused      = "unused"       // Const or Placeholder nodes nothing consumes
	KindPrintUnused = "print-unused" // Print nodes nothing consumes: they never run unless fetched
)

// Problem is one thing wrong with a graph.
type Problem struct {
	Kind    string   `json:"kind"`
	Nodes   []string `json:"nodes"` // the nodes concerned, in node order
	Message string   `json:"message"`
}

func (p Problem) String() string { return p.Message }

// Problems are what Check found: errors TensorFlow would refuse the graph
// for, and warnings about graphs TensorFlow runs but that are likely not
// what was meant.
type Problems struct {
	Errors   []Problem `json:"errors"`
	Warnings []Problem `json:"warnings"`
}

// maxShown is how many problems, or names in one problem, a message shows
// before "(and N more)".
const (
	maxShownProblems = 3
	maxShownNames    = 10
)

// Err returns nil when there are no errors, else an error describing the
// first few.
func (p *Problems) Err() error {
	if p == nil || len(p.Errors) == 0 {
		return nil
	}
	var b strings.Builder
	for i, e := range p.Errors {
		if i == maxShownProblems {
			fmt.Fprintf(&b, " (and %d more)", len(p.Errors)-i)
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(e.Message)
	}
	return errors.New(b.String())
}

func (p *Problems) errorf(kind string, nodes []string, format string, a ...any) {
	if nodes == nil {
		nodes = []string{}
	}
	p.Errors = append(p.Errors, Problem{Kind: kind, Nodes: nodes, Message: fmt.Sprintf(format, a...)})
}

func (p *Problems) warnf(kind string, nodes []string, format string, a ...any) {
	p.Warnings = append(p.Warnings, Problem{Kind: kind, Nodes: nodes, Message: fmt.Sprintf(format, a...)})
}

// nodeLabel names node i for messages: its quoted name, or "#i" when it has
// none.
func nodeLabel(g *tfpb.GraphDef, i int) string {
	if name := g.GetNode()[i].GetName(); name != "" {
		return strconv.Quote(name)
	}
	return "#" + strconv.Itoa(i)
}

// quoteNames lists names quoted, the first maxShownNames of them.
func quoteNames(names []string) string {
	var b strings.Builder
	for i, n := range names {
		if i == maxShownNames {
			fmt.Fprintf(&b, " (and %d more)", len(names)-i)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Quote(n))
	}
	return b.String()
}

// Check reports what is wrong with g.
//
// Errors, each naming its nodes: nodes without a name or an op; names used
// twice; inputs that do not parse, that name a missing node, or that take an
// output beyond what the producer's op has (for ops whose output count qcal
// knows, see NumOutputs; other ops are not checked); data inputs listed after
// a control input (TensorFlow: "Control dependencies must come after regular
// dependencies"); cycles, through data and control edges alike, with the
// nodes of each cycle (the edge from a NextIteration node into a loop's Merge
// is how TensorFlow writes loops and does not count); Print nodes whose attr
// U does not list one type per logged input.
//
// Warnings, where TensorFlow still runs the graph: Const and Placeholder
// nodes that nothing consumes (dead weight, or an input the graph ignores);
// Print nodes that nothing consumes (they run only when fetched by name, so
// an instrumented graph would log nothing).
//
// Where names repeat, inputs resolve to the first node of a name.
func Check(g *tfpb.GraphDef) *Problems {
	p := &Problems{Errors: []Problem{}, Warnings: []Problem{}}
	nodes := g.GetNode()
	byName := make(map[string]int, len(nodes))
	at := map[string][]string{} // node positions of each repeated name
	var dups []string
	for i, n := range nodes {
		if n.GetName() == "" {
			p.errorf(KindNoName, nil, "node #%d has no name", i)
		}
		if n.GetOp() == "" {
			p.errorf(KindNoOp, []string{n.GetName()}, "node %s has no op", nodeLabel(g, i))
		}
		if n.GetName() == "" {
			continue
		}
		first, ok := byName[n.GetName()]
		if !ok {
			byName[n.GetName()] = i
			continue
		}
		if at[n.GetName()] == nil {
			dups = append(dups, n.GetName())
			at[n.GetName()] = []string{"#" + strconv.Itoa(first)}
		}
		at[n.GetName()] = append(at[n.GetName()], "#"+strconv.Itoa(i))
	}
	for _, name := range dups {
		p.errorf(KindDuplicate, []string{name}, "node name %q is used by %d nodes (%s)", name, len(at[name]), strings.Join(at[name], ", "))
	}

	consumed := make([]bool, len(nodes))
	for i, n := range nodes {
		inControl, orderReported := false, false
		for _, in := range n.GetInput() {
			pi, ok := tfname.ParseInput(in)
			if !ok {
				p.errorf(KindBadInput, []string{n.GetName()}, "node %s: input %q is not name, name:N or ^name", nodeLabel(g, i), in)
				if j, ok := byName[tfname.NodeName(in)]; ok {
					consumed[j] = true
				}
				continue
			}
			if pi.Control {
				inControl = true
			} else if inControl && !orderReported {
				p.errorf(KindControlOrder, []string{n.GetName()}, "node %s: data input %q follows a control input (control dependencies must come after regular dependencies)", nodeLabel(g, i), in)
				orderReported = true
			}
			j, ok := byName[pi.Node]
			if !ok {
				p.errorf(KindMissingInput, []string{n.GetName(), pi.Node}, "node %s: input %q names no node", nodeLabel(g, i), in)
				continue
			}
			consumed[j] = true
			if pi.Control {
				continue
			}
			if k, known := NumOutputs(nodes[j]); known && pi.Index >= k {
				p.errorf(KindOutputIndex, []string{n.GetName(), pi.Node}, "node %s: input %q takes output %d, but %q (op %s) has %d output%s",
					nodeLabel(g, i), in, pi.Index, pi.Node, nodes[j].GetOp(), k, plural(k))
			}
		}
		if n.GetOp() == "Print" {
			checkPrint(p, g, i)
		}
	}

	for _, cyc := range cycles(g, byName) {
		names := make([]string, len(cyc))
		for k, i := range cyc {
			names[k] = nodes[i].GetName()
		}
		if len(cyc) == 1 {
			p.errorf(KindCycle, names, "node %q is its own input (a cycle)", names[0])
		} else {
			p.errorf(KindCycle, names, "cycle through %d nodes: %s", len(names), quoteNames(names))
		}
	}

	var unused, unusedPrints []string
	for i, n := range nodes {
		if consumed[i] || n.GetName() == "" {
			continue
		}
		switch n.GetOp() {
		case "Const", "Placeholder":
			unused = append(unused, n.GetName())
		case "Print":
			unusedPrints = append(unusedPrints, n.GetName())
		}
	}
	if len(unused) > 0 {
		p.warnf(KindUnused, unused, "%d Const/Placeholder node%s that nothing consumes: %s", len(unused), plural(len(unused)), quoteNames(unused))
	}
	if len(unusedPrints) > 0 {
		p.warnf(KindPrintUnused, unusedPrints, "%d Print node%s that nothing consumes (they log only when fetched): %s", len(unusedPrints), plural(len(unusedPrints)), quoteNames(unusedPrints))
	}
	return p
}

// checkPrint reports a Print node whose attr U does not list one type per
// data input after the first, as the Print op requires.
func checkPrint(p *Problems, g *tfpb.GraphDef, i int) {
	n := g.GetNode()[i]
	u, ok := n.GetAttr()["U"]
	if !ok {
		return
	}
	data := 0
	for _, in := range n.GetInput() {
		if !strings.HasPrefix(in, "^") {
			data++
		}
	}
	if data == 0 {
		return
	}
	if got := len(u.GetList().GetType()); got != data-1 {
		p.errorf(KindPrintTypes, []string{n.GetName()}, "Print node %s logs %d input%s but its attr U lists %d type%s",
			nodeLabel(g, i), data-1, plural(data-1), got, plural(got))
	}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// isLoopBackEdge reports whether an edge from op is a loop's back edge, which
// TensorFlow's executor allows to close a cycle.
func isLoopBackEdge(op string) bool {
	return op == "NextIteration" || op == "RefNextIteration"
}

// edges returns, for each node, the nodes its inputs resolve to (data and
// control inputs, by TensorFlow's lax reading of names; unresolved inputs
// and loop back edges left out).
func edges(g *tfpb.GraphDef, byName map[string]int) [][]int {
	nodes := g.GetNode()
	in := make([][]int, len(nodes))
	for i, n := range nodes {
		for _, s := range n.GetInput() {
			j, ok := byName[tfname.NodeName(s)]
			if !ok || isLoopBackEdge(nodes[j].GetOp()) {
				continue
			}
			in[i] = append(in[i], j)
		}
	}
	return in
}

// cycles returns the strongly connected components of g that are cycles
// (more than one node, or a node that is its own input), each in node order,
// ordered by their first node. It is Tarjan's algorithm, iterative so that
// deep graphs cannot exhaust the stack.
func cycles(g *tfpb.GraphDef, byName map[string]int) [][]int {
	in := edges(g, byName)
	n := len(in)
	// Walk producer → consumer: build the successor lists.
	succ := make([][]int, n)
	self := make([]bool, n)
	for v, producers := range in {
		for _, u := range producers {
			if u == v {
				self[v] = true
			}
			succ[u] = append(succ[u], v)
		}
	}
	const unvisited = -1
	index := make([]int, n)
	low := make([]int, n)
	onStack := make([]bool, n)
	for i := range index {
		index[i] = unvisited
	}
	var stack []int
	type frame struct{ v, next int }
	var call []frame
	next := 0
	var out [][]int
	for root := 0; root < n; root++ {
		if index[root] != unvisited {
			continue
		}
		call = append(call, frame{root, 0})
		index[root], low[root] = next, next
		next++
		stack = append(stack, root)
		onStack[root] = true
		for len(call) > 0 {
			f := &call[len(call)-1]
			v := f.v
			if f.next < len(succ[v]) {
				w := succ[v][f.next]
				f.next++
				if index[w] == unvisited {
					index[w], low[w] = next, next
					next++
					stack = append(stack, w)
					onStack[w] = true
					call = append(call, frame{w, 0})
				} else if onStack[w] && index[w] < low[v] {
					low[v] = index[w]
				}
				continue
			}
			call = call[:len(call)-1]
			if len(call) > 0 {
				if u := call[len(call)-1].v; low[v] < low[u] {
					low[u] = low[v]
				}
			}
			if low[v] != index[v] {
				continue
			}
			var comp []int
			for {
				w := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				onStack[w] = false
				comp = append(comp, w)
				if w == v {
					break
				}
			}
			if len(comp) > 1 || self[v] {
				slices.Sort(comp)
				out = append(out, comp)
			}
		}
	}
	// Order the cycles by their first node.
	slices.SortFunc(out, func(a, b []int) int { return a[0] - b[0] })
	return out
}
