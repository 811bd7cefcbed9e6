package freezegraph

import (
	"bytes"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/proto"

	"qcal/internal/checkpoint"
	"qcal/internal/dataset"
	"qcal/internal/evaluate"
	"qcal/internal/exec"
	"qcal/internal/graphio"
	"qcal/internal/tensor"
	"qcal/internal/testutil"
)

// TestPrathmeshPredictionsMatch runs qcal's freeze of the prathmesh
// checkpoint and the repository's own frozen_graph.pb on the first 500
// MNIST test images with the model's preprocessing, (x − 127)/127 on
// 784-vectors (SOURCES-more.md), and expects the same outputs bit for bit.
func TestPrathmeshPredictionsMatch(t *testing.T) {
	dir := testutil.RealData(t, "checkpoints/prathmesh_mnist_cnn")
	mnist := testutil.MNIST(t)
	g, _, err := graphio.Load(filepath.Join(dir, "mnist.pb"))
	if err != nil {
		t.Fatal(err)
	}
	ck, err := checkpoint.Open(filepath.Join(dir, "mnist.ckpt-75"))
	if err != nil {
		t.Fatal(err)
	}
	defer ck.Close()
	res, err := Freeze(g, ck, Options{Outputs: []string{"predictions"}, ClearDevices: true})
	if err != nil {
		t.Fatal(err)
	}
	ours, err := exec.New(res.Graph, "qcal freeze")
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := exec.Load(filepath.Join(dir, "frozen_graph.pb"))
	if err != nil {
		t.Fatal(err)
	}
	src, err := dataset.Open(filepath.Join(mnist, "t10k-images-idx3-ubyte.gz"), dataset.Options{
		BatchSize: 100, Limit: 500,
		Preprocess: dataset.Preprocess{Mean: []float32{127}, Std: []float32{127}, Shape: []int{-1, 784}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var b dataset.Batch
	n := 0
	for {
		k, err := src.Next(&b)
		if k == 0 || err != nil {
			break
		}
		feed := map[string]*tensor.Tensor{"input_image": tensor.FromF32(b.Shape, b.X)}
		a, err := ours.Run(feed, []string{"predictions"})
		if err != nil {
			t.Fatal(err)
		}
		w, err := theirs.Run(feed, []string{"predictions"})
		if err != nil {
			t.Fatal(err)
		}
		pa, _ := proto.Marshal(a[0].ToProto())
		pw, _ := proto.Marshal(w[0].ToProto())
		if !bytes.Equal(pa, pw) {
			t.Fatalf("batch from %s: outputs differ (%s against %s)", b.IDs[0], a[0], w[0])
		}
		n += k
	}
	if n != 500 {
		t.Errorf("compared %d images, want 500", n)
	}
}

// TestPrathmeshTop1 evaluates qcal's freeze of the prathmesh checkpoint on
// all 10,000 MNIST test images: SOURCES-more.md measured 99.23% with an
// independent evaluator and (x − 127)/127.
func TestPrathmeshTop1(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: 10,000 images")
	}
	dir := testutil.RealData(t, "checkpoints/prathmesh_mnist_cnn")
	mnist := testutil.MNIST(t)
	s, err := Open(Input{Graph: filepath.Join(dir, "mnist.pb"), Checkpoint: filepath.Join(dir, "mnist.ckpt-75")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	res, err := Freeze(s.Graph, s.Checkpoint, Options{Outputs: []string{"predictions"}, ClearDevices: true})
	if err != nil {
		t.Fatal(err)
	}
	gr, err := exec.New(res.Graph, "qcal freeze")
	if err != nil {
		t.Fatal(err)
	}
	src, err := dataset.Open(filepath.Join(mnist, "t10k-images-idx3-ubyte.gz"), dataset.Options{
		BatchSize: 100, Preprocess: dataset.Preprocess{Mean: []float32{127}, Std: []float32{127}, Shape: []int{-1, 784}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	r, err := evaluate.Run(gr, src, evaluate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r.N != 10000 || r.Top1 != 9923 {
		t.Errorf("top-1 %d of %d, want 9923 of 10000", r.Top1, r.N)
	}
}
