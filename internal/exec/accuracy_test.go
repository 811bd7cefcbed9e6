package exec

import (
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"testing"

	"qcal/internal/tensor"
	"qcal/internal/testutil"
)

// testLabels reads the labels of a gzipped IDX1 file (magic 0x00000801),
// or skips the test when it is absent.
func testLabels(t *testing.T, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Skipf("data set not available: %v", err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	b, err := io.ReadAll(z)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(b) < 8 || b[2] != 8 || b[3] != 1 {
		t.Fatalf("%s: not an IDX1 label file", path)
	}
	return b[8:]
}

// TestTestSetAccuracy classifies whole test sets and compares the top-1
// accuracy with TensorFlow.js's on the same graphs (reference/README.md):
// mnist_cnn_frozen 99.20% and fashion_fcn_frozen 84.92% of 10,000. The
// Keras CNN (98.93%) takes minutes until the fast GEMM lands (with the
// gemm branch's kernels it gave 9893 of 10,000 here too).
func TestTestSetAccuracy(t *testing.T) {
	if testing.Short() {
		t.Skip("10,000 images per graph; skipped in -short")
	}
	root := testutil.RealData(t, "")
	cases := []struct {
		graph, in, out, dir string
		shape               []int
		want                int
	}{
		{"mnist_cnn_frozen.pb", "x", "layer_5_fc/add", mnistDir(t), []int{28, 28, 1}, 9920},
		{"fashion_fcn_frozen.pb", "x", "FCN/output/BiasAdd", "/usr/share/datasets/fashion-mnist", []int{28, 28}, 8492},
	}
	for _, c := range cases {
		t.Run(c.graph, func(t *testing.T) {
			labels := testLabels(t, filepath.Join(c.dir, "t10k-labels-idx1-ubyte.gz"))
			x := testImages(t, filepath.Join(c.dir, "t10k-images-idx3-ubyte.gz"), len(labels))
			g, err := Load(filepath.Join(root, "graphs", c.graph))
			if err != nil {
				t.Fatal(err)
			}
			const batch = 500
			correct := 0
			for b := 0; b < len(labels); b += batch {
				n := min(batch, len(labels)-b)
				in := tensor.FromF32(append([]int{n}, c.shape...), x.F32[b*784:(b+n)*784])
				out, err := g.Run(map[string]*tensor.Tensor{c.in: in}, []string{c.out})
				if err != nil {
					t.Fatal(err)
				}
				k := out[0].Shape[1]
				for i := 0; i < n; i++ {
					row := out[0].F32[i*k : (i+1)*k]
					best := 0
					for j := range row {
						if row[j] > row[best] {
							best = j
						}
					}
					if best == int(labels[b+i]) {
						correct++
					}
				}
			}
			t.Logf("%s: %d of %d correct", c.graph, correct, len(labels))
			// Summation order (GEMM blocking) may flip an image whose two
			// best logits are within 1e-6: two images of slack, no more.
			if correct < c.want-2 || correct > c.want+2 {
				t.Errorf("%d correct, TensorFlow.js gets %d", correct, c.want)
			}
		})
	}
}
