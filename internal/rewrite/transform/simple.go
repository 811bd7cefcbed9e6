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
		Name:    "strip_unused_nodes",
		Args:    []string{"type", "shape", "name", "type_for_name", "shape_for_name"},
		Summary: "keep only the nodes -outputs need; -inputs nodes become Placeholders (type=, shape=, or per name=)",
		run:     stripUnusedNodes,
	})
	register(&Transform{
		Name:    "remove_nodes",
		Args:    []string{"op", "max_inputs"},
		Summary: "remove nodes of the given ops (op= repeatable), wiring their consumers to their first input; -inputs/-outputs nodes stay",
		run:     removeNodes,
	})
	register(&Transform{
		Name:    "remove_attribute",
		Args:    []string{"attribute_name", "op_name"},
		Summary: "delete an attribute from every node (of op_name, if given)",
		run:     removeAttribute,
	})
	register(&Transform{
		Name:    "rename_attribute",
		Args:    []string{"old_attribute_name", "new_attribute_name", "op_name"},
		Summary: "rename an attribute in every node (of op_name, if given)",
		run:     renameAttribute,
	})
	register(&Transform{
		Name:    "remove_device",
		Summary: "clear every node's device",
		run:     removeDevice,
	})
	register(&Transform{
		Name:    "sort_by_execution_order",
		Summary: "order the nodes so that each comes after its inputs, as TensorFlow's transforms do",
		run:     sortByExecutionOrder,
	})
}

// stripUnusedNodes is TensorFlow's strip_unused_nodes: it keeps the nodes
// the outputs reach through data and control inputs, stopping at the
// -inputs nodes, which become Placeholders (a Placeholder stays as it is;
// any other node is replaced by one of dtype type= (default float) and shape
// shape= (default scalar), or type_for_name=/shape_for_name= paired with
// name=). Node order is kept. qcal needs -outputs (TensorFlow, given none,
// empties the graph) and also accepts -1 for an unknown dimension in shapes.
func stripUnusedNodes(c *call, g *tfpb.GraphDef) (*tfpb.GraphDef, error) {
	if len(c.opt.Outputs) == 0 {
		return nil, errors.New("needs -outputs: the nodes whose inputs are kept")
	}
	// Check the arguments before looking at the graph.
	if _, err := placeholderType(c, ""); err != nil {
		return nil, err
	}
	if _, err := placeholderShape(c, ""); err != nil {
		return nil, err
	}
	inputs := nodeSet(c.opt.Inputs)
	required := map[string]bool{}
	for n := range inputs {
		required[n] = true
	}
	nodes := byName(g)
	var queue []string
	for _, o := range c.opt.Outputs {
		queue = append(queue, tfname.NodeName(o))
	}
	visited := map[string]bool{}
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		if visited[name] {
			continue
		}
		visited[name] = true
		required[name] = true
		if inputs[name] {
			continue
		}
		n := nodes[name]
		if n == nil {
			return nil, fmt.Errorf("input node %q not found in graph", name)
		}
		for _, in := range n.GetInput() {
			if in := tfname.NodeName(in); !required[in] {
				queue = append(queue, in)
			}
		}
	}
	var out []*tfpb.NodeDef
	for _, n := range g.GetNode() {
		if !required[n.GetName()] {
			continue
		}
		if !inputs[n.GetName()] || n.GetOp() == "Placeholder" {
			out = append(out, n)
			continue
		}
		dt, err := placeholderType(c, n.GetName())
		if err != nil {
			return nil, err
		}
		shape, err := placeholderShape(c, n.GetName())
		if err != nil {
			return nil, err
		}
		out = append(out, &tfpb.NodeDef{
			Name: n.GetName(),
			Op:   "Placeholder",
			Attr: map[string]*tfpb.AttrValue{
				"dtype": {Value: &tfpb.AttrValue_Type{Type: dt}},
				"shape": {Value: &tfpb.AttrValue_Shape{Shape: shape}},
			},
		})
	}
	return withNodes(g, out), nil
}

// perName returns the value of perArg paired with name=node, or "", after
// TensorFlow's check that the two lists pair up.
func perName(c *call, perArg, node, example string) (string, error) {
	names, per := c.step.Values("name"), c.step.Values(perArg)
	if len(names) == 0 && len(per) == 0 {
		return "", nil
	}
	if len(names) != len(per) {
		return "", fmt.Errorf("you must pass a %s argument for every name, e.g. %s", perArg, example)
	}
	v := ""
	for i, n := range names {
		if n == node {
			v = per[i] // the last pairing wins, as in TensorFlow
		}
	}
	return v, nil
}

func placeholderType(c *call, node string) (tfpb.DataType, error) {
	s, _, err := c.one("type", "float")
	if err != nil {
		return 0, errors.New("you must pass no more than one default type")
	}
	if v, err := perName(c, "type_for_name", node, "strip_unused_nodes(name=foo, type_for_name=float, name=bar, type_for_name=quint8)"); err != nil {
		return 0, err
	} else if v != "" {
		s = v
	}
	dt, ok := ParseDataType(s)
	if !ok {
		return 0, fmt.Errorf("could not understand type %q (TensorFlow's names: float, int32, uint8, quint8, ...)", s)
	}
	return dt, nil
}

func placeholderShape(c *call, node string) (*tfpb.TensorShapeProto, error) {
	s, given, err := c.one("shape", "")
	if err != nil {
		return nil, errors.New("you must pass no more than one default shape")
	}
	if v, err := perName(c, "shape_for_name", node, `strip_unused_nodes(name=foo, shape_for_name="2,2,1", name=bar, shape_for_name="1")`); err != nil {
		return nil, err
	} else if v != "" {
		s, given = v, true
	}
	if !given {
		return &tfpb.TensorShapeProto{}, nil // a scalar, TensorFlow's default
	}
	return ParseShape(s)
}

// ParseShape reads a shape as TensorFlow's transforms write it: dimensions
// separated by commas, "1,28,28,1"; -1 is an unknown dimension.
func ParseShape(s string) (*tfpb.TensorShapeProto, error) {
	if s == "" {
		return nil, errors.New("specified shape is empty")
	}
	shape := &tfpb.TensorShapeProto{}
	for _, d := range strings.Split(s, ",") {
		v, err := strconv.ParseInt(strings.TrimSpace(d), 10, 64)
		if err != nil || v < -1 {
			return nil, fmt.Errorf("could not parse %q as a shape", s)
		}
		shape.Dim = append(shape.Dim, &tfpb.TensorShapeProto_Dim{Size: v})
	}
	return shape, nil
}

// ParseDataType reads a type name as TensorFlow's DataTypeFromString does:
// "float", "int32", "quint8", "float_ref", ...
func ParseDataType(s string) (tfpb.DataType, bool) {
	for v := range tfpb.DataType_name {
		t := tfpb.DataType(v)
		if t == tfpb.DataType_DT_INVALID {
			continue
		}
		if graphinfo.TypeName(t) == s {
			return t, true
		}
		if graphinfo.TypeName(t+100) == s {
			return t + 100, true
		}
	}
	return 0, false
}

// removeNodes is TensorFlow's remove_nodes: every node of the op= ops with
// 1..max_inputs (default 1) data inputs is removed, unless it is named in
// -inputs or -outputs; consumers of it (or of its output 0) are wired to its
// first input as written, control consumers to that input's node. Chains
// of removed nodes are followed. The node's own control inputs are dropped,
// as in TensorFlow. qcal leaves alone, with a note, a node whose outputs
// other than 0 are consumed (TensorFlow would write an invalid graph), and
// keeps the other nodes in their places (TensorFlow moves each removed
// node's input to where the node was).
func removeNodes(c *call, g *tfpb.GraphDef) (*tfpb.GraphDef, error) {
	ops := c.step.Values("op")
	if len(ops) == 0 {
		return nil, errors.New("expects at least one op argument, e.g. remove_nodes(op=Identity)")
	}
	maxInputs, err := c.intArg("max_inputs", 1, 32)
	if err != nil {
		return nil, err
	}
	required := nodeSet(append(slices.Clone(c.opt.Inputs), c.opt.Outputs...))
	// Outputs other than 0 that are consumed.
	otherOutputs := map[string]bool{}
	for _, n := range g.GetNode() {
		for _, in := range n.GetInput() {
			if p, ok := tfname.ParseInput(in); ok && !p.Control && p.Index != 0 {
				otherOutputs[p.Node] = true
			}
		}
	}
	target := map[string]string{} // removed node → its first input
	kept := 0
	for _, n := range g.GetNode() {
		if !slices.Contains(ops, n.GetOp()) {
			continue
		}
		ins := dataInputs(n)
		if len(ins) == 0 || int64(len(ins)) > maxInputs {
			continue
		}
		if required[n.GetName()] {
			kept++
			continue
		}
		if otherOutputs[n.GetName()] {
			c.notef("node %q (%s) kept: outputs other than 0 of it are consumed", n.GetName(), n.GetOp())
			continue
		}
		target[n.GetName()] = ins[0]
	}
	if kept > 0 {
		c.notef("%d matching node%s kept because -inputs or -outputs name them", kept, plural(kept))
	}
	// resolve follows a chain of removed nodes to the input that remains.
	resolve := func(name string) (string, error) {
		in := name
		for range len(target) + 1 {
			next, ok := target[tfname.NodeName(in)]
			if !ok {
				return in, nil
			}
			if p, ok := tfname.ParseInput(in); ok && p.Index != 0 {
				return in, nil // not output 0: not renamed (cannot happen after the check above)
			}
			in = next
		}
		return "", fmt.Errorf("node %q: the removed nodes form a cycle", name)
	}
	var out []*tfpb.NodeDef
	for _, n := range g.GetNode() {
		if _, gone := target[n.GetName()]; gone {
			continue
		}
		var renamed []string
		changed := false
		for _, in := range n.GetInput() {
			p, ok := tfname.ParseInput(in)
			if !ok || target[p.Node] == "" || p.Index != 0 {
				renamed = append(renamed, in)
				continue
			}
			r, err := resolve(p.Node)
			if err != nil {
				return nil, err
			}
			if p.Control {
				r = "^" + tfname.NodeName(r)
			}
			renamed = append(renamed, r)
			changed = true
		}
		if changed {
			n = proto.Clone(n).(*tfpb.NodeDef)
			n.Input = renamed
		}
		out = append(out, n)
	}
	return withNodes(g, out), nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// removeAttribute is TensorFlow's remove_attribute.
func removeAttribute(c *call, g *tfpb.GraphDef) (*tfpb.GraphDef, error) {
	attr, ok, err := c.one("attribute_name", "")
	if err != nil || !ok {
		return nil, errors.New("expects exactly one attribute_name argument, e.g. remove_attribute(op_name=Mul, attribute_name=foo)")
	}
	return editAttr(c, g, attr, func(n *tfpb.NodeDef, _ *tfpb.AttrValue) {
		delete(n.Attr, attr)
	})
}

// editAttr is the common part of remove_attribute and rename_attribute:
// each node whose op is op_name (default "*": every op) and that has attr
// is cloned and handed to edit with the attr's value.
func editAttr(c *call, g *tfpb.GraphDef, attr string, edit func(n *tfpb.NodeDef, v *tfpb.AttrValue)) (*tfpb.GraphDef, error) {
	op, _, err := c.one("op_name", "*")
	if err != nil {
		return nil, err
	}
	return mapNodes(g, func(n *tfpb.NodeDef) *tfpb.NodeDef {
		if op != "*" && op != n.GetOp() {
			return nil
		}
		v, has := n.GetAttr()[attr]
		if !has {
			return nil
		}
		n = proto.Clone(n).(*tfpb.NodeDef)
		edit(n, v)
		return n
	}), nil
}

// renameAttribute is TensorFlow's rename_attribute.
func renameAttribute(c *call, g *tfpb.GraphDef) (*tfpb.GraphDef, error) {
	oldName, ok1, err1 := c.one("old_attribute_name", "")
	newName, ok2, err2 := c.one("new_attribute_name", "")
	if err1 != nil || err2 != nil || !ok1 || !ok2 {
		return nil, errors.New("expects exactly one old_attribute_name and one new_attribute_name argument, e.g. rename_attribute(old_attribute_name=foo, new_attribute_name=bar)")
	}
	return editAttr(c, g, oldName, func(n *tfpb.NodeDef, v *tfpb.AttrValue) {
		delete(n.Attr, oldName)
		n.Attr[newName] = v
	})
}

// removeDevice is TensorFlow's remove_device.
func removeDevice(c *call, g *tfpb.GraphDef) (*tfpb.GraphDef, error) {
	return mapNodes(g, func(n *tfpb.NodeDef) *tfpb.NodeDef {
		if n.GetDevice() == "" {
			return nil
		}
		n = proto.Clone(n).(*tfpb.NodeDef)
		n.Device = ""
		return n
	}), nil
}

// sortByExecutionOrder is TensorFlow's sort_by_execution_order
// (graphinfo.SortByExecutionOrder reproduces its order node for node).
func sortByExecutionOrder(c *call, g *tfpb.GraphDef) (*tfpb.GraphDef, error) {
	return graphinfo.SortByExecutionOrder(g)
}

// mapNodes returns g with each node replaced by f's result, or kept when f
// returns nil.
func mapNodes(g *tfpb.GraphDef, f func(*tfpb.NodeDef) *tfpb.NodeDef) *tfpb.GraphDef {
	out := make([]*tfpb.NodeDef, len(g.GetNode()))
	for i, n := range g.GetNode() {
		if m := f(n); m != nil {
			out[i] = m
		} else {
			out[i] = n
		}
	}
	return withNodes(g, out)
}
