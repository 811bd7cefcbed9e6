package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"qcal/internal/tfpb"
)

func TestConvertSort(t *testing.T) {
	dir := t.TempDir()
	// Written out of order. TF's order, worked by hand: the ready stack
	// starts as [a], the only node without inputs; a's consumers in node
	// order are c (node 1) then b (node 2), so popping a pushes c, then b;
	// b is popped first (d waits on c), then c, which makes d ready.
	in := saveGraph(t, dir, "unsorted.pbtxt", &tfpb.GraphDef{Node: []*tfpb.NodeDef{
		{Name: "d", Op: "Add", Input: []string{"b", "c"}},
		{Name: "c", Op: "Relu", Input: []string{"a"}},
		{Name: "b", Op: "Relu", Input: []string{"a"}},
		{Name: "a", Op: "Placeholder"},
	}, Versions: &tfpb.VersionDef{Producer: 27}})
	out := filepath.Join(dir, "sorted.pbtxt")
	if code, _, stderr := qcal(t, "", "convert", "-sort", in, out); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	g := loadGraph(t, out)
	var names []string
	for _, n := range g.GetNode() {
		names = append(names, n.GetName())
	}
	if want := []string{"a", "b", "c", "d"}; !slices.Equal(names, want) {
		t.Errorf("order = %v, want %v", names, want)
	}
	if g.GetVersions().GetProducer() != 27 {
		t.Error("versions lost")
	}
	cyc := saveGraph(t, dir, "cycle.pbtxt", &tfpb.GraphDef{Node: []*tfpb.NodeDef{
		{Name: "a", Op: "Relu", Input: []string{"b"}}, {Name: "b", Op: "Relu", Input: []string{"a"}},
	}})
	code, _, stderr := qcal(t, "", "convert", "-sort", cyc, filepath.Join(dir, "never.pb"))
	if code != 1 || !strings.Contains(stderr, cyc+`: 2 nodes in a cycle; cycle: "a", "b"`) {
		t.Errorf("cycle: exit %d, stderr %q", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "never.pb")); err == nil {
		t.Error("an output was written for a graph that cannot be sorted")
	}
}
