package report

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"qcal/internal/graphinfo"
	"qcal/internal/graphio"
	"qcal/internal/synth"
	"qcal/internal/testutil"
	"qcal/internal/tfpb"
)

func realGraphsDir(tb testing.TB) string { return testutil.RealData(tb, "graphs") }

func loadReal(t *testing.T, name string) *tfpb.GraphDef {
	t.Helper()
	g, _, err := graphio.Load(filepath.Join(realGraphsDir(t), name))
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// checkGolden compares got with testdata/summary/name, or rewrites it with
// -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	testutil.Golden(t, filepath.Join("testdata", "summary", name), got)
}

func render(t *testing.T, s *graphinfo.Summary, format Format) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := Write(&b, SummaryDoc{s}, format); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// halfLogged is the synthetic eightbit graph with a Print node for the
// first four of its eight RequantizationRange nodes, written by hand as
// insert_logging writes them.
func halfLogged(t *testing.T) *tfpb.GraphDef {
	layers := synth.DemoLayers()
	g := synth.Graph(layers)
	var nodes []*tfpb.NodeDef
	for _, n := range g.GetNode() {
		nodes = append(nodes, n)
		for _, l := range layers[:4] {
			if n.GetName() == l.RequantRange() {
				nodes = append(nodes, &tfpb.NodeDef{Name: n.GetName() + "__print__", Op: "Print",
					Input: []string{n.GetName() + ":0", n.GetName() + ":0", n.GetName() + ":1"},
					Attr:  map[string]*tfpb.AttrValue{"message": {Value: &tfpb.AttrValue_S{S: []byte(";" + n.GetName() + "__print__;__requant_min_max:")}}}})
			}
		}
	}
	for _, n := range nodes {
		for i, in := range n.GetInput() {
			for _, l := range layers[:4] {
				if in == l.RequantRange() && n.GetOp() != "Print" {
					n.Input[i] = in + "__print__:0"
				}
			}
		}
	}
	g.Node = nodes
	return g
}

func TestSummaryGolden(t *testing.T) {
	graphs := []struct {
		golden string
		load   func(t *testing.T) *tfpb.GraphDef
	}{
		{"summary_linreg", func(t *testing.T) *tfpb.GraphDef { return loadReal(t, "linreg_frozen.pb") }},
		{"summary_mnist_cnn", func(t *testing.T) *tfpb.GraphDef { return loadReal(t, "mnist_cnn_frozen.pb") }},
		{"summary_tf1_training", func(t *testing.T) *tfpb.GraphDef { return loadReal(t, "tf1_training_graph_unfrozen.pbtxt") }},
		{"summary_eightbit", func(t *testing.T) *tfpb.GraphDef { return synth.Graph(synth.DemoLayers()) }},
		{"summary_eightbit_half_logged", halfLogged},
	}
	for _, tc := range graphs {
		t.Run(tc.golden, func(t *testing.T) {
			s := graphinfo.Summarize(tc.load(t))
			for _, f := range []Format{Text, TF, JSON} {
				got := render(t, s, f)
				checkGolden(t, tc.golden+"."+string(f)+".golden", got)
				if again := render(t, s, f); !bytes.Equal(again, got) {
					t.Errorf("%s output is not deterministic", f)
				}
			}
		})
	}
}

// TestSummaryTFLines checks the summarize_graph lines against what its
// source prints, for the small linear model (SOURCES.md: 8 nodes, x[-1,4]).
func TestSummaryTFLines(t *testing.T) {
	s := graphinfo.Summarize(loadReal(t, "linreg_frozen.pb"))
	lines := strings.Split(string(render(t, s, TF)), "\n")
	if lines[0] != "Found 1 possible inputs: (name=x, type=float(1), shape=[?,4]) " {
		t.Errorf("inputs line = %q", lines[0])
	}
	if lines[1] != "No variables spotted." {
		t.Errorf("variables line = %q", lines[1])
	}
	if !strings.HasPrefix(lines[2], "Found 1 possible outputs: (name=") || !strings.HasSuffix(lines[2], ") ") {
		t.Errorf("outputs line = %q", lines[2])
	}
	if !strings.HasPrefix(lines[3], "Found ") || !strings.HasSuffix(lines[3], " variable parameters, and 0 control_edges") {
		t.Errorf("parameters line = %q", lines[3])
	}
	if !strings.HasPrefix(lines[4], "Op types used: ") || len(lines) != 6 || lines[5] != "" {
		t.Errorf("op types line = %q (%d lines)", lines[4], len(lines))
	}
}

func TestSummaryTFInvalidInputs(t *testing.T) {
	g := &tfpb.GraphDef{Node: []*tfpb.NodeDef{{Name: "a", Op: "Relu", Input: []string{"^gone:0"}, Device: "/cpu:0"}}}
	s := graphinfo.Summarize(g)
	var b bytes.Buffer
	err := Write(&b, SummaryDoc{s}, TF)
	if err == nil || err.Error() != "Invalid graph with inputs referring to nonexistent nodes" {
		t.Errorf("err = %v", err)
	}
	want := "No inputs spotted.\nNo variables spotted.\nFound 1 possible outputs: (name=a, op=Relu) \n" +
		"Found 0 (0) const parameters, 0 (0) variable parameters, and 1 control_edges\n" +
		"1 nodes assigned to device '/cpu:0'Invalid input gone for node a\n"
	if b.String() != want {
		t.Errorf("output:\n%q\nwant\n%q", b.String(), want)
	}
	text := string(render(t, s, Text))
	if !strings.Contains(text, "1 nodes assigned to device '/cpu:0'\nInvalid input gone for node a\nOp types used: 1 Relu\n") {
		t.Errorf("text output:\n%s", text)
	}
	if !strings.Contains(text, `error: node "a": input "^gone:0" is not name, name:N or ^name`) {
		t.Errorf("text output lacks the check error:\n%s", text)
	}
}

func TestSummaryJSONKeys(t *testing.T) {
	for _, g := range []*tfpb.GraphDef{synth.Graph(synth.DemoLayers()), {Node: []*tfpb.NodeDef{{Name: "c", Op: "Const"}}}} {
		var doc map[string]any
		if err := json.Unmarshal(render(t, graphinfo.Summarize(g), JSON), &doc); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"nodes", "functions", "inputs", "variables", "outputs", "op_counts", "const_parameters",
			"undecoded_consts", "variable_parameters", "tf_variable_parameters", "control_edges", "devices",
			"invalid_inputs", "quantization", "checks"} {
			if _, ok := doc[k]; !ok {
				t.Errorf("key %q missing", k)
			}
		}
		q, _ := doc["quantization"].(map[string]any)
		for _, k := range []string{"ops", "kinds", "requantization_ranges", "logged", "dynamic", "frozen", "frozen_min_max", "prints"} {
			if v, ok := q[k]; !ok || v == nil {
				t.Errorf("quantization key %q missing or null", k)
			}
		}
		c, _ := doc["checks"].(map[string]any)
		for _, k := range []string{"errors", "warnings", "topological", "depth"} {
			if _, ok := c[k]; !ok {
				t.Errorf("checks key %q missing", k)
			}
		}
		for _, k := range []string{"inputs", "outputs", "variables"} {
			if doc[k] == nil {
				t.Errorf("%s is null, want a list", k)
			}
		}
	}
	in := graphinfo.Summarize(synth.Graph(synth.DemoLayers())).Inputs
	data, _ := json.Marshal(in)
	if string(data) != `[{"name":"input","type":"float(1)","shape":"[?,32,32,3]"}]` {
		t.Errorf("inputs JSON = %s", data)
	}
}

func TestHumanReadableNum(t *testing.T) {
	// Expected values worked out from TF's rule: below 1000 plain; divide
	// by 1000 (integer division) while >= 1e6; %.2f with k/M/B/T.
	tests := map[int64]string{
		0: "0", 5: "5", 999: "999", 1000: "1.00k", 7850: "7.85k", 999999: "1000.00k",
		1000000: "1.00M", 1234567: "1.23M", 1999999: "2.00M" /* 1999/1000 */, 244078: "244.08k",
		1_500_000_000: "1.50B", 2_000_000_000_000: "2.00T", 1e15: "1E+15", 1234567890123456: "1.23E+15", -1500: "-1.50k",
	}
	for n, want := range tests {
		if got := HumanReadableNum(n); got != want {
			t.Errorf("HumanReadableNum(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestWriteSummaryUnknownFormat(t *testing.T) {
	err := Write(&bytes.Buffer{}, SummaryDoc{graphinfo.Summarize(&tfpb.GraphDef{})}, "yaml")
	if err == nil || !strings.Contains(err.Error(), `"yaml"`) {
		t.Errorf("err = %v", err)
	}
}
