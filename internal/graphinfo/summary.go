package graphinfo

import (
	"strconv"
	"strings"

	"qcal/internal/tfname"
	"qcal/internal/tfpb"
)

// Summary is what `qcal summarize` says about a graph: the facts TensorFlow's
// summarize_graph prints, computed by its rules, then a view of the graph's
// quantization and the result of Check. report.WriteSummary renders it.
//
// Slices are in node order and never nil, so that the JSON form always has
// every key.
type Summary struct {
	// Nodes is the number of nodes in the graph; Functions the number of
	// functions in its library.
	Nodes     int `json:"nodes"`
	Functions int `json:"functions"`
	// Inputs are the Placeholder nodes, as summarize_graph lists its
	// "possible inputs".
	Inputs []Tensor `json:"inputs"`
	// Variables are the Variable and VariableV2 nodes.
	Variables []Tensor `json:"variables"`
	// Outputs are the nodes nothing consumes (control inputs count as
	// consuming), except Const, Assign, NoOp and Placeholder nodes:
	// summarize_graph's "possible outputs".
	Outputs []Output `json:"outputs"`
	// OpCounts counts the nodes of each op, the nodes of the library's
	// functions included, as summarize_graph does.
	OpCounts map[string]int `json:"op_counts"`
	// ConstParameters sums the elements of the Const nodes' value tensors;
	// a tensor TensorFlow cannot decode counts 0 and is listed in
	// UndecodedConsts.
	ConstParameters int64    `json:"const_parameters"`
	UndecodedConsts []string `json:"undecoded_consts"`
	// VariableParameters sums the elements of the Variable and VariableV2
	// nodes' shape attrs (unknown shapes count 0). TensorFlow's
	// summarize_graph reads a `value` attr that variables do not have and
	// prints 0; TFVariableParameters is that number.
	VariableParameters   int64 `json:"variable_parameters"`
	TFVariableParameters int64 `json:"tf_variable_parameters"`
	// ControlEdges counts the control inputs (`^name`).
	ControlEdges int `json:"control_edges"`
	// Devices counts the nodes assigned to each device.
	Devices map[string]int `json:"devices"`
	// InvalidInputs are the inputs naming no node, as summarize_graph finds
	// them (it prints them and stops).
	InvalidInputs []InvalidInput `json:"invalid_inputs"`

	Quantization Quantization `json:"quantization"`
	Checks       Checks       `json:"checks"`
}

// Tensor is a Placeholder or variable node as summarize_graph describes it.
type Tensor struct {
	Name string `json:"name"`
	// Type is the dtype attr as TensorFlow prints it, name and number:
	// "float(1)"; "INVALID(0)" when the attr is absent.
	Type string `json:"type"`
	// Shape is the shape attr as TensorFlow prints it: "[?,28,28]",
	// "<unknown>", or "None" when the attr is absent.
	Shape string `json:"shape"`
}

// Output is a possible output node.
type Output struct {
	Name string `json:"name"`
	Op   string `json:"op"`
}

// InvalidInput is an input naming no node: Node's input names Input.
type InvalidInput struct {
	Node  string `json:"node"`
	Input string `json:"input"`
}

// Quantization is the int8 view of a graph.
type Quantization struct {
	// Ops counts the quantization ops by op: QuantizeV2, Dequantize,
	// Requantize(PerChannel), RequantizationRange(PerChannel) and every op
	// whose name starts with "Quantized".
	Ops map[string]int `json:"ops"`
	// Kinds counts the same nodes by kind: "quantize", "dequantize",
	// "requantize", "requantization_range", "quantized" (the Quantized*
	// compute ops).
	Kinds map[string]int `json:"kinds"`
	// Ranges are the RequantizationRange(PerChannel) nodes.
	Ranges []RangeNode `json:"requantization_ranges"`
	// Logged and Dynamic count Ranges by status.
	Logged  int `json:"logged"`
	Dynamic int `json:"dynamic"`
	// Frozen are the ranges already frozen: names X for which the Consts
	// X/frozen_min and X/frozen_max exist (X itself is gone by then).
	Frozen []string `json:"frozen"`
	// FrozenMinMax are the Min/Max ops frozen by Intel's flow: names X for
	// which X/frozen_min_only or X/frozen_max_only exists.
	FrozenMinMax []string `json:"frozen_min_max"`
	// Prints are the Print nodes.
	Prints []PrintNode `json:"prints"`
	// Intel is what the Intel path of `qcal quantize` would leave in FP32,
	// for a graph without quantized ops that has convolutions or MatMuls.
	Intel *IntelView `json:"intel_path,omitempty"`
}

// Statuses of a RangeNode.
const (
	StatusLogged  = "logged"  // a NAME__print__ Print node consumes it
	StatusDynamic = "dynamic" // computed from each batch, not logged
)

// RangeNode is a RequantizationRange node and whether it is logged.
type RangeNode struct {
	Name   string `json:"name"`
	Op     string `json:"op"`
	Status string `json:"status"`
}

// PrintNode is a Print node: the node it logs (its first input's node) and
// its message.
type PrintNode struct {
	Name    string `json:"name"`
	Logs    string `json:"logs"`
	Message string `json:"message"`
}

// Checks is Check's result with two facts about node order.
type Checks struct {
	Problems
	// Topological reports whether every node comes after the nodes its
	// inputs name (control inputs too); TensorFlow does not require it.
	Topological bool `json:"topological"`
	// Depth is the number of nodes on the longest chain of inputs, from a
	// node without inputs; nodes in or after a cycle are left out.
	Depth int `json:"depth"`
}

// Summarize describes g.
func Summarize(g *tfpb.GraphDef) *Summary {
	nodes := g.GetNode()
	s := &Summary{
		Nodes:           len(nodes),
		Functions:       len(g.GetLibrary().GetFunction()),
		Inputs:          []Tensor{},
		Variables:       []Tensor{},
		Outputs:         []Output{},
		OpCounts:        map[string]int{},
		UndecodedConsts: []string{},
		Devices:         map[string]int{},
		InvalidInputs:   []InvalidInput{},
	}
	names := make(map[string]bool, len(nodes))
	consumed := make(map[string]bool, len(nodes))
	for _, n := range nodes {
		names[n.GetName()] = true
		for _, in := range n.GetInput() {
			consumed[tfname.NodeName(in)] = true
		}
	}
	for _, n := range nodes {
		switch n.GetOp() {
		case "Placeholder":
			s.Inputs = append(s.Inputs, tensorInfo(n))
		case "Variable", "VariableV2":
			s.Variables = append(s.Variables, tensorInfo(n))
		}
	}
	for _, n := range nodes {
		if consumed[n.GetName()] {
			continue
		}
		switch n.GetOp() {
		case "Const", "Assign", "NoOp", "Placeholder":
			continue
		}
		s.Outputs = append(s.Outputs, Output{n.GetName(), n.GetOp()})
	}
	for _, n := range nodes {
		for _, in := range n.GetInput() {
			if strings.HasPrefix(in, "^") {
				s.ControlEdges++
			}
			if !names[tfname.NodeName(in)] {
				s.InvalidInputs = append(s.InvalidInputs, InvalidInput{n.GetName(), tfname.NodeName(in)})
			}
		}
		if d := n.GetDevice(); d != "" {
			s.Devices[d]++
		}
		switch n.GetOp() {
		case "Const":
			if c, ok := valueElements(n); ok {
				s.ConstParameters += c
			} else {
				s.UndecodedConsts = append(s.UndecodedConsts, n.GetName())
			}
		case "Variable", "VariableV2":
			if c, ok := valueElements(n); ok {
				s.TFVariableParameters += c
			}
			if sh, ok := n.GetAttr()["shape"]; ok {
				if c, ok := ShapeElements(sh.GetShape()); ok && !sh.GetShape().GetUnknownRank() {
					s.VariableParameters += c
				}
			} else if c, ok := valueElements(n); ok {
				s.VariableParameters += c
			}
		}
	}
	for _, n := range nodes {
		s.OpCounts[n.GetOp()]++
	}
	for _, f := range g.GetLibrary().GetFunction() {
		for _, n := range f.GetNodeDef() {
			s.OpCounts[n.GetOp()]++
		}
	}
	s.Quantization = quantization(g)
	if len(s.Quantization.Ops) == 0 {
		s.Quantization.Intel = intelView(g)
	}
	s.Checks = Checks{Problems: *Check(g)}
	s.Checks.Topological, s.Checks.Depth = order(g)
	return s
}

// valueElements counts the elements of n's value attr as TensorFlow's
// Tensor::FromProto would decode it.
func valueElements(n *tfpb.NodeDef) (int64, bool) {
	v, ok := n.GetAttr()["value"]
	if !ok {
		return 0, false
	}
	return TensorElements(v.GetTensor())
}

// tensorInfo describes a Placeholder or variable node as summarize_graph
// prints it.
func tensorInfo(n *tfpb.NodeDef) Tensor {
	shape := "None"
	if a, ok := n.GetAttr()["shape"]; ok {
		shape = ShapeString(a.GetShape())
	}
	dt := tfpb.DataType_DT_INVALID
	if a, ok := n.GetAttr()["dtype"]; ok {
		dt = a.GetType()
	}
	return Tensor{Name: n.GetName(), Type: TypeName(dt) + "(" + strconv.Itoa(int(dt)) + ")", Shape: shape}
}

// QuantKind returns the kind of a quantization op (see Quantization.Kinds),
// or "" for other ops.
func QuantKind(op string) string {
	switch op {
	case "QuantizeV2":
		return "quantize"
	case "Dequantize":
		return "dequantize"
	case "Requantize", "RequantizePerChannel":
		return "requantize"
	case tfname.OpRequantizationRange, tfname.OpRequantizationRangePerChannel:
		return "requantization_range"
	}
	if strings.HasPrefix(op, "Quantized") {
		return "quantized"
	}
	return ""
}

// PrintOf returns the Print node insert_logging added for the node named
// name, or nil: a node named name+tfname.PrintSuffix whose op is Print and whose
// first input names name.
func PrintOf(byName map[string]*tfpb.NodeDef, name string) *tfpb.NodeDef {
	p := byName[name+tfname.PrintSuffix]
	if p == nil || p.GetOp() != "Print" || len(p.GetInput()) == 0 || tfname.NodeName(p.GetInput()[0]) != name {
		return nil
	}
	return p
}

func quantization(g *tfpb.GraphDef) Quantization {
	q := Quantization{
		Ops:          map[string]int{},
		Kinds:        map[string]int{},
		Ranges:       []RangeNode{},
		Frozen:       []string{},
		FrozenMinMax: []string{},
		Prints:       []PrintNode{},
	}
	byName := make(map[string]*tfpb.NodeDef, len(g.GetNode()))
	for _, n := range g.GetNode() {
		if _, ok := byName[n.GetName()]; !ok {
			byName[n.GetName()] = n
		}
	}
	isConst := func(name string) bool { return byName[name].GetOp() == "Const" }
	minMaxSeen := map[string]bool{}
	for _, n := range g.GetNode() {
		op, name := n.GetOp(), n.GetName()
		if k := QuantKind(op); k != "" {
			q.Ops[op]++
			q.Kinds[k]++
		}
		if tfname.IsRequantizationRange(op) {
			r := RangeNode{Name: name, Op: op, Status: StatusDynamic}
			if PrintOf(byName, name) != nil {
				r.Status = StatusLogged
				q.Logged++
			} else {
				q.Dynamic++
			}
			q.Ranges = append(q.Ranges, r)
		}
		if op == "Print" {
			p := PrintNode{Name: name}
			if len(n.GetInput()) > 0 {
				p.Logs = tfname.NodeName(n.GetInput()[0])
			}
			p.Message = string(n.GetAttr()["message"].GetS())
			q.Prints = append(q.Prints, p)
		}
		if op != "Const" {
			continue
		}
		if x, ok := strings.CutSuffix(name, "/frozen_min"); ok && isConst(x+"/frozen_max") {
			q.Frozen = append(q.Frozen, x)
		}
		for _, suffix := range []string{"/frozen_min_only", "/frozen_max_only"} {
			if x, ok := strings.CutSuffix(name, suffix); ok && !minMaxSeen[x] {
				minMaxSeen[x] = true
				q.FrozenMinMax = append(q.FrozenMinMax, x)
			}
		}
	}
	return q
}

// order reports whether g's node order is topological and the length in
// nodes of its longest chain of inputs (loop back edges left out).
func order(g *tfpb.GraphDef) (topological bool, depth int) {
	nodes := g.GetNode()
	byName := make(map[string]int, len(nodes))
	for i, n := range nodes {
		if _, ok := byName[n.GetName()]; !ok {
			byName[n.GetName()] = i
		}
	}
	in := edges(g, byName)
	topological = true
	for i, producers := range in {
		for _, j := range producers {
			if j >= i {
				topological = false
			}
		}
	}
	nodeDepth := tfname.Depths(nodes, func(n *tfpb.NodeDef) bool { return isLoopBackEdge(n.GetOp()) })
	for _, d := range nodeDepth {
		if d >= 0 { // counted in nodes, not edges; nodes on or behind a cycle left out
			depth = max(depth, d+1)
		}
	}
	return topological, depth
}
