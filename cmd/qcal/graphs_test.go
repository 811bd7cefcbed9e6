package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"qcal/internal/graphio"
	"qcal/internal/tfpb"
)

// realGraph returns the path of a real TensorFlow graph under

// ../shared/realdata/graphs beside the module, skipping when it is absent.
func realGraph(t *testing.T, name string) string {
	t.Helper()
	p := filepath.Join("..", "..", "..", "shared", "realdata", "graphs", name)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("real graph %s not available (read from ../shared/realdata/graphs beside the module root): %v", name, err)
	}
	return p
}

// saveGraph writes g into dir as name (format from the name).
func saveGraph(t *testing.T, dir, name string, g *tfpb.GraphDef) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := graphio.Save(p, g, graphio.FormatForPath(p)); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestGraphCommandUsage(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"summarize"}, 2, "want one graph file"},
		{[]string{"summarize", "-format", "xml", "g.pb"}, 2, `unknown -format "xml"`},
		{[]string{"summarize", "missing.pb"}, 1, "missing.pb"},
		{[]string{"summarize", "-graph", "missing.pb"}, 1, "missing.pb"},
		{[]string{"summarize", "-graph", "a.pb", "b.pb"}, 2, "as -graph or an argument; got 2 argument(s)"},
		{[]string{"insert-logging", "-o", "o.pb"}, 2, "-graph is required"},
		{[]string{"insert-logging", "-graph", "g.pb"}, 2, "-o is required"},
		{[]string{"insert-logging", "-graph", "g.pb", "-o", "o.pb", "-preset", "kl"}, 2, `unknown -preset "kl"`},
		{[]string{"insert-logging", "-graph", "g.pb", "-o", "o.pb", "-preset", "minmax", "-op", "Max"}, 2, "cannot be combined"},
		{[]string{"insert-logging", "-graph", "g.pb", "-o", "o.pb", "extra"}, 2, `unexpected argument "extra"`},
		{[]string{"insert-logging", "-graph", "g.pb", "-o", "g.pb"}, 1, "refusing to overwrite input file"},
		{[]string{"convert", "-sort", "a.pb"}, 2, "want an input and an output file"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, _, stderr := qcal(t, "", tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr, tc.code, tc.want)
			}
		})
	}
}
