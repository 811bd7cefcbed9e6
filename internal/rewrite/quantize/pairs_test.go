package quantize

import (
	"bytes"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"qcal/internal/graphio"
	"qcal/internal/testutil"
	"qcal/internal/tfpb"
)

// pairs are uTensor's op tests (utensor_cgen tests/, SOURCES-more.md): an
// FP32 graph and TensorFlow's quantize_graph.py --mode=eightbit of it, with
// the output node of tests/<dir>/output_nodes.txt.
var pairs = []struct {
	dir, output string
}{
	{"conv", "out_conv"},
	{"matmul", "z"},
	{"relu", "relu"},
	{"max_pool_1", "pool1"},
	{"reshape_2", "y"},
	{"quantized_add", "z"},
}

// diffNodes compares two graphs node by node: names and order, ops,
// inputs in order, attrs (proto equality, so Const tensors byte for byte).
func diffNodes(got, want *tfpb.GraphDef) []string {
	var d []string
	gn := map[string]*tfpb.NodeDef{}
	for _, n := range got.Node {
		gn[n.Name] = n
	}
	var gotNames, wantNames []string
	for _, n := range got.Node {
		gotNames = append(gotNames, n.Name)
	}
	for _, n := range want.Node {
		wantNames = append(wantNames, n.Name)
	}
	if !slices.Equal(gotNames, wantNames) {
		d = append(d, fmt.Sprintf("node order:\n got  %v\n want %v", gotNames, wantNames))
	}
	for _, w := range want.Node {
		g := gn[w.Name]
		if g == nil {
			d = append(d, fmt.Sprintf("node %q (%s) missing", w.Name, w.Op))
			continue
		}
		if g.Op != w.Op {
			d = append(d, fmt.Sprintf("node %q: op %s, want %s", w.Name, g.Op, w.Op))
		}
		if !slices.Equal(g.Input, w.Input) {
			d = append(d, fmt.Sprintf("node %q: inputs %q, want %q", w.Name, g.Input, w.Input))
		}
		for k, wv := range w.Attr {
			if gv, ok := g.Attr[k]; !ok {
				d = append(d, fmt.Sprintf("node %q: attr %s missing", w.Name, k))
			} else if !proto.Equal(gv, wv) {
				d = append(d, fmt.Sprintf("node %q: attr %s = %v, want %v", w.Name, k, gv, wv))
			}
		}
		for k := range g.Attr {
			if _, ok := w.Attr[k]; !ok {
				d = append(d, fmt.Sprintf("node %q: extra attr %s", w.Name, k))
			}
		}
	}
	for _, g := range got.Node {
		found := false
		for _, w := range want.Node {
			found = found || w.Name == g.Name
		}
		if !found {
			d = append(d, fmt.Sprintf("extra node %q (%s)", g.Name, g.Op))
		}
	}
	return d
}

func loadPair(t *testing.T, dir, name string) (fp32, want *tfpb.GraphDef) {
	t.Helper()
	fp32, _, err := graphio.Load(filepath.Join(dir, name, "test_"+name+".pb"))
	if err != nil {
		t.Fatal(err)
	}
	want, _, err = graphio.Load(filepath.Join(dir, name, "test_quant_"+name+".pb"))
	if err != nil {
		t.Fatal(err)
	}
	return fp32, want
}

// TestQuantizeGraphPairs checks the plain path against TensorFlow's own
// quantize_graph.py outputs: same nodes in the same order, same ops, same
// inputs in order, same attrs (Const tensors compared byte for byte).
func TestQuantizeGraphPairs(t *testing.T) {
	dir := testutil.RealData(t, "quantize_graph_pairs")
	for _, p := range pairs {
		t.Run(p.dir, func(t *testing.T) {
			fp32, want := loadPair(t, dir, p.dir)
			res, err := Quantize(fp32, Options{Outputs: []string{p.output}})
			if err != nil {
				t.Fatal(err)
			}
			d := diffNodes(res.Graph, want)
			if p.dir != "quantized_add" {
				if len(d) > 0 {
					t.Errorf("%d differences from TensorFlow's graph:\n%s", len(d), strings.Join(d, "\n"))
				}
				return
			}
			// tests/quantized_add/generate_pb.py made this graph with
			// TransformGraph(["quantize_weights", "quantize_nodes"]), the
			// C++ graph transform (names "z/eightbit", "z_eightbit/x/min",
			// a QuantizedAdd), not with quantize_graph.py, whose eightbit
			// mode has no rule for Add: qcal leaves the Add in FP32, as the
			// script would.
			if len(d) == 0 {
				t.Fatal("quantized_add: expected the quantize_nodes graph to differ")
			}
			if n := findNode(want, "z/eightbit"); n == nil || n.Op != "QuantizedAdd" {
				t.Fatalf("quantized_add: the TF graph is not quantize_nodes' (no QuantizedAdd z/eightbit)")
			}
			if n := findNode(res.Graph, "z"); n == nil || n.Op != "Add" || len(res.Graph.Node) != 3 {
				t.Errorf("quantized_add: qcal's graph should be the FP32 graph unchanged, got %v", res.Graph.Node)
			}
			if len(res.Float) != 1 || res.Float[0].Name != "z" || !strings.Contains(res.Float[0].Reason, "no quantized form") {
				t.Errorf("quantized_add: Float = %+v", res.Float)
			}
		})
	}
}

func findNode(g *tfpb.GraphDef, name string) *tfpb.NodeDef {
	for _, n := range g.Node {
		if n.Name == name {
			return n
		}
	}
	return nil
}

// TestPairWeightCodes spells out the weight codes of the matmul pair, by
// hand from QuantizeV2 MIN_FIRST quint8 (TF's QUANTIZE_WITH_EIGEN).
func TestPairWeightCodes(t *testing.T) {
	dir := testutil.RealData(t, "quantize_graph_pairs")
	fp32, _ := loadPair(t, dir, "matmul")
	res, err := Quantize(fp32, Options{Outputs: []string{"z"}})
	if err != nil {
		t.Fatal(err)
	}
	// w = 1..9: range [0, 9] (min raised to 0), range_scale = 255/9 =
	// 28.333334; codes round(v·28.333334) - round(0): 1 → 28.33 → 28,
	// 2 → 56.67 → 57, 3 → 85, 4 → 113.33 → 113, 5 → 141.67 → 142,
	// 6 → 170, 7 → 198.33 → 198, 8 → 226.67 → 227, 9 → 255.
	w := findNode(res.Graph, "w_quint8_const").Attr["value"].GetTensor().TensorContent
	if want := []byte{28, 57, 85, 113, 142, 170, 198, 227, 255}; !bytes.Equal(w, want) {
		t.Errorf("w codes %v, want %v", w, want)
	}
	// x = 1/3 three times: range [0, 0.33333334], every code 255.
	x := findNode(res.Graph, "x_quint8_const").Attr["value"].GetTensor().TensorContent
	if want := []byte{255, 255, 255}; !bytes.Equal(x, want) {
		t.Errorf("x codes %v, want %v", x, want)
	}
	if got := findNode(res.Graph, "x_max").Attr["value"].GetTensor().FloatVal; len(got) != 1 || got[0] != float32(1.0/3) {
		t.Errorf("x_max = %v, want [0.33333334]", got)
	}
}
