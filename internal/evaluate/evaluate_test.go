package evaluate

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"qcal/internal/dataset"
	"qcal/internal/exec"
	"qcal/internal/testutil"
)

func TestTopK(t *testing.T) {
	nan := float32(math.NaN())
	for _, c := range []struct {
		row  []float32
		k    int
		want []int
	}{
		// Worked by hand: 0.5 is largest (index 2), then 0.3 (0), 0.2 twice
		// (1 and 3: the lower index first, as TF's ArgMax and top_k).
		{[]float32{0.3, 0.2, 0.5, 0.2, 0.1}, 5, []int{2, 0, 1, 3, 4}},
		{[]float32{0.3, 0.2, 0.5, 0.2, 0.1}, 2, []int{2, 0}},
		// Fewer classes than k: all of them.
		{[]float32{1, 3}, 5, []int{1, 0}},
		// A NaN never outranks a number.
		{[]float32{nan, -1, nan, -2}, 3, []int{1, 3, 0}},
		{[]float32{7, 7, 7}, 1, []int{0}},
	} {
		top := make([]int, c.k)
		n := TopK(c.row, top)
		if fmt.Sprint(top[:n]) != fmt.Sprint(c.want) {
			t.Errorf("TopK(%v, %d) = %v, want %v", c.row, c.k, top[:n], c.want)
		}
	}
}

// writeFixture writes a 4-example NPY data set of 3 float32 scores each and
// its idx1 labels, and a graph that passes the scores through Identity.
func writeFixture(t *testing.T) (graph, data, labels string) {
	t.Helper()
	dir := t.TempDir()
	rows := [][]float32{
		{0.1, 0.7, 0.2}, // label 1: top-1 hit
		{0.5, 0.2, 0.3}, // label 2: top-1 miss (0), in the top 5
		{0.2, 0.2, 0.6}, // label 2: hit
		{0.9, 0.0, 0.1}, // label 1: miss
	}
	hdr := "{'descr': '<f4', 'fortran_order': False, 'shape': (4, 3), }"
	for (10+len(hdr)+1)%64 != 0 {
		hdr += " "
	}
	hdr += "\n"
	var npy bytes.Buffer
	npy.WriteString("\x93NUMPY\x01\x00")
	binary.Write(&npy, binary.LittleEndian, uint16(len(hdr)))
	npy.WriteString(hdr)
	for _, r := range rows {
		binary.Write(&npy, binary.LittleEndian, r)
	}
	data = filepath.Join(dir, "scores.npy")
	if err := os.WriteFile(data, npy.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	idx := []byte{0, 0, 8, 1, 0, 0, 0, 4, 1, 2, 2, 1}
	labels = filepath.Join(dir, "labels-idx1-ubyte")
	if err := os.WriteFile(labels, idx, 0o644); err != nil {
		t.Fatal(err)
	}
	g := `node { name: "x" op: "Placeholder" attr { key: "dtype" value { type: DT_FLOAT } }
  attr { key: "shape" value { shape { dim { size: -1 } dim { size: 3 } } } } }
node { name: "scores" op: "Identity" input: "x" attr { key: "T" value { type: DT_FLOAT } } }
`
	graph = filepath.Join(dir, "g.pbtxt")
	if err := os.WriteFile(graph, []byte(g), 0o644); err != nil {
		t.Fatal(err)
	}
	return graph, data, labels
}

func TestRunScoresAndPredictions(t *testing.T) {
	graph, data, labels := writeFixture(t)
	gr, err := exec.Load(graph)
	if err != nil {
		t.Fatal(err)
	}
	var first string
	for _, workers := range []int{1, 2, 3} {
		for _, batch := range []int{1, 3, 4} {
			src, err := dataset.Open(data, dataset.Options{BatchSize: batch, Labels: labels})
			if err != nil {
				t.Fatal(err)
			}
			var preds bytes.Buffer
			var progress []int
			res, err := Run(gr, src, Options{Workers: workers, Predictions: &preds, Progress: func(n int) { progress = append(progress, n) }})
			src.Close()
			if err != nil {
				t.Fatal(err)
			}
			// Hits worked out in writeFixture: rows 0 and 2 top-1; every
			// label is among 3 classes, so top-5 holds all 4.
			if res.N != 4 || res.Labeled != 4 || res.Top1 != 2 || res.Top5 != 4 || res.Classes != 3 {
				t.Errorf("workers %d batch %d: %+v, want N 4, Labeled 4, Top1 2, Top5 4, Classes 3", workers, batch, res)
			}
			if res.Input != "x" || res.Output != "scores" {
				t.Errorf("input/output %q %q, want x scores", res.Input, res.Output)
			}
			if progress[len(progress)-1] != 4 {
				t.Errorf("progress %v, want it to end at 4", progress)
			}
			want := "id,label,prediction,top5,score\n" +
				"scores.npy:0,1,1,1|2|0,0.7\n" +
				"scores.npy:1,2,0,0|2|1,0.5\n" +
				"scores.npy:2,2,2,2|0|1,0.6\n" +
				"scores.npy:3,1,0,0|2|1,0.9\n"
			if preds.String() != want {
				t.Errorf("workers %d batch %d: predictions\n%s\nwant\n%s", workers, batch, preds.String(), want)
			}
			if first == "" {
				first = preds.String()
			} else if preds.String() != first {
				t.Errorf("workers %d batch %d: predictions differ from the first run", workers, batch)
			}
		}
	}
}

func TestRunLabelOffset(t *testing.T) {
	graph, data, labels := writeFixture(t)
	gr, err := exec.Load(graph)
	if err != nil {
		t.Fatal(err)
	}
	src, err := dataset.Open(data, dataset.Options{BatchSize: 2, Labels: labels})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	// Offset 1: output k is class k-1 (MobileNet's background class), so
	// the predictions 1,0,2,0 become classes 0,-1,1,-1: no label matches.
	res, err := Run(gr, src, Options{LabelOffset: 1})
	if err != nil {
		t.Fatal(err)
	}
	if res.Top1 != 0 {
		t.Errorf("top-1 hits with offset 1: %d, want 0", res.Top1)
	}
	// Top-5 (all three outputs, as classes -1,0,1): labels 1,1 are found.
	if res.Top5 != 2 {
		t.Errorf("top-5 hits with offset 1: %d, want 2", res.Top5)
	}
}

func TestRunErrors(t *testing.T) {
	graph, data, labels := writeFixture(t)
	gr, err := exec.Load(graph)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		opt  Options
		want string
	}{
		{Options{Input: "y"}, `no Placeholder named "y"`},
		{Options{Output: "nope"}, `nope`},
	} {
		src, err := dataset.Open(data, dataset.Options{BatchSize: 2, Labels: labels})
		if err != nil {
			t.Fatal(err)
		}
		_, err = Run(gr, src, c.opt)
		src.Close()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want it to contain %q", c.opt, err, c.want)
		}
	}
	// Data of the wrong width for the Placeholder: the executor's shape
	// error names the input and the batch's first example.
	g4 := strings.Replace(string(must(os.ReadFile(graph))), "dim { size: 3 }", "dim { size: 4 }", 1)
	if err := os.WriteFile(graph, []byte(g4), 0o644); err != nil {
		t.Fatal(err)
	}
	gr4, err := exec.Load(graph)
	if err != nil {
		t.Fatal(err)
	}
	src, err := dataset.Open(data, dataset.Options{BatchSize: 2, Labels: labels})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	_, err = Run(gr4, src, Options{})
	if err == nil || !strings.Contains(err.Error(), "scores.npy:0") || !strings.Contains(err.Error(), `"x"`) || !strings.Contains(err.Error(), "[?,4]") {
		t.Errorf("wrong-shape error %v: want it to name the input x, its shape [?,4] and example scores.npy:0", err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// reference is a file of ../shared/realdata/reference: logits that
// TensorFlow.js computed for the first 64 test images.
type reference struct {
	Input   string      `json:"input"`
	Output  string      `json:"output"`
	Images  int         `json:"images"`
	Outputs [][]float64 `json:"outputs"`
}

// TestLogitsMatchTensorFlowJS checks the executor against an independent
// runtime: TensorFlow.js 4.22.0's logits for the first 64 test images of
// three real graphs (reference/README.md), pixel/255.
func TestLogitsMatchTensorFlowJS(t *testing.T) {
	refDir := testutil.RealData(t, "reference")
	graphs := testutil.RealData(t, "graphs")
	for _, c := range []struct {
		graph, ref string
		data       func(testing.TB) string
	}{
		{"mnist_cnn_frozen.pb", "mnist_cnn_frozen.json", testutil.MNIST},
		{"mnist_keras_cnn_frozen.pb", "mnist_keras_cnn_frozen.json", testutil.MNIST},
		{"fashion_fcn_frozen.pb", "fashion_fcn_frozen.json", testutil.FashionMNIST},
	} {
		t.Run(c.graph, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(refDir, c.ref))
			if err != nil {
				t.Fatal(err)
			}
			var ref reference
			if err := json.Unmarshal(b, &ref); err != nil {
				t.Fatal(err)
			}
			gr, err := exec.Load(filepath.Join(graphs, c.graph))
			if err != nil {
				t.Fatal(err)
			}
			in, err := PickInput(gr, ref.Input)
			if err != nil {
				t.Fatal(err)
			}
			src, err := dataset.Open(filepath.Join(c.data(t), "t10k-images-idx3-ubyte.gz"), dataset.Options{
				BatchSize: ref.Images, Limit: ref.Images,
				Preprocess: dataset.Preprocess{Scale: 1.0 / 255, Shape: InputShape(in)},
			})
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			var batch dataset.Batch
			if _, err := src.Next(&batch); err != nil {
				t.Fatal(err)
			}
			logits, cls, err := runBatch(gr, in, ref.Output, &batch)
			if err != nil {
				t.Fatal(err)
			}
			if cls != len(ref.Outputs[0]) || len(ref.Outputs) != ref.Images {
				t.Fatalf("%d classes, reference %d×%d", cls, len(ref.Outputs), len(ref.Outputs[0]))
			}
			// TF.js accumulates in its own order (reference/README.md):
			// agreement to 1e-4 relative, measured against max(|ref|, 1) so
			// that logits near zero are not held to a tighter absolute bound.
			worst := 0.0
			for i, row := range ref.Outputs {
				for k, want := range row {
					got := float64(logits[i*cls+k])
					d := math.Abs(got-want) / math.Max(math.Abs(want), 1)
					worst = math.Max(worst, d)
					if d > 1e-4 {
						t.Errorf("image %d logit %d: %g, TF.js %g (relative difference %.2g)", i, k, got, want, d)
					}
				}
			}
			t.Logf("largest relative difference from TF.js over %d×%d logits: %.2g", ref.Images, cls, worst)
		})
	}
}

// TestTop1OnFullTestSets evaluates three real graphs on all 10,000 test
// images and expects TensorFlow.js's top-1 exactly (reference/README.md).
func TestTop1OnFullTestSets(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the full test sets take a few seconds each")
	}
	graphs := testutil.RealData(t, "graphs")
	for _, c := range []struct {
		graph string
		data  func(testing.TB) string
		top1  int // of 10,000
	}{
		{"mnist_cnn_frozen.pb", testutil.MNIST, 9920},
		{"mnist_keras_cnn_frozen.pb", testutil.MNIST, 9893},
		{"fashion_fcn_frozen.pb", testutil.FashionMNIST, 8492},
	} {
		t.Run(c.graph, func(t *testing.T) {
			res := evalIDX(t, filepath.Join(graphs, c.graph), c.data(t), 0)
			if res.N != 10000 || res.Labeled != 10000 || res.Top1 != c.top1 {
				t.Errorf("top-1 %d/%d (%d labelled), TF.js %d/10000", res.Top1, res.N, res.Labeled, c.top1)
			}
			t.Logf("top-1 %.4f, top-5 %.4f on %d images", res.Top1Accuracy(), res.Top5Accuracy(), res.N)
		})
	}
}

// evalIDX evaluates a graph on the t10k IDX files in dir with pixel/255.
func evalIDX(tb testing.TB, graph, dir string, limit int) *Result {
	tb.Helper()
	gr, err := exec.Load(graph)
	if err != nil {
		tb.Fatal(err)
	}
	in, err := PickInput(gr, "")
	if err != nil {
		tb.Fatal(err)
	}
	src, err := dataset.Open(filepath.Join(dir, "t10k-images-idx3-ubyte.gz"), dataset.Options{
		BatchSize: 100, Limit: limit,
		Preprocess: dataset.Preprocess{Scale: 1.0 / 255, Shape: InputShape(in)},
	})
	if err != nil {
		tb.Fatal(err)
	}
	defer src.Close()
	out := ""
	if len(gr.Outputs) != 1 {
		tb.Fatalf("%s: outputs %v", graph, gr.Outputs)
	}
	res, err := Run(gr, src, Options{Output: out})
	if err != nil {
		tb.Fatal(err)
	}
	return res
}

// BenchmarkEvalMNISTKeras evaluates the Keras MNIST CNN (≈24 MFLOP an
// image) on 1,000 test images a run.
func BenchmarkEvalMNISTKeras(b *testing.B) {
	graphs := testutil.RealData(b, "graphs")
	dir := testutil.MNIST(b)
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		res := evalIDX(b, filepath.Join(graphs, "mnist_keras_cnn_frozen.pb"), dir, 1000)
		n += res.N
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "images/s")
}

// TestMobileNetImageNetSample evaluates Google's MobileNet v1 0.25/128 on
// the 1,000 labelled photographs of imagenet/sample_images with the
// model's preprocessing (central 87.5% crop, bilinear resize to 128×128 as
// TF's resize_bilinear, RGB, (x − 127.5)/127.5; output k is class k−1).
// The README there measured 47.5% top-1 and 70.2% top-5 with an
// independent numpy evaluator (PIL's resize, a different JPEG decoder) and
// expects close to that, not exactly; qcal measures 475 and 715 of 1,000.
func TestMobileNetImageNetSample(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: decodes 1,000 JPEG photographs")
	}
	dir := testutil.RealData(t, "imagenet")
	gr, err := exec.Load(filepath.Join(dir, "mobilenet_v1_0.25_128_2017", "frozen_graph.pb"))
	if err != nil {
		t.Fatal(err)
	}
	src, err := dataset.Open(filepath.Join(dir, "sample_images", "images"), dataset.Options{
		Labels: filepath.Join(dir, "sample_images", "labels.csv"), LabelColumn: "class_index",
		Preprocess: dataset.Preprocess{Color: dataset.RGB, CentralFraction: 0.875, Height: 128, Width: 128,
			Mean: []float32{127.5}, Std: []float32{127.5}, Shape: []int{1, 128, 128, 3}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	res, err := Run(gr, src, Options{LabelOffset: 1})
	if err != nil {
		t.Fatal(err)
	}
	// Within 1.5 points of the independent evaluator on both counts.
	if res.N != 1000 || res.Top1 < 460 || res.Top1 > 490 || res.Top5 < 687 || res.Top5 > 717 {
		t.Errorf("top-1 %d, top-5 %d of %d; the independent evaluator: 475 and 702 of 1000", res.Top1, res.Top5, res.N)
	}
	t.Logf("top-1 %d, top-5 %d of %d", res.Top1, res.Top5, res.N)
}

// TestRunFixedBatchPads feeds a graph whose batch dimension is fixed at 4
// with batches of 3 and 1 (the data set's 4 rows): each is padded with
// copies of its last example and only its real rows are scored, so the
// predictions are those of the graph with an open batch dimension.
func TestRunFixedBatchPads(t *testing.T) {
	graph, data, labels := writeFixture(t)
	fixed := strings.Replace(string(must(os.ReadFile(graph))), "dim { size: -1 }", "dim { size: 4 }", 1)
	if err := os.WriteFile(graph, []byte(fixed), 0o644); err != nil {
		t.Fatal(err)
	}
	gr, err := exec.Load(graph)
	if err != nil {
		t.Fatal(err)
	}
	src, err := dataset.Open(data, dataset.Options{BatchSize: 3, Labels: labels})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var preds bytes.Buffer
	res, err := Run(gr, src, Options{Predictions: &preds})
	if err != nil {
		t.Fatal(err)
	}
	// The rows and hits worked out in writeFixture.
	if res.N != 4 || res.Top1 != 2 || !strings.Contains(preds.String(), "scores.npy:3,1,0,0|2|1,0.9\n") {
		t.Errorf("%+v\n%s", res, preds.String())
	}
}

// TestRunOutputNotScores refuses an output that is not [n, classes].
func TestRunOutputNotScores(t *testing.T) {
	graph, data, labels := writeFixture(t)
	g := string(must(os.ReadFile(graph))) + `node { name: "flat" op: "Reshape" input: "scores" input: "shape" attr { key: "T" value { type: DT_FLOAT } } }
node { name: "shape" op: "Const" attr { key: "dtype" value { type: DT_INT32 } } attr { key: "value" value { tensor { dtype: DT_INT32 tensor_shape { dim { size: 1 } } int_val: -1 } } } }
`
	if err := os.WriteFile(graph, []byte(g), 0o644); err != nil {
		t.Fatal(err)
	}
	gr, err := exec.Load(graph)
	if err != nil {
		t.Fatal(err)
	}
	src, err := dataset.Open(data, dataset.Options{BatchSize: 2, Labels: labels})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if _, err := Run(gr, src, Options{Output: "flat"}); err == nil || !strings.Contains(err.Error(), "want [2, classes]") {
		t.Errorf("rank-1 output: %v, want an error asking for [2, classes]", err)
	}
}
