package transform

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"

	"qcal/internal/graphinfo"
	"qcal/internal/tfname"
	"qcal/internal/tfpb"
)

func init() {
	register(&Transform{
		Name:    "fold_constants",
		Args:    []string{"clear_output_shapes", "exclude_op", "exclude_node", "max_constant_size_in_bytes"},
		Summary: "replace subgraphs that depend only on Consts by Consts of their values (needs qcal's executor)",
		run:     foldConstants,
	})
}

// neverFolded are ops whose value is not a function of their inputs, or
// that steer control flow, as TensorFlow's constant folding leaves them.
var neverFolded = map[string]bool{
	"Const": true, "Placeholder": true, "PlaceholderWithDefault": true, "PlaceholderV2": true,
	"Variable": true, "VariableV2": true, "VarHandleOp": true, "ReadVariableOp": true,
	"Switch": true, "RefSwitch": true, "Merge": true, "RefMerge": true, "Enter": true, "RefEnter": true,
	"Exit": true, "RefExit": true, "NextIteration": true, "RefNextIteration": true, "LoopCond": true,
	"NoOp": true, "Assert": true, "Print": true, "PrintV2": true, "_Send": true, "_Recv": true,
	"RandomUniform": true, "RandomUniformInt": true, "RandomStandardNormal": true, "TruncatedNormal": true,
	"RandomShuffle": true, "Multinomial": true, "ParameterizedTruncatedNormal": true,
}

// defaultMaxConstantBytes is TensorFlow's ConstantFoldingOptions default.
const defaultMaxConstantBytes = 10 << 20

// foldConstants is TensorFlow's fold_constants: every node whose data
// inputs all come from Consts or from nodes folded before it is computed by
// the Options' Evaluator, and the values that non-constant nodes (or
// -outputs) read become Consts. Control inputs from non-constant nodes do
// not block folding: as in TensorFlow, the new Const waits (^name) for every
// non-constant node its computation waited for. Arguments as in TensorFlow:
// clear_output_shapes (default true: drop the _output_shapes attributes),
// exclude_op and exclude_node (repeatable: never fold these),
// max_constant_size_in_bytes (default 10 MiB: larger results are not
// written as Consts). -inputs nodes count as fed, never constant; those that
// are PlaceholderWithDefault become Placeholders, and any other op there is
// an error, as in TensorFlow. Ops the evaluator has no kernel for, stateful
// and control-flow ops are left as they are.
//
// Where qcal writes names TensorFlow does not: a folded node whose only
// output read is output 0 becomes a Const of the same name in the same
// place (TensorFlow adds a Const with a generated "__cf__" name), and a
// node with several outputs read becomes Consts "<node>/__cf__<k>" for its
// outputs k. Afterwards, as TensorFlow's RemoveUnusedNodes, only what
// -outputs need is kept; without -outputs (TensorFlow would then empty the
// graph) only the constant nodes left without consumers are removed.
// TensorFlow also folds Shape, Size and Rank of tensors whose shapes it
// infers statically; qcal, without shape inference, does not.
func foldConstants(c *call, g *tfpb.GraphDef) (*tfpb.GraphDef, error) {
	clearShapes, err := c.boolArg("clear_output_shapes", true)
	if err != nil {
		return nil, err
	}
	maxBytes, err := c.intArg("max_constant_size_in_bytes", defaultMaxConstantBytes, 64)
	if err != nil {
		return nil, err
	}
	excludeOps, excludeNodes := c.step.Values("exclude_op"), c.step.Values("exclude_node")
	if c.opt.Evaluator == nil {
		return nil, errors.New("no evaluator was given to compute constants (a caller of package transform must set Options.Evaluator)")
	}
	inputs := nodeSet(c.opt.Inputs)
	outputs := nodeSet(c.opt.Outputs)

	// Inputs become Placeholders; _output_shapes go.
	work := mapNodes(g, func(n *tfpb.NodeDef) *tfpb.NodeDef {
		_, hasShapes := n.GetAttr()["_output_shapes"]
		isInput := inputs[n.GetName()] && n.GetOp() == "PlaceholderWithDefault"
		if !(clearShapes && hasShapes) && !isInput {
			return nil
		}
		n = proto.Clone(n).(*tfpb.NodeDef)
		if clearShapes {
			delete(n.Attr, "_output_shapes")
		}
		if isInput {
			n.Op = "Placeholder"
			n.Input = nil
		}
		return n
	})
	for _, n := range work.GetNode() {
		if inputs[n.GetName()] && n.GetOp() != "Placeholder" {
			return nil, fmt.Errorf("input %q was expected to be a Placeholder or PlaceholderWithDefault op, but was %s", n.GetName(), n.GetOp())
		}
	}

	// Decide what is constant, inputs before consumers.
	sorted, err := graphinfo.SortByExecutionOrder(work)
	if err != nil {
		return nil, err
	}
	constant := map[string]bool{} // Consts and foldable nodes
	folded := map[string]bool{}   // foldable nodes only
	// waits holds, for each constant node, the non-constant nodes it waits
	// for through control inputs, directly or through its constant inputs:
	// TensorFlow moves these control dependencies onto the replacement.
	waits := map[string][]string{}
	addWaits := func(n *tfpb.NodeDef) {
		var w []string
		for _, in := range n.GetInput() {
			p, ok := tfname.ParseInput(in)
			if !ok {
				continue
			}
			if constant[p.Node] {
				w = append(w, waits[p.Node]...)
			} else if p.Control {
				w = append(w, p.Node)
			}
		}
		slices.Sort(w)
		waits[n.GetName()] = slices.Compact(w)
	}
	for _, n := range sorted.GetNode() {
		name := n.GetName()
		if inputs[name] {
			continue
		}
		if n.GetOp() == "Const" {
			constant[name] = true
			addWaits(n)
			continue
		}
		if neverFolded[n.GetOp()] || slices.Contains(excludeOps, n.GetOp()) || slices.Contains(excludeNodes, name) ||
			len(dataInputs(n)) == 0 {
			continue
		}
		ok := true
		for _, in := range dataInputs(n) {
			if !constant[tfname.NodeName(in)] {
				ok = false
				break
			}
		}
		if ok && c.opt.Evaluator.CanEvaluate(n) {
			constant[name] = true
			folded[name] = true
			addWaits(n)
		}
	}
	finish := func(res *tfpb.GraphDef) (*tfpb.GraphDef, error) {
		if len(c.opt.Outputs) > 0 {
			return keepNeeded(res, c.opt.Inputs, c.opt.Outputs)
		}
		return pruneDeadConstants(res, g, constant, outputs), nil
	}
	if len(folded) == 0 {
		return finish(work)
	}

	// The frontier: folded outputs read by non-constant nodes or named in
	// -outputs. Each is computed once.
	read := map[string][]int{} // folded node → output indices read from outside
	addRead := func(node string, idx int) {
		if !slices.Contains(read[node], idx) {
			read[node] = append(read[node], idx)
		}
	}
	for _, n := range work.GetNode() {
		if constant[n.GetName()] {
			continue
		}
		for _, in := range n.GetInput() {
			p, ok := tfname.ParseInput(in)
			if ok && folded[p.Node] && !p.Control {
				addRead(p.Node, p.Index)
			}
		}
	}
	for _, o := range c.opt.Outputs {
		if p, ok := tfname.ParseInput(o); ok && folded[p.Node] {
			addRead(p.Node, p.Index)
		}
	}
	// Control-only consumers of a folded node need it to exist: read output 0.
	for _, n := range work.GetNode() {
		if constant[n.GetName()] {
			continue
		}
		for _, in := range n.GetInput() {
			if p, ok := tfname.ParseInput(in); ok && p.Control && folded[p.Node] && len(read[p.Node]) == 0 {
				addRead(p.Node, 0)
			}
		}
	}
	var fetch []string
	var fetchNode []string
	var fetchIdx []int
	for _, n := range work.GetNode() {
		idx := slices.Clone(read[n.GetName()])
		slices.Sort(idx)
		for _, i := range idx {
			fetch = append(fetch, n.GetName()+":"+strconv.Itoa(i))
			fetchNode = append(fetchNode, n.GetName())
			fetchIdx = append(fetchIdx, i)
		}
	}
	if len(fetch) == 0 {
		return finish(work)
	}
	// The closed subgraph that computes the fetches.
	need := map[string]bool{}
	nodes := byName(work)
	stack := slices.Clone(fetchNode)
	for len(stack) > 0 {
		name := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if need[name] {
			continue
		}
		need[name] = true
		for _, in := range dataInputs(nodes[name]) {
			stack = append(stack, tfname.NodeName(in))
		}
	}
	sub := &tfpb.GraphDef{Versions: work.GetVersions(), Library: work.GetLibrary()}
	for _, n := range work.GetNode() {
		if !need[n.GetName()] {
			continue
		}
		// The subgraph is closed: control inputs (on nodes outside it, or
		// ordering pure computations) are dropped.
		if ins := dataInputs(n); len(ins) != len(n.GetInput()) {
			n = proto.Clone(n).(*tfpb.NodeDef)
			n.Input = ins
		}
		sub.Node = append(sub.Node, n)
	}
	values, err := c.opt.Evaluator.Evaluate(sub, fetch)
	if err != nil {
		return nil, fmt.Errorf("computing %d constant tensor(s): %w", len(fetch), err)
	}
	if len(values) != len(fetch) {
		return nil, fmt.Errorf("the evaluator returned %d tensors for %d fetches", len(values), len(fetch))
	}

	// Replace the frontier nodes whose values fit.
	repl := map[string][]*tfpb.NodeDef{} // node → its Consts
	rename := map[string]string{}        // "node:k" → new input
	tooBig := map[string]bool{}
	for i, name := range fetchNode {
		if tensorBytes(values[i]) > maxBytes {
			tooBig[name] = true
		}
	}
	for i, name := range fetchNode {
		if tooBig[name] {
			continue
		}
		if len(read[name]) == 1 && fetchIdx[i] == 0 {
			repl[name] = []*tfpb.NodeDef{withWaits(constNode(name, values[i]), waits[name])}
			continue
		}
		cname := fmt.Sprintf("%s/__cf__%d", name, fetchIdx[i])
		if _, taken := nodes[cname]; taken {
			return nil, fmt.Errorf("node %q: cannot add the Const %q: a node of that name exists", name, cname)
		}
		repl[name] = append(repl[name], withWaits(constNode(cname, values[i]), waits[name]))
		rename[name+":"+strconv.Itoa(fetchIdx[i])] = cname
	}
	if len(tooBig) > 0 {
		c.notef("%d node%s left unfolded: a value larger than max_constant_size_in_bytes=%d", len(tooBig), plural(len(tooBig)), maxBytes)
	}
	var out []*tfpb.NodeDef
	for _, n := range work.GetNode() {
		if r, ok := repl[n.GetName()]; ok {
			if len(r) == 1 && r[0].GetName() == n.GetName() && n.GetDevice() != "" {
				r[0].Device = n.GetDevice()
			}
			out = append(out, r...)
			continue
		}
		if len(rename) > 0 {
			n = renameInputs(n, rename)
		}
		out = append(out, n)
	}
	return finish(withNodes(work, out))
}

// withWaits gives a Const the control inputs ^w of the nodes it waits for.
func withWaits(n *tfpb.NodeDef, waits []string) *tfpb.NodeDef {
	for _, w := range waits {
		n.Input = append(n.Input, "^"+w)
	}
	return n
}

// renameInputs rewires n's inputs "node:k" (or "node" for k = 0) through
// rename, control inputs "^node" to the node's first replacement.
func renameInputs(n *tfpb.NodeDef, rename map[string]string) *tfpb.NodeDef {
	var ins []string
	for i, in := range n.GetInput() {
		p, ok := tfname.ParseInput(in)
		if !ok {
			continue
		}
		var to string
		if p.Control {
			for k := 0; k < 64 && to == ""; k++ {
				if r, ok := rename[p.Node+":"+strconv.Itoa(k)]; ok {
					to = "^" + r
				}
			}
		} else if r, ok := rename[p.Node+":"+strconv.Itoa(p.Index)]; ok {
			to = r
		}
		if to == "" {
			continue
		}
		if ins == nil {
			ins = slices.Clone(n.GetInput())
		}
		ins[i] = to
	}
	if ins == nil {
		return n
	}
	n = proto.Clone(n).(*tfpb.NodeDef)
	n.Input = ins
	return n
}

// keepNeeded is TensorFlow's RemoveUnusedNodes of fold_constants: the nodes
// the outputs reach, not looking past the -inputs tensors, plus the inputs.
func keepNeeded(g *tfpb.GraphDef, inputs, outputs []string) (*tfpb.GraphDef, error) {
	nodes := byName(g)
	fed := map[string]bool{}
	for _, in := range inputs {
		fed[canonical(in)] = true
	}
	used := map[string]bool{}
	var queue []string
	for _, o := range outputs {
		name := tfname.NodeName(o)
		if !used[name] {
			used[name] = true
			queue = append(queue, name)
		}
	}
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		n := nodes[name]
		if n == nil {
			return nil, fmt.Errorf("bad graph structure, no node named %q found for input lookup", name)
		}
		for _, in := range n.GetInput() {
			if fed[canonical(in)] {
				continue
			}
			if m := tfname.NodeName(in); !used[m] {
				used[m] = true
				queue = append(queue, m)
			}
		}
	}
	for _, in := range inputs {
		used[tfname.NodeName(in)] = true
	}
	var out []*tfpb.NodeDef
	for _, n := range g.GetNode() {
		if used[n.GetName()] {
			out = append(out, n)
		}
	}
	return withNodes(g, out), nil
}

// canonical writes a tensor name as "node:k" ("^node" stays).
func canonical(s string) string {
	if strings.HasPrefix(s, "^") || strings.Contains(s, ":") {
		return s
	}
	return s + ":0"
}

// pruneDeadConstants removes, repeatedly, the constant nodes (Consts and
// folded nodes) that lost their last consumer: they had consumers in the
// original graph orig and have none now. Output nodes stay.
func pruneDeadConstants(g, orig *tfpb.GraphDef, constant, outputs map[string]bool) *tfpb.GraphDef {
	hadUsers := consumers(orig)
	nodes := g.GetNode()
	for {
		users := consumers(withNodes(g, nodes))
		var kept []*tfpb.NodeDef
		for _, n := range nodes {
			name := n.GetName()
			if constant[name] && !outputs[name] && len(users[name]) == 0 && len(hadUsers[name]) > 0 {
				continue
			}
			kept = append(kept, n)
		}
		if len(kept) == len(nodes) {
			return withNodes(g, kept)
		}
		nodes = kept
	}
}

// dtypeBytes are the sizes of fixed-size element types.
var dtypeBytes = map[tfpb.DataType]int64{
	tfpb.DataType_DT_FLOAT: 4, tfpb.DataType_DT_DOUBLE: 8, tfpb.DataType_DT_INT32: 4, tfpb.DataType_DT_UINT8: 1,
	tfpb.DataType_DT_INT16: 2, tfpb.DataType_DT_INT8: 1, tfpb.DataType_DT_INT64: 8, tfpb.DataType_DT_BOOL: 1,
	tfpb.DataType_DT_QINT8: 1, tfpb.DataType_DT_QUINT8: 1, tfpb.DataType_DT_QINT32: 4, tfpb.DataType_DT_BFLOAT16: 2,
	tfpb.DataType_DT_QINT16: 2, tfpb.DataType_DT_QUINT16: 2, tfpb.DataType_DT_UINT16: 2, tfpb.DataType_DT_HALF: 2,
	tfpb.DataType_DT_UINT32: 4, tfpb.DataType_DT_UINT64: 8, tfpb.DataType_DT_COMPLEX64: 8, tfpb.DataType_DT_COMPLEX128: 16,
}

// tensorBytes is a tensor's size as TensorFlow's TotalBytes counts it for
// fixed-size types; for others, the encoded size.
func tensorBytes(t *tfpb.TensorProto) int64 {
	if size, ok := dtypeBytes[t.GetDtype()]; ok {
		if n, ok := graphinfo.TensorElements(t); ok {
			return n * size
		}
	}
	return int64(proto.Size(t))
}
