package main

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// layerFixture writes two tiny graphs as text GraphDefs and a data set:
// FP32 act = Relu(x), out = act + 0; "int8" act = Dequantize(QuantizeV2(x)
// on [0, 255], MIN_FIRST: x rounded to an integer and clamped at 0), out =
// act + 0.5; x = (−2, 1, 3.4), (0, −0.25, 2). Worked by hand in
// internal/layererr's test: act SQNR 10·log10(16.56/0.16) = 20.149 dB,
// out 10·log10(16.56/1.26) = 11.187 dB with 3 of 6 signs changed.
func layerFixture(t *testing.T) (dir, fp32, int8, data string) {
	t.Helper()
	dir = t.TempDir()
	ph := `node { name: "x" op: "Placeholder" attr { key: "dtype" value { type: DT_FLOAT } }
  attr { key: "shape" value { shape { dim { size: -1 } dim { size: 3 } } } } }
`
	cnst := func(name string, v float32) string {
		return `node { name: "` + name + `" op: "Const" attr { key: "dtype" value { type: DT_FLOAT } }
  attr { key: "value" value { tensor { dtype: DT_FLOAT tensor_shape {} float_val: ` + strconv.FormatFloat(float64(v), 'g', -1, 32) + ` } } } }
`
	}
	f32 := `attr { key: "T" value { type: DT_FLOAT } }`
	qu8 := `attr { key: "T" value { type: DT_QUINT8 } } attr { key: "mode" value { s: "MIN_FIRST" } }`
	fp32 = writeText(t, dir, "fp32.pbtxt", ph+
		`node { name: "act" op: "Relu" input: "x" `+f32+" }\n"+cnst("zero", 0)+
		`node { name: "out" op: "Add" input: "act" input: "zero" `+f32+" }\n")
	int8 = writeText(t, dir, "int8.pbtxt", ph+cnst("lo", 0)+cnst("hi", 255)+
		`node { name: "act_q" op: "QuantizeV2" input: "x" input: "lo" input: "hi" `+qu8+" }\n"+
		`node { name: "act" op: "Dequantize" input: "act_q" input: "act_q:1" input: "act_q:2" `+qu8+" }\n"+cnst("offset", 0.5)+
		`node { name: "out" op: "Add" input: "act" input: "offset" `+f32+" }\n")
	dict := "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"
	hdr := dict + strings.Repeat(" ", 64-(10+len(dict)+1)%64) + "\n"
	b := binary.LittleEndian.AppendUint16([]byte("\x93NUMPY\x01\x00"), uint16(len(hdr)))
	b = append(b, hdr...)
	for _, v := range []float32{-2, 1, 3.4, 0, -0.25, 2} {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	data = filepath.Join(dir, "x.npy")
	if err := os.WriteFile(data, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, fp32, int8, data
}

// TestAuditLayers: the per-layer error alone (no log) in text, CSV and
// HTML, with the plot files; beside a log's findings; and the usage errors.
func TestAuditLayers(t *testing.T) {
	dir, fp32, int8, data := layerFixture(t)
	flags := []string{"audit", "-fp32", fp32, "-int8", int8, "-data", data, "-batch", "1"}

	code, out, stderr := qcal(t, "", flags...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	// Rows: #, node, op, SQNR dB, RMSE (√(0.16/6) = 0.1633, √(1.26/6) =
	// 0.4583), max, mean fp32 (6.4/6), sign changed, values.
	for _, want := range []string{"lowest SQNR 11.2 dB at out", "│ 1 │ act  │ Relu         │    20.1 │ 0.1633 │       0.4 │     1.067 │         0.0% │      6 │",
		"│ 2 │ out  │ Add (output) │    11.2 │ 0.4583 │       0.5 │     1.067 │          50% │      6 │"} {
		if !strings.Contains(out, want) {
			t.Errorf("text output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(stderr, "qcal: Per-layer int8 error: "+int8+" vs "+fp32+" on 2 examples") {
		t.Errorf("stderr %q lacks the heading", stderr)
	}

	code, out, stderr = qcal(t, "", append(flags, "-format", "csv")...)
	if code != 0 || !strings.HasPrefix(out, "#,node,op,SQNR dB,") || !strings.Contains(out, "\n1,act,Relu,20.149") {
		t.Errorf("csv: exit %d, %s\n%s", code, stderr, out)
	}

	page := filepath.Join(dir, "layers.html")
	plots := filepath.Join(dir, "plots")
	if code, _, stderr = qcal(t, "", append(flags, "-o", page, "-plots", plots)...); code != 0 {
		t.Fatalf("html: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "qcal: wrote 1 plot (PNG and SVG) to "+plots) {
		t.Errorf("stderr %q does not report the plot", stderr)
	}
	b, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`id="layers"`, "<svg", "SQNR of each layer", "20.1"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("page lacks %q", want)
		}
	}
	for _, f := range []string{"layer-sqnr.png", "layer-sqnr.svg"} {
		if fi, err := os.Stat(filepath.Join(plots, f)); err != nil || fi.Size() == 0 {
			t.Errorf("plot %s: %v", f, err)
		}
	}

	// Beside a log: the findings first, then the section.
	_, _, log, _ := auditFixture(t)
	code, out, stderr = qcal(t, "", append(flags, log)...)
	if code != 0 {
		t.Fatalf("with a log: exit %d: %s", code, stderr)
	}
	fi, li := strings.Index(out, "Reasons, riskiest first"), strings.Index(out, "Per-layer int8 error")
	if fi < 0 || li < fi {
		t.Errorf("with a log: findings at %d, per-layer error at %d:\n%s", fi, li, out)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"audit", "-fp32", fp32, "-data", data}, "needs -fp32, -int8 and -data together"},
		{append(flags, "-against", log), "-graph and -against judge a calibration log"},
		{append(flags, "-batches", "-1"), "-batches must be at least 0"},
	} {
		if code, _, stderr := qcal(t, "", tc.args...); code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%q: exit %d, %s; want 2 and %q", tc.args, code, stderr, tc.want)
		}
	}
	// The FP32 graph in the int8 one's place: only the output is
	// compared, and it has no error (mean: float32 3.4 is 3.4000000954,
	// (1+3.4000000954+2)/6 = 1.06666668…).
	if code, out, stderr := qcal(t, "", "audit", "-fp32", fp32, "-int8", fp32, "-data", data, "-format", "csv"); code != 0 ||
		!strings.Contains(out, "\n1,out,Add (output),+Inf,0,0,1.06666668") || !strings.HasSuffix(out, ",0,6\n") {
		t.Errorf("same graph twice: exit %d: %s\n%s", code, stderr, out)
	}
}
