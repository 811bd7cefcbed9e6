package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"qcal/internal/graphio"
	"qcal/internal/synth"
	"qcal/internal/testutil"
	"qcal/internal/tfpb"
)

// qcal runs the command line in-process and returns its exit status,
// stdout and stderr.
func qcal(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

// golden compares got with testdata/NAME, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	testutil.Golden(t, filepath.Join("testdata", name), []byte(got))
}

// writeGraph saves a graph with the given RequantizationRange names (each
// name must end in _eightbit_requant_range) built by synth.
func writeGraph(t *testing.T, dir string, rrNames ...string) string {
	t.Helper()
	var layers []synth.Layer
	for _, n := range rrNames {
		base, ok := strings.CutSuffix(n, "_eightbit_requant_range")
		if !ok {
			t.Fatalf("name %q lacks the eightbit suffix", n)
		}
		layers = append(layers, synth.Layer{Name: base, Scale: 1})
	}
	path := filepath.Join(dir, "graph.pb")
	if err := graphio.Save(path, synth.Graph(layers), graphio.Binary); err != nil {
		t.Fatal(err)
	}
	return path
}

func writeText(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func loadGraph(t *testing.T, path string) *tfpb.GraphDef {
	t.Helper()
	g, _, err := graphio.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestUsage(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want string
	}{
		{nil, 2, "commands:"},
		{[]string{"help"}, 0, "freeze"},
		{[]string{"nope"}, 2, `unknown command "nope"`},
		{[]string{"ranges"}, 2, "no calibration log given"},
		{[]string{"ranges", "-strategy", "klx", "x.log"}, 2, `unknown strategy "klx"`},
		{[]string{"ranges", "-strategy", "tf,kl", "-tf-compat", "x.log"}, 2, "-tf-compat reads only __requant_min_max records"},
		{[]string{"freeze", "-graph", "g.pb", "-log", "x.log", "-o", "o.pb", "-strategy", "tf,kl"}, 2, "freeze takes one -strategy"},
		{[]string{"ranges", "-format", "xml", "x.log"}, 2, `unknown -format "xml"`},
		{[]string{"ranges", "-bogus"}, 2, "flag provided but not defined: -bogus"},
		{[]string{"freeze", "-log", "x.log", "-o", "o.pb"}, 2, "-graph is required"},
		{[]string{"freeze", "-graph", "g.pb", "-o", "o.pb"}, 2, "You must pass a file name to min_max_log_file"},
		{[]string{"freeze", "-graph", "g.pb", "-log", "x.log"}, 2, "-o is required"},
		{[]string{"convert", "a.pb"}, 2, "want an input and an output file"},
		{[]string{"ranges", "-strategy", "tf", "-min-percentile", "120", "x.log"}, 2, "percentiles must be in [0, 100]"},
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

func TestRangesGolden(t *testing.T) {
	for _, tc := range []struct {
		golden string
		args   []string
	}{
		{"small.ranges.txt", []string{"ranges", "testdata/small.log"}},
		{"small.ranges.csv", []string{"ranges", "-format", "csv", "testdata/small.log"}},
		{"small.ranges.json", []string{"ranges", "-format", "json", "testdata/small.log"}},
		{"small.ranges.md", []string{"ranges", "-format", "markdown", "-strategy", "minmax", "testdata/small.log"}},
		{"small.tfcompat.txt", []string{"ranges", "-tf-compat", "testdata/small.log"}},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			code, out, stderr := qcal(t, "", tc.args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			golden(t, tc.golden, out)
		})
	}
}

// TestRangesValues checks the numbers in small.log's goldens by hand.
func TestRangesValues(t *testing.T) {
	// a/conv logs (min, max) = (-1.5, 2.25), (-2, 3), (-0.5, 1.5), (-1, 2.5); the third
	// shares line 8 with a record of b/conv. TF's rule, n=4: round(4*0.05f = 0.2) = 0 →
	// the smallest min, -2; round(4*0.95f = 3.8) = 4 → clamped to 3 → the largest max, 3.
	// b/conv logs (0, 6), (0, 4.5), (-0, 5.25): n=3, min index 0 → 0, max index
	// round(2.85) = 3 → clamped to 2 → 6. A zero bound is written as +0 whatever its spelling.
	code, out, stderr := qcal(t, "", "ranges", "-format", "csv", "testdata/small.log")
	if code != 0 {
		t.Fatal(stderr)
	}
	want := "node,batches,min,max\na/conv_eightbit_requant_range,4,-2,3\nb/conv_eightbit_requant_range,3,0,6\n"
	if out != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
	if !strings.Contains(stderr, "7 records from 1 log (11 lines, 1 joined lines split), 2 nodes, strategy tf") {
		t.Errorf("summary = %q", stderr)
	}
	// -tf-compat: TF keeps only the last record of line 8, so a/conv has 3 batches.
	code, out, stderr = qcal(t, "", "ranges", "-tf-compat", "-format", "csv", "testdata/small.log")
	if code != 0 {
		t.Fatal(stderr)
	}
	want = "node,batches,min,max\na/conv_eightbit_requant_range,3,-2,3\nb/conv_eightbit_requant_range,3,0,6\n"
	if out != want {
		t.Errorf("tf-compat: got\n%s\nwant\n%s", out, want)
	}
	if !strings.Contains(stderr, "tf-compat: 1 records on joined lines ignored") {
		t.Errorf("tf-compat summary = %q", stderr)
	}
}

func TestRangesStdinAndGzip(t *testing.T) {
	log, err := os.ReadFile("testdata/small.log")
	if err != nil {
		t.Fatal(err)
	}
	_, want, _ := qcal(t, "", "ranges", "-format", "csv", "testdata/small.log")
	code, got, stderr := qcal(t, string(log), "ranges", "-format", "csv", "-")
	if code != 0 || got != want {
		t.Errorf("stdin: exit %d, %q (%s); want %q", code, got, stderr, want)
	}
}

func TestDemoSynthetic(t *testing.T) {
	dir := t.TempDir()
	code, out, stderr := qcal(t, "", "demo", "-synthetic", "-dir", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"qcal freeze -graph", "qcal ranges", "_eightbit_requant_range",
		"8 RequantizationRange nodes replaced by 16 frozen Consts, 0 left dynamic"} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
	g := loadGraph(t, filepath.Join(dir, "freezed_range_graph.pb"))
	for _, n := range g.GetNode() {
		if n.GetOp() == "RequantizationRange" {
			t.Errorf("%s not frozen", n.GetName())
		}
	}
	// Same inputs, same bytes: a second run writes identical files.
	dir2 := t.TempDir()
	if code, _, stderr := qcal(t, "", "demo", "-synthetic", "-dir", dir2); code != 0 {
		t.Fatal(stderr)
	}
	for _, f := range []string{"quantized_dynamic_range_graph.pb", "min_max_log.txt", "freezed_range_graph.pb"} {
		a, _ := os.ReadFile(filepath.Join(dir, f))
		b, _ := os.ReadFile(filepath.Join(dir2, f))
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Errorf("%s differs between two demo runs (or is empty)", f)
		}
	}
}

// TestDemoMNIST runs the README's first command on real MNIST (first 500
// test images): the project's CNN tuned, a strategy chosen that passes,
// the best graph and the report left in the folder, and the same bytes
// from a second run.
func TestDemoMNIST(t *testing.T) {
	mnist := testutil.MNIST(t)
	var graphs [2][]byte
	for i := range graphs {
		dir := t.TempDir()
		code, out, stderr := qcal(t, "", "demo", "-dir", dir, "-data", mnist, "-limit", "500")
		if code != 0 {
			t.Fatalf("exit %d: %s\n%s", code, out, stderr)
		}
		for _, want := range []string{"qcal's own MNIST CNN", "$ qcal tune -graph", "VERDICT: PASS", "Best int8 graph: " + filepath.Join(dir, "final_int8_graph.pb")} {
			if !strings.Contains(out, want) {
				t.Errorf("demo output lacks %q:\n%s", want, out)
			}
		}
		if !strings.Contains(stderr, "qcal tune: best strategy ") {
			t.Errorf("stderr lacks the chosen strategy: %s", stderr)
		}
		var err error
		if graphs[i], err = os.ReadFile(filepath.Join(dir, "final_int8_graph.pb")); err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Stat(filepath.Join(dir, "tune.html")); err != nil || fi.Size() == 0 {
			t.Errorf("tune.html: %v", err)
		}
	}
	if !bytes.Equal(graphs[0], graphs[1]) {
		t.Error("two demo runs wrote different int8 graphs")
	}
}

// TestDemoDataMissing: a -data folder without MNIST is the user's mistake,
// an error, not a quiet fallback to the synthetic example.
func TestDemoDataMissing(t *testing.T) {
	empty := t.TempDir()
	code, _, stderr := qcal(t, "", "demo", "-dir", t.TempDir(), "-data", empty)
	if code != 1 || !strings.Contains(stderr, "-data "+empty) || !strings.Contains(stderr, "train-images-idx3-ubyte.gz") {
		t.Errorf("exit %d, stderr %.300q: want exit 1 naming the folder and the missing file", code, stderr)
	}
}
