package graphinfo

import (
	"os"
	"path/filepath"
	"testing"

	"qcal/internal/graphio"
	"qcal/internal/testutil"
	"qcal/internal/tfpb"
)

// node builds a NodeDef for hand-made graphs.
func node(name, op string, inputs ...string) *tfpb.NodeDef {
	return &tfpb.NodeDef{Name: name, Op: op, Input: inputs}
}

func graph(nodes ...*tfpb.NodeDef) *tfpb.GraphDef {
	return &tfpb.GraphDef{Node: nodes}
}

func realGraphsDir(tb testing.TB) string { return testutil.RealData(tb, "graphs") }

// realGraph is one real graph file, its bytes and its decoded form.
type realGraph struct {
	name string
	data []byte
	g    *tfpb.GraphDef
	f    graphio.Format
}

// realGraphs loads every .pb and .pbtxt file of the real-data folder.
func realGraphs(t *testing.T) []realGraph {
	t.Helper()
	dir := realGraphsDir(t)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []realGraph
	for _, e := range entries {
		if ext := filepath.Ext(e.Name()); ext != ".pb" && ext != ".pbtxt" {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		g, f, err := graphio.Decode(data, e.Name())
		if err != nil {
			t.Fatalf("%s: %v", e.Name(), err)
		}
		out = append(out, realGraph{e.Name(), data, g, f})
	}
	if len(out) == 0 {
		t.Skipf("no graphs in %s", dir)
	}
	return out
}
