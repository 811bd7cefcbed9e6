package transform

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"

	"qcal/internal/tfname"
	"qcal/internal/tfpb"
)

// Transform is one registered graph transform.
type Transform struct {
	// Name is TensorFlow's name for it.
	Name string
	// Args are the argument names it reads, besides ignore_errors which
	// every transform takes.
	Args []string
	// Summary is a one-line description.
	Summary string

	run func(c *call, g *tfpb.GraphDef) (*tfpb.GraphDef, error)
}

// registry holds the transforms by name; it is filled by init in the files
// that implement them.
var registry = map[string]*Transform{}

// pending are TensorFlow transforms qcal will have but does not have yet;
// asking for one says so instead of "unknown".
var pending = map[string]string{}

func register(t *Transform) {
	if _, dup := registry[t.Name]; dup {
		panic("transform: " + t.Name + " registered twice")
	}
	registry[t.Name] = t
}

// Transforms returns the registered transforms sorted by name.
func Transforms() []*Transform {
	out := make([]*Transform, 0, len(registry))
	for _, t := range registry {
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b *Transform) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Lookup returns the transform called name, or nil.
func Lookup(name string) *Transform { return registry[name] }

func knownNames() string {
	var names []string
	for _, t := range Transforms() {
		names = append(names, t.Name)
	}
	return strings.Join(names, ", ")
}

// Check reports the first step that names an unknown transform or gives a
// transform an argument it does not take; the error lists the known ones.
func Check(steps []Step) error {
	for _, s := range steps {
		t := registry[s.Name]
		if t == nil {
			if why, ok := pending[s.Name]; ok {
				return fmt.Errorf("transform %s %s", s.Name, why)
			}
			return fmt.Errorf("unknown transform %q (known: %s)", s.Name, knownNames())
		}
		for _, a := range s.Args {
			if a.Name != "ignore_errors" && !slices.Contains(t.Args, a.Name) {
				known := append(slices.Clone(t.Args), "ignore_errors")
				return fmt.Errorf("transform %s: unknown argument %q (known: %s)", s.Name, a.Name, strings.Join(known, ", "))
			}
		}
	}
	return nil
}

// Options are what transforms need besides the graph and their arguments.
type Options struct {
	// Inputs and Outputs are transform_graph's -inputs and -outputs: node
	// names, or tensor names such as "x:0".
	Inputs, Outputs []string
	// Evaluator computes constant subgraphs for fold_constants.
	Evaluator ConstEvaluator
	// Ranges reads calibration logs for freeze_requantization_ranges.
	Ranges RangeReader
}

// StepResult is what one step did.
type StepResult struct {
	Step Step
	// Changed counts the node names whose node was added, removed or
	// altered by the step (a node moved elsewhere in the list is not
	// counted).
	Changed int
	// Nodes is the graph's node count after the step.
	Nodes int
	// Ignored is the error of a step run with ignore_errors=true; the graph
	// was then passed on unchanged, as in TensorFlow.
	Ignored error
	// Notes are sentences for the user: what was left alone and why.
	Notes []string
}

// Apply runs the steps in order on a copy of g, as TensorFlow's
// transform_graph does: each step sees the previous step's graph, the
// function library of g is kept, and after every step each input must name
// an existing node ("Invalid graph with inputs referring to nonexistent
// nodes" in TensorFlow; here the node and input are named). A step with
// ignore_errors=true whose transform fails leaves the graph as it was. The
// steps are checked with Check before anything runs. g is not modified.
func Apply(g *tfpb.GraphDef, steps []Step, opt Options) (*tfpb.GraphDef, []StepResult, error) {
	if err := Check(steps); err != nil {
		return nil, nil, err
	}
	cur := proto.Clone(g).(*tfpb.GraphDef)
	var results []StepResult
	for _, s := range steps {
		c := &call{step: s, opt: &opt}
		ignore, err := c.boolArg("ignore_errors", false)
		if err != nil {
			return nil, results, err
		}
		res := StepResult{Step: s}
		out, err := registry[s.Name].run(c, cur)
		if err != nil {
			if !ignore {
				return nil, results, fmt.Errorf("transform %s: %w", s.Name, err)
			}
			res.Ignored = err
			out = cur
		}
		out.Library = g.GetLibrary()
		if err := validInputs(out); err != nil {
			return nil, results, fmt.Errorf("transform %s produced an invalid graph: %w", s.Name, err)
		}
		res.Changed = changedNodes(cur, out)
		res.Nodes = len(out.GetNode())
		res.Notes = c.notes
		results = append(results, res)
		cur = out
	}
	return cur, results, nil
}

// validInputs is TensorFlow's IsGraphValid: every input names a node.
func validInputs(g *tfpb.GraphDef) error {
	names := make(map[string]bool, len(g.GetNode()))
	for _, n := range g.GetNode() {
		names[n.GetName()] = true
	}
	var bad []string
	for _, n := range g.GetNode() {
		for _, in := range n.GetInput() {
			if !names[tfname.NodeName(in)] {
				bad = append(bad, fmt.Sprintf("node %q: input %q names no node", n.GetName(), in))
			}
		}
	}
	if len(bad) == 0 {
		return nil
	}
	if len(bad) > 5 {
		bad = append(bad[:5], fmt.Sprintf("(and %d more)", len(bad)-5))
	}
	return errors.New(strings.Join(bad, "; "))
}

// changedNodes counts the names whose node differs between a and b.
func changedNodes(a, b *tfpb.GraphDef) int {
	before := make(map[string]*tfpb.NodeDef, len(a.GetNode()))
	for _, n := range a.GetNode() {
		before[n.GetName()] = n
	}
	changed := 0
	seen := make(map[string]bool, len(b.GetNode()))
	for _, n := range b.GetNode() {
		seen[n.GetName()] = true
		if old, ok := before[n.GetName()]; !ok || !proto.Equal(old, n) {
			changed++
		}
	}
	for name := range before {
		if !seen[name] {
			changed++
		}
	}
	return changed
}

// call is one running step: its arguments, the options and its notes.
type call struct {
	step  Step
	opt   *Options
	notes []string
}

func (c *call) notef(format string, a ...any) { c.notes = append(c.notes, fmt.Sprintf(format, a...)) }

// one returns the single value of an argument, def when it is absent, and
// TensorFlow's error when it is repeated.
func (c *call) one(name, def string) (string, bool, error) {
	v := c.step.Values(name)
	switch len(v) {
	case 0:
		return def, false, nil
	case 1:
		return v[0], true, nil
	}
	return "", false, fmt.Errorf("expected a single %q argument, but found %d occurrences", name, len(v))
}

func (c *call) boolArg(name string, def bool) (bool, error) {
	s, ok, err := c.one(name, "")
	if err != nil || !ok {
		return def, err
	}
	// TensorFlow's GetOneBoolParameter; ignore_errors also takes any case,
	// as ShouldIgnoreErrors lowercases it.
	switch {
	case s == "true" || s == "1" || name == "ignore_errors" && strings.EqualFold(s, "true"):
		return true, nil
	case s == "false" || s == "0" || name == "ignore_errors" && strings.EqualFold(s, "false"):
		return false, nil
	}
	return false, fmt.Errorf("transform %s: could not read %s=%q as a boolean (expected true, false, 0 or 1)", c.step.Name, name, s)
}

func (c *call) intArg(name string, def int64, bits int) (int64, error) {
	s, ok, err := c.one(name, "")
	if err != nil || !ok {
		return def, err
	}
	v, err := strconv.ParseInt(s, 10, bits)
	if err != nil {
		return 0, fmt.Errorf("could not read %s=%q as a %d-bit integer", name, s, bits)
	}
	return v, nil
}

func (c *call) floatArg(name string, def float32) (float32, error) {
	s, ok, err := c.one(name, "")
	if err != nil || !ok {
		return def, err
	}
	v, err := strconv.ParseFloat(s, 32)
	if err != nil {
		return 0, fmt.Errorf("could not read %s=%q as a number", name, s)
	}
	return float32(v), nil
}

// nodeSet returns the node names of tensor names such as "x:0" or "^x".
func nodeSet(names []string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[tfname.NodeName(n)] = true
	}
	return m
}

// consumers maps each node name to the nodes that name it as an input (data
// or control), each consumer once per input.
func consumers(g *tfpb.GraphDef) map[string][]*tfpb.NodeDef {
	m := map[string][]*tfpb.NodeDef{}
	for _, n := range g.GetNode() {
		for _, in := range n.GetInput() {
			name := tfname.NodeName(in)
			m[name] = append(m[name], n)
		}
	}
	return m
}

func byName(g *tfpb.GraphDef) map[string]*tfpb.NodeDef {
	m := make(map[string]*tfpb.NodeDef, len(g.GetNode()))
	for _, n := range g.GetNode() {
		m[n.GetName()] = n
	}
	return m
}

// dataInputs returns a node's inputs without its control inputs.
func dataInputs(n *tfpb.NodeDef) []string {
	var out []string
	for _, in := range n.GetInput() {
		if in != "" && in[0] != '^' {
			out = append(out, in)
		}
	}
	return out
}

// withGraph returns a graph with g's other fields and the given nodes.
func withNodes(g *tfpb.GraphDef, nodes []*tfpb.NodeDef) *tfpb.GraphDef {
	out := &tfpb.GraphDef{
		Node:      nodes,
		Library:   g.GetLibrary(),
		Version:   g.GetVersion(),
		Versions:  g.GetVersions(),
		DebugInfo: g.GetDebugInfo(),
	}
	return out
}
