package quantize

import (
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/proto"

	"qcal/internal/graphio"
	"qcal/internal/testutil"
)

// BenchmarkQuantize rewrites the Keras MNIST CNN (30 nodes, 2.5 MB of
// weights) on both paths; bytes are the graph's encoded size.
func BenchmarkQuantize(b *testing.B) {
	g, _, err := graphio.Load(filepath.Join(testutil.RealData(b, "graphs"), "mnist_keras_cnn_frozen.pb"))
	if err != nil {
		b.Fatal(err)
	}
	size := proto.Size(g)
	for _, intel := range []bool{true, false} {
		name := "plain"
		if intel {
			name = "intel"
		}
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Quantize(g, Options{Outputs: []string{"dense_1/Softmax"}, Intel: intel}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*len(g.Node))/b.Elapsed().Seconds(), "nodes/s")
		})
	}
}
