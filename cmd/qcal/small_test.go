package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGraphFromStdin: -graph - and convert - read the graph from standard
// input, as summarize and insert-logging do.
func TestGraphFromStdin(t *testing.T) {
	dir := t.TempDir()
	graph := writeGraph(t, dir, rrA, rrB)
	data, _ := os.ReadFile(graph)
	log := writeText(t, dir, "a.log", rec(rrA, "-1", "2")+rec(rrB, "0", "3"))
	out := filepath.Join(dir, "frozen.pbtxt")
	if code, _, stderr := qcal(t, string(data), "freeze", "-graph", "-", "-log", log, "-o", out); code != 0 {
		t.Fatalf("freeze -graph -: exit %d: %s", code, stderr)
	}
	if b, _ := os.ReadFile(out); !strings.Contains(string(b), `name: "`+rrA+`/frozen_max"`) {
		t.Errorf("frozen graph lacks %s/frozen_max:\n%.300s", rrA, b)
	}
	code, stdout, stderr := qcal(t, string(data), "convert", "-format", "text", "-", "-")
	if code != 0 || !strings.Contains(stdout, `name: "`+rrA+`"`) {
		t.Errorf("convert - -: exit %d, %s\n%.200s", code, stderr, stdout)
	}
	if code, _, stderr := qcal(t, string(data), "audit", "-graph", "-", log); code != 0 {
		t.Errorf("audit -graph -: exit %d: %s", code, stderr)
	}
}

// TestInputGivenTwice: standard input, or one file, given as two inputs
// is a usage error naming it.
func TestInputGivenTwice(t *testing.T) {
	dir := t.TempDir()
	graph := writeGraph(t, dir, rrA, rrB)
	log := writeText(t, dir, "a.log", rec(rrA, "-1", "2"))
	link := filepath.Join(dir, "link.log")
	if err := os.Link(log, link); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"freeze", "-graph", "-", "-log", "-", "-o", filepath.Join(dir, "o.pb")}, "standard input (-) is given twice as an input"},
		{[]string{"ranges", "-", "-"}, "standard input (-) is given twice as an input"},
		{[]string{"ranges", log, filepath.Join(dir, ".", "a.log")}, "is given twice as an input"},
		{[]string{"ranges", log, link}, link + " (the same file as " + log + ") is given twice as an input"},
		{[]string{"freeze", "-graph", graph, "-log", log, "-map", log, "-o", filepath.Join(dir, "o.pb")}, log + " is given twice"},
		{[]string{"audit", "-against", log, log}, log + " is given twice"},
	} {
		code, _, stderr := qcal(t, "", c.args...)
		if code != 2 || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, %q; want 2 and %q", c.args, code, stderr, c.want)
		}
	}
}

// TestAllowMissingMatchingNothing: -allow-missing with a log none of whose
// nodes the graph has froze nothing and exited 0; it is an error naming
// the graph and the skipped names.
func TestAllowMissingMatchingNothing(t *testing.T) {
	dir := t.TempDir()
	graph := writeGraph(t, dir, rrA)
	log := writeText(t, dir, "other.log", rec("other/conv_eightbit_requant_range", "-1", "2"))
	out := filepath.Join(dir, "o.pb")
	code, _, stderr := qcal(t, "", "freeze", "-graph", graph, "-log", log, "-allow-missing", "-o", out)
	want := graph + ": none of the 1 logged node(s) is in the graph (-allow-missing skipped them all: other/conv_eightbit_requant_range)"
	if code != 1 || !strings.Contains(stderr, want) {
		t.Errorf("exit %d, %q; want 1 and %q", code, stderr, want)
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("%s written", out)
	}
	// One node matched: the others are skipped with a warning, as before.
	log2 := writeText(t, dir, "some.log", rec(rrA, "-1", "2")+rec("other/conv_eightbit_requant_range", "-1", "2"))
	if code, _, stderr := qcal(t, "", "freeze", "-graph", graph, "-log", log2, "-allow-missing", "-o", out); code != 0 {
		t.Errorf("partial match: exit %d: %s", code, stderr)
	}
}
