package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"qcal/internal/testutil"
)

// TestEvalMNIST runs qcal eval on the first 500 MNIST test images and
// checks the printed accuracy against the predictions file it wrote, and
// that qcal report reads both.
func TestEvalMNIST(t *testing.T) {
	graph := filepath.Join(testutil.RealData(t, "graphs"), "mnist_cnn_frozen.pb")
	mnist := testutil.MNIST(t)
	dir := t.TempDir()
	preds := filepath.Join(dir, "fp32.csv")
	args := []string{"eval", "-graph", graph, "-data", filepath.Join(mnist, "t10k-images-idx3-ubyte.gz"),
		"-labels", filepath.Join(mnist, "t10k-labels-idx1-ubyte.gz"), "-scale", "1/255", "-limit", "500", "-batch", "64"}
	code, stdout, stderr := qcal(t, "", append(args, "-o", preds)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	f, err := os.Open(preds)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rows[0], ",") != "id,label,prediction,top5,score" || len(rows) != 501 {
		t.Fatalf("predictions header %v, %d rows; want id,label,prediction,top5,score and 500 rows", rows[0], len(rows)-1)
	}
	hits := 0
	for _, r := range rows[1:] {
		if r[1] == r[2] {
			hits++
		}
	}
	// The line IntelAI's scripts print, with the count of the file's hits.
	want := fmt.Sprintf("Processed 500 images. (Top1 accuracy, Top5 accuracy) = (%.4f, ", float64(hits)/500)
	if !strings.HasPrefix(stdout, want) {
		t.Errorf("stdout %q, want it to start with %q", stdout, want)
	}
	// MNIST test image 0 is a 7 (its label file), and the graph gets it right.
	if rows[1][0] != "t10k-images-idx3-ubyte.gz:0" || rows[1][1] != "7" || rows[1][2] != "7" {
		t.Errorf("first row %v, want id t10k-images-idx3-ubyte.gz:0, label 7, prediction 7", rows[1])
	}
	if !strings.Contains(stderr, "qcal eval: 500 examples (500 labelled) through x") {
		t.Errorf("stderr %q lacks the summary", stderr)
	}

	// JSON, and the same predictions whatever the number of workers.
	preds1 := filepath.Join(dir, "one.csv")
	code, stdout, stderr = qcal(t, "", append(args, "-format", "json", "-workers", "1", "-o", preds1)...)
	if code != 0 {
		t.Fatalf("json: exit %d: %s", code, stderr)
	}
	var doc struct {
		N    int     `json:"n"`
		Top1 float64 `json:"top1"`
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil || doc.N != 500 || doc.Top1 != float64(hits)/500 {
		t.Errorf("json %s (%v): want n 500, top1 %g", stdout, err, float64(hits)/500)
	}
	a, _ := os.ReadFile(preds)
	b, _ := os.ReadFile(preds1)
	if string(a) != string(b) {
		t.Error("predictions with -workers 1 differ from the default")
	}

	// qcal report pairs the predictions: the same file on both sides passes.
	code, stdout, stderr = qcal(t, "", "report", "-fp32", preds, "-int8", preds1)
	if code != 0 || !strings.Contains(stdout+stderr, "PASS") {
		t.Errorf("report: exit %d\n%s%s", code, stdout, stderr)
	}
}

func TestEvalErrors(t *testing.T) {
	graph := filepath.Join(testutil.RealData(t, "graphs"), "mnist_cnn_frozen.pb")
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad-images-idx3-ubyte")
	os.WriteFile(bad, []byte{0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 28, 0, 0, 0, 28, 1, 2, 3}, 0o644)
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"eval", "-data", bad}, 2, "-graph is required"},
		{[]string{"eval", "-graph", graph}, 2, "-data is required"},
		{[]string{"eval", "-graph", graph, "-data", bad, "-o", "-"}, 2, "-o names the predictions file"},
		{[]string{"eval", "-graph", graph, "-data", bad, "-input", "nope"}, 1, `no Placeholder named "nope"`},
		{[]string{"eval", "-graph", graph, "-data", bad, "-int8-kernels", "onednn"}, 2, `want mkl or eigen, got "onednn"`},
		// Two images of 28×28 promised, 3 bytes given.
		{[]string{"eval", "-graph", graph, "-data", bad}, 1, "bad-images-idx3-ubyte"},
		{[]string{"eval", "-graph", graph, "-data", bad, "-o", graph}, 1, "refusing to overwrite input file"},
	} {
		code, _, stderr := qcal(t, "", c.args...)
		if code != c.code || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", c.args, code, stderr, c.code, c.want)
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("the failed runs left %d files behind", len(ents)-1)
	}
}
