package insertlogging

import (
	"fmt"
	"strings"
	"testing"

	"qcal/internal/synth"
	"qcal/internal/tfname"
	"qcal/internal/tfpb"
)

// printLine returns the text TensorFlow's Print op writes to stderr when the
// Print node p, logging a RequantizationRange node, runs on a batch whose
// range is (min, max): p's message attr, then each logged value in brackets
// (floats as synth.AppendFloat writes them, as TF does), without a newline:
// `;NAME__print__;__requant_min_max:[min][max]` for insert-logging's
// defaults.
func printLine(p *tfpb.NodeDef, min, max float32) string {
	if p.GetOp() != "Print" || len(p.GetInput()) != 3 {
		panic(fmt.Sprintf("printLine: %s is not a Print node logging two values", p.GetName()))
	}
	b := []byte(p.GetAttr()["message"].GetS())
	for _, v := range []float32{min, max} {
		b = append(b, '[')
		b = synth.AppendFloat(b, v)
		b = append(b, ']')
	}
	return string(b)
}

// calibrationLog returns what a run of the logged graph writes to stderr
// over len(batches) batches: for each batch, one record per Print node in
// node order, batches[b][node] being the range of the node the Print logs.
// Every joinEvery-th record shares its line with the next one, as the
// records of concurrent Print ops do (0: never).
func calibrationLog(logged *tfpb.GraphDef, batches []map[string][2]float32, joinEvery int) string {
	var b strings.Builder
	n := 0
	for _, ranges := range batches {
		for _, p := range logged.GetNode() {
			if p.GetOp() != "Print" {
				continue
			}
			r, ok := ranges[tfname.NodeName(p.GetInput()[0])]
			if !ok {
				continue
			}
			b.WriteString(printLine(p, r[0], r[1]))
			n++
			if joinEvery > 0 && n%joinEvery == 0 {
				continue
			}
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// TestPrintLineRoundTrip logs the synthetic graph with the defaults, writes
// the log its Print nodes would produce, and checks it against synth's own
// record writer, line for line.
func TestPrintLineRoundTrip(t *testing.T) {
	layers := synth.DemoLayers()
	logged, _, err := Insert(synth.Graph(layers), DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	values := [][2]float32{{-5.75943518, 3.43590856}, {0, 6.29}, {-0.0, 12.0352411}, {-2.4e-05, 1e6}}
	var batches []map[string][2]float32
	for b := range 3 {
		m := map[string][2]float32{}
		for i, l := range layers {
			m[l.RequantRange()] = values[(b+i)%len(values)]
		}
		batches = append(batches, m)
	}

	// One record a line: each line is synth's record.
	lines := strings.Split(strings.TrimSuffix(calibrationLog(logged, batches, 0), "\n"), "\n")
	if len(lines) != len(batches)*len(layers) {
		t.Fatalf("%d lines, want %d", len(lines), len(batches)*len(layers))
	}
	var want []string
	for _, m := range batches {
		for _, l := range layers {
			r := m[l.RequantRange()]
			want = append(want, string(synth.AppendRecord(nil, l.RequantRange(), r[0], r[1])))
		}
	}
	for i := range lines {
		if lines[i] != want[i] {
			t.Errorf("line %d = %q, want %q", i+1, lines[i], want[i])
		}
	}
	if lines[0] != ";"+layers[0].RequantRange()+"__print__;__requant_min_max:[-5.75943518][3.43590856]" {
		t.Errorf("first line = %q", lines[0])
	}

	// Two records on some lines: the text is the same records with fewer
	// line breaks.
	joined := calibrationLog(logged, batches, 5)
	if strings.ReplaceAll(joined, "\n", "") != strings.Join(want, "") {
		t.Error("joined log does not hold the same records")
	}
	if strings.Count(joined, "\n") != len(want)-len(want)/5 {
		t.Errorf("joined log has %d lines, want %d", strings.Count(joined, "\n"), len(want)-len(want)/5)
	}
}
