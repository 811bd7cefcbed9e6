package kernels

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"qcal/internal/tensor"
	"qcal/internal/tfpb"
	"qcal/logparse"
)

// runPrint runs a Print node named name with log as Context.Log.
func runPrint(t *testing.T, name string, a attrs, log interface{ Write([]byte) (int, error) }, inputs ...*tensor.Tensor) []*tensor.Tensor {
	t.Helper()
	n := &tfpb.NodeDef{Name: name, Op: "Print", Attr: a}
	for range inputs {
		n.Input = append(n.Input, "in")
	}
	d, _ := Lookup("Print")
	out, err := d.Run(&Context{Node: n, Inputs: inputs, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestAppendTFFloat(t *testing.T) {
	// FloatToBuffer: %.6g unless it does not read back, then %.9g.
	cases := []struct {
		v    float32
		want string
	}{
		{0, "0"},
		{float32(math.Copysign(0, -1)), "-0"},
		{6, "6"},
		{2.4e-05, "2.4e-05"},       // exponent form below 1e-4, two exponent digits
		{5.72005272, "5.72005272"}, // 5.72005 reads back as another float32: 9 digits
		{1e6, "1e+06"},             // exponent form at 10^6
		{123456, "123456"},
		{0.1, "0.1"},
		{float32(math.NaN()), "nan"},
		{float32(math.Inf(-1)), "-inf"},
	}
	for _, c := range cases {
		if got := string(AppendTFFloat(nil, c.v)); got != c.want {
			t.Errorf("AppendTFFloat(%v) = %q, want %q", c.v, got, c.want)
		}
	}
}

func TestPrintLine(t *testing.T) {
	var buf bytes.Buffer
	log := NewPrintLog(&buf)
	x := ramp(2, 3)
	a := attrs{"message": aStr(";conv_eightbit_requant_range__print__;__requant_min_max:"), "summarize": aInt(1024)}
	out := runPrint(t, "conv_eightbit_requant_range__print__", a, log, x, sc(-5.75943518), sc(3.43590856))
	if out[0] != x {
		t.Error("output 0 is not input 0 passed through")
	}
	// TF-FORMATS §2's example line.
	if got, want := buf.String(), ";conv_eightbit_requant_range__print__;__requant_min_max:[-5.75943518][3.43590856]\n"; got != want {
		t.Errorf("line %q, want %q", got, want)
	}

	// Summaries (TF 1.15's PrintOneDim): rank 2 nests brackets per row;
	// summarize 4 of 6 cuts the second row after one element ("..." inside
	// the row, and again after the tensor); rank 1 cut gives one "...".
	buf.Reset()
	runPrint(t, "p", attrs{"message": aStr("m:"), "summarize": aInt(4)}, log, x, x, ramp(5), qu8([]int{2}, 0, 255), sc(1.5))
	if got, want := buf.String(), "m:[[1 2 3][4...]...][1 2 3 4...][0 255][1.5]\n"; got != want {
		t.Errorf("summaries %q, want %q", got, want)
	}
	// The op's default summarize is 3.
	buf.Reset()
	runPrint(t, "q", attrs{}, log, x, ramp(4))
	if got, want := buf.String(), "[1 2 3...]\n"; got != want {
		t.Errorf("default summarize %q, want %q", got, want)
	}
}

// TestPrintFirstN: first_n counts per node over all runs of a session (the
// PrintLog), not per run.
func TestPrintFirstN(t *testing.T) {
	var buf bytes.Buffer
	log := NewPrintLog(&buf)
	a := attrs{"message": aStr("a:"), "first_n": aInt(2)}
	for run := 0; run < 4; run++ {
		runPrint(t, "A", a, log, sc(1), sc(float32(run)))
		runPrint(t, "B", a, log, sc(1), sc(float32(10+run)))
	}
	if got, want := buf.String(), "a:[0]\na:[10]\na:[1]\na:[11]\n"; got != want {
		t.Errorf("log %q, want %q", got, want)
	}
	// Without a PrintLog the count cannot persist: an error, not extra lines.
	n := &tfpb.NodeDef{Name: "A", Op: "Print", Attr: a, Input: []string{"x", "y"}}
	d, _ := Lookup("Print")
	if _, err := d.Run(&Context{Node: n, Inputs: []*tensor.Tensor{sc(1), sc(2)}, Log: &buf}); err == nil || !strings.Contains(err.Error(), "PrintLog") {
		t.Errorf("first_n with a plain writer: error %v, want one naming PrintLog", err)
	}
}

// TestPrintRoundTrip: what Print writes, logparse reads back as the same
// records and values TF's own lines give.
func TestPrintRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	log := NewPrintLog(&buf)
	buf.WriteString("2026-01-08 10:22:14.123: W tensorflow/core/some_warning.cc:1] noise\n")
	ranges := [][2]float32{{-5.75943518, 3.43590856}, {0, 6.29}, {-2.4e-05, float32(math.Copysign(0, -1))}, {-20.887871, 22.274715}}
	for i, r := range ranges {
		name := []string{"conv1_eightbit_requant_range", "conv2_eightbit_requant_range"}[i%2]
		a := attrs{"message": aStr(";" + name + "__print__;__requant_min_max:"), "summarize": aInt(1024)}
		runPrint(t, name+"__print__", a, log, qi32([]int{1}, 5), sc(r[0]), sc(r[1]))
	}
	kl := tensor.FromF32([]int{2, 3}, []float32{0.5, 1e-7, 3, 123456792, 5.72005272, -1})
	runPrint(t, "kl__print__", attrs{"message": aStr(";kl__print__;__KL:"), "summarize": aInt(-1)}, log, kl, kl)

	rd := logparse.NewReader(strings.NewReader(buf.String()), "print.log")
	rd.Values = []string{"__KL:"}
	var got [][2]float32
	var vals []float32
	for rd.Scan() {
		rec := rd.Record()
		switch rec.Kind {
		case logparse.RequantMinMax:
			want := []string{"conv1_eightbit_requant_range", "conv2_eightbit_requant_range"}[len(got)%2]
			if rec.Node != want {
				t.Errorf("record %d node %q, want %q", len(got), rec.Node, want)
			}
			got = append(got, [2]float32{rec.Min, rec.Max})
		case logparse.Values:
			if rec.Node != "kl" {
				t.Errorf("values node %q, want kl", rec.Node)
			}
			vals = append(vals, rec.Values...)
		}
	}
	if err := rd.Err(); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(ranges) {
		t.Fatalf("%d range records, want %d:\n%s", len(got), len(ranges), buf.String())
	}
	for i := range ranges {
		for j := 0; j < 2; j++ {
			if math.Float32bits(got[i][j]) != math.Float32bits(ranges[i][j]) {
				t.Errorf("record %d bound %d: %v read back as %v", i, j, ranges[i][j], got[i][j])
			}
		}
	}
	if len(vals) != len(kl.F32) {
		t.Fatalf("values %v, want %v (line %q)", vals, kl.F32, buf.String())
	}
	for i, v := range kl.F32 {
		if vals[i] != v {
			t.Errorf("value %d: %v read back as %v", i, v, vals[i])
		}
	}
}
