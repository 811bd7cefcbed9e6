package exec

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"qcal/internal/kernels"
	"qcal/internal/tensor"
	"qcal/internal/testutil"
	"qcal/internal/tfpb"
)

// readIDX reads a float32 IDX file as uTensor writes its test outputs:
// bytes 0,0, type 0x0d (float32), rank, then rank big-endian uint32
// dimensions and big-endian float32 elements. A minimal reader for these
// tests; internal/dataset holds the real one.
func readIDX(t *testing.T, path string) *tensor.Tensor {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 4 || b[0] != 0 || b[1] != 0 || b[2] != 0x0d {
		t.Fatalf("%s: not a float32 IDX file (header % x)", path, b[:min(4, len(b))])
	}
	rank := int(b[3])
	if len(b) < 4+4*rank {
		t.Fatalf("%s: header cut short", path)
	}
	shape := make([]int, rank)
	for i := range shape {
		shape[i] = int(binary.BigEndian.Uint32(b[4+4*i:]))
	}
	body := b[4+4*rank:]
	n := tensor.NumElements(shape)
	if len(body) != 4*n {
		t.Fatalf("%s: %d data bytes for shape %v", path, len(body), shape)
	}
	v := make([]float32, n)
	for i := range v {
		v[i] = math.Float32frombits(binary.BigEndian.Uint32(body[4*i:]))
	}
	return tensor.FromF32(shape, v)
}

// closeTo reports the first element of got that differs from want by more
// than tol·max(1, |want|).
func closeTo(t *testing.T, what string, got, want *tensor.Tensor, tol float64) {
	t.Helper()
	if tensor.ShapeString(got.Shape) != tensor.ShapeString(want.Shape) {
		t.Fatalf("%s: shape %v, want %v", what, got.Shape, want.Shape)
	}
	worst := 0.0
	for i := range want.F32 {
		d := math.Abs(float64(got.F32[i]-want.F32[i])) / math.Max(1, math.Abs(float64(want.F32[i])))
		if d > tol || math.IsNaN(float64(got.F32[i])) {
			t.Fatalf("%s: element %d is %v, want %v (relative error %.3g > %.3g)", what, i, got.F32[i], want.F32[i], d, tol)
		}
		worst = max(worst, d)
	}
	t.Logf("%s: %d values within %.3g (worst %.3g)", what, len(want.F32), tol, worst)
}

// TestQuantizeGraphPairsFP32 runs uTensor's FP32 op tests and compares with
// the outputs TensorFlow wrote for them (SOURCES-more.md).
func TestQuantizeGraphPairsFP32(t *testing.T) {
	dir := testutil.RealData(t, "quantize_graph_pairs")
	cases := []struct{ sub, graph, output, idx string }{
		{"conv", "test_conv.pb", "out_conv", "output_conv.idx"},
		{"matmul", "test_matmul.pb", "z", "output_z.idx"},
		{"max_pool_1", "test_max_pool_1.pb", "pool1", "output_pool.idx"},
		{"relu", "test_relu.pb", "relu", "output_relu.idx"},
	}
	for _, c := range cases {
		t.Run(c.sub, func(t *testing.T) {
			g, err := Load(filepath.Join(dir, c.sub, c.graph))
			if err != nil {
				t.Fatal(err)
			}
			out := c.output
			if len(g.Outputs) == 1 {
				out = g.Outputs[0] // the graph's one sink, found like summarize_graph
			}
			got, err := g.Run(nil, []string{out})
			if err != nil {
				t.Fatal(err)
			}
			closeTo(t, c.sub, got[0], readIDX(t, filepath.Join(dir, c.sub, c.idx)), 1e-5)
		})
	}
}

// TestQuantizedAddFP32: the float graph adds x = [1,2,3,4] and y =
// [1,1,1,1] (its Consts). Its output_z.idx holds [2.0015, 3.0023, 4.0015,
// 5.0038]: not the float sums but the quantized graph's dequantized output
// (errors up to 0.004, about one step of 8-bit codes over [0, 5]), so the
// float result is checked against the sums worked by hand instead.
func TestQuantizedAddFP32(t *testing.T) {
	dir := testutil.RealData(t, "quantize_graph_pairs")
	g, err := Load(filepath.Join(dir, "quantized_add", "test_quantized_add.pb"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := g.Run(nil, []string{"z"})
	if err != nil {
		t.Fatal(err)
	}
	closeTo(t, "z", got[0], tensor.FromF32([]int{4}, []float32{2, 3, 4, 5}), 0)
	idx := readIDX(t, filepath.Join(dir, "quantized_add", "output_z.idx"))
	if d := idx.F32[3] - 5; d < 0.003 || d > 0.004 {
		t.Errorf("output_z.idx[3] = %v: the file changed? (it held 5.0038)", idx.F32[3])
	}
}

// TestReshape2Feed feeds uTensor's reshape_2 graph, y = x·w with x a
// [?,3] placeholder; TF's input for output_y.idx was not kept, so the
// expectation is the product worked out from w's constant.
func TestReshape2Feed(t *testing.T) {
	dir := testutil.RealData(t, "quantize_graph_pairs")
	g, err := Load(filepath.Join(dir, "reshape_2", "test_reshape_2.pb"))
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Inputs) != 1 || g.Inputs[0].String() != "x float[?,3]" {
		t.Fatalf("inputs %v, want [x float[?,3]]", g.Inputs)
	}
	w, err := g.Run(nil, []string{"w"})
	if err != nil {
		t.Fatal(err)
	}
	x := tensor.FromF32([]int{2, 3}, []float32{1, 0, 0, 1, 2, -1})
	y, err := g.Run(map[string]*tensor.Tensor{"x": x}, []string{"y"})
	if err != nil {
		t.Fatal(err)
	}
	wv := w[0].F32
	// row 0 = (1,0,0) picks w0; row 1 = w0 + 2·w1 − w2.
	want := []float32{wv[0], wv[0] + 2*wv[1] - wv[2]}
	if y[0].Shape[0] != 2 || y[0].Shape[1] != 1 || math.Abs(float64(y[0].F32[0]-want[0])) > 1e-6 || math.Abs(float64(y[0].F32[1]-want[1])) > 1e-6 {
		t.Errorf("y = %v %v, want [2 1] %v", y[0].Shape, y[0].F32, want)
	}
	g.Name = "reshape_2.pb" // errors start with it
	_, err = g.Run(map[string]*tensor.Tensor{"x": tensor.FromF32([]int{2, 4}, make([]float32, 8))}, []string{"y"})
	if err == nil || err.Error() != `reshape_2.pb: input "x": fed shape [2,4], the placeholder's shape is [?,3]` {
		t.Errorf("wrong shape: %v", err)
	}
	_, err = g.Run(map[string]*tensor.Tensor{"x": tensor.FromI32([]int{1, 3}, make([]int32, 3))}, []string{"y"})
	if err == nil || err.Error() != `reshape_2.pb: input "x": fed int32[1,3], the placeholder wants x float[?,3]` {
		t.Errorf("wrong dtype: %v", err)
	}
	_, err = g.Run(nil, []string{"y"})
	if err == nil || err.Error() != `reshape_2.pb: input "x" is not fed (x float[?,3])` {
		t.Errorf("not fed: %v", err)
	}
}

// feedFor makes a deterministic input for a placeholder: unknown
// dimensions become batch, values a fixed ramp in [0, 1).
func feedFor(in Input, batch int) *tensor.Tensor {
	shape := make([]int, len(in.Shape))
	for i, d := range in.Shape {
		if d < 0 {
			d = batch
		}
		shape[i] = d
	}
	x := tensor.New(in.DType, shape)
	for i := range x.F32 {
		x.F32[i] = float32((i*37)%101) / 101
	}
	return x
}

// TestRealGraphs runs every FP32 frozen graph the team has, with ramp
// inputs, and checks what can be checked without TensorFlow: the output
// shapes, and rows of the softmax outputs summing to 1.
func TestRealGraphs(t *testing.T) {
	root := testutil.RealData(t, "")
	cases := []struct {
		path    string
		outputs []string
		shapes  []string
	}{
		{"graphs/fashion_fcn_frozen.pb", nil, []string{"[2,10]"}},
		{"graphs/fcn_frozen_textformat.pb", nil, nil},
		{"graphs/linreg_frozen.pb", nil, nil},
		{"graphs/logreg_frozen.pb", nil, nil},
		{"graphs/mnist_cnn_frozen.pb", nil, []string{"[2,10]"}},
		{"graphs/mnist_keras_cnn_frozen.pb", nil, []string{"[2,10]"}},
		{"checkpoints/prathmesh_mnist_cnn/frozen_graph.pb", []string{"predictions", "poool2/MaxPool"}, []string{"[2,10]", "[2,5,5,8]"}}, // 28 -5x5 VALID→ 24 -pool 2→ 12 -3x3 VALID→ 10 -pool 2→ 5,
		{"batchnorm/alperiox_signmnist_bn/frozen_graph.pb", nil, []string{"[2,25]"}},
		{"imagenet/mobilenet_v1_0.25_128_2017/frozen_graph.pb", []string{"MobilenetV1/Predictions/Reshape_1"}, []string{"[1,1001]"}},
	}
	for _, c := range cases {
		t.Run(filepath.Base(filepath.Dir(c.path))+"/"+filepath.Base(c.path), func(t *testing.T) {
			path := filepath.Join(root, c.path)
			if _, err := os.Stat(path); err != nil {
				t.Skip(err)
			}
			g, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			feeds := map[string]*tensor.Tensor{}
			for _, in := range g.Inputs {
				feeds[in.Name] = feedFor(in, 2)
			}
			outs := c.outputs
			if outs == nil {
				outs = g.Outputs
			}
			got, err := g.Run(feeds, outs)
			if err != nil {
				t.Fatal(err)
			}
			for i, x := range got {
				t.Logf("%s: %s = %s", c.path, outs[i], x)
				if i < len(c.shapes) && tensor.ShapeString(x.Shape) != c.shapes[i] {
					t.Errorf("output %s: shape %v, want %s", outs[i], x.Shape, c.shapes[i])
				}
				for _, v := range x.F32 {
					if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
						t.Fatalf("output %s holds %v", outs[i], v)
					}
				}
				if producer(g, outs[i]) == "Softmax" {
					t.Logf("%s: rows sum to 1", outs[i])
					d := x.Shape[len(x.Shape)-1]
					for r := 0; r < x.Len()/d; r++ {
						var s float64
						for _, v := range x.F32[r*d : (r+1)*d] {
							s += float64(v)
						}
						if math.Abs(s-1) > 1e-5 {
							t.Errorf("output %s row %d sums to %v, want 1 (softmax)", outs[i], r, s)
						}
					}
				}
			}
		})
	}
}

// producer returns the op computing a node's value, looking through
// Identity and Reshape (which do not change values).
func producer(g *Graph, name string) string {
	for {
		n := g.def.GetNode()[g.byName[name]]
		if op := n.GetOp(); op != "Identity" && op != "Reshape" {
			return op
		}
		name = n.GetInput()[0]
	}
}

// TestUnfrozenRefused: a training graph with variables is refused at load
// with the reason, not run.
func TestUnfrozenRefused(t *testing.T) {
	dir := testutil.RealData(t, "graphs")
	_, err := Load(filepath.Join(dir, "tf1_training_graph_unfrozen.pbtxt"))
	if err == nil || !strings.Contains(err.Error(), "tf1_training_graph_unfrozen.pbtxt: graph is not frozen: ") {
		t.Fatalf("got %v, want a refusal saying the graph is not frozen", err)
	}
	t.Log(err)
}

func mkNode(name, op string, inputs []string, attrs map[string]*tfpb.AttrValue) *tfpb.NodeDef {
	return &tfpb.NodeDef{Name: name, Op: op, Input: inputs, Attr: attrs}
}

func typeAttr(t tfpb.DataType) *tfpb.AttrValue {
	return &tfpb.AttrValue{Value: &tfpb.AttrValue_Type{Type: t}}
}

func constNode(name string, x *tensor.Tensor) *tfpb.NodeDef {
	return mkNode(name, "Const", nil, map[string]*tfpb.AttrValue{
		"dtype": typeAttr(x.DType),
		"value": {Value: &tfpb.AttrValue_Tensor{Tensor: x.ToProto()}},
	})
}

func TestUnsupportedOpsListed(t *testing.T) {
	g := &tfpb.GraphDef{Node: []*tfpb.NodeDef{
		mkNode("a", "Foo", nil, nil),
		mkNode("b", "Bar", nil, nil),
		mkNode("c", "Foo", []string{"a"}, nil),
		mkNode("d", "Relu", []string{"c"}, nil),
	}}
	_, err := New(g, "g.pb")
	want := `g.pb: 2 unsupported ops: Bar (node "b"), Foo (nodes "a", "c")`
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}

// TestPlan checks pruning, control inputs, output indices, Identity chains
// and feeding an inner node.
func TestPlan(t *testing.T) {
	f := tfpb.DataType_DT_FLOAT
	g := &tfpb.GraphDef{Node: []*tfpb.NodeDef{
		// listed out of order on purpose: TF does not require order
		mkNode("sum", "Add", []string{"id2", "b", "^noop"}, map[string]*tfpb.AttrValue{"T": typeAttr(f)}),
		mkNode("id2", "Identity", []string{"id1"}, nil),
		mkNode("id1", "Identity", []string{"a:0"}, nil),
		constNode("a", tensor.FromF32([]int{2}, []float32{1, 2})),
		constNode("b", tensor.FromF32([]int{2}, []float32{10, 20})),
		mkNode("noop", "NoOp", nil, nil),
		mkNode("unused", "Bogus2", []string{"a"}, nil),
	}}
	if _, err := New(g, "g"); err == nil {
		t.Fatal("unsupported op Bogus2 not refused")
	}
	g.Node = g.Node[:len(g.Node)-1]
	gr, err := New(g, "g")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(gr.Outputs, ",") != "sum" {
		t.Errorf("outputs %v, want [sum]", gr.Outputs)
	}
	out, err := gr.Run(nil, []string{"sum", "id1:0"})
	if err != nil {
		t.Fatal(err)
	}
	// 1+10, 2+20
	if out[0].F32[0] != 11 || out[0].F32[1] != 22 || out[1].F32[1] != 2 {
		t.Errorf("got %v %v, want [11 22] [1 2]", out[0].F32, out[1].F32)
	}
	p, _ := gr.planFor(nil, []string{"sum"})
	var order []string
	for _, i := range p.order {
		order = append(order, gr.nodes[i].def.GetName())
	}
	// Kahn's order, ties to the lowest node index: ready a(3) b(4)
	// noop(5); a frees id1(2), which goes first, then id2(1); then b, noop
	// and finally sum, which waits for its control input too.
	if strings.Join(order, " ") != "a id1 id2 b noop sum" {
		t.Errorf("order %q, want \"a id1 id2 b noop sum\"", strings.Join(order, " "))
	}
	// Feeding id1 prunes a: only b, noop, id2, sum remain.
	out, err = gr.Run(map[string]*tensor.Tensor{"id1": tensor.FromF32([]int{2}, []float32{5, 6})}, []string{"sum"})
	if err != nil || out[0].F32[0] != 15 || out[0].F32[1] != 26 {
		t.Errorf("fed id1: %v %v, want [15 26]", out, err)
	}
	if _, err := gr.Run(nil, []string{"sum:1"}); err == nil || !strings.Contains(err.Error(), `output "sum:1" has no value`) {
		t.Errorf("sum:1: %v", err)
	}
	if _, err := gr.Run(nil, []string{"nope"}); err == nil || err.Error() != `g: fetch: no node named "nope"` {
		t.Errorf("nope: %v", err)
	}
}

func TestCycleRefused(t *testing.T) {
	g := &tfpb.GraphDef{Node: []*tfpb.NodeDef{
		mkNode("a", "Identity", []string{"b"}, nil),
		mkNode("b", "Identity", []string{"a"}, nil),
	}}
	gr, err := New(g, "g")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gr.Run(nil, []string{"a"}); err == nil || !strings.Contains(err.Error(), "cycle") {
		t.Errorf("got %v, want a cycle error", err)
	}
}

// TestBufferReuse runs a chain whose dead intermediates are recycled
// (Neg → Reshape → Relu → Neg → Neg, all the same size) several times and
// checks every result, including that the outputs of an earlier run are
// not overwritten by a later one.
func TestBufferReuse(t *testing.T) {
	f := typeAttr(tfpb.DataType_DT_FLOAT)
	g := &tfpb.GraphDef{Node: []*tfpb.NodeDef{
		mkNode("x", "Placeholder", nil, map[string]*tfpb.AttrValue{"dtype": f}),
		constNode("shape", tensor.FromI32([]int{2}, []int32{2, 2})),
		mkNode("n1", "Neg", []string{"x"}, nil),
		mkNode("r", "Reshape", []string{"n1", "shape"}, nil),
		mkNode("relu", "Relu", []string{"r"}, nil),
		mkNode("n2", "Neg", []string{"relu"}, nil),
		mkNode("n3", "Neg", []string{"n2"}, nil),
		mkNode("sum", "Add", []string{"n3", "relu"}, nil),
	}}
	gr, err := New(g, "g")
	if err != nil {
		t.Fatal(err)
	}
	var first []*tensor.Tensor
	for run := 0; run < 4; run++ {
		s := float32(run + 1)
		x := tensor.FromF32([]int{4}, []float32{-s, s, -2 * s, 0})
		out, err := gr.Run(map[string]*tensor.Tensor{"x": x}, []string{"sum", "n2"})
		if err != nil {
			t.Fatal(err)
		}
		// relu(−x) = s, 0, 2s, 0; n3 = relu; sum = 2·relu; n2 = −relu.
		want := []float32{2 * s, 0, 4 * s, 0}
		for i, v := range want {
			if out[0].F32[i] != v || out[1].F32[i] != -v/2 {
				t.Fatalf("run %d: sum %v n2 %v, want %v and its half negated", run, out[0].F32, out[1].F32, want)
			}
		}
		if x.F32[0] != -s {
			t.Fatalf("run %d: the feed was overwritten: %v", run, x.F32)
		}
		if run == 0 {
			first = out
		}
	}
	if first[0].F32[0] != 2 || first[1].F32[0] != -1 {
		t.Errorf("outputs of the first run changed later: %v %v", first[0].F32, first[1].F32)
	}
}

// stepOps lists the ops of a plan's steps.
func stepOps(t *testing.T, gr *Graph, feeds, fetches []string) string {
	t.Helper()
	p, err := gr.planFor(feeds, fetches)
	if err != nil {
		t.Fatal(err)
	}
	var ops []string
	for _, s := range p.steps {
		ops = append(ops, s.def.GetOp())
	}
	return strings.Join(ops, " ")
}

// TestFusion: Conv2D → BiasAdd → Relu becomes one _FusedConv2D step when
// nothing else reads the intermediates, and gives the same values as the
// separate kernels.
func TestFusion(t *testing.T) {
	f := map[string]*tfpb.AttrValue{"T": typeAttr(tfpb.DataType_DT_FLOAT)}
	conv := map[string]*tfpb.AttrValue{
		"T": typeAttr(tfpb.DataType_DT_FLOAT), "padding": {Value: &tfpb.AttrValue_S{S: []byte("SAME")}},
		"strides": {Value: &tfpb.AttrValue_List{List: &tfpb.AttrValue_ListValue{I: []int64{1, 1, 1, 1}}}},
	}
	w := make([]float32, 3*3*2*4)
	for i := range w {
		w[i] = float32(i%7) - 3
	}
	build := func(extra ...*tfpb.NodeDef) *Graph {
		g := &tfpb.GraphDef{Node: append([]*tfpb.NodeDef{
			mkNode("x", "Placeholder", nil, map[string]*tfpb.AttrValue{"dtype": typeAttr(tfpb.DataType_DT_FLOAT)}),
			constNode("w", tensor.FromF32([]int{3, 3, 2, 4}, w)),
			constNode("b", tensor.FromF32([]int{4}, []float32{-20, 0, 5, 30})),
			mkNode("conv", "Conv2D", []string{"x", "w"}, conv),
			mkNode("bias", "BiasAdd", []string{"conv", "b"}, f),
			mkNode("relu", "Relu", []string{"bias"}, f),
		}, extra...)}
		gr, err := New(g, "g")
		if err != nil {
			t.Fatal(err)
		}
		return gr
	}
	gr := build()
	if got := stepOps(t, gr, []string{"x"}, []string{"relu"}); got != "Const Const _FusedConv2D" {
		t.Errorf("steps %q, want \"Const Const _FusedConv2D\"", got)
	}
	// Fetching the BiasAdd keeps the Relu apart.
	if got := stepOps(t, gr, []string{"x"}, []string{"relu", "bias"}); got != "Const Const _FusedConv2D Relu" {
		t.Errorf("steps with bias fetched %q", got)
	}
	// A control input naming the conv keeps it apart.
	gc := build(mkNode("after", "NoOp", []string{"^conv"}, nil))
	if got := stepOps(t, gc, []string{"x"}, []string{"relu", "after"}); got != "Const Const Conv2D BiasAdd Relu NoOp" {
		t.Errorf("steps with a control input %q", got)
	}
	x := tensor.New(tfpb.DataType_DT_FLOAT, []int{2, 5, 5, 2})
	for i := range x.F32 {
		x.F32[i] = float32(i%11) - 5
	}
	fused, err := gr.Run(map[string]*tensor.Tensor{"x": x}, []string{"relu"})
	if err != nil {
		t.Fatal(err)
	}
	plain := build()
	plain.NoFusion = true
	if got := stepOps(t, plain, []string{"x"}, []string{"relu"}); got != "Const Const Conv2D BiasAdd Relu" {
		t.Errorf("NoFusion steps %q", got)
	}
	var steps []string
	plain.OnStep = func(op, node string, d time.Duration) {
		if d < 0 {
			t.Errorf("step %s took %v", node, d)
		}
		steps = append(steps, op+":"+node)
	}
	want, err := plain.Run(map[string]*tensor.Tensor{"x": x}, []string{"relu"})
	// OnStep sees the kernel calls only (Consts are values, not calls).
	if got := strings.Join(steps, " "); got != "Conv2D:conv BiasAdd:bias Relu:relu" {
		t.Errorf("OnStep saw %q", got)
	}
	if err != nil {
		t.Fatal(err)
	}
	closeTo(t, "fused", fused[0], want[0], 0)
}

// TestEdgeChecks: dtype mismatches and missing outputs are found at load.
func TestEdgeChecks(t *testing.T) {
	f := map[string]*tfpb.AttrValue{"T": typeAttr(tfpb.DataType_DT_FLOAT)}
	g := &tfpb.GraphDef{Node: []*tfpb.NodeDef{
		constNode("i", tensor.FromI32([]int{1}, []int32{1})),
		mkNode("r", "Relu", []string{"i"}, f),
	}}
	_, err := New(g, "g.pb")
	if err == nil || err.Error() != `g.pb: node "r" (Relu): input 0 from "i" is int32, but the node's T is float` {
		t.Errorf("dtype: %v", err)
	}
	g = &tfpb.GraphDef{Node: []*tfpb.NodeDef{
		constNode("c", tensor.FromF32([]int{1}, []float32{1})),
		mkNode("r", "Relu", []string{"c:1"}, f),
	}}
	_, err = New(g, "g.pb")
	if err == nil || err.Error() != `g.pb: node "r": input 0 reads output 1 of "c", which has 1` {
		t.Errorf("index: %v", err)
	}
}

// TestPrune: a graph whose unsupported nodes the outputs do not need
// loads once pruned to them; control inputs are kept.
func TestPrune(t *testing.T) {
	f := map[string]*tfpb.AttrValue{"T": typeAttr(tfpb.DataType_DT_FLOAT)}
	g := &tfpb.GraphDef{Node: []*tfpb.NodeDef{
		constNode("a", tensor.FromF32([]int{1}, []float32{-2})),
		mkNode("summary", "ScalarSummary", []string{"a"}, nil),
		mkNode("init", "NoOp", nil, nil),
		mkNode("relu", "Relu", []string{"a", "^init"}, f),
	}}
	if _, err := New(g, "g"); err == nil || !strings.Contains(err.Error(), "ScalarSummary") {
		t.Fatalf("unpruned: %v", err)
	}
	p, err := Prune(g, []string{"relu:0"})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, n := range p.GetNode() {
		names = append(names, n.GetName())
	}
	if strings.Join(names, " ") != "a init relu" {
		t.Errorf("pruned to %v, want [a init relu]", names)
	}
	gr, err := New(p, "g")
	if err != nil {
		t.Fatal(err)
	}
	out, err := gr.Run(nil, []string{"relu"})
	if err != nil || out[0].F32[0] != 0 {
		t.Errorf("relu(−2): %v %v, want 0", out, err)
	}
	if _, err := Prune(g, []string{"nope"}); err == nil || err.Error() != `output "nope": no node named "nope"` {
		t.Errorf("missing output: %v", err)
	}
}

func init() {
	kernels.Register(kernels.Def{Op: "_TestPanics", Run: func(c *kernels.Context) ([]*tensor.Tensor, error) {
		var s []float32
		_ = s[len(c.Inputs)+3] // an index out of range, as a kernel bug would
		return nil, nil
	}})
}

// TestBadRuns: a kernel's panic becomes an error naming the node, and a
// fed tensor whose elements do not fill its shape is refused.
func TestBadRuns(t *testing.T) {
	g := &tfpb.GraphDef{Node: []*tfpb.NodeDef{
		mkNode("x", "Placeholder", nil, map[string]*tfpb.AttrValue{"dtype": typeAttr(tfpb.DataType_DT_FLOAT)}),
		mkNode("bug", "_TestPanics", []string{"x"}, nil),
	}}
	gr, err := New(g, "g")
	if err != nil {
		t.Fatal(err)
	}
	x := tensor.FromF32([]int{2}, []float32{1, 2})
	_, err = gr.Run(map[string]*tensor.Tensor{"x": x}, []string{"bug"})
	if err == nil || !strings.HasPrefix(err.Error(), `g: node "bug" (_TestPanics): internal error: runtime error: index out of range`) {
		t.Errorf("panic: %v", err)
	}
	bad := &tensor.Tensor{DType: tfpb.DataType_DT_FLOAT, Shape: []int{3}, F32: []float32{1}}
	_, err = gr.Run(map[string]*tensor.Tensor{"x": bad}, []string{"x"})
	if err == nil || err.Error() != `g: input "x": tensor float[3] holds 1 elements` {
		t.Errorf("short tensor: %v", err)
	}
}

func init() {
	// _TestConstInputs outputs its Context.ConstInputs bits as a float.
	kernels.Register(kernels.Def{Op: "_TestConstInputs", Run: func(c *kernels.Context) ([]*tensor.Tensor, error) {
		return []*tensor.Tensor{tensor.FromF32(nil, []float32{float32(c.ConstInputs)})}, nil
	}})
}

// TestConstInputs: the executor tells a kernel which inputs come straight
// from a Const node (TF's MKL layout pass decides by that): inputs 0 and 2
// here are Consts, input 1 a Placeholder, input 3 an Identity of a Const
// (not a Const node): bits 0b0101 = 5. Feeding the Const c0 makes it an
// input like any other: 0b0100 = 4.
func TestConstInputs(t *testing.T) {
	c := func(name string) *tfpb.NodeDef {
		x := tensor.FromF32(nil, []float32{1})
		return mkNode(name, "Const", nil, map[string]*tfpb.AttrValue{"dtype": typeAttr(tfpb.DataType_DT_FLOAT),
			"value": {Value: &tfpb.AttrValue_Tensor{Tensor: x.ToProto()}}})
	}
	g := &tfpb.GraphDef{Node: []*tfpb.NodeDef{
		c("c0"), c("c2"), c("c3"),
		mkNode("x", "Placeholder", nil, map[string]*tfpb.AttrValue{"dtype": typeAttr(tfpb.DataType_DT_FLOAT)}),
		mkNode("id", "Identity", []string{"c3"}, map[string]*tfpb.AttrValue{"T": typeAttr(tfpb.DataType_DT_FLOAT)}),
		mkNode("probe", "_TestConstInputs", []string{"c0", "x", "c2", "id"}, nil),
	}}
	gr, err := New(g, "g")
	if err != nil {
		t.Fatal(err)
	}
	one := tensor.FromF32(nil, []float32{1})
	out, err := gr.Run(map[string]*tensor.Tensor{"x": one}, []string{"probe"})
	if err != nil || out[0].F32[0] != 5 {
		t.Errorf("bits %v (%v), want 5", out, err)
	}
	out, err = gr.Run(map[string]*tensor.Tensor{"x": one, "c0": one}, []string{"probe"})
	if err != nil || out[0].F32[0] != 4 {
		t.Errorf("with c0 fed: bits %v (%v), want 4", out, err)
	}
}

// TestBufferReuseQuint8 is TestBufferReuse for quint8 codes, whose dead
// buffers the executor recycles too: q = QuantizeV2 SCALED of x over [0,
// 255] (scale 255/255 = 1: codes are x rounded) is read first by
// QuantizedRelu6 → QuantizedReshape (a view of the Relu6's buffer) →
// QuantizedRelu6 and last, after them, by a Dequantize. The Relu6s clamp
// the codes to 6 (6.0 is code 6 on this range), so a buffer of q handed
// out while q is still live would show clamped codes in q's Dequantize.
func TestBufferReuseQuint8(t *testing.T) {
	f := typeAttr(tfpb.DataType_DT_FLOAT)
	q8 := typeAttr(tfpb.DataType_DT_QUINT8)
	scaled := &tfpb.AttrValue{Value: &tfpb.AttrValue_S{S: []byte("SCALED")}}
	even := &tfpb.AttrValue{Value: &tfpb.AttrValue_S{S: []byte("HALF_TO_EVEN")}}
	g := &tfpb.GraphDef{Node: []*tfpb.NodeDef{
		mkNode("x", "Placeholder", nil, map[string]*tfpb.AttrValue{"dtype": f}),
		constNode("lo", tensor.FromF32(nil, []float32{0})),
		constNode("hi", tensor.FromF32(nil, []float32{255})),
		constNode("shape", tensor.FromI32([]int{2}, []int32{2, 2})),
		mkNode("q", "QuantizeV2", []string{"x", "lo", "hi"}, map[string]*tfpb.AttrValue{"T": q8, "mode": scaled, "round_mode": even}),
		mkNode("r1", "QuantizedRelu6", []string{"q", "q:1", "q:2"}, map[string]*tfpb.AttrValue{"Tinput": q8, "out_type": q8}),
		mkNode("rs", "QuantizedReshape", []string{"r1", "shape", "r1:1", "r1:2"}, map[string]*tfpb.AttrValue{"T": q8}),
		mkNode("r2", "QuantizedRelu6", []string{"rs", "rs:1", "rs:2"}, map[string]*tfpb.AttrValue{"Tinput": q8, "out_type": q8}),
		mkNode("d2", "Dequantize", []string{"r2", "r2:1", "r2:2"}, map[string]*tfpb.AttrValue{"T": q8, "mode": scaled}),
		mkNode("dq", "Dequantize", []string{"q", "q:1", "q:2"}, map[string]*tfpb.AttrValue{"T": q8, "mode": scaled}),
	}}
	gr, err := New(g, "g")
	if err != nil {
		t.Fatal(err)
	}
	if got := stepOps(t, gr, []string{"x"}, []string{"d2", "dq"}); !strings.HasSuffix(got, "Dequantize Dequantize") {
		t.Fatalf("plan %s: want q's Dequantize after the Relu6 chain", got)
	}
	var first []*tensor.Tensor
	for run := 0; run < 4; run++ {
		s := float32(run + 1)
		x := tensor.FromF32([]int{4}, []float32{s, 3 * s, 10 + s, 200})
		out, err := gr.Run(map[string]*tensor.Tensor{"x": x}, []string{"d2", "dq"})
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range x.F32 {
			if out[1].F32[i] != v || out[0].F32[i] != min(v, 6) {
				t.Fatalf("run %d: Relu6 chain %v, q %v; want %v clamped to 6 and %v", run, out[0].F32, out[1].F32, x.F32, x.F32)
			}
		}
		if run == 0 {
			first = out
		}
	}
	if first[1].F32[0] != 1 || first[0].F32[2] != 6 {
		t.Errorf("outputs of the first run changed later: %v %v", first[0].F32, first[1].F32)
	}
}
