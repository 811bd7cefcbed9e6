package evaluate

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"qcal/freeze"
	"qcal/internal/calib"
	"qcal/internal/dataset"
	"qcal/internal/exec"
	"qcal/internal/graphio"
	"qcal/internal/rewrite/insertlogging"
	"qcal/internal/rewrite/quantize"
	"qcal/internal/rewrite/transform"
	"qcal/internal/testutil"
	"qcal/internal/tfpb"
	"qcal/quant"
)

// mobileNetSample opens the first n photographs of imagenet/sample_images
// with MobileNet v1's preprocessing (as TestMobileNetImageNetSample).
func mobileNetSample(tb testing.TB, dir string, n int) *dataset.Stream {
	tb.Helper()
	src, err := dataset.Open(filepath.Join(dir, "sample_images", "images"), dataset.Options{
		Labels: filepath.Join(dir, "sample_images", "labels.csv"), LabelColumn: "class_index", Limit: n,
		Preprocess: dataset.Preprocess{Color: dataset.RGB, CentralFraction: 0.875, Height: 128, Width: 128,
			Mean: []float32{127.5}, Std: []float32{127.5}, Shape: []int{1, 128, 128, 3}},
	})
	if err != nil {
		tb.Fatal(err)
	}
	return src
}

// foldedMobileNet loads MobileNet v1 0.25/128 after 'fold_constants
// fold_batch_norms', the graph qcal eval runs in the README's workflow.
func foldedMobileNet(tb testing.TB, dir string) *exec.Graph {
	tb.Helper()
	g, _, err := graphio.Load(filepath.Join(dir, "mobilenet_v1_0.25_128_2017", "frozen_graph.pb"))
	if err != nil {
		tb.Fatal(err)
	}
	steps, err := transform.Parse("fold_constants fold_batch_norms")
	if err != nil {
		tb.Fatal(err)
	}
	g, _, err = transform.Apply(g, steps, transform.Options{
		Inputs: []string{"input"}, Outputs: []string{"MobilenetV1/Predictions/Reshape_1"}, Evaluator: exec.ConstFolder{}})
	if err != nil {
		tb.Fatal(err)
	}
	gr, err := exec.New(g, "mobilenet")
	if err != nil {
		tb.Fatal(err)
	}
	return gr
}

// foldedMobileNetDef is the folded graph's GraphDef (as foldedMobileNet).
func foldedMobileNetDef(tb testing.TB, dir string) *tfpb.GraphDef {
	tb.Helper()
	g, _, err := graphio.Load(filepath.Join(dir, "mobilenet_v1_0.25_128_2017", "frozen_graph.pb"))
	if err != nil {
		tb.Fatal(err)
	}
	steps, err := transform.Parse("fold_constants fold_batch_norms")
	if err != nil {
		tb.Fatal(err)
	}
	g, _, err = transform.Apply(g, steps, transform.Options{
		Inputs: []string{"input"}, Outputs: []string{"MobilenetV1/Predictions/Reshape_1"}, Evaluator: exec.ConstFolder{}})
	if err != nil {
		tb.Fatal(err)
	}
	return g
}

// int8MobileNet makes the int8 graph qcal tune makes by default for
// MobileNet v1 0.25/128 (README's workflow, as TestWorkflowMobileNet): the
// folded graph quantized on the Intel path per channel with weights
// rounded half to even, Print nodes inserted, 100 photographs drawn with
// seed 1 calibrating it one at a time, TF's min/max rule frozen into it,
// each quantized convolution fused with its Requantize.
func int8MobileNet(tb testing.TB, dir string) *exec.Graph {
	tb.Helper()
	return int8MobileNetCalibrated(tb, dir, 100)
}

// int8MobileNetCalibrated is int8MobileNet calibrated on n photographs
// (drawn with seed 1) instead of 100.
func int8MobileNetCalibrated(tb testing.TB, dir string, n int) *exec.Graph {
	tb.Helper()
	const out = "MobilenetV1/Predictions/Reshape_1"
	q, err := quantize.Quantize(foldedMobileNetDef(tb, dir), quantize.Options{
		Outputs: []string{out}, Intel: true, PerChannel: true, WeightRounding: quant.RoundHalfEven})
	if err != nil {
		tb.Fatal(err)
	}
	logged, _, err := insertlogging.Insert(q.Graph, insertlogging.DefaultOptions())
	if err != nil {
		tb.Fatal(err)
	}
	lg, err := exec.New(logged, "logged")
	if err != nil {
		tb.Fatal(err)
	}
	src, err := dataset.Open(filepath.Join(dir, "sample_images", "images"), dataset.Options{
		Sample: n, Seed: 1,
		Preprocess: dataset.Preprocess{Color: dataset.RGB, CentralFraction: 0.875, Height: 128, Width: 128,
			Mean: []float32{127.5}, Std: []float32{127.5}, Shape: []int{1, 128, 128, 3}},
	})
	if err != nil {
		tb.Fatal(err)
	}
	var log bytes.Buffer
	_, _, err = Calibrate(lg, src, CalibrateOptions{Batches: n, Log: &log})
	src.Close()
	if err != nil {
		tb.Fatal(err)
	}
	logPath := filepath.Join(tb.TempDir(), "calib.log")
	if err := os.WriteFile(logPath, log.Bytes(), 0o644); err != nil {
		tb.Fatal(err)
	}
	ms, err := calib.ParseMethods("tf", 5, 5)
	if err != nil {
		tb.Fatal(err)
	}
	cal, err := calib.Read([]string{logPath}, calib.Options{Methods: ms, Bad: calib.FailBad})
	if err != nil {
		tb.Fatal(err)
	}
	fr, err := freeze.Graph(q.Graph, cal.Ranges(ms[0]), freeze.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	fuse, err := transform.Parse("fuse_quantized_conv_and_requantize")
	if err != nil {
		tb.Fatal(err)
	}
	fused, _, err := transform.Apply(fr.Graph, fuse, transform.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	gr, err := exec.New(fused, "mobilenet-int8")
	if err != nil {
		tb.Fatal(err)
	}
	return gr
}

// BenchmarkEvalMobileNetSample is qcal eval of the folded MobileNet v1
// 0.25/128 over the first 100 sample photographs on all cores (JPEG decode,
// crop, resize and the graph), reporting images per second.
func BenchmarkEvalMobileNetSample(b *testing.B) {
	dir := testutil.RealData(b, "imagenet")
	gr := foldedMobileNet(b, dir)
	const n = 100
	b.SetBytes(n * 128 * 128 * 3 * 4) // the preprocessed input the graph reads
	b.ReportAllocs()
	for b.Loop() {
		src := mobileNetSample(b, dir, n)
		res, err := Run(gr, src, Options{LabelOffset: 1})
		src.Close()
		if err != nil {
			b.Fatal(err)
		}
		if res.N != n {
			b.Fatalf("%d examples, want %d", res.N, n)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "images/s")
}

// BenchmarkLoadMobileNetSample reads the same 100 photographs with the same
// preprocessing without running a graph: the data loading's share of
// BenchmarkEvalMobileNetSample (the photographs decoded and preprocessed
// on one goroutine per core, a few ahead, by the data set's stream).
func BenchmarkLoadMobileNetSample(b *testing.B) {
	dir := testutil.RealData(b, "imagenet")
	const n = 100
	b.SetBytes(n * 128 * 128 * 3 * 4) // the preprocessed values delivered
	b.ReportAllocs()
	for b.Loop() {
		src := mobileNetSample(b, dir, n)
		var batch dataset.Batch
		got := 0
		for {
			k, err := src.Next(&batch)
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			got += k
		}
		src.Close()
		if got != n {
			b.Fatalf("%d examples, want %d", got, n)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "images/s")
}

// BenchmarkRunFoldedMobileNet runs the folded MobileNet v1 0.25/128 on one
// preprocessed photograph, one image at a time on one goroutine (kernels
// may still split work over the cores), and reports images per second and
// GFLOP/s (28.4 MFLOP an image: twice the 14.2 M multiply-adds that
// Google's model card gives for 0.25/128).
func BenchmarkRunFoldedMobileNet(b *testing.B) {
	dir := testutil.RealData(b, "imagenet")
	benchOneImage(b, dir, foldedMobileNet(b, dir))
}

// BenchmarkRunInt8MobileNet runs the int8 MobileNet v1 0.25/128 that qcal
// tune makes by default (int8MobileNet) as BenchmarkRunFoldedMobileNet runs
// the FP32 one: one photograph at a time, images per second.
func BenchmarkRunInt8MobileNet(b *testing.B) {
	dir := testutil.RealData(b, "imagenet")
	benchOneImage(b, dir, int8MobileNet(b, dir))
}

// benchOneImage runs gr on the first sample photograph, one image per run.
func benchOneImage(b *testing.B, dir string, gr *exec.Graph) {
	src := mobileNetSample(b, dir, 1)
	var batch dataset.Batch
	if _, err := src.Next(&batch); err != nil {
		b.Fatal(err)
	}
	src.Close()
	in, err := PickInput(gr, "")
	if err != nil {
		b.Fatal(err)
	}
	out, err := PickOutput(gr, "")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(4 * len(batch.X)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := runBatch(gr, in, out, &batch); err != nil {
			b.Fatal(err)
		}
	}
	s := b.Elapsed().Seconds()
	b.ReportMetric(float64(b.N)/s, "images/s")
	b.ReportMetric(28.4e-3*float64(b.N)/s, "GFLOP/s")
}

// TestInt8MobileNetConcurrent runs one int8 MobileNet (calibrated on 5
// photographs: any int8 graph of it will do) from four goroutines at once,
// each its own photograph three times, and checks every output against
// lone runs of a second, fresh Graph of the same GraphDef: the int8
// kernels' shared preparations (kernels.Packs) and the recycled quint8
// buffers must not leak between runs. Run it with -race.
func TestInt8MobileNetConcurrent(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: calibrates and runs MobileNet")
	}
	dir := testutil.RealData(t, "imagenet")
	gr := int8MobileNetCalibrated(t, dir, 5)
	lone, err := exec.New(gr.Def(), "lone")
	if err != nil {
		t.Fatal(err)
	}
	in, err := PickInput(gr, "")
	if err != nil {
		t.Fatal(err)
	}
	out, err := PickOutput(gr, "")
	if err != nil {
		t.Fatal(err)
	}
	src := mobileNetSample(t, dir, 4)
	defer src.Close()
	batches := make([]dataset.Batch, 4)
	wants := make([][]float32, 4)
	for i := range batches {
		if _, err := src.Next(&batches[i]); err != nil {
			t.Fatal(err)
		}
		batches[i].X = slices.Clone(batches[i].X)
		scores, _, err := runBatch(lone, in, out, &batches[i])
		if err != nil {
			t.Fatal(err)
		}
		wants[i] = slices.Clone(scores)
	}
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range batches {
		wg.Go(func() {
			for run := range 3 {
				scores, _, err := runBatch(gr, in, out, &batches[i])
				if err != nil {
					errs[i] = err
					return
				}
				if !slices.Equal(scores, wants[i]) {
					errs[i] = fmt.Errorf("photograph %d, run %d: scores differ from a lone run's", i, run)
					return
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}
