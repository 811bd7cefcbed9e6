package evaluate

import (
	"io"
	"path/filepath"
	"testing"

	"qcal/internal/dataset"
	"qcal/internal/exec"
	"qcal/internal/graphio"
	"qcal/internal/rewrite/insertlogging"
	"qcal/internal/rewrite/quantize"
	"qcal/internal/testutil"
	"qcal/internal/tfpb"
)

// BenchmarkCalibrate runs 10 batches of 64 MNIST training images through
// the Keras MNIST CNN quantized on the Intel path, without and with the
// Print nodes insert-logging adds (one a RequantizationRange): what logging
// costs a calibration run.
func BenchmarkCalibrate(b *testing.B) {
	g, _, err := graphio.Load(filepath.Join(testutil.RealData(b, "graphs"), "mnist_keras_cnn_frozen.pb"))
	if err != nil {
		b.Fatal(err)
	}
	q, err := quantize.Quantize(g, quantize.Options{Outputs: []string{"dense_1/Softmax"}, Intel: true})
	if err != nil {
		b.Fatal(err)
	}
	logged, _, err := insertlogging.Insert(q.Graph, insertlogging.DefaultOptions())
	if err != nil {
		b.Fatal(err)
	}
	images := filepath.Join(testutil.MNIST(b), "train-images-idx3-ubyte.gz")
	for _, c := range []struct {
		name string
		g    *tfpb.GraphDef
	}{{"unlogged", q.Graph}, {"logged", logged}} {
		b.Run(c.name, func(b *testing.B) {
			gr, err := exec.New(c.g, c.name)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				src, err := dataset.Open(images, dataset.Options{BatchSize: 64, Limit: 640, Preprocess: dataset.Preprocess{Scale: 1.0 / 255, Shape: []int{-1, 28, 28, 1}}})
				if err != nil {
					b.Fatal(err)
				}
				k, _, err := Calibrate(gr, src, CalibrateOptions{Batches: 10, Log: io.Discard})
				src.Close()
				if err != nil {
					b.Fatal(err)
				}
				n += k
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "images/s")
		})
	}
}
