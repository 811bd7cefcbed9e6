package layererr

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"testing"

	"qcal/freeze"
	"qcal/internal/calib"
	"qcal/internal/dataset"
	"qcal/internal/evaluate"
	"qcal/internal/exec"
	"qcal/internal/graphio"
	"qcal/internal/rewrite/insertlogging"
	"qcal/internal/rewrite/quantize"
	"qcal/internal/rewrite/transform"
	"qcal/internal/testutil"
)

// TestMeasureMNIST measures the real MNIST CNN (graphs/mnist_cnn_frozen.pb)
// against its int8 graph, made as qcal tune makes it: quantized on the
// Intel path, calibrated with TF's rule on 2 batches of 32 training
// images, frozen, fused; then compared on 3 batches of 32 training images
// (pixel/255).
//
// Measured: layer_2_conv/Relu 37.56 dB (RMSE 0.01136, max 0.0716, 3.58%
// of signs changed), layer_3_conv/Relu 33.26 dB (RMSE 0.0301, max 0.505),
// the Softmax output 54.65 dB (max 0.0137); no other tensor is compared.
func TestMeasureMNIST(t *testing.T) {
	g, _, err := graphio.Load(filepath.Join(testutil.RealData(t, "graphs"), "mnist_cnn_frozen.pb"))
	if err != nil {
		t.Fatal(err)
	}
	images := filepath.Join(testutil.MNIST(t), "train-images-idx3-ubyte.gz")
	opt := dataset.Options{BatchSize: 32, Preprocess: dataset.Preprocess{Scale: 1.0 / 255, Shape: []int{-1, 28, 28, 1}}}
	q, err := quantize.Quantize(g, quantize.Options{Outputs: []string{"output"}, Intel: true})
	if err != nil {
		t.Fatal(err)
	}
	logged, _, err := insertlogging.Insert(q.Graph, insertlogging.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	lg, err := exec.New(logged, "logged")
	if err != nil {
		t.Fatal(err)
	}
	src, err := dataset.Open(images, opt)
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	if _, _, err := evaluate.Calibrate(lg, src, evaluate.CalibrateOptions{Batches: 2, Log: &log}); err != nil {
		t.Fatal(err)
	}
	src.Close()
	logPath := filepath.Join(t.TempDir(), "calib.log")
	if err := os.WriteFile(logPath, log.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	ms, err := calib.ParseMethods("tf", 5, 5)
	if err != nil {
		t.Fatal(err)
	}
	cal, err := calib.Read([]string{logPath}, calib.Options{Methods: ms, Bad: calib.FailBad})
	if err != nil {
		t.Fatal(err)
	}
	fr, err := freeze.Graph(q.Graph, cal.Ranges(ms[0]), freeze.Options{})
	if err != nil {
		t.Fatal(err)
	}
	fuse, err := transform.Parse("fuse_quantized_conv_and_requantize")
	if err != nil {
		t.Fatal(err)
	}
	fused, _, err := transform.Apply(fr.Graph, fuse, transform.Options{})
	if err != nil {
		t.Fatal(err)
	}
	fp, err := exec.New(g, "fp32")
	if err != nil {
		t.Fatal(err)
	}
	i8, err := exec.New(fused, "int8")
	if err != nil {
		t.Fatal(err)
	}
	src, err = dataset.Open(images, opt)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	res, err := Measure(fp, i8, src, Options{Batches: 3})
	if err != nil {
		t.Fatal(err)
	}
	if res.Examples != 96 || res.Batches != 3 {
		t.Errorf("%d examples in %d batches, want 96 in 3", res.Examples, res.Batches)
	}
	var names []string
	for _, l := range res.Layers {
		names = append(names, l.Name)
		t.Logf("%s (%s): SQNR %.2f dB, RMSE %.4g, max %.4g, mean %.4g, signs %.4f, N %d", l.Name, l.Op, l.SQNR(), l.RMSE(), l.MaxAbs, l.MeanX(), l.SignShare(), l.N)
		if s := l.SQNR(); math.IsInf(s, 0) || math.IsNaN(s) || s < 20 {
			t.Errorf("%s: SQNR %.2f dB, want finite and above 20 dB", l.Name, s)
		}
	}
	want := []string{"layer_2_conv/Relu", "layer_3_conv/Relu", "output"}
	if len(names) != len(want) {
		t.Fatalf("layers %q, want %q", names, want)
	}
	for i := range want {
		if names[i] != want[i] {
			t.Fatalf("layers %q, want %q", names, want)
		}
	}
	// count is the FP32 tensor's: check it against its shape.
	_ = names
}
