package freeze

import (
	"encoding/binary"
	"math"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"qcal/internal/synth"
	"qcal/internal/tfname"
	"qcal/internal/tfpb"
	"qcal/stats"
)

func node(name, op string, inputs ...string) *tfpb.NodeDef {
	return &tfpb.NodeDef{Name: name, Op: op, Input: inputs}
}

// smallGraph is conv → rr → requantize, plus nodes consuming rr in every
// spelling: bare, :0, :1 and as a control input.
func smallGraph() *tfpb.GraphDef {
	return &tfpb.GraphDef{
		Node: []*tfpb.NodeDef{
			node("conv", "QuantizedConv2DWithBiasAndRelu"),
			node("rr", "RequantizationRange", "conv", "conv:1", "conv:2"),
			node("rq", "Requantize", "conv", "conv:1", "conv:2", "rr", "rr:1"),
			node("use0", "Identity", "rr:0"),
			node("ctl", "NoOp", "^rr", "^conv"),
			node("other", "RequantizationRange", "conv", "conv:1", "conv:2"),
		},
		Versions: &tfpb.VersionDef{Producer: 27, MinConsumer: 12},
		Library:  &tfpb.FunctionDefLibrary{Gradient: []*tfpb.GradientDef{{FunctionName: "f", GradientFunc: "g"}}},
	}
}

func names(g *tfpb.GraphDef) []string {
	var out []string
	for _, n := range g.GetNode() {
		out = append(out, n.GetName())
	}
	return out
}

func constValue(t *testing.T, n *tfpb.NodeDef) float32 {
	t.Helper()
	if n.GetOp() != "Const" || n.GetAttr()["dtype"].GetType() != tfpb.DataType_DT_FLOAT {
		t.Fatalf("node %s: op %s dtype %v, want a DT_FLOAT Const", n.GetName(), n.GetOp(), n.GetAttr()["dtype"].GetType())
	}
	tp := n.GetAttr()["value"].GetTensor()
	// TF's SetNodeTensorAttr writes the value with tensor_content, a scalar
	// (present but empty) shape and dtype DT_FLOAT.
	if tp.GetDtype() != tfpb.DataType_DT_FLOAT || tp.TensorShape == nil || len(tp.GetTensorShape().GetDim()) != 0 ||
		len(tp.GetTensorContent()) != 4 || len(tp.GetFloatVal()) != 0 {
		t.Fatalf("node %s: value tensor %v is not a scalar float in tensor_content", n.GetName(), tp)
	}
	return math.Float32frombits(binary.LittleEndian.Uint32(tp.GetTensorContent()))
}

func TestGraphTFRewrite(t *testing.T) {
	g := smallGraph()
	orig := proto.Clone(g)
	res, err := Graph(g, []stats.Range{{Node: "rr", Side: stats.Both, Min: -5.75943518, Max: 3.43590856, Count: 3}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(g, orig) {
		t.Error("the input graph was modified")
	}
	out := res.Graph
	// TF: the node is replaced at its position by NAME/frozen_min, NAME/frozen_max.
	wantNames := []string{"conv", "rr/frozen_min", "rr/frozen_max", "rq", "use0", "ctl", "other"}
	if got := names(out); !slices.Equal(got, wantNames) {
		t.Fatalf("nodes = %v, want %v", got, wantNames)
	}
	if v := constValue(t, out.Node[1]); v != -5.75943518 {
		t.Errorf("frozen_min = %v", v)
	}
	if v := constValue(t, out.Node[2]); v != 3.43590856 {
		t.Errorf("frozen_max = %v", v)
	}
	// TF's RenameNodeInputs: bare NAME and NAME:0 → NAME/frozen_min:0, NAME:1 → NAME/frozen_max:0.
	// qcal also rewires ^NAME (TF leaves it naming the removed node).
	wantInputs := map[string][]string{
		"rq":   {"conv", "conv:1", "conv:2", "rr/frozen_min:0", "rr/frozen_max:0"},
		"use0": {"rr/frozen_min:0"},
		"ctl":  {"^rr/frozen_min", "^conv"},
	}
	for _, n := range out.Node {
		if want, ok := wantInputs[n.GetName()]; ok && !slices.Equal(n.GetInput(), want) {
			t.Errorf("%s inputs = %v, want %v", n.GetName(), n.GetInput(), want)
		}
	}
	if !slices.Equal(res.Frozen, []string{"rr"}) || !slices.Equal(res.Unlogged, []string{"other"}) {
		t.Errorf("Frozen %v Unlogged %v", res.Frozen, res.Unlogged)
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "other") {
		t.Errorf("warnings = %q, want one naming the unlogged node", res.Warnings)
	}
	if !proto.Equal(out.GetVersions(), g.GetVersions()) || !proto.Equal(out.GetLibrary(), g.GetLibrary()) {
		t.Error("versions or library lost")
	}
}

func TestGraphStrictUnlogged(t *testing.T) {
	_, err := Graph(smallGraph(), []stats.Range{{Node: "rr", Side: stats.Both, Min: 0, Max: 1}}, Options{Strict: true})
	if err == nil || !strings.Contains(err.Error(), "other") || !strings.Contains(err.Error(), "-strict") {
		t.Errorf("err = %v, want a -strict error naming node other", err)
	}
}

func TestGraphPerChannelAndMinMax(t *testing.T) {
	g := &tfpb.GraphDef{Node: []*tfpb.NodeDef{
		node("x", "Placeholder"),
		node("m", "Min", "x", "dims"),
		node("M", "Max", "x", "dims"),
		node("q", "QuantizeV2", "x", "m", "M:0"),
		node("pc", "RequantizationRangePerChannel", "conv", "conv:1", "conv:2"),
		node("rq", "Requantize", "conv", "conv:1", "conv:2", "pc:0", "pc:1"),
	}}
	g.Node[1].Attr = map[string]*tfpb.AttrValue{"T": {Value: &tfpb.AttrValue_Type{Type: tfpb.DataType_DT_FLOAT}}}
	res, err := Graph(g, []stats.Range{
		{Node: "m", Side: stats.MinOnly, Min: -1.5},
		{Node: "M", Side: stats.MaxOnly, Max: 2.5},
		{Node: "pc", Side: stats.Both, Min: 0, Max: 6},
	}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"x", "m/frozen_min_only", "M/frozen_max_only", "q", "pc/frozen_min", "pc/frozen_max", "rq"}
	if got := names(res.Graph); !slices.Equal(got, want) {
		t.Fatalf("nodes = %v, want %v", got, want)
	}
	if v := constValue(t, res.Graph.Node[1]); v != -1.5 {
		t.Errorf("m/frozen_min_only = %v, want -1.5", v)
	}
	if v := constValue(t, res.Graph.Node[2]); v != 2.5 {
		t.Errorf("M/frozen_max_only = %v, want 2.5", v)
	}
	if got := res.Graph.Node[3].GetInput(); !slices.Equal(got, []string{"x", "m/frozen_min_only:0", "M/frozen_max_only:0"}) {
		t.Errorf("q inputs = %v", got)
	}
	if got := res.Graph.Node[6].GetInput(); !slices.Equal(got, []string{"conv", "conv:1", "conv:2", "pc/frozen_min:0", "pc/frozen_max:0"}) {
		t.Errorf("rq inputs = %v", got)
	}
}

func TestGraphErrors(t *testing.T) {
	tests := []struct {
		name   string
		ranges []stats.Range
		opt    Options
		want   []string
	}{
		{"not a RequantizationRange", []stats.Range{{Node: "conv", Side: stats.Both}}, Options{},
			// TF's own error text.
			[]string{"Node is expected to be a RequantizationRange op: conv, but is: QuantizedConv2DWithBiasAndRelu"}},
		{"min record on a RequantizationRange", []stats.Range{{Node: "rr", Side: stats.MinOnly}}, Options{},
			[]string{`node "rr" is logged with __min: but is a RequantizationRange op`}},
		{"missing with suggestion", []stats.Range{{Node: "r", Side: stats.Both}, {Node: "othr", Side: stats.Both}}, Options{},
			[]string{"2 node(s) from the log not found", "\n\tothr (closest in graph: other", "\n\tr (closest in graph: rr", "-allow-missing"}},
		{"duplicate range", []stats.Range{{Node: "rr", Side: stats.Both}, {Node: "rr", Side: stats.Both}}, Options{},
			[]string{`node "rr": more than one range`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Graph(smallGraph(), tc.ranges, tc.opt)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestGraphAllowMissing(t *testing.T) {
	res, err := Graph(smallGraph(), []stats.Range{
		{Node: "gone", Side: stats.Both}, {Node: "rr", Side: stats.Both, Min: 0, Max: 1}, {Node: "gone2", Side: stats.Both},
	}, Options{AllowMissing: true})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Missing, []string{"gone", "gone2"}) || !slices.Equal(res.Frozen, []string{"rr"}) {
		t.Errorf("Missing %v Frozen %v", res.Missing, res.Frozen)
	}
	if len(res.Warnings) != 2 || !strings.Contains(res.Warnings[0], "gone, gone2") {
		t.Errorf("warnings = %q", res.Warnings)
	}
}

// TestGraphSynthetic freezes every layer of the built-in eightbit graph and
// checks that the result is a valid graph: no RequantizationRange left and
// every input naming an existing node.
func TestGraphSynthetic(t *testing.T) {
	layers := synth.DemoLayers()
	g := synth.Graph(layers)
	var ranges []stats.Range
	for i, l := range layers {
		ranges = append(ranges, stats.Range{Node: l.RequantRange(), Side: stats.Both, Min: -float32(i), Max: float32(i + 1)})
	}
	res, err := Graph(g, ranges, Options{Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Graph.Node) != len(g.Node)+len(layers) {
		t.Errorf("%d nodes, want %d (each RequantizationRange becomes two Consts)", len(res.Graph.Node), len(g.Node)+len(layers))
	}
	have := map[string]bool{}
	for _, n := range res.Graph.Node {
		have[n.GetName()] = true
		if n.GetOp() == tfname.OpRequantizationRange {
			t.Errorf("%s still a RequantizationRange", n.GetName())
		}
	}
	for _, n := range res.Graph.Node {
		for _, in := range n.GetInput() {
			name := strings.TrimPrefix(in, "^")
			if i := strings.IndexByte(name, ':'); i >= 0 {
				name = name[:i]
			}
			if !have[name] {
				t.Errorf("%s: input %q names no node", n.GetName(), in)
			}
		}
	}
}

func TestEditDistance(t *testing.T) {
	tests := []struct {
		a, b  string
		limit int
		want  int
	}{
		{"kitten", "sitting", 10, 3},
		{"", "abc", 10, 3},
		{"abc", "abc", 0, 0},
		{"abcdef", "uvwxyz", 2, 3}, // beyond the limit: limit+1
	}
	for _, tc := range tests {
		if got := editDistance(tc.a, tc.b, tc.limit); got != tc.want {
			t.Errorf("editDistance(%q, %q, %d) = %d, want %d", tc.a, tc.b, tc.limit, got, tc.want)
		}
	}
}

// BenchmarkGraph freezes all 250 RequantizationRange nodes of a
// ResNet-101-sized eightbit graph.
func BenchmarkGraph(b *testing.B) {
	layers := synth.ModelLayers(250)
	g := synth.Graph(layers)
	var ranges []stats.Range
	for i, l := range layers {
		ranges = append(ranges, stats.Range{Node: l.RequantRange(), Side: stats.Both, Min: -float32(i), Max: float32(i + 1)})
	}
	b.SetBytes(int64(proto.Size(g)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Graph(g, ranges, Options{Strict: true}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestGraphPerChannelClip: a RequantizationRangePerChannel after a Relu6
// has clip_value_max 6 and never outputs more than [-6, 6]; a range from
// the tensor's values (here [-1, 9.5], as kl or mse may give for a conv
// whose Relu6 is applied by the clip) is narrowed to [-1, 6], so the
// frozen graph keeps the clamp. clip_value_max 1e30 leaves [-2, 40] alone.
func TestGraphPerChannelClip(t *testing.T) {
	clip := func(v float32) map[string]*tfpb.AttrValue {
		return map[string]*tfpb.AttrValue{"clip_value_max": {Value: &tfpb.AttrValue_F{F: v}}}
	}
	g := &tfpb.GraphDef{Node: []*tfpb.NodeDef{
		{Name: "six", Op: "RequantizationRangePerChannel", Input: []string{"c", "c:1", "c:2"}, Attr: clip(6)},
		{Name: "big", Op: "RequantizationRangePerChannel", Input: []string{"d", "d:1", "d:2"}, Attr: clip(1e30)},
	}}
	res, err := Graph(g, []stats.Range{
		{Node: "six", Side: stats.Both, Min: -1, Max: 9.5},
		{Node: "big", Side: stats.Both, Min: -2, Max: 40},
	}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []float32
	for _, n := range res.Graph.GetNode() {
		got = append(got, constValue(t, n))
	}
	if !slices.Equal(got, []float32{-1, 6, -2, 40}) || !slices.Equal(res.Clipped, []string{"six"}) {
		t.Errorf("frozen %v, clipped %v; want [-1 6 -2 40], [six]", got, res.Clipped)
	}
}

// TestGraphPerChannelClipKeepsOrder: the narrowing clamps both bounds to
// [-clip, clip], so a range lying wholly beyond the clip stays ordered:
// [6.5, 9] with clip 6 becomes [6, 6] (narrowing only the max would give
// min 6.5 above max 6), [-9, -7] becomes [-6, -6].
func TestGraphPerChannelClipKeepsOrder(t *testing.T) {
	clip := map[string]*tfpb.AttrValue{"clip_value_max": {Value: &tfpb.AttrValue_F{F: 6}}}
	g := &tfpb.GraphDef{Node: []*tfpb.NodeDef{
		{Name: "hi", Op: "RequantizationRangePerChannel", Input: []string{"c", "c:1", "c:2"}, Attr: clip},
		{Name: "lo", Op: "RequantizationRangePerChannel", Input: []string{"d", "d:1", "d:2"}, Attr: clip},
	}}
	res, err := Graph(g, []stats.Range{
		{Node: "hi", Side: stats.Both, Min: 6.5, Max: 9},
		{Node: "lo", Side: stats.Both, Min: -9, Max: -7},
	}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []float32
	for _, n := range res.Graph.GetNode() {
		got = append(got, constValue(t, n))
	}
	if !slices.Equal(got, []float32{6, 6, -6, -6}) || !slices.Equal(res.Clipped, []string{"hi", "lo"}) {
		t.Errorf("frozen %v, clipped %v; want [6 6 -6 -6], [hi lo]", got, res.Clipped)
	}
}
