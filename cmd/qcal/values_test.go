package main

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"qcal/internal/synth"
	"qcal/internal/tfname"
	"qcal/quant"
	"qcal/report"
	"qcal/stats"
)

// valueLog writes what a Print node logging a Conv2D's output with
// `qcal insert-logging -op Conv2D -message "__KL:" -summarize -1` prints:
// one line per batch, `;NAME__print__;__KL:[v v v ...]`, with noise
// between. It returns the values per node, in log order.
func valueLog(nodes []string, batches, perBatch int, seed uint64) (string, map[string][]float32) {
	rng := rand.New(rand.NewPCG(seed, 3))
	var b strings.Builder
	vals := map[string][]float32{}
	b.WriteString("2019-03-12 16:31:29.964490: I tensorflow/core/platform/cpu_feature_guard.cc:141] noise\n")
	for k := 0; k < batches; k++ {
		for i, n := range nodes {
			b.WriteString(";" + n + "__print__;__KL:[")
			for j := 0; j < perBatch; j++ {
				v := float32(rng.NormFloat64() * float64(i+1))
				if i == 0 {
					v = float32(math.Abs(float64(v))) // a Relu-like node: non-negative
				}
				if k == 1 && j == 0 {
					v *= 40 // an outlier KL should clip
				}
				vals[n] = append(vals[n], v)
				if j > 0 {
					b.WriteByte(' ')
				}
				b.Write(synth.AppendFloat(nil, v))
			}
			b.WriteString("]\n")
		}
	}
	return b.String(), vals
}

// TestValueStrategies reads a tensor-value log through qcal ranges and
// compares every strategy with the same strategy applied to a histogram the
// test builds itself from the generated values.
func TestValueStrategies(t *testing.T) {
	dir := t.TempDir()
	nodes := []string{"net/conv1/Conv2D", "net/conv2/Conv2D"}
	text, vals := valueLog(nodes, 12, 3000, 5) // 3000 values a line: lines well over a chunk
	log := writeText(t, dir, "dump.log", text)
	minmax := writeText(t, dir, "min_max_log.txt", rec("net/conv1/Conv2D_eightbit_requant_range", "0", "3")+
		rec("net/conv1/Conv2D_eightbit_requant_range", "0", "5"))
	code, out, stderr := qcal(t, "", "ranges", "-format", "json", "-strategy", "kl,entropy,mse,vpercentile:99.9,tf", log, minmax)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "72000 values in 24 tensors of 2 nodes") {
		t.Errorf("summary %q", stderr)
	}
	var doc struct {
		Strategy string
		Ranges   []struct {
			Node, Strategy string
			Min, Max       float32
			Count          int
		}
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Strategy != "kl,entropy,mse,vpercentile:99.9,tf" {
		t.Errorf("strategy %q", doc.Strategy)
	}
	got := map[string][2]float32{}
	for _, r := range doc.Ranges {
		got[r.Strategy+" "+r.Node] = [2]float32{r.Min, r.Max}
	}
	for _, spec := range []string{"kl", "entropy", "mse", "vpercentile:99.9"} {
		hs, err := stats.ParseHistStrategy(spec)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range nodes {
			lo, hi := hs.Range(histOfValues(vals[n]))
			key := spec + " " + n + tfname.RequantRangeSuffix
			if g, ok := got[key]; !ok || g != [2]float32{lo, hi} {
				t.Errorf("%s: qcal %v, direct %v", key, g, [2]float32{lo, hi})
			}
		}
	}
	// The non-negative node gets [0, t] from kl; the outlier (40σ) is clipped.
	if g := got["kl net/conv1/Conv2D_eightbit_requant_range"]; g[0] != 0 || g[1] <= 0 || g[1] > 20 {
		t.Errorf("kl on the Relu-like node = %v, want [0, t] with t well under the 40σ outlier", g)
	}
	// tf reads the per-batch extremes of the min/max log: n=2, index round(1.9) = 2 → clamped to 1 → 5.
	if g := got["tf net/conv1/Conv2D_eightbit_requant_range"]; g != [2]float32{0, 5} {
		t.Errorf("tf = %v, want [0 5]", g)
	}
}

// TestFreezeKL freezes KL ranges computed from a value log into the
// RequantizationRange nodes they belong to, by the default name rule and by
// a -map file.
func TestFreezeKL(t *testing.T) {
	dir := t.TempDir()
	layers := []synth.Layer{{Name: "net/conv1/Conv2D", Scale: 1}, {Name: "net/conv2/Conv2D", Scale: 1}}
	graph := writeGraph(t, dir, layers[0].RequantRange(), layers[1].RequantRange())
	text, vals := valueLog([]string{"net/conv1/Conv2D", "logged_as_something_else"}, 6, 500, 9)
	log := writeText(t, dir, "dump.log", text)
	mapFile := writeText(t, dir, "names.map", "# logged name → RequantizationRange\nlogged_as_something_else  net/conv2/Conv2D_eightbit_requant_range\n")
	out := filepath.Join(dir, "frozen.pb")
	code, _, stderr := qcal(t, "", "freeze", "-graph", graph, "-log", log, "-strategy", "kl", "-map", mapFile, "-o", out, "-strict")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	want := map[string]float32{}
	for logged, rr := range map[string]string{"net/conv1/Conv2D": layers[0].RequantRange(), "logged_as_something_else": layers[1].RequantRange()} {
		lo, hi := stats.KL{}.Range(histOfValues(vals[logged]))
		want[rr+"/frozen_min"], want[rr+"/frozen_max"] = lo, hi
	}
	found := 0
	for _, n := range loadGraph(t, out).GetNode() {
		if w, ok := want[n.GetName()]; ok {
			found++
			v := math.Float32frombits(binary.LittleEndian.Uint32(n.GetAttr()["value"].GetTensor().GetTensorContent()))
			if v != w {
				t.Errorf("%s = %v, want %v", n.GetName(), v, w)
			}
		}
	}
	if found != 4 {
		t.Errorf("%d frozen Consts found, want 4", found)
	}
	// A bad -map line names file and line.
	bad := writeText(t, dir, "bad.map", "ok name\nonly-one-column\n")
	code, _, stderr = qcal(t, "", "freeze", "-graph", graph, "-log", log, "-strategy", "kl", "-map", bad, "-o", filepath.Join(dir, "x.pb"))
	if code != 1 || !strings.Contains(stderr, "bad.map:2") {
		t.Errorf("bad map: exit %d, %s", code, stderr)
	}
}

// TestQuantizedDump: Intel's dumps of a quantized op print the qint32 data,
// then its float min and max; qcal dequantizes the data with TF's
// QuantizedToFloat rule before binning. An integer tensor with no range
// after it is binned as it is.
func TestQuantizedDump(t *testing.T) {
	dir := t.TempDir()
	log := writeText(t, dir, "q.log",
		";q/Conv2D__print__;__KL:[-2147483648 0 2147483647][-1][1]\n"+
			"noise\n"+
			";p/Conv2D__print__;__KL:[1 2 3]\n"+
			";q/Conv2D__print__;__KL:[-1073741824 1073741824][-1][1]\n")
	code, out, stderr := qcal(t, "", "ranges", "-format", "csv", "-strategy", "vpercentile:100", log)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lo := quant.QuantizedToFloat(quant.QInt32, math.MinInt32, -1, 1)
	hi := quant.QuantizedToFloat(quant.QInt32, math.MaxInt32, -1, 1)
	want := "node,values,min,max\n" +
		"q/Conv2D_eightbit_requant_range,5," + report.FormatFloat(lo) + "," + report.FormatFloat(hi) + "\n" +
		"p/Conv2D_eightbit_requant_range,3,1,3\n"
	if out != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
	if !strings.Contains(stderr, "2 quantized tensor dump(s)") || strings.Contains(stderr, "beyond a Print's first output") {
		t.Errorf("stderr: %s", stderr)
	}
}

// histOfValues is the histogram calib builds of a node's values in two
// passes: the power-of-two Histogram, and Intel's FixedHistogram over
// [-max|v|, max|v|] attached for kl.
func histOfValues(vs []float32) *stats.Histogram {
	h := stats.NewHistogram()
	h.AddSlice(vs)
	f := stats.NewFixedHistogram(h.AbsMax())
	f.AddSlice(vs)
	h.SetFixed(f)
	return h
}

// TestKLFromStdin: kl reads its logs twice (max|v| first, then Intel's
// bins); standard input is kept in a temporary file for the second pass,
// so a log on stdin, plain or gzip, gives the ranges the file gives, and
// the temporary file is gone afterwards.
func TestKLFromStdin(t *testing.T) {
	dir := t.TempDir()
	text, vals := valueLog([]string{"a/Conv2D", "b/Conv2D"}, 5, 400, 11)
	path := writeText(t, dir, "v.log", text)
	_, fromFile, stderr := qcal(t, "", "ranges", "-format", "csv", "-strategy", "kl", path)
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write([]byte(text))
	w.Close()
	tmpBefore, _ := filepath.Glob(filepath.Join(os.TempDir(), "qcal-stdin-*"))
	for name, in := range map[string]string{"plain": text, "gzip": gz.String()} {
		code, out, errs := qcal(t, in, "ranges", "-format", "csv", "-strategy", "kl", "-")
		if code != 0 || out != fromFile {
			t.Errorf("%s stdin: exit %d, %s\n%s\nwant the file's\n%s\n%s", name, code, errs, out, fromFile, stderr)
		}
	}
	if tmpAfter, _ := filepath.Glob(filepath.Join(os.TempDir(), "qcal-stdin-*")); len(tmpAfter) != len(tmpBefore) {
		t.Errorf("temporary copies of stdin left: %v (before: %v)", tmpAfter, tmpBefore)
	}
	// And the file's ranges are Intel's: the node's own FixedHistogram.
	lo, hi := stats.KL{}.Range(histOfValues(vals["a/Conv2D"]))
	want := "a/Conv2D_eightbit_requant_range,2000," + report.FormatFloat(lo) + "," + report.FormatFloat(hi) + "\n"
	if !strings.Contains(fromFile, want) {
		t.Errorf("file ranges\n%s\nlack %q", fromFile, want)
	}
}
