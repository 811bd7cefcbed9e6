package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"qcal/internal/synth"
	"qcal/internal/tfpb"
)

func TestInsertLoggingCommand(t *testing.T) {
	dir := t.TempDir()
	layers := synth.DemoLayers()
	in := saveGraph(t, dir, "quantized.pb", synth.Graph(layers))
	out := filepath.Join(dir, "logged.pbtxt")
	code, _, stderr := qcal(t, "", "insert-logging", "-graph", in, "-o", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "qcal: logged 8 nodes (op RequantizationRange or RequantizationRangePerChannel) into "+out) {
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
