package mnistcnn

import (
	"bytes"
	"math"
	"slices"
	"testing"

	"qcal/internal/exec"
	"qcal/internal/graphio"
	"qcal/internal/tensor"
	"qcal/internal/tfpb"
)

// wantNodes is the graph's node list in order, op by op (see doc.go).
var wantNodes = [][2]string{
	{"input", "Placeholder"},
	{"conv1/kernel", "Const"}, {"conv1/bias", "Const"}, {"conv1/Conv2D", "Conv2D"}, {"conv1/BiasAdd", "BiasAdd"}, {"conv1/Relu", "Relu"},
	{"pool1/MaxPool", "MaxPool"},
	{"conv2/kernel", "Const"}, {"conv2/bias", "Const"}, {"conv2/Conv2D", "Conv2D"}, {"conv2/BiasAdd", "BiasAdd"}, {"conv2/Relu", "Relu"},
	{"pool2/MaxPool", "MaxPool"},
	{"flatten/Reshape/shape", "Const"}, {"flatten/Reshape", "Reshape"},
	{"logits/kernel", "Const"}, {"logits/bias", "Const"}, {"logits/MatMul", "MatMul"}, {"logits/BiasAdd", "BiasAdd"},
	{"probs", "Softmax"},
}

// checkStructure checks g is the network of configuration c: node names,
// ops, inputs, the attrs TF 1.15 writes, and the Const shapes.
func checkStructure(t *testing.T, g *tfpb.GraphDef, c Config) {
	t.Helper()
	if len(g.Node) != len(wantNodes) {
		t.Fatalf("%d nodes, want %d", len(g.Node), len(wantNodes))
	}
	byName := map[string]*tfpb.NodeDef{}
	for i, n := range g.Node {
		if n.Name != wantNodes[i][0] || n.Op != wantNodes[i][1] {
			t.Errorf("node %d: %s (%s), want %s (%s)", i, n.Name, n.Op, wantNodes[i][0], wantNodes[i][1])
		}
		byName[n.Name] = n
	}
	if v := g.GetVersions().GetProducer(); v != 134 {
		t.Errorf("producer %d, want 134 (TF 1.15)", v)
	}
	inputs := map[string][]string{
		"conv1/Conv2D": {"input", "conv1/kernel"}, "conv1/BiasAdd": {"conv1/Conv2D", "conv1/bias"},
		"conv1/Relu": {"conv1/BiasAdd"}, "pool1/MaxPool": {"conv1/Relu"},
		"conv2/Conv2D": {"pool1/MaxPool", "conv2/kernel"}, "conv2/BiasAdd": {"conv2/Conv2D", "conv2/bias"},
		"conv2/Relu": {"conv2/BiasAdd"}, "pool2/MaxPool": {"conv2/Relu"},
		"flatten/Reshape": {"pool2/MaxPool", "flatten/Reshape/shape"},
		"logits/MatMul":   {"flatten/Reshape", "logits/kernel"}, "logits/BiasAdd": {"logits/MatMul", "logits/bias"},
		"probs": {"logits/BiasAdd"},
	}
	for name, want := range inputs {
		if got := byName[name].GetInput(); !slices.Equal(got, want) {
			t.Errorf("%s: inputs %q, want %q", name, got, want)
		}
	}
	// The attr keys TF 1.15's op registry gives each op (defaults
	// included, as a graph built in Python and frozen carries them), seen
	// in real frozen graphs under ../shared/realdata/graphs.
	attrs := map[string][]string{
		"Placeholder": {"dtype", "shape"},
		"Const":       {"dtype", "value"},
		"Conv2D":      {"T", "data_format", "dilations", "explicit_paddings", "padding", "strides", "use_cudnn_on_gpu"},
		"BiasAdd":     {"T", "data_format"},
		"Relu":        {"T"},
		"MaxPool":     {"T", "data_format", "ksize", "padding", "strides"},
		"Reshape":     {"T", "Tshape"},
		"MatMul":      {"T", "transpose_a", "transpose_b"},
		"Softmax":     {"T"},
	}
	for _, n := range g.Node {
		var keys []string
		for k := range n.Attr {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if !slices.Equal(keys, attrs[n.Op]) {
			t.Errorf("%s (%s): attrs %q, want %q", n.Name, n.Op, keys, attrs[n.Op])
		}
	}
	for _, name := range []string{"conv1/Conv2D", "conv2/Conv2D"} {
		a := byName[name].Attr
		if string(a["padding"].GetS()) != "SAME" || !slices.Equal(a["strides"].GetList().GetI(), []int64{1, 1, 1, 1}) ||
			string(a["data_format"].GetS()) != "NHWC" || !a["use_cudnn_on_gpu"].GetB() {
			t.Errorf("%s: attrs %v, want SAME, strides 1, NHWC, use_cudnn_on_gpu", name, a)
		}
	}
	for _, name := range []string{"pool1/MaxPool", "pool2/MaxPool"} {
		a := byName[name].Attr
		if string(a["padding"].GetS()) != "VALID" || !slices.Equal(a["ksize"].GetList().GetI(), []int64{1, 2, 2, 1}) ||
			!slices.Equal(a["strides"].GetList().GetI(), []int64{1, 2, 2, 1}) {
			t.Errorf("%s: attrs %v, want VALID 2×2 stride 2", name, a)
		}
	}
	shapes := map[string][]int{
		"conv1/kernel": {3, 3, 1, c.Conv1}, "conv1/bias": {c.Conv1},
		"conv2/kernel": {3, 3, c.Conv1, c.Conv2}, "conv2/bias": {c.Conv2},
		"logits/kernel": {c.Features(), c.Classes}, "logits/bias": {c.Classes},
		"flatten/Reshape/shape": {2},
	}
	for name, want := range shapes {
		x, err := tensor.FromProto(byName[name].Attr["value"].GetTensor())
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !slices.Equal(x.Shape, want) {
			t.Errorf("%s: shape %v, want %v", name, x.Shape, want)
		}
		if name == "flatten/Reshape/shape" && !slices.Equal(x.I32, []int32{-1, int32(c.Features())}) {
			t.Errorf("%s: %v, want [-1 %d]", name, x.I32, c.Features())
		}
	}
	var in []int64
	for _, d := range byName["input"].Attr["shape"].GetShape().GetDim() {
		in = append(in, d.GetSize())
	}
	if !slices.Equal(in, []int64{-1, int64(c.Height), int64(c.Width), 1}) {
		t.Errorf("input shape %v, want [-1 %d %d 1]", in, c.Height, c.Width)
	}
	if dt := byName["input"].Attr["dtype"].GetType(); dt != tfpb.DataType_DT_FLOAT {
		t.Errorf("input dtype %v, want DT_FLOAT", dt)
	}
}

func TestGraphStructure(t *testing.T) {
	p := NewParams(MNIST, 1)
	g := Graph(p)
	checkStructure(t, g, MNIST)
	// The weights are stored as they are: float32 little-endian.
	content := g.Node[1].Attr["value"].GetTensor().GetTensorContent()
	if len(content) != 4*72 || math.Float32frombits(uint32(content[0])|uint32(content[1])<<8|uint32(content[2])<<16|uint32(content[3])<<24) != p.Conv1W[0] {
		t.Errorf("conv1/kernel content: %d bytes, first value not %v", len(content), p.Conv1W[0])
	}
	if n := p.Count(); n != 9098 {
		// 3·3·1·8+8 + 3·3·8·16+16 + 784·10+10 = 80 + 1168 + 7850
		t.Errorf("%d parameters, want 9098", n)
	}
	// Encoding is deterministic and survives a decode.
	a, err := graphio.Encode(g, graphio.Binary)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := graphio.Encode(Graph(p), graphio.Binary)
	if !bytes.Equal(a, b) {
		t.Error("two encodings of the same weights differ")
	}
	back, _, err := graphio.Decode(a, "mnistcnn")
	if err != nil {
		t.Fatal(err)
	}
	checkStructure(t, back, MNIST)
}

// TestGraphMatchesForward runs the written graph with qcal's executor and
// compares its probabilities with the trainer's own forward pass on the
// same batch: the two are independent implementations of the same
// network (the executor's Conv2D, MaxPool, Reshape, MatMul and Softmax
// kernels follow TF's rules), so agreement proves the graph says what
// the trainer computed. Only summation order could make them differ: the
// test allows 1e-4 relative on logits and 1e-5 on probabilities (measured
// on these batches: identical logits).
func TestGraphMatchesForward(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    Config
	}{{"tiny", tiny}, {"mnist", MNIST}} {
		t.Run(tc.name, func(t *testing.T) {
			const n = 5
			p := NewParams(tc.c, 3)
			for i := range p.Conv1B {
				p.Conv1B[i] = 0.05 * float32(i%3-1)
			}
			x := make([]float32, n*tc.c.Height*tc.c.Width)
			for i := range x {
				x[i] = float32((i*37)%256) * Scale
			}
			w := newWork(tc.c, n)
			p.forward(x, w)
			gr, err := exec.New(Graph(p), tc.name)
			if err != nil {
				t.Fatal(err)
			}
			out, err := gr.Run(map[string]*tensor.Tensor{InputName: tensor.FromF32([]int{n, tc.c.Height, tc.c.Width, 1}, x)},
				[]string{"logits/BiasAdd", OutputName})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(out[1].Shape, []int{n, tc.c.Classes}) {
				t.Fatalf("probs shape %v, want [%d %d]", out[1].Shape, n, tc.c.Classes)
			}
			var maxDiff float64
			for i, v := range out[0].F32 {
				d := math.Abs(float64(v - w.logits[i]))
				maxDiff = max(maxDiff, d)
				if d > 1e-4*max(1, math.Abs(float64(v))) {
					t.Errorf("logit %d: executor %v, trainer %v", i, v, w.logits[i])
				}
			}
			for i := range n {
				l := w.logits[i*tc.c.Classes : (i+1)*tc.c.Classes]
				var sum float64
				for _, v := range l {
					sum += math.Exp(float64(v))
				}
				for j, v := range l {
					want := math.Exp(float64(v)) / sum
					if got := float64(out[1].F32[i*tc.c.Classes+j]); math.Abs(got-want) > 1e-5 {
						t.Errorf("probs[%d,%d]: executor %v, trainer's softmax %v", i, j, got, want)
					}
				}
			}
			t.Logf("largest logit difference %.3g", maxDiff)
		})
	}
}
