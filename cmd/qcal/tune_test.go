package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"qcal/internal/testutil"
)

// TestTuneCommand runs qcal tune on the MNIST CNN with two strategies:
// JSON on stdout as qcal report -format json writes it (one candidate a
// strategy), the best graph and the HTML report written.
func TestTuneCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: runs the int8 workflow")
	}
	graph := filepath.Join(testutil.RealData(t, "graphs"), "mnist_cnn_frozen.pb")
	mnist := testutil.MNIST(t)
	dir := t.TempDir()
	best, html := filepath.Join(dir, "best.pb"), filepath.Join(dir, "tune.html")
	cache := filepath.Join(dir, "cache")
	code, stdout, stderr := qcal(t, "", "tune", "-graph", graph, "-calib", filepath.Join(mnist, "train-images-idx3-ubyte.gz"),
		"-eval", filepath.Join(mnist, "t10k-images-idx3-ubyte.gz"), "-scale", "1/255", "-limit", "500", "-batch", "50",
		"-strategies", "minmax,tf", "-format", "json", "-o", best, "-report", html, "-cache", cache, "-cache-max", "1MB")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	// The calibration log (10 batches of 50, about 6.5 MB: the values of
	// both convolutions) does not fit 1 MB and is not kept; the FP32
	// predictions (500 rows) are.
	if !strings.Contains(stderr, "qcal tune: calibration log (") || !strings.Contains(stderr, ") not cached: it does not fit the cache's limit of 1.0 MiB") {
		t.Errorf("stderr does not say the log was not cached: %s", stderr)
	}
	if ents, err := os.ReadDir(cache); err != nil || len(ents) != 1 || !strings.HasPrefix(ents[0].Name(), "fp32-") {
		t.Errorf("cache holds %v (%v), want only the FP32 predictions", ents, err)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, stdout)
	}
	for _, name := range []string{"minmax", "tf"} {
		if !strings.Contains(stdout, `"`+name+`"`) {
			t.Errorf("JSON lacks candidate %s", name)
		}
	}
	if !strings.Contains(stderr, "qcal tune: best strategy minmax (2 candidates") {
		t.Errorf("stderr: %s", stderr)
	}
	for _, f := range []string{best, html} {
		if fi, err := os.Stat(f); err != nil || fi.Size() == 0 {
			t.Errorf("%s not written: %v", f, err)
		}
	}
	// The report has the per-layer error of the best graph on the
	// calibration data: its table (both convolutions) and its plot.
	page, err := os.ReadFile(html)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`<section id="layers">`, "the int8 graph of minmax", "layer_<wbr>2_<wbr>conv/<wbr>Relu", "layer_<wbr>3_<wbr>conv/<wbr>Relu", "SQNR of each layer"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if strings.Contains(stdout, "SQNR") {
		t.Error("the JSON on stdout carries the per-layer error; it must stay qcal report's")
	}
	g := loadGraph(t, best)
	n := 0
	for _, nd := range g.GetNode() {
		if strings.HasSuffix(nd.GetOp(), "AndRequantize") {
			n++
		}
	}
	if n != 2 {
		t.Errorf("best graph has %d fused convolutions, want 2", n)
	}
}

func TestTuneUsage(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"tune", "-graph", "g.pb"}, "-graph, -calib and -eval are required"},
		{[]string{"tune", "-graph", "g.pb", "-calib", "c", "-eval", "e", "-max-drop", "2", "-warn-drop", "1"}, "want 0 ≤ -max-drop ≤ -warn-drop"},
		{[]string{"tune", "-graph", "g.pb", "-calib", "c", "-eval", "e", "-data", "d"}, "tune reads -calib and -eval, not -data"},
		{[]string{"tune", "-graph", "g.pb", "-calib", "c", "-eval", "e", "-cache-max", "0"}, `invalid value "0" for flag -cache-max: size "0" out of range`},
		{[]string{"tune", "-graph", "g.pb", "-calib", "c", "-eval", "e", "-cache-max", "1 GiBs"}, "want a size such as 1GiB or 500MB"},
	} {
		code, _, stderr := qcal(t, "", c.args...)
		if code != 2 || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, %q; want 2 and %q", c.args, code, stderr, c.want)
		}
	}
}

func TestTuneCacheMaxSize(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
	}{
		{"1", 1},
		{"1048576", 1 << 20},
		{"1GiB", 1 << 30},
		{"1.5 KiB", 1536}, // 1.5·1024
		{"500MB", 500e6},
		{"2TB", 2e12},
		{"10B", 10},
		{"0.5KiB", 512},
	} {
		if got, err := parseSize(c.in); err != nil || got != c.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
	for _, in := range []string{"", "GiB", "-1", "0", "0.1", "1e30", "NaN", "1 GB GB", "1gb"} {
		if n, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q) = %d, want an error", in, n)
		}
	}
}

// TestTuneNoCache: -no-cache keeps nothing in the default cache folder
// (the user's, here a temporary XDG_CACHE_HOME).
func TestTuneNoCache(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: runs the int8 workflow")
	}
	graph := filepath.Join(testutil.RealData(t, "graphs"), "mnist_cnn_frozen.pb")
	mnist := testutil.MNIST(t)
	home := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", home)
	code, _, stderr := qcal(t, "", "tune", "-graph", graph, "-calib", filepath.Join(mnist, "train-images-idx3-ubyte.gz"),
		"-eval", filepath.Join(mnist, "t10k-images-idx3-ubyte.gz"), "-scale", "1/255", "-limit", "100", "-batch", "50",
		"-batches", "1", "-strategies", "minmax", "-no-cache")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if ents, _ := os.ReadDir(home); len(ents) != 0 {
		t.Errorf("-no-cache left %v in the cache home", ents)
	}
}

// TestTuneMobileNetPerChannelAuto: tune's defaults on a Relu6 network.
// The per-tensor Intel path would fuse the 13 pointwise Relu6 into
// ...AndRelu ops and lose their clamps (top-1 8.6% on the 1000 photographs,
// see TestWorkflowMobileNet), so -per-channel's default, auto, quantizes
// per channel and says why; weights are rounded (tune's default). Numbers
// measured on the first 200 photographs, 20 of them calibrating: FP32 top-1
// 53.5, minmax 51.5, percentile:99.999 50.5.
func TestTuneMobileNetPerChannelAuto(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: 200 ImageNet photographs through MobileNet three times")
	}
	root := testutil.RealData(t, "imagenet")
	dir := t.TempDir()
	opt := filepath.Join(dir, "optimized.pb")
	const out = "MobilenetV1/Predictions/Reshape_1"
	if code, _, stderr := qcal(t, "", "transform", "-in_graph", filepath.Join(root, "mobilenet_v1_0.25_128_2017", "frozen_graph.pb"), "-out_graph", opt,
		"-inputs", "input", "-outputs", out, "-transforms", "fold_constants fold_batch_norms"); code != 0 {
		t.Fatalf("transform: %s", stderr)
	}
	photos := filepath.Join(root, "sample_images")
	code, stdout, stderr := qcal(t, "", "tune", "-graph", opt, "-calib", filepath.Join(photos, "images"), "-eval", filepath.Join(photos, "images"),
		"-labels", filepath.Join(photos, "labels.csv"), "-label-column", "class_index", "-label-offset", "1",
		"-color", "rgb", "-central-crop", "0.875", "-resize", "128x128", "-mean", "127.5", "-std", "127.5",
		"-batches", "20", "-eval-limit", "200", "-strategies", "minmax,percentile:99.999", "-max-drop", "3", "-warn-drop", "4",
		"-no-cache", "-format", "json")
	if code != 0 {
		t.Fatalf("tune: exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stderr, "qcal tune: quantizing per channel: per tensor, 13 Relu6 clamp(s) would be lost (MobilenetV1/MobilenetV1/Conv2d_1_pointwise/Relu6,") {
		t.Errorf("no per-channel note in\n%s", stderr)
	}
	var doc struct {
		Baseline   struct{ Value float64 }
		Candidates []struct {
			Name  string
			Value float64
		}
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{"fp32": doc.Baseline.Value}
	for _, c := range doc.Candidates {
		got[c.Name] = c.Value
	}
	want := map[string]float64{"fp32": 53.5, "minmax": 51.5, "percentile:99.999": 50.5}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: top-1 %v, want %v (all: %v)", k, got[k], v, got)
		}
	}
}
