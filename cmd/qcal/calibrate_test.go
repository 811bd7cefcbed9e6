package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"qcal/internal/dataset"
	"qcal/internal/exec"
	"qcal/internal/tensor"
	"qcal/internal/testutil"
)

// TestCalibrateLogsWhatTheGraphComputes logs every Relu of the MNIST CNN
// with its values (insert-logging -op Relu -message __KL: -summarize -1),
// runs two batches of 8 test images through qcal calibrate, reads the log
// back with qcal ranges, and checks each node's largest logged value and
// value count against the same Relus computed directly by the executor.
func TestCalibrateLogsWhatTheGraphComputes(t *testing.T) {
	graph := filepath.Join(testutil.RealData(t, "graphs"), "mnist_cnn_frozen.pb")
	images := filepath.Join(testutil.MNIST(t), "t10k-images-idx3-ubyte.gz")
	dir := t.TempDir()
	logged := filepath.Join(dir, "logged.pb")
	if code, _, stderr := qcal(t, "", "insert-logging", "-graph", graph, "-op", "Relu", "-message", "__KL:", "-summarize", "-1", "-o", logged); code != 0 {
		t.Fatal(stderr)
	}
	log := filepath.Join(dir, "calib.log")
	code, _, stderr := qcal(t, "", "calibrate", "-graph", logged, "-data", images, "-scale", "1/255", "-batch", "8", "-batches", "2", "-o", log)
	// 4 Relus logged once a batch: 8 lines.
	if code != 0 || !strings.Contains(stderr, "16 examples in 2 batches through 4 Print nodes → 8 log lines") {
		t.Fatalf("calibrate: exit %d: %s", code, stderr)
	}
	code, stdout, stderr := qcal(t, "", "ranges", "-strategy", "vpercentile:100", "-format", "json", log)
	if code != 0 {
		t.Fatal(stderr)
	}
	var doc struct {
		Ranges []struct {
			Node  string  `json:"node"`
			Max   float64 `json:"max"`
			Count int     `json:"count"`
		} `json:"ranges"`
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatal(err)
	}

	// The same 16 images through the unlogged graph.
	gr, err := exec.Load(graph)
	if err != nil {
		t.Fatal(err)
	}
	src, err := dataset.Open(images, dataset.Options{BatchSize: 16, Limit: 16, Preprocess: dataset.Preprocess{Scale: 1.0 / 255, Shape: []int{-1, 28, 28, 1}}})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var b dataset.Batch
	if _, err := src.Next(&b); err != nil {
		t.Fatal(err)
	}
	relus := []string{"layer_1_conv/Relu", "layer_2_conv/Relu", "layer_3_conv/Relu", "layer_4_fc/Relu"}
	outs, err := gr.Run(map[string]*tensor.Tensor{"x": tensor.FromF32(b.Shape, b.X)}, relus)
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.Ranges) != 4 {
		t.Fatalf("%d ranges, want 4: %s", len(doc.Ranges), stdout)
	}
	for i, r := range doc.Ranges {
		want := relus[i] + "_eightbit_requant_range" // logged names map to the RequantizationRange they would feed
		mx := float32(0)
		for _, v := range outs[i].F32 {
			mx = max(mx, v)
		}
		// vpercentile:100 is the largest value, exact within its histogram
		// bin; the log holds each float as TF prints it (%.9g when %.6g does
		// not read back), so the values are the executor's exactly.
		if r.Node != want || r.Count != len(outs[i].F32) || float32(r.Max) != mx {
			t.Errorf("range %d: %s, %d values, max %g; the executor's %s: %d values, max %g", i, r.Node, r.Count, r.Max, relus[i], len(outs[i].F32), mx)
		}
	}
}

// TestCalibrateSeedNeedsBatches: a seeded sample of "all" batches is a
// contradiction, whatever the seed (0 included).
func TestCalibrateSeedNeedsBatches(t *testing.T) {
	for _, seed := range []string{"0", "7"} {
		code, _, stderr := qcal(t, "", "calibrate", "-graph", "g.pb", "-data", "d", "-batches", "0", "-seed", seed, "-o", "x.log")
		if code != 2 || !strings.Contains(stderr, "-seed draws -batches batches at random") {
			t.Errorf("-seed %s -batches 0: exit %d, %q", seed, code, stderr)
		}
	}
}
