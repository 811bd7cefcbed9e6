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
