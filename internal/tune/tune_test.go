package tune

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/proto"

	"qcal/freeze"
	"qcal/internal/calib"
	"qcal/internal/dataset"
	"qcal/internal/evaluate"
	"qcal/internal/exec"
	"qcal/internal/graphio"
	"qcal/internal/rewrite/quantize"
	"qcal/internal/rewrite/transform"
	"qcal/internal/testutil"
	"qcal/report/accuracy"
)

// mnistOptions tunes the real MNIST CNN (graphs/mnist_cnn_frozen.pb, two
// convolutions the Intel path quantizes): 10 calibration batches of 32
// training images, evaluation on the first 1,000 test images, pixel/255.
func mnistOptions(t *testing.T, strategies string, target accuracy.Target) Options {
	t.Helper()
	g, _, err := graphio.Load(filepath.Join(testutil.RealData(t, "graphs"), "mnist_cnn_frozen.pb"))
	if err != nil {
		t.Fatal(err)
	}
	dir := testutil.MNIST(t)
	pre := dataset.Preprocess{Scale: 1.0 / 255, Shape: []int{-1, 28, 28, 1}}
	return Options{
		Graph: g, Name: "mnist_cnn_frozen.pb",
		Calib:      Data{Path: filepath.Join(dir, "train-images-idx3-ubyte.gz"), Opt: dataset.Options{BatchSize: 32, Preprocess: pre}},
		Eval:       Data{Path: filepath.Join(dir, "t10k-images-idx3-ubyte.gz"), Opt: dataset.Options{BatchSize: 100, Limit: 1000, Preprocess: pre}},
		Batches:    10,
		Strategies: strategies,
		Target:     target,
		Quantize:   quantize.Options{Intel: true},
	}
}

// TestTuneMNIST picks a strategy meeting 0.5 points on the MNIST CNN, and
// the numbers of its report are those of a separate evaluation of the
// graph it hands back.
func TestTuneMNIST(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: evaluates three int8 graphs on 1,000 images")
	}
	opt := mnistOptions(t, "tf,minmax,kl", accuracy.DefaultTarget)
	opt.CacheDir = t.TempDir()
	opt.LayerError = true
	res, err := Run(opt)
	if err != nil {
		t.Fatal(err)
	}
	if res.Best == nil {
		t.Fatalf("no strategy met 0.5 points: %s", res.Comparison.Summary())
	}
	checkBuffered(t, opt, res)
	// The per-layer error of the best graph on the 10 calibration batches
	// of 32: both quantized convolutions (the second read through the
	// graph's Dequantize, the first through one layererr adds) and the
	// output, each above 20 dB (internal/layererr measured 33–55 dB on
	// 3 batches with the tf strategy).
	if res.Layers == nil || res.LayersOf != res.Best || res.Layers.Examples != 320 || len(res.Layers.Layers) != 3 {
		t.Fatalf("layer error %+v of %v; want 3 tensors on 320 examples of the best candidate", res.Layers, res.LayersOf)
	}
	for i, name := range []string{"layer_2_conv/Relu", "layer_3_conv/Relu", "output"} {
		l := res.Layers.Layers[i]
		t.Logf("%s: SQNR %.2f dB", l.Name, l.SQNR())
		if l.Name != name || !(l.SQNR() > 20) || math.IsInf(l.SQNR(), 0) {
			t.Errorf("tensor %d: %s SQNR %.2f dB; want %s, finite, above 20 dB", i, l.Name, l.SQNR(), name)
		}
	}
	// Both quantized convolutions were fused with their Requantize.
	fused := 0
	for _, n := range res.Best.Graph.GetNode() {
		if n.GetOp() == "QuantizedConv2DWithBiasAndReluAndRequantize" {
			fused++
		}
	}
	if len(res.Candidates) != 3 || fused != 2 {
		t.Errorf("%d candidates, %d fused convolutions in the best graph; want 3 and 2", len(res.Candidates), fused)
	}
	m := res.Comparison.Candidates[0]
	if m.Name != res.Best.Strategy || m.Verdict != accuracy.Pass || m.Drop > 0.5 {
		t.Errorf("ranked first: %s %s drop %.2f; best %s", m.Name, m.Verdict, m.Drop, res.Best.Strategy)
	}
	// A separate evaluation of the best graph: the same predictions, byte
	// for byte, and the report's accuracy is its top-1 count.
	gr, err := exec.New(res.Best.Graph, "best")
	if err != nil {
		t.Fatal(err)
	}
	src, err := dataset.Open(opt.Eval.Path, opt.Eval.Opt)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var preds bytes.Buffer
	r, err := evaluate.Run(gr, src, evaluate.Options{Predictions: &preds})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(preds.Bytes(), res.Best.Predictions) {
		t.Error("a separate evaluation of the best graph predicts differently from tune's")
	}
	if got := 100 * float64(r.Top1) / float64(r.N); m.Value != got {
		t.Errorf("report says top-1 %.4f, the separate evaluation %.4f", m.Value, got)
	}
	// FP32 as the baseline of the report: 1,000 images.
	if res.FP32 == nil || res.FP32.N != 1000 || res.Comparison.Baseline.Value != 100*float64(res.FP32.Top1)/1000 {
		t.Errorf("FP32 baseline %+v, report %.4f", res.FP32, res.Comparison.Baseline.Value)
	}

	// A rerun reuses the FP32 predictions and the calibration log, and
	// finds the same.
	res2, err := Run(opt)
	if err != nil {
		t.Fatal(err)
	}
	if len(res2.Cached) != 2 || res2.Best.Strategy != res.Best.Strategy || !bytes.Equal(res2.Best.Predictions, res.Best.Predictions) {
		t.Errorf("rerun: cached %v, best %s; first run best %s", res2.Cached, res2.Best.Strategy, res.Best.Strategy)
	}
}

// TestTuneFallback forces a target no candidate can meet (a drop below −1
// point) and checks the per-layer fallback: both quantized layers are
// measured, then left in FP32 one at a time; with both in FP32 the graph
// computes what the FP32 graph computes, so its predictions equal FP32's
// and its drop is exactly 0 — still failing the impossible target.
func TestTuneFallback(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: evaluates five graphs on 1,000 images")
	}
	opt := mnistOptions(t, "minmax", accuracy.Target{MaxDrop: -1, WarnDrop: -1})
	opt.LayerError = true
	res, err := Run(opt)
	if err != nil {
		t.Fatal(err)
	}
	if res.Best != nil {
		t.Fatalf("best %s met an impossible target", res.Best.Strategy)
	}
	// With none passing, the per-layer error is the least-drop candidate's.
	if res.LayersOf == nil || res.LayersOf.Strategy != res.Comparison.Candidates[0].Name || res.Layers == nil {
		t.Errorf("per-layer error of %v, want the least-drop candidate %s", res.LayersOf, res.Comparison.Candidates[0].Name)
	}
	fb := res.Fallback
	if fb == nil || fb.Strategy != "minmax" || len(fb.Sensitivity) != 2 || len(fb.Steps) != 2 {
		t.Fatalf("fallback %+v: want minmax, 2 layers measured, 2 steps", fb)
	}
	for _, l := range fb.Sensitivity {
		if l.Node != "layer_2_conv/Conv2D" && l.Node != "layer_3_conv/Conv2D" {
			t.Errorf("measured %s, not a quantized layer", l.Node)
		}
	}
	if last := fb.Steps[1]; last.Drop != 0 {
		t.Errorf("with both layers in FP32 the drop is %g, want 0", last.Drop)
	}
	all := res.Candidates[len(res.Candidates)-1]
	if !bytes.Equal(all.Predictions, res.FP32Predictions) {
		t.Error("with every layer in FP32 the predictions differ from the FP32 graph's")
	}
}

// TestTuneKerasMNIST tunes the other real MNIST CNN of graphs/ (Keras:
// one conv the Intel path quantizes, fused, then a QuantizedMaxPool) with
// every default strategy and expects one to meet 0.5 points, with the
// chosen graph's predictions those of a separate evaluation, and every
// candidate graph the one the whole log held in memory gives.
func TestTuneKerasMNIST(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: evaluates seven int8 graphs on 1,000 images")
	}
	opt := mnistOptions(t, "", accuracy.DefaultTarget)
	g, _, err := graphio.Load(filepath.Join(testutil.RealData(t, "graphs"), "mnist_keras_cnn_frozen.pb"))
	if err != nil {
		t.Fatal(err)
	}
	opt.Graph, opt.Name = g, "mnist_keras_cnn_frozen.pb"
	opt.CacheDir = t.TempDir()
	res, err := Run(opt)
	if err != nil {
		t.Fatal(err)
	}
	checkBuffered(t, opt, res)
	if len(res.Candidates) != 7 || res.Best == nil || res.Comparison.Candidates[0].Drop > 0.5 {
		t.Fatalf("%d candidates, best %v: %s", len(res.Candidates), res.Best, res.Comparison.Summary())
	}
	gr, err := exec.New(res.Best.Graph, "best")
	if err != nil {
		t.Fatal(err)
	}
	src, err := dataset.Open(opt.Eval.Path, opt.Eval.Opt)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var preds bytes.Buffer
	if _, err := evaluate.Run(gr, src, evaluate.Options{Predictions: &preds}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(preds.Bytes(), res.Best.Predictions) {
		t.Error("a separate evaluation of the best graph predicts differently from tune's")
	}
	t.Logf("best %s: %s", res.Best.Strategy, res.Comparison.Summary())
}

// checkBuffered redoes Run's calibration the way tune did before the log
// was streamed to a file (the whole log in a bytes.Buffer, then parsed),
// and checks that Run's cached log is that log byte for byte and that each
// strategy's candidate graph is, byte for byte, the one that log gives.
func checkBuffered(t *testing.T, opt Options, res *Result) {
	t.Helper()
	fp32, err := exec.New(opt.Graph, opt.Name)
	if err != nil {
		t.Fatal(err)
	}
	in, err := evaluate.PickInput(fp32, "")
	if err != nil {
		t.Fatal(err)
	}
	qopt := opt.Quantize
	qopt.Outputs = []string{fp32.Outputs[0]}
	q, err := quantize.Quantize(opt.Graph, qopt)
	if err != nil {
		t.Fatal(err)
	}
	logged, nameMap, err := instrument(q.Graph)
	if err != nil {
		t.Fatal(err)
	}
	gr, err := exec.New(logged, "logged")
	if err != nil {
		t.Fatal(err)
	}
	src, err := dataset.Open(opt.Calib.Path, evaluate.DataOptions(in, opt.Calib.Opt))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var log bytes.Buffer
	if _, _, err := evaluate.Calibrate(gr, src, evaluate.CalibrateOptions{Input: in.Name, Batches: opt.Batches, Log: &log}); err != nil {
		t.Fatal(err)
	}
	logs, _ := filepath.Glob(filepath.Join(opt.CacheDir, "calib-*.log"))
	if len(logs) != 1 {
		t.Fatalf("cache holds logs %v, want one", logs)
	}
	cached, err := os.ReadFile(logs[0])
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(cached, log.Bytes()) {
		t.Fatalf("streamed log (%d bytes) differs from the buffered one (%d bytes)", len(cached), log.Len())
	}
	t.Logf("calibration log: %d bytes, the same streamed and buffered", log.Len())
	p := filepath.Join(t.TempDir(), "buffered.log")
	if err := os.WriteFile(p, log.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	strategies := opt.Strategies
	if strategies == "" {
		strategies = DefaultStrategies
	}
	methods, err := calib.ParseMethods(strategies, 5, 5)
	if err != nil {
		t.Fatal(err)
	}
	cal, err := calib.Read([]string{p}, calib.Options{Methods: methods, NameMap: nameMap, Bad: calib.FailBad})
	if err != nil {
		t.Fatal(err)
	}
	fuse, err := transform.Parse("fuse_quantized_conv_and_requantize")
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range methods {
		fr, err := freeze.Graph(q.Graph, cal.Ranges(m), freeze.Options{})
		if err != nil {
			t.Fatal(err)
		}
		fused, _, err := transform.Apply(fr.Graph, fuse, transform.Options{})
		if err != nil {
			t.Fatal(err)
		}
		want, _ := proto.MarshalOptions{Deterministic: true}.Marshal(fused)
		c := res.Candidates[i]
		got, _ := proto.MarshalOptions{Deterministic: true}.Marshal(c.Graph)
		if c.Strategy != m.Spec || !bytes.Equal(got, want) {
			t.Errorf("candidate %d (%s): graph differs from the buffered log's %s graph", i, c.Strategy, m.Spec)
		}
	}
}
