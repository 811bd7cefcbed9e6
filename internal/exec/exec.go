package exec

import (
	"fmt"
	"io"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
	"unsafe"

	"qcal/internal/graphinfo"
	"qcal/internal/graphio"
	"qcal/internal/kernels"
	"qcal/internal/tensor"
	"qcal/internal/tfname"
	"qcal/internal/tfpb"
)

// Graph is a checked GraphDef ready to run. Run may be called from several
// goroutines at once.
type Graph struct {
	// Name prefixes errors: the file name, or what New was given.
	Name string
	// Inputs are the graph's Placeholders, in node order: the default feeds.
	Inputs []Input
	// Outputs are the nodes nothing consumes, as summarize_graph finds its
	// "possible outputs": the default fetches.
	Outputs []string
	// Log receives Print nodes' text; nil discards it. Set it before Run.
	Log io.Writer
	// OnStep, when set, is called after each kernel call with the op run
	// (a fused op for fused chains), the node's name and the time it took:
	// a per-op profile. Set it before Run; it is called from Run's goroutine.
	OnStep func(op, node string, d time.Duration)
	// NoFusion turns off the fusing of Conv2D/MatMul → BiasAdd → Relu
	// chains (and convolutions → Add of a bias vector → Relu) into one
	// kernel call. Set it before the first Run.
	NoFusion bool

	def    *tfpb.GraphDef
	nodes  []*node
	byName map[string]int

	// controlled marks the nodes some control input names: their values
	// are never fused away.
	controlled map[int]bool
	// constData marks the buffers of Const values, never recycled.
	constData map[unsafe.Pointer]bool

	mu    sync.Mutex
	plans map[string]*plan

	scratch sync.Pool
	// packs keeps the Const filters packed for GEMM, for every run.
	packs kernels.Packs
}

// Input is a Placeholder: its name, dtype and shape attr. Shape is nil when
// the rank is unknown; a dimension is -1 when unknown.
type Input struct {
	Name  string
	DType tfpb.DataType
	Shape []int
}

// String writes the input as "x float[?,28,28,1]".
func (in Input) String() string {
	return in.Name + " " + tensor.TypeName(in.DType) + shapeString(in.Shape)
}

type node struct {
	def      *tfpb.NodeDef
	kernel   kernels.Def
	inputs   []ref // data inputs, in order
	controls []int // nodes named by ^name inputs
	value    *tensor.Tensor
	input    *Input // for Placeholders
}

// ref is one output of one node.
type ref struct {
	node, index int
}

// Load reads a binary or text GraphDef file and checks it with New.
func Load(path string) (*Graph, error) {
	g, _, err := graphio.Load(path)
	if err != nil {
		return nil, err
	}
	return New(g, path)
}

// maxListed bounds the nodes an error names for one problem.
const maxListed = 5

// New checks g and returns it ready to run; name prefixes its errors. The
// checks: every node's op has a kernel (one error lists them all), the
// graph is frozen (no variables), inputs name existing nodes, each node's
// attrs suit its kernel, each Const decodes, each Placeholder has a dtype
// a tensor can hold, each edge carries the dtype its consumer expects,
// and the shapes known before any input is read (Placeholder shape attrs,
// Consts) do not contradict each other.
func New(g *tfpb.GraphDef, name string) (*Graph, error) {
	gr := &Graph{Name: name, def: g, byName: make(map[string]int, len(g.GetNode())), constData: map[unsafe.Pointer]bool{}, controlled: map[int]bool{}}
	for i, n := range g.GetNode() {
		if _, dup := gr.byName[n.GetName()]; dup {
			return nil, fmt.Errorf("%s: node %q: two nodes have this name", name, n.GetName())
		}
		gr.byName[n.GetName()] = i
	}
	if err := gr.checkOps(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	for _, n := range g.GetNode() {
		nd := &node{def: n}
		nd.kernel, _ = kernels.Lookup(n.GetOp())
		for _, s := range n.GetInput() {
			in, ok := tfname.ParseInput(s)
			if !ok {
				return nil, fmt.Errorf("%s: node %q: malformed input %q", name, n.GetName(), s)
			}
			j, ok := gr.byName[in.Node]
			if !ok {
				return nil, fmt.Errorf("%s: node %q: input %q names no node", name, n.GetName(), s)
			}
			if in.Control {
				nd.controls = append(nd.controls, j)
				gr.controlled[j] = true
			} else {
				nd.inputs = append(nd.inputs, ref{j, in.Index})
			}
		}
		if nd.kernel.Check != nil {
			if err := nd.kernel.Check(n); err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
		}
		switch n.GetOp() {
		case "Const":
			v, err := kernels.AttrTensor(n, "value")
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			if t, err := kernels.AttrType(n, "dtype"); err == nil && t != v.DType {
				return nil, fmt.Errorf("%s: node %q: dtype attr is %s but the value is %s",
					name, n.GetName(), tensor.TypeName(t), tensor.TypeName(v.DType))
			}
			nd.value = v
			if d := bufOf(v); d != nil {
				gr.constData[d] = true
			}
		case "Placeholder":
			in, err := placeholderInput(n)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			nd.input = &in
			gr.Inputs = append(gr.Inputs, in)
		}
		gr.nodes = append(gr.nodes, nd)
	}
	if err := gr.checkEdges(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if err := gr.checkShapes(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	for _, o := range graphinfo.Summarize(g).Outputs {
		gr.Outputs = append(gr.Outputs, o.Name)
	}
	gr.plans = map[string]*plan{}
	return gr, nil
}

func placeholderInput(n *tfpb.NodeDef) (Input, error) {
	t, err := kernels.AttrType(n, "dtype")
	if err != nil {
		return Input{}, err
	}
	if !tensor.Supported(t) {
		return Input{}, fmt.Errorf("node %q: placeholder dtype %s is not supported", n.GetName(), tensor.TypeName(t))
	}
	in := Input{Name: n.GetName(), DType: t}
	a, ok := n.GetAttr()["shape"]
	if !ok {
		return in, nil
	}
	s := a.GetShape()
	if s == nil || s.GetUnknownRank() {
		return in, nil
	}
	in.Shape = make([]int, len(s.GetDim()))
	for i, d := range s.GetDim() {
		in.Shape[i] = int(max(d.GetSize(), -1))
	}
	return in, nil
}

// checkEdges checks every data input against what its producer makes,
// where both are known: the output index exists, and its dtype is the
// consumer's T for the inputs the kernel says are of type T.
func (gr *Graph) checkEdges() error {
	types := make([][]tfpb.DataType, len(gr.nodes))
	for i, nd := range gr.nodes {
		switch {
		case nd.value != nil:
			types[i] = []tfpb.DataType{nd.value.DType}
		default:
			if t, err := graphinfo.OutputTypes(nd.def); err == nil {
				types[i] = t
			}
		}
	}
	for _, nd := range gr.nodes {
		want, err := kernels.AttrType(nd.def, "T")
		checkT := err == nil && nd.kernel.TInputs != 0
		for j, r := range nd.inputs {
			out := types[r.node]
			if out == nil {
				continue
			}
			src := gr.nodes[r.node].def.GetName()
			if r.index >= len(out) {
				return fmt.Errorf("node %q: input %d reads output %d of %q, which has %d", nd.def.GetName(), j, r.index, src, len(out))
			}
			if checkT && (nd.kernel.TInputs == kernels.AllInputs || j < nd.kernel.TInputs) && out[r.index] != want {
				return fmt.Errorf("node %q (%s): input %d from %q is %s, but the node's T is %s",
					nd.def.GetName(), nd.def.GetOp(), j, src, tensor.TypeName(out[r.index]), tensor.TypeName(want))
			}
		}
	}
	return nil
}

// variableOps are the ops holding the variables of an unfrozen graph.
var variableOps = map[string]bool{"Variable": true, "VariableV2": true, "VarHandleOp": true}

// checkOps returns one error naming every op without a kernel and the
// nodes that use it, or saying the graph is not frozen.
func (gr *Graph) checkOps() error {
	users := map[string][]string{}
	var vars []string
	for _, n := range gr.def.GetNode() {
		if variableOps[n.GetOp()] {
			vars = append(vars, n.GetName())
		}
		if !kernels.Supported(n.GetOp()) {
			users[n.GetOp()] = append(users[n.GetOp()], n.GetName())
		}
	}
	if len(vars) > 0 {
		return fmt.Errorf("graph is not frozen: %d variable nodes (%s); freeze it first so that variables become Consts",
			len(vars), listNames(vars))
	}
	if len(users) == 0 {
		return nil
	}
	ops := make([]string, 0, len(users))
	for op := range users {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	parts := make([]string, len(ops))
	for i, op := range ops {
		word := "node"
		if len(users[op]) > 1 {
			word = "nodes"
		}
		parts[i] = fmt.Sprintf("%s (%s %s)", op, word, listNames(users[op]))
	}
	return fmt.Errorf("%d unsupported ops: %s", len(ops), strings.Join(parts, ", "))
}

func listNames(names []string) string {
	q := make([]string, 0, maxListed)
	for i, n := range names {
		if i == maxListed {
			break
		}
		q = append(q, fmt.Sprintf("%q", n))
	}
	s := strings.Join(q, ", ")
	if len(names) > maxListed {
		s += fmt.Sprintf(" and %d more", len(names)-maxListed)
	}
	return s
}

func shapeString(shape []int) string {
	if shape == nil {
		return "<unknown>"
	}
	var b strings.Builder
	b.WriteByte('[')
	for i, d := range shape {
		if i > 0 {
			b.WriteByte(',')
		}
		if d < 0 {
			b.WriteByte('?')
		} else {
			fmt.Fprint(&b, d)
		}
	}
	b.WriteByte(']')
	return b.String()
}

// plan is the work of one Run signature: which nodes run, in which order,
// and when each value dies.
type plan struct {
	order   []int       // nodes to run, topological
	steps   []step      // what Run does: order with fed nodes left out and chains fused
	fed     map[int]int // node → index in the sorted feed names
	feeds   []string    // sorted feed node names
	fetches []ref
	// uses counts the consumers of each output among the planned nodes
	// plus the fetches; a value is dropped when its count reaches 0.
	uses map[ref]int

	// Run keeps the values in slots, one an output some step or fetch
	// reads (numbered by slots), rather than in maps keyed by ref: a map
	// operation per value cost as much as MobileNet's small int8 kernels.
	// slotUses is uses by slot; feedSlot and fetchSlot are the slots of
	// the feeds (-1: nothing reads it) and of the fetches.
	slotUses  []int
	feedSlot  []int
	fetchSlot []int
}

// slotRefs numbers the outputs that p.uses counts and fills in the steps'
// slots and the feeds' and fetches' (after fusion: the final steps).
func (gr *Graph) slotRefs(p *plan) {
	slot := make(map[ref]int, len(p.uses))
	refs := make([]ref, 0, len(p.uses))
	for r := range p.uses {
		refs = append(refs, r)
	}
	slices.SortFunc(refs, func(a, b ref) int {
		if a.node != b.node {
			return a.node - b.node
		}
		return a.index - b.index
	})
	p.slotUses = make([]int, len(refs))
	outs := map[int][]int{} // node → output k's slot
	for i, r := range refs {
		slot[r] = i
		p.slotUses[i] = p.uses[r]
		o := outs[r.node]
		for len(o) <= r.index {
			o = append(o, -1)
		}
		o[r.index] = i
		outs[r.node] = o
	}
	for k := range p.steps {
		st := &p.steps[k]
		st.in = make([]int, len(st.inputs))
		for i, r := range st.inputs {
			st.in[i] = slot[r]
		}
		st.out = outs[st.node]
	}
	p.feedSlot = make([]int, len(p.feeds))
	for i, name := range p.feeds {
		p.feedSlot[i] = -1
		if r, err := gr.tensorRef(name); err == nil {
			if j, ok := slot[ref{r.node, 0}]; ok {
				p.feedSlot[i] = j
			}
		}
	}
	p.fetchSlot = make([]int, len(p.fetches))
	for i, r := range p.fetches {
		p.fetchSlot[i] = slot[r]
	}
}

func (gr *Graph) tensorRef(s string) (ref, error) {
	in, ok := tfname.ParseInput(s)
	if !ok || in.Control {
		return ref{}, fmt.Errorf("malformed tensor name %q", s)
	}
	j, ok := gr.byName[in.Node]
	if !ok {
		return ref{}, fmt.Errorf("no node named %q", in.Node)
	}
	return ref{j, in.Index}, nil
}

// planFor returns (building and caching it) the plan for feeds and fetches.
func (gr *Graph) planFor(feeds []string, fetches []string) (*plan, error) {
	key := strings.Join(feeds, "\x00") + "\x01" + strings.Join(fetches, "\x00")
	gr.mu.Lock()
	p, ok := gr.plans[key]
	gr.mu.Unlock()
	if ok {
		return p, nil
	}
	p = &plan{fed: map[int]int{}, feeds: feeds, uses: map[ref]int{}}
	for i, f := range feeds {
		r, err := gr.tensorRef(f)
		if err != nil {
			return nil, fmt.Errorf("feed: %w", err)
		}
		if r.index != 0 {
			return nil, fmt.Errorf("feed %q: only a node's first output can be fed", f)
		}
		p.fed[r.node] = i
	}
	for _, f := range fetches {
		r, err := gr.tensorRef(f)
		if err != nil {
			return nil, fmt.Errorf("fetch: %w", err)
		}
		p.fetches = append(p.fetches, r)
	}
	// Nodes the fetches need: walk back from them, stopping at feeds.
	need := make([]bool, len(gr.nodes))
	var stack []int
	for _, r := range p.fetches {
		if !need[r.node] {
			need[r.node] = true
			stack = append(stack, r.node)
		}
	}
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if _, fed := p.fed[i]; fed {
			continue
		}
		nd := gr.nodes[i]
		for _, r := range nd.inputs {
			if !need[r.node] {
				need[r.node] = true
				stack = append(stack, r.node)
			}
		}
		for _, j := range nd.controls {
			if !need[j] {
				need[j] = true
				stack = append(stack, j)
			}
		}
	}
	// Kahn's algorithm over the needed nodes; ties broken by node order so
	// that the plan is deterministic.
	pending := make([]int, len(gr.nodes))
	consumers := make([][]int, len(gr.nodes))
	for i, nd := range gr.nodes {
		if !need[i] {
			continue
		}
		if _, fed := p.fed[i]; fed {
			continue
		}
		deps := map[int]bool{}
		for _, r := range nd.inputs {
			deps[r.node] = true
		}
		for _, j := range nd.controls {
			deps[j] = true
		}
		for j := range deps {
			pending[i]++
			consumers[j] = append(consumers[j], i)
		}
	}
	var ready []int
	for i := range gr.nodes {
		if need[i] && pending[i] == 0 {
			ready = append(ready, i)
		}
	}
	for len(ready) > 0 {
		slices.Sort(ready)
		i := ready[0]
		ready = ready[1:]
		p.order = append(p.order, i)
		for _, c := range consumers[i] {
			pending[c]--
			if pending[c] == 0 {
				ready = append(ready, c)
			}
		}
	}
	want := 0
	for i := range need {
		if need[i] {
			want++
		}
	}
	if len(p.order) != want {
		var stuck []string
		for i := range need {
			if need[i] && pending[i] > 0 {
				stuck = append(stuck, gr.nodes[i].def.GetName())
			}
		}
		return nil, fmt.Errorf("the nodes the outputs need form a cycle (through %s)", listNames(stuck))
	}
	for _, i := range p.order {
		if _, fed := p.fed[i]; fed {
			continue
		}
		nd := gr.nodes[i]
		p.steps = append(p.steps, step{node: i, def: nd.def, run: nd.kernel.Run, inputs: nd.inputs, value: nd.value, input: nd.input})
	}
	p.countUses()
	if !gr.NoFusion {
		gr.fuse(p)
		p.countUses()
	}
	for k := range p.steps {
		st := &p.steps[k]
		st.constIn = 0
		for i, r := range st.inputs {
			if _, fed := p.fed[r.node]; i < 64 && !fed && gr.nodes[r.node].value != nil {
				st.constIn |= 1 << uint(i)
			}
		}
	}
	gr.slotRefs(p)
	gr.mu.Lock()
	gr.plans[key] = p
	gr.mu.Unlock()
	return p, nil
}

// step is one kernel call of a plan: it runs def (a graph node, or a fused
// node the plan built) on inputs and stores the outputs as node's.
type step struct {
	node    int
	def     *tfpb.NodeDef
	run     kernels.Kernel
	inputs  []ref
	constIn uint64         // bit i: input i is a Const node's output (kernels.Context.ConstInputs)
	value   *tensor.Tensor // a Const's value
	input   *Input         // a Placeholder: an error when it runs
	in      []int          // the inputs' slots (plan.slotRefs)
	out     []int          // output k's slot, -1 (or past the end) when nothing reads it
}

// countUses counts the consumers of each output among the steps, plus the
// fetches.
func (p *plan) countUses() {
	p.uses = map[ref]int{}
	for _, s := range p.steps {
		for _, r := range s.inputs {
			p.uses[r]++
		}
	}
	for _, r := range p.fetches {
		p.uses[r]++
	}
}

// fusable are the ops whose output a BiasAdd (and a Relu or Relu6 after
// it) can be fused into, and the fused op.
var fusable = map[string]string{
	"Conv2D":                "_FusedConv2D",
	"DepthwiseConv2dNative": "_FusedDepthwiseConv2dNative",
	"MatMul":                "_FusedMatMul",
}

// fuse replaces chains Conv2D|DepthwiseConv2dNative|MatMul → BiasAdd
// [→ Relu|Relu6] by one fused step (and Add for BiasAdd after a
// convolution when the Add adds a bias vector, see isBias), as TensorFlow's grappler remapper
// does, when nothing else reads the intermediate values (no other
// consumer, no fetch, no control input naming them). The fused step runs
// where the chain's last node ran and stores its output as that node's.
func (gr *Graph) fuse(p *plan) {
	at := map[int]int{} // node → index in p.steps
	for k, s := range p.steps {
		at[s.node] = k
	}
	consumer := map[ref]int{} // the step reading an output, when one does
	for k, s := range p.steps {
		for _, r := range s.inputs {
			consumer[r] = k
		}
	}
	single := func(r ref, op string) (int, bool) {
		if p.uses[r] != 1 || gr.controlled[r.node] {
			return 0, false
		}
		k, ok := consumer[r]
		if !ok || p.steps[k].def.GetOp() != op && !(op == "act" && isAct(p.steps[k].def.GetOp())) {
			return 0, false
		}
		if s := p.steps[k]; len(s.inputs) == 0 || s.inputs[0] != r {
			return 0, false
		}
		return k, true
	}
	drop := map[int]bool{}
	for ka, a := range p.steps {
		fused, ok := fusable[a.def.GetOp()]
		if !ok || drop[ka] || !isFloat(a.def) {
			continue
		}
		kb, ok := single(ref{a.node, 0}, "BiasAdd")
		if !ok {
			kb, ok = single(ref{a.node, 0}, "Add")
			if !ok {
				kb, ok = single(ref{a.node, 0}, "AddV2")
			}
			ok = ok && gr.isBias(p, a, p.steps[kb])
		}
		if !ok || !isFloat(p.steps[kb].def) || len(p.steps[kb].inputs) != 2 {
			continue
		}
		ops := []string{"BiasAdd"} // an Add of a bias is one: x + b[j] either way
		last := kb
		if kc, ok := single(ref{p.steps[kb].node, 0}, "act"); ok && isFloat(p.steps[kc].def) {
			ops = append(ops, p.steps[kc].def.GetOp())
			last = kc
		}
		def := &tfpb.NodeDef{Name: a.def.GetName(), Op: fused, Attr: map[string]*tfpb.AttrValue{}}
		for k, v := range a.def.GetAttr() {
			def.Attr[k] = v
		}
		list := &tfpb.AttrValue_ListValue{}
		for _, o := range ops {
			list.S = append(list.S, []byte(o))
		}
		def.Attr["fused_ops"] = &tfpb.AttrValue{Value: &tfpb.AttrValue_List{List: list}}
		def.Attr["num_args"] = &tfpb.AttrValue{Value: &tfpb.AttrValue_I{I: 1}}
		kd, ok := kernels.Lookup(fused)
		if !ok || (kd.Check != nil && kd.Check(def) != nil) {
			continue
		}
		inputs := []ref{a.inputs[0], a.inputs[1], p.steps[kb].inputs[1]}
		def.Input = []string{a.def.GetInput()[0], a.def.GetInput()[1], p.steps[kb].def.GetInput()[1]}
		p.steps[last] = step{node: p.steps[last].node, def: def, run: kd.Run, inputs: inputs}
		drop[ka] = true
		if last != kb {
			drop[kb] = true
		}
	}
	kept := p.steps[:0]
	for k, s := range p.steps {
		if !drop[k] {
			kept = append(kept, s)
		}
	}
	p.steps = kept
}

// isBias reports whether add, an Add or AddV2 reading conv's output as
// its first input, adds a bias: a Const float vector with one value per
// output channel of the Conv2D or DepthwiseConv2dNative conv, whose filter
// is a Const too (neither fed). It broadcasts along the last dimension and
// so computes BiasAdd's x + b[j] exactly (fold_batch_norms leaves such
// Adds after every convolution of MobileNet v1).
func (gr *Graph) isBias(p *plan, conv, add step) bool {
	if len(add.inputs) != 2 || len(conv.inputs) != 2 {
		return false
	}
	_, fb := p.fed[add.inputs[1].node]
	_, ff := p.fed[conv.inputs[1].node]
	if fb || ff {
		return false
	}
	b, f := gr.nodes[add.inputs[1].node].value, gr.nodes[conv.inputs[1].node].value
	if b == nil || f == nil || add.inputs[1].index != 0 || conv.inputs[1].index != 0 ||
		b.DType != tfpb.DataType_DT_FLOAT || b.Rank() != 1 || f.Rank() != 4 {
		return false
	}
	oc := f.Shape[3]
	switch conv.def.GetOp() {
	case "Conv2D":
	case "DepthwiseConv2dNative":
		oc *= f.Shape[2]
	default:
		return false
	}
	return b.Shape[0] == oc
}

func isAct(op string) bool { return op == "Relu" || op == "Relu6" }

// isFloat reports whether a node's T attr is float (or absent: float is
// the default of the ops fusion handles).
func isFloat(n *tfpb.NodeDef) bool {
	if !kernels.HasAttr(n, "T") {
		return true
	}
	t, err := kernels.AttrType(n, "T")
	return err == nil && t == tfpb.DataType_DT_FLOAT
}

// Run computes the tensors named by outputs ("name" or "name:1") from the
// fed tensors (keyed by node name; each feed replaces that node's first
// output). A nil outputs means gr.Outputs. Fed tensors must match their
// Placeholder's dtype and known dimensions. Run returns no partial result:
// either every output or an error. The outputs may share elements with
// the feeds, with the graph's Consts or with each other: treat them as
// read-only. A later Run never writes into them.
func (gr *Graph) Run(feeds map[string]*tensor.Tensor, outputs []string) ([]*tensor.Tensor, error) {
	out, err := gr.run(feeds, outputs)
	if err != nil && gr.Name != "" {
		return nil, fmt.Errorf("%s: %w", gr.Name, err)
	}
	return out, err
}

func (gr *Graph) run(feeds map[string]*tensor.Tensor, outputs []string) ([]*tensor.Tensor, error) {
	if outputs == nil {
		outputs = gr.Outputs
	}
	names := make([]string, 0, len(feeds))
	for k := range feeds {
		names = append(names, k)
	}
	sort.Strings(names)
	p, err := gr.planFor(names, outputs)
	if err != nil {
		return nil, err
	}
	values := make([]*tensor.Tensor, len(p.slotUses))
	left := slices.Clone(p.slotUses)
	// live counts the stored values starting at each buffer (float,
	// 8-bit or int32); a buffer no value starts at any more goes back to
	// the scratch for reuse (kernels.Scratch.Recycle keeps the dtypes it
	// can reuse), unless a feed owns it or it is a Const's (whose values
	// are not counted).
	live := map[unsafe.Pointer]int{}
	owned := map[unsafe.Pointer]bool{}
	for i, name := range p.feeds {
		x := feeds[name]
		r, _ := gr.tensorRef(name)
		if err := gr.checkFeed(gr.nodes[r.node], name, x); err != nil {
			return nil, err
		}
		if p.feedSlot[i] < 0 {
			continue
		}
		values[p.feedSlot[i]] = x
		if p := bufOf(x); p != nil {
			owned[p] = true
			live[p]++
		}
	}
	log := gr.Log
	if log == nil {
		log = io.Discard
	}
	scratch, _ := gr.scratch.Get().(*kernels.Scratch)
	if scratch == nil {
		scratch = new(kernels.Scratch)
	}
	defer gr.scratch.Put(scratch)
	ctx := &kernels.Context{Log: log, Scratch: scratch, Packs: &gr.packs}
	for _, st := range p.steps {
		if st.value != nil {
			// A Const: never recycled (gr.constData), so not counted.
			if len(st.out) > 0 && st.out[0] >= 0 {
				values[st.out[0]] = st.value
			}
			continue
		}
		if st.input != nil {
			return nil, fmt.Errorf("input %q is not fed (%s)", st.def.GetName(), st.input)
		}
		ctx.Node = st.def
		ctx.ConstInputs = st.constIn
		ctx.Inputs, ctx.Const = ctx.Inputs[:0], ctx.Const[:0]
		for i, j := range st.in {
			x := values[j]
			if x == nil {
				r := st.inputs[i]
				return nil, fmt.Errorf("node %q: input %s:%d has no value (the node has fewer outputs)",
					st.def.GetName(), gr.nodes[r.node].def.GetName(), r.index)
			}
			ctx.Inputs = append(ctx.Inputs, x)
			// A Const's buffer (or a view of it) is never written or recycled.
			d := bufOf(x)
			ctx.Const = append(ctx.Const, d != nil && gr.constData[d])
		}
		var t0 time.Time
		if gr.OnStep != nil {
			t0 = time.Now()
		}
		outs, err := runKernel(st.run, ctx)
		if err != nil {
			return nil, err
		}
		if gr.OnStep != nil {
			gr.OnStep(st.def.GetOp(), st.def.GetName(), time.Since(t0))
		}
		for k, x := range outs {
			if x != nil && k < len(st.out) && st.out[k] >= 0 {
				values[st.out[k]] = x
				if d := bufOf(x); d != nil {
					live[d]++
				}
			}
		}
		// Drop each input after its last use, so that its buffer can be
		// reused while later nodes run.
		for _, j := range st.in {
			left[j]--
			if left[j] == 0 {
				x := values[j]
				values[j] = nil
				if d := bufOf(x); d != nil && !gr.constData[d] {
					live[d]--
					if live[d] == 0 && !owned[d] {
						scratch.Recycle(x)
					}
				}
			}
		}
	}
	out := make([]*tensor.Tensor, len(p.fetches))
	for k, r := range p.fetches {
		x := values[p.fetchSlot[k]]
		if x == nil {
			return nil, fmt.Errorf("output %q has no value (node %q has fewer outputs)", outputs[k], gr.nodes[r.node].def.GetName())
		}
		out[k] = x
	}
	return out, nil
}

// bufOf returns the address of the first element of a float, 8-bit or
// int32 tensor's buffer, which identifies it, or nil (other dtypes, no
// element).
func bufOf(x *tensor.Tensor) unsafe.Pointer {
	if x == nil {
		return nil
	}
	switch {
	case len(x.F32) > 0:
		return unsafe.Pointer(&x.F32[0])
	case len(x.U8) > 0:
		return unsafe.Pointer(&x.U8[0])
	case len(x.I8) > 0:
		return unsafe.Pointer(&x.I8[0])
	case len(x.I32) > 0:
		return unsafe.Pointer(&x.I32[0])
	}
	return nil
}

// runKernel calls k, turning a panic (a kernel's bug on inputs it did not
// expect) into an error naming the node, so that bad data never crashes
// the caller.
func runKernel(k kernels.Kernel, ctx *kernels.Context) (outs []*tensor.Tensor, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("node %q (%s): internal error: %v\n%s", ctx.Node.GetName(), ctx.Node.GetOp(), r, debug.Stack())
		}
	}()
	return k(ctx)
}

// checkFeed checks a fed tensor against its Placeholder.
func (gr *Graph) checkFeed(nd *node, name string, x *tensor.Tensor) error {
	if x == nil {
		return fmt.Errorf("input %q: fed a nil tensor", name)
	}
	if x.Len() != x.NumElements() {
		return fmt.Errorf("input %q: tensor %s holds %d elements", name, x, x.Len())
	}
	in := nd.input
	if in == nil {
		return nil
	}
	if x.DType != in.DType {
		return fmt.Errorf("input %q: fed %s, the placeholder wants %s", name, x, in)
	}
	if in.Shape == nil {
		return nil
	}
	ok := len(x.Shape) == len(in.Shape)
	for i := 0; ok && i < len(x.Shape); i++ {
		ok = in.Shape[i] < 0 || in.Shape[i] == x.Shape[i]
	}
	if !ok {
		return fmt.Errorf("input %q: fed shape %s, the placeholder's shape is %s",
			name, tensor.ShapeString(x.Shape), shapeString(in.Shape))
	}
	return nil
}
