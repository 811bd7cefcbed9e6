package main

import (
	"encoding/json"
	"strings"
	"testing"

	"qcal/internal/graphio"
	"qcal/internal/synth"
	"qcal/internal/tfpb"
)

func TestSummarizeCommand(t *testing.T) {
	code, out, stderr := qcal(t, "", "summarize", realGraph(t, "linreg_frozen.pb"))
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	for _, want := range []string{
		"Found 1 possible inputs: (name=x, type=float(1), shape=[?,4]) \n",
		"No variables spotted.\n",
		" control_edges\nOp types used: ",
		"\nQuantization:\n", "\nChecks:\n  8 nodes, node order topological",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	// JSON from stdin, for the synthetic eightbit graph.
	dir := t.TempDir()
	data, err := graphio.Encode(synth.Graph(synth.DemoLayers()), graphio.Binary)
	if err != nil {
		t.Fatal(err)
	}
	code, out, stderr = qcal(t, string(data), "summarize", "-format", "json", "-")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var doc struct {
		Nodes        int
		Quantization struct {
			Dynamic int
			Ranges  []struct{ Name, Status string } `json:"requantization_ranges"`
		}
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Quantization.Dynamic != 8 || len(doc.Quantization.Ranges) != 8 {
		t.Errorf("quantization = %+v", doc.Quantization)
	}

	// Check problems are warnings on stderr; the summary is still written.
	bad := saveGraph(t, dir, "bad.pbtxt", &tfpb.GraphDef{Node: []*tfpb.NodeDef{
		{Name: "x", Op: "Placeholder"}, {Name: "y", Op: "Relu", Input: []string{"x", "^gone"}},
	}})
	code, out, stderr = qcal(t, "", "summarize", bad)
	if code != 0 || !strings.Contains(stderr, `qcal: warning: `+bad+`: node "y": input "^gone" names no node`) ||
		!strings.Contains(out, "Invalid input gone for node y") {
		t.Errorf("exit %d, stderr %q, stdout:\n%s", code, stderr, out)
	}
	// -format tf stops there, as summarize_graph does.
	code, out, stderr = qcal(t, "", "summarize", "-format", "tf", bad)
	if code != 1 || !strings.Contains(stderr, "Invalid graph with inputs referring to nonexistent nodes") || strings.Contains(out, "Op types used") {
		t.Errorf("tf format: exit %d, stderr %q, stdout:\n%s", code, stderr, out)
	}
}
