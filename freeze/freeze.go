package freeze

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"google.golang.org/protobuf/proto"

	"qcal/internal/tfname"
	"qcal/internal/tfpb"
	"qcal/stats"
)

// Options control Graph.
type Options struct {
	// AllowMissing skips logged nodes that the graph does not have, with a
	// warning, instead of failing.
	AllowMissing bool
	// Strict makes RequantizationRange nodes that have no range an error
	// instead of a warning.
	Strict bool
}

// Result is what Graph did.
type Result struct {
	// Graph is the frozen graph; the input graph is not modified.
	Graph *tfpb.GraphDef
	// Frozen lists the nodes replaced by Consts, in graph order.
	Frozen []string
	// Missing lists the logged nodes absent from the graph (skipped with
	// AllowMissing), sorted.
	Missing []string
	// Unlogged lists the RequantizationRange(PerChannel) nodes of the graph
	// that no range was given for, in graph order.
	Unlogged []string
	// Clipped lists the RequantizationRangePerChannel nodes whose range
	// was narrowed to their clip_value_max, in graph order.
	Clipped []string
	// Warnings are sentences for the user, in a stable order.
	Warnings []string
}

// MissingError reports logged nodes that the graph lacks.
type MissingError struct {
	Names       []string            // sorted, deduplicated
	Suggestions map[string][]string // name → closest graph names
}

func (e *MissingError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d node(s) from the log not found in the graph (use -allow-missing to skip them):", len(e.Names))
	for i, n := range e.Names {
		if i == 20 {
			fmt.Fprintf(&b, "\n\t(and %d more)", len(e.Names)-i)
			break
		}
		fmt.Fprintf(&b, "\n\t%s", n)
		if s := e.Suggestions[n]; len(s) > 0 {
			fmt.Fprintf(&b, " (closest in graph: %s)", strings.Join(s, ", "))
		}
	}
	return b.String()
}

// Graph returns a copy of g with every range frozen in, following
// TensorFlow's freeze_requantization_ranges and the fixes in the package
// comment. Ranges of Side Both need a RequantizationRange or
// RequantizationRangePerChannel node; MinOnly a Min op; MaxOnly a Max op.
// Range values must be finite with Min <= Max; the caller checks records.
func Graph(g *tfpb.GraphDef, ranges []stats.Range, opt Options) (*Result, error) {
	byName := make(map[string]*tfpb.NodeDef, len(g.GetNode()))
	for _, n := range g.GetNode() {
		byName[n.GetName()] = n
	}
	res := &Result{}
	want := make(map[string]stats.Range, len(ranges))
	var missing []string
	for _, r := range ranges {
		if _, dup := want[r.Node]; dup {
			return nil, fmt.Errorf("node %q: more than one range given", r.Node)
		}
		n := byName[r.Node]
		if n == nil {
			missing = append(missing, r.Node)
			continue
		}
		if err := checkOp(n, r.Side); err != nil {
			return nil, err
		}
		want[r.Node] = r
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		missing = slices.Compact(missing)
		if !opt.AllowMissing {
			return nil, &MissingError{Names: missing, Suggestions: suggest(missing, g)}
		}
		res.Missing = missing
		res.Warnings = append(res.Warnings, fmt.Sprintf("%d logged node(s) not in the graph were skipped (-allow-missing): %s",
			len(missing), tfname.List(missing, 5)))
	}
	for _, n := range g.GetNode() {
		if tfname.IsRequantizationRange(n.GetOp()) {
			if _, ok := want[n.GetName()]; !ok {
				res.Unlogged = append(res.Unlogged, n.GetName())
			}
		}
	}
	if len(res.Unlogged) > 0 {
		msg := fmt.Sprintf("%d %s node(s) in the graph have no range in the log and stay dynamic: %s",
			len(res.Unlogged), tfname.OpRequantizationRange, tfname.List(res.Unlogged, 5))
		if opt.Strict {
			return nil, fmt.Errorf("%s (-strict)", msg)
		}
		res.Warnings = append(res.Warnings, msg)
	}

	out := &tfpb.GraphDef{
		Library:   g.GetLibrary(),
		Version:   g.GetVersion(),
		Versions:  g.GetVersions(),
		DebugInfo: g.GetDebugInfo(),
	}
	rename := make(map[string]string)  // canonical "node:k" → new input
	control := make(map[string]string) // node → new control input (without ^)
	for _, n := range g.GetNode() {
		r, ok := want[n.GetName()]
		if !ok {
			out.Node = append(out.Node, n)
			continue
		}
		name := n.GetName()
		res.Frozen = append(res.Frozen, name)
		switch r.Side {
		case stats.Both:
			if c, ok := clipValue(n); ok && (r.Max > c || r.Min < -c) {
				// The op never outputs more than [-clip, clip] (6 after a
				// Relu6): a range taken from the tensor's values (kl,
				// mse, ...) or a hand-made one must not lift the clamp.
				// Both bounds are clamped, so that the range stays
				// ordered when it lies wholly beyond the clip.
				r.Min, r.Max = min(max(r.Min, -c), c), min(max(r.Max, -c), c)
				res.Clipped = append(res.Clipped, name)
			}
			lo, hi := name+"/frozen_min", name+"/frozen_max"
			out.Node = append(out.Node, floatConst(lo, r.Min), floatConst(hi, r.Max))
			rename[name+":0"] = lo + ":0"
			rename[name+":1"] = hi + ":0"
			control[name] = lo
		case stats.MinOnly:
			c := name + "/frozen_min_only"
			out.Node = append(out.Node, floatConst(c, r.Min))
			rename[name+":0"] = c + ":0"
			control[name] = c
		case stats.MaxOnly:
			c := name + "/frozen_max_only"
			out.Node = append(out.Node, floatConst(c, r.Max))
			rename[name+":0"] = c + ":0"
			control[name] = c
		}
	}
	// Rewire consumers. Nodes are cloned only when one of their inputs changes,
	// so the input graph is never modified.
	for i, n := range out.Node {
		var inputs []string
		for j, in := range n.GetInput() {
			nw, changed := renameInput(in, rename, control)
			if !changed {
				continue
			}
			if inputs == nil {
				inputs = slices.Clone(n.GetInput())
			}
			inputs[j] = nw
		}
		if inputs == nil {
			continue
		}
		inputs = dedupeControls(inputs)
		c := proto.Clone(n).(*tfpb.NodeDef)
		c.Input = inputs
		out.Node[i] = c
	}
	res.Graph = out
	return res, nil
}

// clipValue returns the clip_value_max of a RequantizationRangePerChannel
// node (Intel's quantize_graph sets 6 after a Relu6, 1e30 otherwise).
func clipValue(n *tfpb.NodeDef) (float32, bool) {
	if n.GetOp() != tfname.OpRequantizationRangePerChannel {
		return 0, false
	}
	a, ok := n.GetAttr()["clip_value_max"]
	if !ok {
		return 0, false
	}
	if _, isF := a.GetValue().(*tfpb.AttrValue_F); !isF || !(a.GetF() >= 0) {
		return 0, false
	}
	return a.GetF(), true
}

func checkOp(n *tfpb.NodeDef, side stats.Side) error {
	switch side {
	case stats.Both:
		if !tfname.IsRequantizationRange(n.GetOp()) {
			// TF's message, with the PerChannel variant qcal also accepts.
			return fmt.Errorf("Node is expected to be a RequantizationRange op: %s, but is: %s", n.GetName(), n.GetOp())
		}
	case stats.MinOnly:
		if n.GetOp() != tfname.OpMin {
			return fmt.Errorf("node %q is logged with __min: but is a %s op, not Min", n.GetName(), n.GetOp())
		}
	case stats.MaxOnly:
		if n.GetOp() != tfname.OpMax {
			return fmt.Errorf("node %q is logged with __max: but is a %s op, not Max", n.GetName(), n.GetOp())
		}
	}
	if side != stats.Both {
		if t, ok := n.GetAttr()["T"]; ok && t.GetType() != tfpb.DataType_DT_FLOAT {
			return fmt.Errorf("node %q: a %s op of type %s cannot be frozen to a float Const", n.GetName(), n.GetOp(), t.GetType())
		}
	}
	return nil
}

// renameInput applies TF's RenameNodeInputs rule for data inputs (NAME and
// NAME:0 are the same output) and qcal's fix for control inputs.
func renameInput(in string, rename, control map[string]string) (string, bool) {
	if strings.HasPrefix(in, "^") {
		if c, ok := control[in[1:]]; ok {
			return "^" + c, true
		}
		return in, false
	}
	key := in
	if !strings.Contains(in, ":") {
		key = in + ":0"
	}
	if nw, ok := rename[key]; ok {
		return nw, true
	}
	return in, false
}

// dedupeControls drops repeated control inputs, which rewiring can create.
func dedupeControls(inputs []string) []string {
	seen := make(map[string]bool)
	out := inputs[:0]
	for _, in := range inputs {
		if strings.HasPrefix(in, "^") {
			if seen[in] {
				continue
			}
			seen[in] = true
		}
		out = append(out, in)
	}
	return out
}

// floatConst builds a Const node holding one float32 as TensorFlow's
// SetNodeTensorAttr writes it: attr dtype = DT_FLOAT and attr value = a
// TensorProto with dtype DT_FLOAT, an empty (scalar) shape, and the value's
// 4 little-endian bytes in tensor_content.
func floatConst(name string, v float32) *tfpb.NodeDef {
	content := binary.LittleEndian.AppendUint32(nil, math.Float32bits(v))
	return &tfpb.NodeDef{
		Name: name,
		Op:   "Const",
		Attr: map[string]*tfpb.AttrValue{
			"dtype": {Value: &tfpb.AttrValue_Type{Type: tfpb.DataType_DT_FLOAT}},
			"value": {Value: &tfpb.AttrValue_Tensor{Tensor: &tfpb.TensorProto{
				Dtype:         tfpb.DataType_DT_FLOAT,
				TensorShape:   &tfpb.TensorShapeProto{},
				TensorContent: content,
			}}},
		},
	}
}

// suggest finds, for each missing name, up to three graph node names closest
// by edit distance. RequantizationRange nodes are preferred candidates when
// the graph has any, which keeps the search small on large graphs.
func suggest(missing []string, g *tfpb.GraphDef) map[string][]string {
	var cands []string
	for _, n := range g.GetNode() {
		if tfname.IsRequantizationRange(n.GetOp()) || n.GetOp() == tfname.OpMin || n.GetOp() == tfname.OpMax {
			cands = append(cands, n.GetName())
		}
	}
	if len(cands) == 0 {
		for _, n := range g.GetNode() {
			cands = append(cands, n.GetName())
		}
	}
	if len(cands)*len(missing) > 4_000_000 {
		return nil // too costly to be helpful
	}
	out := make(map[string][]string, len(missing))
	type scored struct {
		name string
		d    int
	}
	for _, m := range missing {
		var best []scored
		limit := len(m)/2 + 1
		for _, c := range cands {
			d := editDistance(m, c, limit)
			if d > limit {
				continue
			}
			best = append(best, scored{c, d})
		}
		sort.Slice(best, func(i, j int) bool {
			if best[i].d != best[j].d {
				return best[i].d < best[j].d
			}
			return best[i].name < best[j].name
		})
		for i := 0; i < len(best) && i < 3; i++ {
			out[m] = append(out[m], best[i].name)
		}
	}
	return out
}

// editDistance is the Levenshtein distance of a and b in bytes, or a value
// above limit as soon as it is known to exceed limit.
func editDistance(a, b string, limit int) int {
	if d := len(a) - len(b); d > limit || -d > limit {
		return limit + 1
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			rowMin = min(rowMin, cur[j])
		}
		if rowMin > limit {
			return limit + 1
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
