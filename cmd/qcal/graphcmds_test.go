package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"qcal/internal/graphio"
	"qcal/internal/synth"
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

func TestGraphCommandUsage(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"summarize"}, 2, "want one graph file"},
		{[]string{"summarize", "-format", "xml", "g.pb"}, 2, `unknown -format "xml"`},
		{[]string{"summarize", "missing.pb"}, 1, "missing.pb"},
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

func TestInsertLoggingCommand(t *testing.T) {
	dir := t.TempDir()
	layers := synth.DemoLayers()
	in := saveGraph(t, dir, "quantized.pb", synth.Graph(layers))
	out := filepath.Join(dir, "logged.pbtxt")
	code, _, stderr := qcal(t, "", "insert-logging", "-graph", in, "-o", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "qcal: logged 8 nodes (op RequantizationRange) into "+out) {
		t.Errorf("stderr = %q", stderr)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(data), "node {") {
		t.Errorf("output is not a text graph")
	}
	g := loadGraph(t, out)
	var prints []string
	for _, n := range g.GetNode() {
		if n.GetOp() == "Print" {
			prints = append(prints, n.GetName())
			want := ";" + n.GetName() + ";__requant_min_max:"
			if got := string(n.GetAttr()["message"].GetS()); got != want {
				t.Errorf("%s message = %q, want %q", n.GetName(), got, want)
			}
		}
	}
	var want []string
	for _, l := range layers {
		want = append(want, l.RequantRange()+"__print__")
	}
	if !slices.Equal(prints, want) {
		t.Errorf("Print nodes %q, want %q", prints, want)
	}

	// Again on the logged graph: nothing added, and the command says why.
	again := filepath.Join(dir, "again.pb")
	code, _, stderr = qcal(t, "", "insert-logging", "-graph", out, "-o", again)
	if code != 0 || !strings.Contains(stderr, "qcal: 8 nodes already logged (their __print__ node exists), left as they are: ") ||
		!strings.Contains(stderr, "qcal: logged 0 nodes") {
		t.Errorf("second run: exit %d, stderr %q", code, stderr)
	}
	if n := len(loadGraph(t, again).GetNode()); n != len(g.GetNode()) {
		t.Errorf("second run wrote %d nodes, want %d", n, len(g.GetNode()))
	}

	// The Min/Max preset, to stdout.
	code, stdout, stderr := qcal(t, "", "insert-logging", "-graph", in, "-o", "-", "-format", "text", "-preset", "minmax")
	if code != 0 {
		t.Fatalf("minmax: exit %d: %s", code, stderr)
	}
	for _, w := range []string{`s: ";` + layers[0].Name + `_eightbit_min_input__print__;__min:"`, `__print__;__max:"`} {
		if !strings.Contains(stdout, w) {
			t.Errorf("minmax output lacks %q", w)
		}
	}
	if !strings.Contains(stderr, "qcal: logged 2 nodes (op Min; Max) into -") {
		t.Errorf("minmax stderr = %q", stderr)
	}

	// Op and prefix together: only the Softmax named output matches, and
	// nothing consumes it.
	code, _, stderr = qcal(t, "", "insert-logging", "-graph", in, "-o", filepath.Join(dir, "x.pb"), "-op", "Reshape", "-op", "Softmax", "-show-op", "-prefix", "output")
	if code != 0 || !strings.Contains(stderr, "qcal: 1 matching node skipped because nothing consumes their outputs: output") ||
		!strings.Contains(stderr, "qcal: warning: nothing to log") {
		t.Errorf("prefix run: exit %d, stderr %q", code, stderr)
	}

	// An op whose output types qcal does not know is an error naming the
	// node and the op, and nothing is written.
	custom := saveGraph(t, dir, "custom.pb", &tfpb.GraphDef{Node: []*tfpb.NodeDef{
		{Name: "x", Op: "Placeholder"}, {Name: "my/op", Op: "MyCustomOp", Input: []string{"x"}}, {Name: "y", Op: "Identity", Input: []string{"my/op"}},
	}})
	never := filepath.Join(dir, "never.pb")
	code, _, stderr = qcal(t, "", "insert-logging", "-graph", custom, "-o", never, "-op", "MyCustomOp")
	if code != 1 || !strings.Contains(stderr, `node "my/op": qcal does not know the output types of op "MyCustomOp"`) {
		t.Errorf("unknown op: exit %d, stderr %q", code, stderr)
	}
	if _, err := os.Stat(never); err == nil {
		t.Error("output written despite the error")
	}
}

func TestInsertLoggingCommandRealGraph(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "logged.pb")
	code, _, stderr := qcal(t, "", "insert-logging", "-graph", realGraph(t, "mnist_cnn_frozen.pb"), "-o", out, "-op", "Relu", "-message", "__relu:", "-show-op")
	if code != 0 || !strings.Contains(stderr, "qcal: logged 4 nodes (op Relu)") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	for _, n := range loadGraph(t, out).GetNode() {
		if n.GetOp() == "Print" && string(n.GetAttr()["message"].GetS()) != ";Relu;;"+n.GetName()+";__relu:" {
			t.Errorf("%s message = %q", n.GetName(), n.GetAttr()["message"].GetS())
		}
	}
	// Without -message, the records of ops other than RequantizationRange
	// must not look like range records: TF's empty message is used.
	plain := filepath.Join(dir, "plain.pb")
	if code, _, stderr := qcal(t, "", "insert-logging", "-graph", realGraph(t, "mnist_cnn_frozen.pb"), "-o", plain, "-op", "Relu"); code != 0 {
		t.Fatal(stderr)
	}
	for _, n := range loadGraph(t, plain).GetNode() {
		if n.GetOp() == "Print" && string(n.GetAttr()["message"].GetS()) != ";"+n.GetName()+";" {
			t.Errorf("%s message = %q", n.GetName(), n.GetAttr()["message"].GetS())
		}
	}
	code, summary, stderr := qcal(t, "", "summarize", out)
	if code != 0 || stderr != "" || !strings.Contains(summary, "  Print nodes: 4\n") || !strings.Contains(summary, "4 Print") {
		t.Errorf("summary of the logged graph: exit %d, stderr %q\n%s", code, stderr, summary)
	}
}

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
