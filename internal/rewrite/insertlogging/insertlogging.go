package insertlogging

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"

	"qcal/internal/graphinfo"
	"qcal/internal/tfname"
	"qcal/internal/tfpb"
)

// Options are the parameters of TensorFlow's insert_logging
// transform.
type Options struct {
	// Ops are the ops whose nodes are logged; empty logs every op.
	Ops []string
	// Prefixes restrict logging to nodes whose name starts with one of
	// them; empty allows every name. A node must match both lists.
	Prefixes []string
	// Message ends every Print node's message.
	Message string
	// ShowName starts the message with ";NAME__print__;", ShowOp with
	// ";OP;" (before the name when both are set).
	ShowName, ShowOp bool
	// FirstN is the Print op's first_n: how many runs log (-1: all runs;
	// 0: none).
	FirstN int32
	// Summarize is the Print op's summarize: how many elements of each
	// tensor are printed (negative: all).
	Summarize int32
}

// DefaultOptions are qcal's defaults, the options of the int8
// calibration flow: RequantizationRange and RequantizationRangePerChannel
// nodes (Intel's flow logs the one its -per_channel setting writes; qcal's
// quantize writes both in one graph when depthwise convolutions are
// requantized per channel), show_name=true, message="__requant_min_max:",
// first_n=-1, summarize=1024.
func DefaultOptions() Options {
	return Options{
		Ops:       []string{tfname.OpRequantizationRange, tfname.OpRequantizationRangePerChannel},
		Message:   "__requant_min_max:",
		ShowName:  true,
		FirstN:    -1,
		Summarize: 1024,
	}
}

// TFOptions are the defaults of TensorFlow's insert_logging: every
// op, no message, no name, first_n=-1, summarize=1024.
func TFOptions() Options {
	return Options{FirstN: -1, Summarize: 1024}
}

// MinMaxOptions are the two passes Intel's flow runs to log the Min
// and Max ops that compute the input range of a QuantizeV2:
// insert_logging(op=Min, show_name=true, message="__min:") then
// insert_logging(op=Max, show_name=true, message="__max:").
func MinMaxOptions() []Options {
	pass := func(op, msg string) Options {
		o := TFOptions()
		o.Ops, o.ShowName, o.Message = []string{op}, true, msg
		return o
	}
	return []Options{pass(tfname.OpMin, "__min:"), pass(tfname.OpMax, "__max:")}
}

// Result says what Insert did with the nodes that match the
// options, each list in node order.
type Result struct {
	// Logged are the nodes that got a Print node.
	Logged []string
	// AlreadyLogged are nodes left alone because their Print node,
	// NAME__print__, is already in the graph.
	AlreadyLogged []string
	// Unconsumed are nodes skipped because nothing consumes their outputs,
	// as TensorFlow skips them.
	Unconsumed []string
}

// Insert returns a copy of g in which the nodes matching opt are
// logged, as TensorFlow's insert_logging transform does it:
//
//   - a node matches when its op is in opt.Ops (or Ops is empty) and its
//     name starts with one of opt.Prefixes (or Prefixes is empty);
//   - a matching node whose outputs nothing consumes is skipped (a control
//     input counts as consuming output 0);
//   - a Print node NAME__print__ is inserted right after the node; its
//     inputs are NAME:0 (passed through), then NAME:i for every consumed
//     output i in ascending order (so NAME:0 comes twice when output 0 is
//     consumed: Print logs its inputs after the first, [min][max] for a
//     RequantizationRange);
//   - its attrs: T the type of output 0, U the types of the logged outputs,
//     first_n and summarize as given, and the message
//     [";"+OP+";" if ShowOp] + [";"+NAME+"__print__;" if ShowName] + Message;
//   - every input NAME:0 or NAME of every other node (not ^NAME) is rewired
//     to NAME__print__:0, so the Print runs whenever the node's value is
//     used.
//
// TensorFlow looks output types up in its op registry; qcal uses the table
// of graphinfo.OutputTypes, and a matching node of an op outside it is an
// error naming the node and the op.
//
// Where qcal differs from TensorFlow: U lists only the logged outputs
// (TensorFlow lists all the op's outputs, which gives a Print that
// TensorFlow itself rejects whenever an output is not consumed); a node
// whose Print node is already in the graph is not logged again (it is
// reported in AlreadyLogged), and the Print nodes insert_logging added are
// never logged themselves, so a second run adds nothing; a node named
// NAME__print__ that is not NAME's Print node is an error rather than a
// second node of that name.
//
// An input whose output number does not parse is an error, in TensorFlow's
// words ("Couldn't understand output number in ...").
func Insert(g *tfpb.GraphDef, opt Options) (*tfpb.GraphDef, *Result, error) {
	nodes := g.GetNode()
	consumed := map[string]map[int]bool{}
	for _, n := range nodes {
		for _, in := range n.GetInput() {
			name, idx, err := tfOutputIndex(in)
			if err != nil {
				return nil, nil, fmt.Errorf("node %q: %w", n.GetName(), err)
			}
			if consumed[name] == nil {
				consumed[name] = map[int]bool{}
			}
			consumed[name][idx] = true
		}
	}
	byName := make(map[string]*tfpb.NodeDef, len(nodes))
	for _, n := range nodes {
		if _, ok := byName[n.GetName()]; !ok {
			byName[n.GetName()] = n
		}
	}

	res := &Result{}
	out := proto.CloneOf(g)
	cloned := out.Node
	out.Node = make([]*tfpb.NodeDef, 0, len(cloned))
	rename := map[string]string{} // canonical NAME:0 → NAME__print__:0
	added := map[*tfpb.NodeDef]bool{}
	for i, n := range nodes {
		out.Node = append(out.Node, cloned[i])
		name := n.GetName()
		if !opt.matches(n) || isInsertedPrint(n) {
			continue
		}
		outs := consumed[name]
		if len(outs) == 0 {
			res.Unconsumed = append(res.Unconsumed, name)
			continue
		}
		printName := name + tfname.PrintSuffix
		if byName[printName] != nil {
			if graphinfo.PrintOf(byName, name) != nil {
				res.AlreadyLogged = append(res.AlreadyLogged, name)
				continue
			}
			return nil, nil, fmt.Errorf("cannot log node %q: the graph already has a node %q that is not its Print node", name, printName)
		}
		p, err := printNode(n, outs, opt)
		if err != nil {
			return nil, nil, err
		}
		out.Node = append(out.Node, p)
		added[p] = true
		rename[name+":0"] = printName + ":0"
		res.Logged = append(res.Logged, name)
	}
	for _, n := range out.Node {
		if added[n] {
			continue
		}
		for k, in := range n.Input {
			if strings.HasPrefix(in, "^") {
				continue
			}
			if to, ok := rename[tfCanonical(in)]; ok {
				n.Input[k] = to
			}
		}
	}
	return out, res, nil
}

// InsertPasses runs Insert once per options, in order (as
// MinMaxOptions asks), and joins the results.
func InsertPasses(g *tfpb.GraphDef, opts []Options) (*tfpb.GraphDef, *Result, error) {
	all := &Result{}
	for _, opt := range opts {
		var res *Result
		var err error
		g, res, err = Insert(g, opt)
		if err != nil {
			return nil, nil, err
		}
		all.Logged = append(all.Logged, res.Logged...)
		all.AlreadyLogged = append(all.AlreadyLogged, res.AlreadyLogged...)
		all.Unconsumed = append(all.Unconsumed, res.Unconsumed...)
	}
	return g, all, nil
}

func (o *Options) matches(n *tfpb.NodeDef) bool {
	if len(o.Ops) > 0 && !slices.Contains(o.Ops, n.GetOp()) {
		return false
	}
	if len(o.Prefixes) == 0 {
		return true
	}
	for _, p := range o.Prefixes {
		if strings.HasPrefix(n.GetName(), p) {
			return true
		}
	}
	return false
}

// isInsertedPrint reports whether n is a Print node insert_logging added:
// NAME__print__ whose first input names NAME.
func isInsertedPrint(n *tfpb.NodeDef) bool {
	base, ok := strings.CutSuffix(n.GetName(), tfname.PrintSuffix)
	return ok && n.GetOp() == "Print" && len(n.GetInput()) > 0 && tfname.NodeName(n.GetInput()[0]) == base
}

// printNode builds the Print node logging the consumed outputs of n.
func printNode(n *tfpb.NodeDef, consumed map[int]bool, opt Options) (*tfpb.NodeDef, error) {
	types, err := graphinfo.OutputTypes(n)
	if err != nil {
		return nil, fmt.Errorf("%w, so it cannot be logged", err)
	}
	if len(types) == 0 {
		return nil, fmt.Errorf("cannot log node %q: op %s has no outputs", n.GetName(), n.GetOp())
	}
	name := n.GetName()
	p := &tfpb.NodeDef{Name: name + tfname.PrintSuffix, Op: "Print", Input: []string{name + ":0"}}
	var u []tfpb.DataType
	for _, i := range slices.Sorted(maps.Keys(consumed)) {
		if i < 0 || i >= len(types) {
			return nil, fmt.Errorf("cannot log node %q: output %d is consumed, but op %s has %d outputs", name, i, n.GetOp(), len(types))
		}
		p.Input = append(p.Input, name+":"+strconv.Itoa(i))
		u = append(u, types[i])
	}
	var msg string
	if opt.ShowOp {
		msg += ";" + n.GetOp() + ";"
	}
	if opt.ShowName {
		msg += ";" + p.Name + ";"
	}
	msg += opt.Message
	p.Attr = map[string]*tfpb.AttrValue{
		"message":   {Value: &tfpb.AttrValue_S{S: []byte(msg)}},
		"first_n":   {Value: &tfpb.AttrValue_I{I: int64(opt.FirstN)}},
		"summarize": {Value: &tfpb.AttrValue_I{I: int64(opt.Summarize)}},
		"T":         {Value: &tfpb.AttrValue_Type{Type: types[0]}},
		"U":         {Value: &tfpb.AttrValue_List{List: &tfpb.AttrValue_ListValue{Type: u}}},
	}
	return p, nil
}

// tfSplit takes an input apart as TensorFlow's graph transforms do: the
// text before the first ':' (without a leading '^') is the node, the text
// between the first and a second ':' the output, "" when there is none.
func tfSplit(in string) (control bool, node, output string, hasOutput bool) {
	parts := strings.SplitN(in, ":", 3)
	node = parts[0]
	if len(parts) > 1 {
		output, hasOutput = parts[1], true
	}
	node, control = strings.CutPrefix(node, "^")
	return control, node, output, hasOutput
}

// tfCanonical is TensorFlow's CanonicalInputName: "name" becomes "name:0".
func tfCanonical(in string) string {
	control, node, output, ok := tfSplit(in)
	if !ok {
		output = "0"
	}
	if control {
		node = "^" + node
	}
	return node + ":" + output
}

// tfOutputIndex returns the node an input names and the output it takes,
// read as insert_logging reads them (control inputs take output 0; the
// number is parsed like absl::SimpleAtoi: surrounding spaces and a sign
// allowed).
func tfOutputIndex(in string) (string, int, error) {
	_, node, output, ok := tfSplit(in)
	if !ok {
		return node, 0, nil
	}
	i, err := strconv.ParseInt(strings.Trim(output, " \t\n\v\f\r"), 10, 32)
	if err != nil {
		return "", 0, fmt.Errorf("Couldn't understand output number in %s", in) // TensorFlow's words
	}
	return node, int(i), nil
}
