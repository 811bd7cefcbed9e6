package graphinfo

import (
	"os"
	"path/filepath"
	"testing"

	"qcal/internal/graphio"
	"qcal/internal/tfpb"
)

// node builds a NodeDef for hand-made graphs.
func node(name, op string, inputs ...string) *tfpb.NodeDef {
	return &tfpb.NodeDef{Name: name, Op: op, Input: inputs}
}

func graph(nodes ...*tfpb.NodeDef) *tfpb.GraphDef {
	return &tfpb.GraphDef{Node: nodes}
}

// realGraphsDir returns ../shared/realdata/graphs relative to the module
// root (the directory holding go.mod), skipping the test when it is absent.
func realGraphsDir(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("go.mod not found above the test directory")
		}
		dir = parent
	}
	graphs := filepath.Join(dir, "..", "shared", "realdata", "graphs")
	if _, err := os.Stat(graphs); err != nil {
		tb.Skipf("real TensorFlow graphs not available (%s is missing); they are read from ../shared/realdata/graphs beside the module root", graphs)
	}
	return graphs
}

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
