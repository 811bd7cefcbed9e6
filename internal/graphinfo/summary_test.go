package graphinfo

import (
	"bufio"
	"bytes"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"

	"qcal/internal/graphio"
	"qcal/internal/synth"
	"qcal/internal/tfpb"
)

// rawNode is a node read from a graph file by the test's own reader.
type rawNode struct {
	name, op string
	inputs   []string
	// params is the product of the dims of the Const value attr's tensor
	// shape, or of the variable's shape attr.
	params int64
}

// rawNodes reads the nodes of a graph file without the loader: a walk over
// the wire bytes of a binary file, or over the lines of a text file.
func rawNodes(t *testing.T, rg realGraph) []rawNode {
	t.Helper()
	if rg.f == graphio.Binary {
		return wireNodes(t, rg.data)
	}
	return textNodes(t, rg.data)
}

// fields calls fn for each field of a protobuf message's wire bytes.
func fields(t *testing.T, b []byte, fn func(num protowire.Number, typ protowire.Type, v []byte, x uint64)) {
	t.Helper()
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			t.Fatal("bad tag")
		}
		b = b[n:]
		switch typ {
		case protowire.BytesType:
			v, m := protowire.ConsumeBytes(b)
			if m < 0 {
				t.Fatal("bad bytes")
			}
			fn(num, typ, v, 0)
			b = b[m:]
		case protowire.VarintType:
			x, m := protowire.ConsumeVarint(b)
			if m < 0 {
				t.Fatal("bad varint")
			}
			fn(num, typ, nil, x)
			b = b[m:]
		default:
			m := protowire.ConsumeFieldValue(num, typ, b)
			if m < 0 {
				t.Fatal("bad field")
			}
			b = b[m:]
		}
	}
}

// dimsProduct multiplies the dim sizes of a TensorShapeProto.
func dimsProduct(t *testing.T, shape []byte) int64 {
	p := int64(1)
	fields(t, shape, func(num protowire.Number, _ protowire.Type, dim []byte, _ uint64) {
		if num != 2 {
			return
		}
		size := int64(0)
		fields(t, dim, func(num protowire.Number, typ protowire.Type, _ []byte, x uint64) {
			if num == 1 && typ == protowire.VarintType {
				size = int64(x)
			}
		})
		p *= size
	})
	return p
}

func wireNodes(t *testing.T, data []byte) []rawNode {
	var out []rawNode
	fields(t, data, func(num protowire.Number, _ protowire.Type, nb []byte, _ uint64) {
		if num != 1 {
			return
		}
		var n rawNode
		attrs := map[string][]byte{}
		fields(t, nb, func(num protowire.Number, _ protowire.Type, v []byte, _ uint64) {
			switch num {
			case 1:
				n.name = string(v)
			case 2:
				n.op = string(v)
			case 3:
				n.inputs = append(n.inputs, string(v))
			case 5:
				var key string
				var val []byte
				fields(t, v, func(num protowire.Number, _ protowire.Type, v []byte, _ uint64) {
					if num == 1 {
						key = string(v)
					} else if num == 2 {
						val = v
					}
				})
				attrs[key] = val
			}
		})
		switch n.op {
		case "Const":
			fields(t, attrs["value"], func(num protowire.Number, _ protowire.Type, tensor []byte, _ uint64) {
				if num == 8 {
					n.params = 1
					fields(t, tensor, func(num protowire.Number, _ protowire.Type, shape []byte, _ uint64) {
						if num == 2 {
							n.params = dimsProduct(t, shape)
						}
					})
				}
			})
		case "VariableV2", "Variable":
			fields(t, attrs["shape"], func(num protowire.Number, _ protowire.Type, shape []byte, _ uint64) {
				if num == 7 {
					n.params = dimsProduct(t, shape)
				}
			})
		}
		out = append(out, n)
	})
	return out
}

// textNodes reads a text GraphDef as TensorFlow writes it: `node {` at
// column 0, name/op/input at two spaces, attrs as `  attr {` blocks whose
// `    key:` names them; the dims of the Const value or variable shape attr
// are the `dim {` blocks inside that attr's block, sized by their `size:`
// lines (none: 0).
func textNodes(t *testing.T, data []byte) []rawNode {
	var out []rawNode
	var cur *rawNode
	var attrKey string
	var sizes []int64
	unquote := func(s string) string {
		u, err := strconv.Unquote(s)
		if err != nil {
			t.Fatalf("bad string %s", s)
		}
		return u
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, len(data)+1) // tensor_content lines are long
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "node {":
			out = append(out, rawNode{})
			cur = &out[len(out)-1]
		case cur == nil:
		case strings.HasPrefix(line, "  name: "):
			cur.name = unquote(strings.TrimPrefix(line, "  name: "))
		case strings.HasPrefix(line, "  op: "):
			cur.op = unquote(strings.TrimPrefix(line, "  op: "))
		case strings.HasPrefix(line, "  input: "):
			cur.inputs = append(cur.inputs, unquote(strings.TrimPrefix(line, "  input: ")))
		case line == "  attr {":
			attrKey, sizes = "", nil
		case strings.HasPrefix(line, "    key: "):
			attrKey = unquote(strings.TrimPrefix(line, "    key: "))
		case strings.TrimSpace(line) == "dim {":
			sizes = append(sizes, 0) // a dim without a size line has size 0
		case strings.Contains(line, "size: ") && len(sizes) > 0:
			_, v, _ := strings.Cut(line, "size: ")
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				t.Fatalf("bad size line %q", line)
			}
			sizes[len(sizes)-1] = n
		case line == "  }":
			if cur.op == "Const" && attrKey == "value" || (cur.op == "VariableV2" || cur.op == "Variable") && attrKey == "shape" {
				cur.params = 1
				for _, s := range sizes {
					cur.params *= s
				}
			}
		case line == "}":
			cur = nil
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestSummarizeRealGraphs(t *testing.T) {
	for _, rg := range realGraphs(t) {
		t.Run(rg.name, func(t *testing.T) {
			raw := rawNodes(t, rg)
			s := Summarize(rg.g)
			if s.Nodes != len(raw) {
				t.Errorf("Nodes = %d, the file holds %d", s.Nodes, len(raw))
			}

			ops := map[string]int{}
			var placeholders, variables, outputs []string
			consumed := map[string]bool{}
			controls := 0
			var consts, vars int64
			for _, n := range raw {
				ops[n.op]++
				for _, in := range n.inputs {
					if strings.HasPrefix(in, "^") {
						controls++
					}
					consumed[strings.Split(strings.TrimPrefix(in, "^"), ":")[0]] = true
				}
				switch n.op {
				case "Placeholder":
					placeholders = append(placeholders, n.name)
				case "VariableV2", "Variable":
					variables = append(variables, n.name)
					vars += n.params
				case "Const":
					consts += n.params
				}
			}
			for _, n := range raw {
				if !consumed[n.name] && n.op != "Const" && n.op != "Assign" && n.op != "NoOp" && n.op != "Placeholder" {
					outputs = append(outputs, n.name)
				}
			}
			if !maps.Equal(s.OpCounts, ops) {
				t.Errorf("OpCounts = %v\nfile: %v", s.OpCounts, ops)
			}
			var gotIn, gotVar, gotOut []string
			for _, x := range s.Inputs {
				gotIn = append(gotIn, x.Name)
			}
			for _, x := range s.Variables {
				gotVar = append(gotVar, x.Name)
			}
			for _, x := range s.Outputs {
				gotOut = append(gotOut, x.Name)
			}
			if !slices.Equal(gotIn, placeholders) || !slices.Equal(gotVar, variables) || !slices.Equal(gotOut, outputs) {
				t.Errorf("inputs %v variables %v outputs %v\nfile:  %v %v %v", gotIn, gotVar, gotOut, placeholders, variables, outputs)
			}
			if s.ControlEdges != controls {
				t.Errorf("ControlEdges = %d, file: %d", s.ControlEdges, controls)
			}
			if s.ConstParameters != consts || len(s.UndecodedConsts) != 0 {
				t.Errorf("ConstParameters = %d (undecoded %v), file: %d", s.ConstParameters, s.UndecodedConsts, consts)
			}
			if s.VariableParameters != vars {
				t.Errorf("VariableParameters = %d, file: %d", s.VariableParameters, vars)
			}
			if s.TFVariableParameters != 0 {
				t.Errorf("TFVariableParameters = %d; TF reads a value attr variables do not have", s.TFVariableParameters)
			}
			if err := s.Checks.Err(); err != nil {
				t.Errorf("Check: %v", err)
			}
			if len(s.Quantization.Ops) != 0 || len(s.Quantization.Ranges) != 0 {
				t.Errorf("an FP32 graph has quantization ops: %+v", s.Quantization)
			}
			t.Logf("%d nodes, %d const and %d variable parameters, depth %d, topological %v, warnings %v",
				s.Nodes, s.ConstParameters, s.VariableParameters, s.Checks.Depth, s.Checks.Topological, s.Checks.Warnings)
		})
	}
}

// TestSummarizeTF1Training checks the variables of the unfrozen TF1 graph:
// SOURCES.md calls it a training graph with VariableV2 nodes; its text
// shows a 784×10 weight matrix.
func TestSummarizeTF1Training(t *testing.T) {
	var rg *realGraph
	for _, r := range realGraphs(t) {
		if r.name == "tf1_training_graph_unfrozen.pbtxt" {
			rg = &r
		}
	}
	if rg == nil {
		t.Skip("tf1_training_graph_unfrozen.pbtxt not available")
	}
	s := Summarize(rg.g)
	if len(s.Variables) == 0 {
		t.Fatal("no variables found")
	}
	if s.VariableParameters < 784*10 {
		t.Errorf("VariableParameters = %d, want at least the 784×10 weights", s.VariableParameters)
	}
	for _, v := range s.Variables {
		if v.Type != "float(1)" || !strings.HasPrefix(v.Shape, "[") {
			t.Errorf("variable %+v: want type float(1) and a known shape", v)
		}
	}
}

func TestSummarizeSynthQuantized(t *testing.T) {
	layers := synth.DemoLayers()
	g := synth.Graph(layers)
	s := Summarize(g)
	q := s.Quantization
	relu := 0
	for _, l := range layers {
		if l.Relu {
			relu++
		}
	}
	wantOps := map[string]int{
		"QuantizeV2": 1, "Dequantize": 1,
		"Requantize": len(layers), "RequantizationRange": len(layers),
		"QuantizedConv2DWithBiasAndRelu": relu, "QuantizedConv2DWithBias": len(layers) - relu,
	}
	if !maps.Equal(q.Ops, wantOps) {
		t.Errorf("Quantization.Ops = %v, want %v", q.Ops, wantOps)
	}
	wantKinds := map[string]int{"quantize": 1, "dequantize": 1, "requantize": len(layers), "requantization_range": len(layers), "quantized": len(layers)}
	if !maps.Equal(q.Kinds, wantKinds) {
		t.Errorf("Quantization.Kinds = %v, want %v", q.Kinds, wantKinds)
	}
	if len(q.Ranges) != len(layers) || q.Dynamic != len(layers) || q.Logged != 0 {
		t.Errorf("ranges: %d nodes, %d dynamic, %d logged", len(q.Ranges), q.Dynamic, q.Logged)
	}
	for i, r := range q.Ranges {
		if r.Name != layers[i].RequantRange() || r.Status != StatusDynamic {
			t.Errorf("range %d = %+v", i, r)
		}
	}
	if len(s.Inputs) != 1 || s.Inputs[0] != (Tensor{"input", "float(1)", "[?,32,32,3]"}) {
		t.Errorf("Inputs = %+v", s.Inputs)
	}
	if len(s.Outputs) != 1 || s.Outputs[0] != (Output{"output", "Softmax"}) {
		t.Errorf("Outputs = %+v", s.Outputs)
	}
	if err := s.Checks.Err(); err != nil || !s.Checks.Topological {
		t.Errorf("checks: %v, topological %v", err, s.Checks.Topological)
	}
	// input → reshape → min → quantize → (conv → requantize) per layer →
	// dequantize → output; each conv also waits on its range node.
	if want := 4 + 3*len(layers) + 2; s.Checks.Depth != want {
		t.Errorf("Depth = %d, want %d", s.Checks.Depth, want)
	}

	// Frozen: replace the first range node with the two Consts freeze
	// writes, and log the second with a Print node.
	rr := layers[0].RequantRange()
	var nodes []*tfpb.NodeDef
	for _, n := range g.GetNode() {
		if n.GetName() == rr {
			nodes = append(nodes, &tfpb.NodeDef{Name: rr + "/frozen_min", Op: "Const"}, &tfpb.NodeDef{Name: rr + "/frozen_max", Op: "Const"})
			continue
		}
		nodes = append(nodes, n)
		if n.GetName() == layers[1].RequantRange() {
			nodes = append(nodes, &tfpb.NodeDef{Name: n.GetName() + "__print__", Op: "Print", Input: []string{n.GetName() + ":0", n.GetName() + ":0", n.GetName() + ":1"},
				Attr: map[string]*tfpb.AttrValue{"message": {Value: &tfpb.AttrValue_S{S: []byte("m:")}}}})
		}
	}
	q = Summarize(&tfpb.GraphDef{Node: nodes}).Quantization
	if !slices.Equal(q.Frozen, []string{rr}) || q.Logged != 1 || q.Dynamic != len(layers)-2 {
		t.Errorf("frozen %v, logged %d, dynamic %d", q.Frozen, q.Logged, q.Dynamic)
	}
	if len(q.Prints) != 1 || q.Prints[0] != (PrintNode{layers[1].RequantRange() + "__print__", layers[1].RequantRange(), "m:"}) {
		t.Errorf("Prints = %+v", q.Prints)
	}
}

func TestTypeAndShapeStrings(t *testing.T) {
	types := map[tfpb.DataType]string{
		tfpb.DataType_DT_FLOAT: "float", tfpb.DataType_DT_QUINT8: "quint8", tfpb.DataType_DT_INVALID: "INVALID",
		tfpb.DataType_DT_FLOAT_REF: "float_ref", tfpb.DataType_DT_HALF: "half", tfpb.DataType_DT_BFLOAT16: "bfloat16",
		tfpb.DataType_DT_FLOAT8_E4M3FN: "float8_e4m3fn", 77: "unknown dtype enum (77)",
	}
	for dt, want := range types {
		if got := TypeName(dt); got != want {
			t.Errorf("TypeName(%d) = %q, want %q", dt, got, want)
		}
	}
	shape := func(unknown bool, dims ...int64) *tfpb.TensorShapeProto {
		s := &tfpb.TensorShapeProto{UnknownRank: unknown}
		for _, d := range dims {
			s.Dim = append(s.Dim, &tfpb.TensorShapeProto_Dim{Size: d})
		}
		return s
	}
	shapes := []struct {
		s    *tfpb.TensorShapeProto
		want string
	}{
		{shape(false, -1, 28, 28), "[?,28,28]"},
		{shape(false), "[]"},
		{nil, "[]"},
		{shape(true), "<unknown>"},
		{shape(true, 3), "An unknown shape must not have any dimensions set."},
		{shape(false, 2, -2), "Shape [2,-2] has dimensions with values below -1 (where -1 means unknown)"},
		{shape(false, 1<<40, 1<<40), "Shape [1099511627776,1099511627776] is too large (more than 2**63 - 1 entries)"},
	}
	for _, tc := range shapes {
		if got := ShapeString(tc.s); got != tc.want {
			t.Errorf("ShapeString(%v) = %q, want %q", tc.s, got, tc.want)
		}
	}
}

func TestTensorElements(t *testing.T) {
	shape := &tfpb.TensorShapeProto{Dim: []*tfpb.TensorShapeProto_Dim{{Size: 3}, {Size: 3}}}
	tests := []struct {
		t    *tfpb.TensorProto
		n    int64
		ok   bool
		what string
	}{
		{&tfpb.TensorProto{Dtype: tfpb.DataType_DT_FLOAT, TensorShape: shape, FloatVal: []float32{0}}, 9, true, "splat float_val"},
		{&tfpb.TensorProto{Dtype: tfpb.DataType_DT_FLOAT, TensorShape: shape, TensorContent: make([]byte, 36)}, 9, true, "content"},
		{&tfpb.TensorProto{Dtype: tfpb.DataType_DT_FLOAT, TensorShape: shape, TensorContent: make([]byte, 35)}, 0, false, "short content"},
		{&tfpb.TensorProto{Dtype: tfpb.DataType_DT_FLOAT}, 1, true, "scalar"},
		{&tfpb.TensorProto{TensorShape: shape}, 0, false, "no dtype"},
		{&tfpb.TensorProto{Dtype: tfpb.DataType_DT_FLOAT, TensorShape: &tfpb.TensorShapeProto{Dim: []*tfpb.TensorShapeProto_Dim{{Size: -1}}}}, 0, false, "unknown dim"},
		{nil, 0, false, "no tensor"},
	}
	for _, tc := range tests {
		n, ok := TensorElements(tc.t)
		if n != tc.n || ok != tc.ok {
			t.Errorf("%s: TensorElements = %d, %v; want %d, %v", tc.what, n, ok, tc.n, tc.ok)
		}
	}
}

func TestOpCountsTFOrder(t *testing.T) {
	// Up to 16 op types libstdc++ sorts by insertion: stable, so ties stay
	// in name order.
	counts := map[string]int{"Const": 12, "Identity": 4, "Add": 1, "Relu": 4, "MatMul": 2, "BiasAdd": 2}
	want := []OpCount{{"Const", 12}, {"Identity", 4}, {"Relu", 4}, {"BiasAdd", 2}, {"MatMul", 2}, {"Add", 1}}
	if got := OpCountsTFOrder(counts); !slices.Equal(got, want) {
		t.Errorf("OpCountsTFOrder = %v, want %v", got, want)
	}
	// More op types: libstdc++'s introsort moves ties around. These are
	// the op counts of tf1_training_graph_unfrozen.pbtxt (33 op types); the
	// expected order is what a program built with g++ 12 printed for
	// std::sort over the same pairs in std::map order with TF's comparator.
	tf1 := map[string]int{
		"Add": 2, "ApplyGradientDescent": 2, "Assign": 4, "BroadcastGradientArgs": 2, "Cast": 1, "Const": 26,
		"DynamicStitch": 1, "Fill": 3, "FloorDiv": 2, "FloorMod": 1, "Identity": 9, "Log": 1, "MatMul": 3,
		"Maximum": 2, "Mean": 1, "Mul": 6, "Neg": 2, "NoOp": 6, "Placeholder": 2, "PlaceholderWithDefault": 2,
		"Prod": 2, "Range": 1, "RealDiv": 1, "Reciprocal": 1, "Reshape": 6, "RestoreV2": 1, "SaveV2": 1,
		"Shape": 6, "Softmax": 1, "Sub": 1, "Sum": 6, "Tile": 2, "VariableV2": 2,
	}
	wantOrder := "Const Identity Sum Shape Reshape NoOp Mul Assign Fill MatMul Neg VariableV2 Tile Prod " +
		"PlaceholderWithDefault Placeholder FloorDiv ApplyGradientDescent BroadcastGradientArgs Add Maximum " +
		"FloorMod Range RealDiv Reciprocal Log RestoreV2 SaveV2 DynamicStitch Softmax Sub Cast Mean"
	var gotOrder []string
	for _, oc := range OpCountsTFOrder(tf1) {
		gotOrder = append(gotOrder, oc.Op)
	}
	if strings.Join(gotOrder, " ") != wantOrder {
		t.Errorf("TF1 graph order:\n got %v\nwant %v", gotOrder, wantOrder)
	}
	// Whatever the size: sorted by count, complete, deterministic.
	big := map[string]int{}
	for i := range 40 {
		big["Op"+strconv.Itoa(i)] = i % 5
	}
	got := OpCountsTFOrder(big)
	if len(got) != 40 || !slices.IsSortedFunc(got, func(a, b OpCount) int { return b.Count - a.Count }) {
		t.Errorf("not sorted by descending count: %v", got)
	}
	if !slices.Equal(got, OpCountsTFOrder(big)) {
		t.Error("not deterministic")
	}
}
