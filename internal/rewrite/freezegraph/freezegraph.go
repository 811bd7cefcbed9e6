package freezegraph

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"google.golang.org/protobuf/proto"

	"qcal/internal/checkpoint"
	"qcal/internal/tfname"
	"qcal/internal/tfpb"
)

// Variables is where variable values come from; *checkpoint.Reader is one.
type Variables interface {
	// Has reports whether name is a key.
	Has(name string) bool
	// Check reports an error naming the variable and both sides when the
	// value of name does not have this dtype and shape.
	Check(name string, dtype tfpb.DataType, shape *tfpb.TensorShapeProto) error
	// Tensor returns the value of name, little-endian in tensor_content
	// (strings in string_val).
	Tensor(name string) (*tfpb.TensorProto, error)
}

var _ Variables = (*checkpoint.Reader)(nil)

// Options are freeze_graph.py's flags that shape the result.
type Options struct {
	// Outputs are the node names the frozen graph must compute
	// (output_node_names); at least one.
	Outputs []string
	// ClearDevices empties every node's device field (clear_devices; on by
	// default in freeze_graph.py).
	ClearDevices bool
	// Whitelist, when not nil, limits the conversion to these variable
	// node names (variable_names_whitelist).
	Whitelist []string
	// Blacklist names variables to leave as they are
	// (variable_names_blacklist).
	Blacklist []string
}

// Result is a frozen graph and what the freeze did.
type Result struct {
	Graph *tfpb.GraphDef
	// Converted lists the variable nodes that became Consts, in graph order.
	Converted []string
	// Keys maps each converted variable node to the checkpoint key its value
	// came from (the node name, or a VarHandleOp's shared_name).
	Keys map[string]string
	// Pruned counts the nodes the outputs do not need.
	Pruned int
}

// isVariable reports whether op is one of the variable ops freeze_graph
// converts.
func isVariable(op string) bool {
	return op == "Variable" || op == "VariableV2" || op == "VarHandleOp"
}

// passesHandle reports whether op forwards its input unchanged, so that a
// resource handle fed to it stays the variable's handle.
func passesHandle(op string) bool {
	switch op {
	case "Identity", "Enter", "Exit", "Switch", "_SwitchN", "Merge", "NextIteration", "RefIdentity":
		return true
	}
	return false
}

// writesVariable reports whether op changes a variable or asks about its
// state, which a Const cannot serve.
func writesVariable(op string) bool {
	switch op {
	case "IsVariableInitialized", "VarIsInitializedOp", "DestroyResourceOp", "CountUpTo", "ResourceCountUpTo":
		return true
	}
	for _, p := range []string{"Assign", "Scatter", "Apply", "ResourceApply", "ResourceScatter", "ResourceSparseApply", "SparseApply"} {
		if strings.HasPrefix(op, p) {
			return true
		}
	}
	return false
}

// Freeze returns a copy of g pruned to o.Outputs with its variables turned
// into Consts holding their values from vars (see the package doc). g is not
// modified.
func Freeze(g *tfpb.GraphDef, vars Variables, o Options) (*Result, error) {
	if len(o.Outputs) == 0 {
		return nil, errors.New("no output node names (output_node_names)")
	}
	nodes := g.GetNode()
	byName := make(map[string]int, len(nodes))
	for i, n := range nodes {
		if _, dup := byName[n.GetName()]; dup {
			return nil, fmt.Errorf("node %q: the name is used twice", n.GetName())
		}
		byName[n.GetName()] = i
	}
	keep, err := reachable(nodes, byName, o.Outputs)
	if err != nil {
		return nil, err
	}

	res := &Result{Keys: map[string]string{}}
	consts := map[string]*tfpb.NodeDef{} // variable node name → its Const
	saved, sliced := saverKeys(nodes, byName)
	for i, n := range nodes {
		if !keep[i] || !isVariable(n.GetOp()) || !selected(n.GetName(), o) {
			continue
		}
		if s, ok := sliced[n.GetName()]; ok {
			return nil, fmt.Errorf("variable %q is the slice %q of partitioned variable %q; qcal does not freeze partitioned variables", n.GetName(), s[1], s[0])
		}
		c, key, err := constFor(n, saved[n.GetName()], vars)
		if err != nil {
			return nil, err
		}
		consts[n.GetName()] = c
		res.Converted = append(res.Converted, n.GetName())
		res.Keys[n.GetName()] = key
	}

	// Follow each converted variable's handle (or reference) through the
	// kept nodes that consume it.
	consumers := make([][]int, len(nodes))
	for i, n := range nodes {
		if !keep[i] {
			continue
		}
		for _, in := range n.GetInput() {
			pi, ok := tfname.ParseInput(in)
			if !ok {
				return nil, fmt.Errorf("node %q: input %q is not name, name:N or ^name", n.GetName(), in)
			}
			if pi.Control {
				continue
			}
			j := byName[pi.Node]
			if len(consumers[j]) == 0 || consumers[j][len(consumers[j])-1] != i {
				consumers[j] = append(consumers[j], i)
			}
		}
	}
	carries := map[int]string{} // node index → the converted variable whose handle it carries
	var work []int
	for name := range consts {
		j := byName[name]
		carries[j] = name
		work = append(work, j)
	}
	slices.Sort(work)
	rewritten := map[int]*tfpb.NodeDef{}
	var extra []*tfpb.NodeDef
	for len(work) > 0 {
		j := work[0]
		work = work[1:]
		v := carries[j]
		dtype := consts[v].GetAttr()["dtype"].GetType()
		resource := nodes[byName[v]].GetOp() == "VarHandleOp"
		for _, i := range consumers[j] {
			n := nodes[i]
			op := n.GetOp()
			switch {
			case writesVariable(op):
				return nil, fmt.Errorf("node %q (op %s) changes or tests variable %q, which freezing turns into a Const; leave it out of the outputs' inputs or blacklist the variable", n.GetName(), op, v)
			case !resource:
				// A reference variable's readers (the <var>/read Identity)
				// are kept as they are.
			case op == "ReadVariableOp":
				rewritten[i] = readToIdentity(n, dtype)
			case passesHandle(op):
				if _, seen := carries[i]; !seen {
					carries[i] = v
					rewritten[i] = retype(n, dtype)
					work = append(work, i)
				}
			case op == "ResourceGather" && firstInputIs(n, nodes[j].GetName()):
				gather, axis, err := gatherV2(n)
				if err != nil {
					return nil, err
				}
				rewritten[i] = gather
				extra = append(extra, axis)
			case op == "ResourceGatherNd" && firstInputIs(n, nodes[j].GetName()):
				rewritten[i] = gatherNd(n)
			default:
				return nil, fmt.Errorf("node %q (op %s) takes the resource handle of variable %q; freeze-graph converts only ReadVariableOp, ResourceGather, ResourceGatherNd and pass-through ops", n.GetName(), op, v)
			}
		}
	}

	// TensorFlow sets the library even when it is empty (it is then
	// written as an empty field); qcal keeps versions, which TensorFlow
	// drops.
	out := &tfpb.GraphDef{
		Library: proto.Clone(orEmpty(g.GetLibrary())).(*tfpb.FunctionDefLibrary),
		Version: g.GetVersion(),
	}
	if g.GetVersions() != nil {
		out.Versions = proto.Clone(g.GetVersions()).(*tfpb.VersionDef)
	}
	if g.GetDebugInfo() != nil {
		out.DebugInfo = proto.Clone(g.GetDebugInfo()).(*tfpb.GraphDebugInfo)
	}
	for i, n := range nodes {
		if !keep[i] {
			res.Pruned++
			continue
		}
		var m *tfpb.NodeDef
		switch {
		case consts[n.GetName()] != nil:
			m = consts[n.GetName()]
		case rewritten[i] != nil:
			m = rewritten[i]
		default:
			m = proto.Clone(n).(*tfpb.NodeDef)
		}
		out.Node = append(out.Node, m)
	}
	out.Node = append(out.Node, extra...)
	if o.ClearDevices {
		for _, n := range out.Node {
			n.Device = ""
		}
	}
	res.Graph = out
	return res, nil
}

func orEmpty(l *tfpb.FunctionDefLibrary) *tfpb.FunctionDefLibrary {
	if l == nil {
		return &tfpb.FunctionDefLibrary{}
	}
	return l
}

// selected reports whether the variable node name is to be converted.
func selected(name string, o Options) bool {
	if o.Whitelist != nil && !slices.Contains(o.Whitelist, name) {
		return false
	}
	return !slices.Contains(o.Blacklist, name)
}

// reachable marks the nodes the outputs need: through data and control
// inputs and `_class` "loc:@" colocation, as TensorFlow's extract_sub_graph
// walks them.
func reachable(nodes []*tfpb.NodeDef, byName map[string]int, outputs []string) ([]bool, error) {
	keep := make([]bool, len(nodes))
	var work []int
	for _, o := range outputs {
		j, ok := byName[o]
		if !ok {
			return nil, fmt.Errorf("output node %q is not in the graph", o)
		}
		if !keep[j] {
			keep[j] = true
			work = append(work, j)
		}
	}
	visit := func(from *tfpb.NodeDef, name, what string) error {
		j, ok := byName[name]
		if !ok {
			return fmt.Errorf("node %q: %s %q names no node", from.GetName(), what, name)
		}
		if !keep[j] {
			keep[j] = true
			work = append(work, j)
		}
		return nil
	}
	for len(work) > 0 {
		n := nodes[work[len(work)-1]]
		work = work[:len(work)-1]
		for _, in := range n.GetInput() {
			if err := visit(n, tfname.NodeName(in), "input"); err != nil {
				return nil, err
			}
		}
		for _, s := range n.GetAttr()["_class"].GetList().GetS() {
			if name, ok := strings.CutPrefix(string(s), "loc:@"); ok {
				if err := visit(n, name, "colocation"); err != nil {
					return nil, err
				}
			}
		}
	}
	return keep, nil
}

// constFor builds the Const that replaces variable node n and returns it
// with the checkpoint key used: the key the graph's saver restores it from
// (saved, when the checkpoint has it), else its name, else a VarHandleOp's
// shared_name.
func constFor(n *tfpb.NodeDef, saved string, vars Variables) (*tfpb.NodeDef, string, error) {
	key := n.GetName()
	sn := string(n.GetAttr()["shared_name"].GetS())
	switch {
	case saved != "" && vars.Has(saved):
		key = saved
	case !vars.Has(key) && n.GetOp() == "VarHandleOp" && sn != "" && vars.Has(sn):
		key = sn
	}
	dtypeAttr := n.GetAttr()["dtype"]
	if dtypeAttr == nil {
		return nil, "", fmt.Errorf("node %q (op %s) has no dtype attr", n.GetName(), n.GetOp())
	}
	var shape *tfpb.TensorShapeProto
	if s, ok := n.GetAttr()["shape"]; ok {
		shape = s.GetShape()
	}
	if err := vars.Check(key, dtypeAttr.GetType(), shape); err != nil {
		return nil, "", err
	}
	t, err := vars.Tensor(key)
	if err != nil {
		return nil, "", err
	}
	value, err := tfLayout(t)
	if err != nil {
		return nil, "", fmt.Errorf("variable %q: %w", key, err)
	}
	c := &tfpb.NodeDef{
		Name: n.GetName(),
		Op:   "Const",
		Attr: map[string]*tfpb.AttrValue{
			"dtype": proto.Clone(dtypeAttr).(*tfpb.AttrValue),
			"value": {Value: &tfpb.AttrValue_Tensor{Tensor: value}},
		},
	}
	return c, key, nil
}

// readToIdentity is TensorFlow's rewrite of a ReadVariableOp of a frozen
// variable: an Identity of its first input with T = its dtype and _class
// kept; nothing else is carried over.
func readToIdentity(n *tfpb.NodeDef, dtype tfpb.DataType) *tfpb.NodeDef {
	t := n.GetAttr()["dtype"]
	if t == nil {
		t = &tfpb.AttrValue{Value: &tfpb.AttrValue_Type{Type: dtype}}
	}
	m := &tfpb.NodeDef{Name: n.GetName(), Op: "Identity", Attr: map[string]*tfpb.AttrValue{"T": proto.Clone(t).(*tfpb.AttrValue)}}
	if len(n.GetInput()) > 0 {
		m.Input = []string{n.GetInput()[0]}
	}
	copyClass(m, n)
	return m
}

// retype sets T of a pass-through node to the variable's value type and
// drops its now wrong _output_shapes.
func retype(n *tfpb.NodeDef, dtype tfpb.DataType) *tfpb.NodeDef {
	m := proto.Clone(n).(*tfpb.NodeDef)
	if m.Attr == nil {
		m.Attr = map[string]*tfpb.AttrValue{}
	}
	m.Attr["T"] = &tfpb.AttrValue{Value: &tfpb.AttrValue_Type{Type: dtype}}
	delete(m.Attr, "_output_shapes")
	return m
}

func copyClass(m, n *tfpb.NodeDef) {
	if c, ok := n.GetAttr()["_class"]; ok {
		m.Attr["_class"] = proto.Clone(c).(*tfpb.AttrValue)
	}
}

func firstInputIs(n *tfpb.NodeDef, name string) bool {
	in := n.GetInput()
	return len(in) > 0 && tfname.NodeName(in[0]) == name && !strings.HasPrefix(in[0], "^")
}

// gatherV2 rewrites ResourceGather into GatherV2 plus its axis Const
// `<name>/axis` holding batch_dims (which must be 0), as TensorFlow does.
func gatherV2(n *tfpb.NodeDef) (*tfpb.NodeDef, *tfpb.NodeDef, error) {
	if bd := n.GetAttr()["batch_dims"].GetI(); bd != 0 {
		return nil, nil, fmt.Errorf("node %q (ResourceGather): batch_dims must be 0 to freeze, got %d", n.GetName(), bd)
	}
	if len(n.GetInput()) < 2 {
		return nil, nil, fmt.Errorf("node %q (ResourceGather): %d inputs, want 2", n.GetName(), len(n.GetInput()))
	}
	tind := n.GetAttr()["Tindices"]
	if tind == nil {
		tind = &tfpb.AttrValue{Value: &tfpb.AttrValue_Type{Type: tfpb.DataType_DT_INT32}}
	}
	axisName := n.GetName() + "/axis"
	axisValue := &tfpb.TensorProto{Dtype: tind.GetType(), TensorShape: &tfpb.TensorShapeProto{}}
	if tind.GetType() == tfpb.DataType_DT_INT64 {
		axisValue.Int64Val = []int64{0}
	} else {
		axisValue.IntVal = []int32{0}
	}
	axis := &tfpb.NodeDef{Name: axisName, Op: "Const", Attr: map[string]*tfpb.AttrValue{
		"dtype": proto.Clone(tind).(*tfpb.AttrValue),
		"value": {Value: &tfpb.AttrValue_Tensor{Tensor: axisValue}},
	}}
	m := &tfpb.NodeDef{Name: n.GetName(), Op: "GatherV2", Input: []string{n.GetInput()[0], n.GetInput()[1], axisName}, Attr: map[string]*tfpb.AttrValue{
		"Tparams":  proto.Clone(orType(n.GetAttr()["dtype"])).(*tfpb.AttrValue),
		"Tindices": proto.Clone(tind).(*tfpb.AttrValue),
		"Taxis":    proto.Clone(tind).(*tfpb.AttrValue),
	}}
	copyClass(m, n)
	return m, axis, nil
}

// gatherNd rewrites ResourceGatherNd into GatherNd.
func gatherNd(n *tfpb.NodeDef) *tfpb.NodeDef {
	m := &tfpb.NodeDef{Name: n.GetName(), Op: "GatherNd", Input: slices.Clone(n.GetInput()[:min(2, len(n.GetInput()))]), Attr: map[string]*tfpb.AttrValue{
		"Tparams":  proto.Clone(orType(n.GetAttr()["dtype"])).(*tfpb.AttrValue),
		"Tindices": proto.Clone(orType(n.GetAttr()["Tindices"])).(*tfpb.AttrValue),
	}}
	copyClass(m, n)
	return m
}

func orType(a *tfpb.AttrValue) *tfpb.AttrValue {
	if a == nil {
		return &tfpb.AttrValue{}
	}
	return a
}
