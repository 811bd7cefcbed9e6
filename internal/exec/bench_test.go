package exec

import (
	"path/filepath"
	"testing"

	"qcal/internal/tensor"
	"qcal/internal/testutil"
)

// BenchmarkRunMNISTKeras runs the Keras MNIST CNN (graphs/
// mnist_keras_cnn_frozen.pb: two 3×3 convolutions, max pooling, two dense
// layers) on batches of 100 images and reports images per second; the
// target is 10,000 images in 6 s on 2 cores (1667 images/s).
func BenchmarkRunMNISTKeras(b *testing.B) {
	dir := testutil.RealData(b, "graphs")
	g, err := Load(filepath.Join(dir, "mnist_keras_cnn_frozen.pb"))
	if err != nil {
		b.Fatal(err)
	}
	const batch = 100
	x := feedFor(g.Inputs[0], batch)
	feeds := map[string]*tensor.Tensor{g.Inputs[0].Name: x}
	outs := []string{"dense_1/Softmax"}
	b.SetBytes(int64(4 * len(x.F32)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := g.Run(feeds, outs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(batch*b.N)/b.Elapsed().Seconds(), "images/s")
}

// BenchmarkRunMobileNet runs MobileNet v1 0.25/128 (batch fixed at 1 by
// the graph) and reports images per second.
func BenchmarkRunMobileNet(b *testing.B) {
	dir := testutil.RealData(b, "imagenet")
	g, err := Load(filepath.Join(dir, "mobilenet_v1_0.25_128_2017", "frozen_graph.pb"))
	if err != nil {
		b.Fatal(err)
	}
	x := feedFor(g.Inputs[0], 1)
	feeds := map[string]*tensor.Tensor{"input": x}
	outs := []string{"MobilenetV1/Predictions/Reshape_1"}
	b.SetBytes(int64(4 * len(x.F32)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := g.Run(feeds, outs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "images/s")
}
