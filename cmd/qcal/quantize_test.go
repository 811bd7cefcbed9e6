package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"qcal/internal/graphio"
)

func TestQuantizeCommand(t *testing.T) {
	in := realGraph(t, "mnist_cnn_frozen.pb")
	dir := t.TempDir()
	out := filepath.Join(dir, "q.pbtxt")
	code, stdout, stderr := qcal(t, "", "quantize", "-graph", in, "-outputs", "output", "-o", out)
	if code != 0 || stdout != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	// INT8-ARITHMETIC §1d: two fused convs; layer_1 (fed by the image) and
	// the two MatMuls stay FP32.
	for _, want := range []string{
		"qcal: quantized 2 nodes (Intel path), 2 weights, 10 left in FP32, 2 RequantizationRange nodes; wrote " + out + "\n",
		"qcal: left in FP32: layer_1_conv/Conv2D (Conv2D: input 0 is not a Relu",
		"layer_4_fc/MatMul (MatMul: MatMul is quantized on the Intel path only with -model-name wide_deep_large_ds)",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	g, f, err := graphio.Load(out)
	if err != nil || f != graphio.Text {
		t.Fatalf("output: %v (format %v)", err, f)
	}
	n := 0
	for _, x := range g.Node {
		if x.Op == "QuantizedConv2DWithBiasAndRelu" {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d QuantizedConv2DWithBiasAndRelu nodes, want 2", n)
	}

	// The plain path with the tool's flag names, to stdout.
	code, stdout, stderr = qcal(t, "", "quantize", "-input", in, "-output_node_names", "output", "-output", "-", "-intel=false", "-format", "text")
	if code != 0 || !strings.Contains(stdout, `op: "QuantizedMatMul"`) || !strings.Contains(stderr, "(plain path)") {
		t.Errorf("plain path: exit %d, stderr %q", code, stderr)
	}
}

// TestQuantizeCommandRelu6 prints the lost-clamp warning.
func TestQuantizeCommandRelu6(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "relu6.pbtxt")
	if err := os.WriteFile(in, []byte(relu6Graph), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := qcal(t, "", "quantize", "-graph", in, "-outputs", "act", "-o", filepath.Join(dir, "q.pb"))
	if code != 0 || !strings.Contains(stderr, `qcal: warning: node "act": Relu6 fused into QuantizedConv2DWithBiasAndRelu`) {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	// Per channel the clamp is kept; the one warning left is that the
	// weights are truncated as Intel's script truncates them, and
	// -round-weights silences it.
	code, _, stderr = qcal(t, "", "quantize", "-graph", in, "-outputs", "act", "-o", filepath.Join(dir, "q2.pb"), "-per-channel")
	if code != 0 || strings.Count(stderr, "warning") != 1 || !strings.Contains(stderr, "qcal: warning: per-channel and depthwise weights are truncated toward zero") {
		t.Errorf("per-channel: exit %d, stderr %q", code, stderr)
	}
	code, _, stderr = qcal(t, "", "quantize", "-graph", in, "-outputs", "act", "-o", filepath.Join(dir, "q3.pb"), "-per-channel", "-round-weights")
	if code != 0 || strings.Contains(stderr, "warning") {
		t.Errorf("per-channel, rounded: exit %d, stderr %q", code, stderr)
	}
}

// TestQuantizeCommandMLP: on an MLP the Intel path quantizes nothing
// (INT8-ARITHMETIC §1d) and says so; the plain path quantizes the MatMul.
func TestQuantizeCommandMLP(t *testing.T) {
	in := realGraph(t, "linreg_frozen.pb")
	dir := t.TempDir()
	code, _, stderr := qcal(t, "", "quantize", "-graph", in, "-outputs", "Identity", "-o", filepath.Join(dir, "q.pb"))
	if code != 0 || !strings.Contains(stderr, "qcal: warning: the graph has no RequantizationRange node: calibration has nothing to do (the Intel path") ||
		!strings.Contains(stderr, "qcal: quantized 0 nodes (Intel path), 0 weights") {
		t.Errorf("Intel: exit %d, stderr %q", code, stderr)
	}
	code, _, stderr = qcal(t, "", "quantize", "-graph", in, "-outputs", "Identity", "-o", filepath.Join(dir, "p.pb"), "-intel=false")
	if code != 0 || strings.Contains(stderr, "warning") || !strings.Contains(stderr, "qcal: quantized 2 nodes (plain path), 2 weights, 0 left in FP32, 2 RequantizationRange nodes") {
		t.Errorf("plain: exit %d, stderr %q", code, stderr)
	}
}

func TestQuantizeCommandErrors(t *testing.T) {
	in := realGraph(t, "linreg_frozen.pb")
	dir := t.TempDir()
	out := filepath.Join(dir, "q.pb")
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"-outputs", "x", "-o", out}, 2, "-graph is required"},
		{[]string{"-graph", in, "-o", out}, 2, "-outputs is required (the output node names, comma separated; the graph's possible outputs: Identity)"},
		{[]string{"-graph", in, "-outputs", "x"}, 2, "-o is required"},
		{[]string{"-graph", in, "-outputs", "x", "-o", out, "-fallback-min", "1"}, 2, "go together"},
		{[]string{"-graph", in, "-outputs", "x", "-o", out, "-fallback-min", "1", "-fallback-max", "0"}, 2, "invalid fallback range"},
		{[]string{"-graph", in, "-outputs", "x", "-o", out, "-intel=false", "-per-channel"}, 2, "needs the Intel path"},
		{[]string{"-graph", in, "-outputs", "nope", "-o", out}, 1, `output node "nope" not found`},
		{[]string{"-graph", in, "-outputs", "x", "-o", in}, 1, "refusing to overwrite input"},
	}
	for _, tt := range tests {
		code, _, stderr := qcal(t, "", append([]string{"quantize"}, tt.args...)...)
		if code != tt.code || !strings.Contains(stderr, tt.want) {
			t.Errorf("%q: exit %d, stderr %q; want %d and %q", tt.args, code, stderr, tt.code, tt.want)
		}
		if _, err := os.Stat(out); err == nil {
			t.Fatalf("%q: wrote %s", tt.args, out)
		}
	}
}

// relu6Graph: x → c0 (a first conv, FP32) → Relu → c1 → BiasAdd → Relu6.
const relu6Graph = `
node { name: "x" op: "Placeholder" attr { key: "dtype" value { type: DT_FLOAT } } }
node { name: "w0" op: "Const" attr { key: "dtype" value { type: DT_FLOAT } }
  attr { key: "value" value { tensor { dtype: DT_FLOAT tensor_shape { dim { size: 1 } dim { size: 1 } dim { size: 1 } dim { size: 1 } } float_val: 0.5 } } } }
node { name: "c0" op: "Conv2D" input: "x" input: "w0" attr { key: "T" value { type: DT_FLOAT } }
  attr { key: "strides" value { list { i: 1 i: 1 i: 1 i: 1 } } } attr { key: "padding" value { s: "SAME" } } }
node { name: "r0" op: "Relu" input: "c0" attr { key: "T" value { type: DT_FLOAT } } }
node { name: "w1" op: "Const" attr { key: "dtype" value { type: DT_FLOAT } }
  attr { key: "value" value { tensor { dtype: DT_FLOAT tensor_shape { dim { size: 1 } dim { size: 1 } dim { size: 1 } dim { size: 1 } } float_val: -0.5 } } } }
node { name: "c1" op: "Conv2D" input: "r0" input: "w1" attr { key: "T" value { type: DT_FLOAT } }
  attr { key: "strides" value { list { i: 1 i: 1 i: 1 i: 1 } } } attr { key: "padding" value { s: "SAME" } } }
node { name: "b1" op: "Const" attr { key: "dtype" value { type: DT_FLOAT } }
  attr { key: "value" value { tensor { dtype: DT_FLOAT tensor_shape { dim { size: 1 } } float_val: 0.25 } } } }
node { name: "ba" op: "BiasAdd" input: "c1" input: "b1" attr { key: "T" value { type: DT_FLOAT } } }
node { name: "act" op: "Relu6" input: "ba" attr { key: "T" value { type: DT_FLOAT } } }
`
