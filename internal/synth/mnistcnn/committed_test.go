package mnistcnn

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"qcal/internal/dataset"
	"qcal/internal/evaluate"
	"qcal/internal/exec"
	"qcal/internal/graphio"
	"qcal/internal/tensor"
	"qcal/internal/testutil"
	"qcal/internal/tfpb"
)

// committed is the generated model (`go generate` in this folder).
const committed = "mnist_demo_cnn.pb"

// What `go run ./gen` printed when it wrote the committed file (doc.go
// records the same): its sha256, and the trainer's own count of right
// predictions on the 10,000 MNIST test images.
const (
	committedSHA256 = "43020222824583034ba362199f13e614d5a1a96f2c02a555f9677ab732e87887"
	committedTop1   = 9839
)

// paramsFromGraph reads the weights back out of a written graph.
func paramsFromGraph(t *testing.T, g *tfpb.GraphDef, c Config) *Params {
	t.Helper()
	p := zeroParams(c)
	want := map[string][]float32{
		"conv1/kernel": p.Conv1W, "conv1/bias": p.Conv1B, "conv2/kernel": p.Conv2W, "conv2/bias": p.Conv2B,
		"logits/kernel": p.DenseW, "logits/bias": p.DenseB,
	}
	for _, n := range g.Node {
		dst, ok := want[n.Name]
		if !ok {
			continue
		}
		x, err := tensor.FromProto(n.Attr["value"].GetTensor())
		if err != nil {
			t.Fatalf("%s: %v", n.Name, err)
		}
		if len(x.F32) != len(dst) {
			t.Fatalf("%s: %d values, want %d", n.Name, len(x.F32), len(dst))
		}
		copy(dst, x.F32)
		delete(want, n.Name)
	}
	if len(want) > 0 {
		t.Fatalf("graph lacks %d weight Consts", len(want))
	}
	return p
}

// TestCommittedFile checks the committed model's bytes and structure.
func TestCommittedFile(t *testing.T) {
	b, err := os.ReadFile(committed)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprintf("%x", sha256.Sum256(b)); got != committedSHA256 {
		t.Errorf("%s: sha256 %s, want %s (regenerate with go generate and update doc.go)", committed, got, committedSHA256)
	}
	g, f, err := graphio.Decode(b, committed)
	if err != nil {
		t.Fatal(err)
	}
	if f != graphio.Binary {
		t.Errorf("%s: format %v, want binary", committed, f)
	}
	checkStructure(t, g, MNIST)
	// The file is what Graph writes for its own weights: nothing else
	// went into it.
	again, _ := graphio.Encode(Graph(paramsFromGraph(t, g, MNIST)), graphio.Binary)
	if !bytes.Equal(again, b) {
		t.Error("re-encoding the committed weights gives other bytes")
	}
}

func loadMNIST(t *testing.T) (train, test *Data) {
	t.Helper()
	if testing.Short() {
		t.Skip("trains on MNIST: skipped under -short")
	}
	dir := testutil.MNIST(t)
	train, err := Load(filepath.Join(dir, "train-images-idx3-ubyte.gz"), 10)
	if err != nil {
		t.Fatal(err)
	}
	test, err = Load(filepath.Join(dir, "t10k-images-idx3-ubyte.gz"), 10)
	if err != nil {
		t.Fatal(err)
	}
	return train, test
}

// TestRetrainDeterministic trains the committed recipe for 300 steps
// twice and checks both give the same bytes. The full recipe (about two
// minutes on one core) remakes the committed file byte for byte; set
// QCAL_MNISTCNN_FULL=1 to check that too.
func TestRetrainDeterministic(t *testing.T) {
	train, test := loadMNIST(t)
	if os.Getenv("QCAL_MNISTCNN_FULL") == "1" {
		p, err := Train(MNIST, train, Default)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := graphio.Encode(Graph(p), graphio.Binary)
		if got := fmt.Sprintf("%x", sha256.Sum256(b)); got != committedSHA256 {
			t.Errorf("full retrain: sha256 %s, want the committed %s", got, committedSHA256)
		}
		if ev := p.Evaluate(test); ev.Top1 != committedTop1 {
			t.Errorf("full retrain: test top-1 %d, want %d", ev.Top1, committedTop1)
		}
		return
	}
	opt := Default
	opt.Steps = 300
	var runs [2][]byte
	for i := range runs {
		p, err := Train(MNIST, train, opt)
		if err != nil {
			t.Fatal(err)
		}
		runs[i], _ = graphio.Encode(Graph(p), graphio.Binary)
		if i == 0 {
			// 300 steps already beat 90%: the run trained, it did not
			// just repeat its initial weights.
			if ev := p.Evaluate(test); ev.Top1 < 9000 {
				t.Errorf("after 300 steps: test top-1 %d/10000, want ≥ 9000", ev.Top1)
			}
		}
	}
	if !bytes.Equal(runs[0], runs[1]) {
		t.Error("two 300-step runs with the same seed wrote different bytes")
	}
}

// TestCommittedAccuracy runs the committed file through qcal's executor
// over the 10,000 MNIST test images, preprocessed as qcal eval does
// (pixels × float32(1/255), shape [-1,28,28,1]), and checks the top-1 the
// trainer measured when it wrote the file.
func TestCommittedAccuracy(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 10,000 images: skipped under -short")
	}
	dir := testutil.MNIST(t)
	gr, err := exec.Load(committed)
	if err != nil {
		t.Fatal(err)
	}
	src, err := dataset.Open(filepath.Join(dir, "t10k-images-idx3-ubyte.gz"), dataset.Options{BatchSize: 64,
		Preprocess: dataset.Preprocess{Scale: 1.0 / 255, Shape: []int{-1, 28, 28, 1}}})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var csv bytes.Buffer
	res, err := evaluate.Run(gr, src, evaluate.Options{Predictions: &csv})
	if err != nil {
		t.Fatal(err)
	}
	if res.N != 10000 || res.Labeled != 10000 || res.Input != InputName || res.Output != OutputName {
		t.Errorf("ran %d (%d labelled) through %s → %s, want 10000 through input → probs", res.N, res.Labeled, res.Input, res.Output)
	}
	if res.Top1 != committedTop1 {
		t.Errorf("executor: top-1 %d/10000, want the trainer's %d", res.Top1, committedTop1)
	}
	t.Logf("executor: top-1 %d/10000 = %.2f%%, top-5 %d", res.Top1, 100*res.Top1Accuracy(), res.Top5)

	// The trainer's forward pass on the weights read back from the file
	// must predict every image as the executor does.
	g, _, err := graphio.Load(committed)
	if err != nil {
		t.Fatal(err)
	}
	p := paramsFromGraph(t, g, MNIST)
	test, err := Load(filepath.Join(dir, "t10k-images-idx3-ubyte.gz"), 10)
	if err != nil {
		t.Fatal(err)
	}
	mine := p.predictions(test)
	rows := strings.Split(strings.TrimSpace(csv.String()), "\n")
	if !strings.HasPrefix(rows[0], "id,label,prediction") {
		t.Fatalf("predictions header %q, want id,label,prediction,...", rows[0])
	}
	rows = rows[1:]
	if len(rows) != 10000 {
		t.Fatalf("%d prediction rows, want 10000", len(rows))
	}
	differ := 0
	for i, row := range rows {
		f := strings.Split(row, ",")
		if len(f) < 3 {
			t.Fatalf("prediction row %d: %q", i, row)
		}
		if f[2] != strconv.Itoa(mine[i]) {
			differ++
			t.Logf("image %s: executor predicts %s, trainer %d", f[0], f[2], mine[i])
		}
	}
	if differ != 0 {
		t.Errorf("%d of 10000 predictions differ between the executor and the trainer", differ)
	}
}

// predictions returns the index of the largest logit of each example of d.
func (p *Params) predictions(d *Data) []int {
	out := make([]int, 0, d.Len())
	p.forwardBatches(d, 100, func(w *work, labels []uint8) {
		for i := range labels {
			l := w.logits[i*p.Classes : (i+1)*p.Classes]
			best := 0
			for j, v := range l {
				if v > l[best] {
					best = j
				}
			}
			out = append(out, best)
		}
	})
	return out
}
