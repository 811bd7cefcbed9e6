package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"qcal/internal/testutil"
)

// TestWorkflowEndToEnd runs the seed workflow with qcal's commands alone on
// three real graphs and their real data sets: FP32 eval → quantize →
// insert-logging → calibrate (10 batches of 64 training images) → freeze →
// fuse → int8 eval on the full test set → report. The MNIST CNNs take the
// Intel path, the Fashion FCN (MatMuls only, which the Intel path leaves in
// FP32) the plain one. Each int8 graph must be within 0.5 top-1 points of
// FP32 (qcal report exits 1 otherwise); the measured drops are in the
// README.
func TestWorkflowEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: three full test sets, FP32 and int8")
	}
	graphs := testutil.RealData(t, "graphs")
	for _, c := range []struct {
		graph, output string
		data          func(testing.TB) string
		intel         bool
	}{
		{"mnist_cnn_frozen.pb", "output", testutil.MNIST, true},
		{"mnist_keras_cnn_frozen.pb", "dense_1/Softmax", testutil.MNIST, true},
		{"fashion_fcn_frozen.pb", "FCN/output/BiasAdd", testutil.FashionMNIST, false},
	} {
		t.Run(c.graph, func(t *testing.T) {
			data := c.data(t)
			dir := t.TempDir()
			p := func(name string) string { return filepath.Join(dir, name) }
			graph := filepath.Join(graphs, c.graph)
			train, test := filepath.Join(data, "train-images-idx3-ubyte.gz"), filepath.Join(data, "t10k-images-idx3-ubyte.gz")
			steps := [][]string{
				{"eval", "-graph", graph, "-data", test, "-scale", "1/255", "-o", p("fp32.csv")},
				{"quantize", "-graph", graph, "-outputs", c.output, fmt.Sprintf("-intel=%v", c.intel), "-o", p("quantized_dynamic_range_graph.pb")},
				{"insert-logging", "-graph", p("quantized_dynamic_range_graph.pb"), "-o", p("logged_quantized_graph.pb")},
				{"calibrate", "-graph", p("logged_quantized_graph.pb"), "-data", train, "-scale", "1/255", "-batches", "10", "-o", p("min_max_log.txt")},
				{"freeze", "-graph", p("quantized_dynamic_range_graph.pb"), "-log", p("min_max_log.txt"), "-o", p("freezed_range_graph.pb")},
				{"transform", "-in_graph", p("freezed_range_graph.pb"), "-out_graph", p("final_int8_graph.pb"), "-transforms", "fuse_quantized_conv_and_requantize"},
				{"eval", "-graph", p("final_int8_graph.pb"), "-data", test, "-scale", "1/255", "-o", p("int8.csv")},
				{"report", "-fp32", p("fp32.csv"), "-int8", p("int8.csv"), "-max-drop", "0.5"},
			}
			var accuracy []string
			for _, args := range steps {
				code, stdout, stderr := qcal(t, "", args...)
				if code != 0 {
					t.Fatalf("qcal %s: exit %d\n%s%s", strings.Join(args, " "), code, stdout, stderr)
				}
				if args[0] == "eval" {
					accuracy = append(accuracy, strings.TrimSpace(stdout))
				}
				if args[0] == "report" {
					t.Logf("FP32: %s\nint8: %s\n%s", accuracy[0], accuracy[1], strings.SplitN(stdout, "\n", 4)[2])
				}
			}
			if c.intel {
				g := loadGraph(t, p("final_int8_graph.pb"))
				fused := 0
				for _, n := range g.GetNode() {
					if strings.HasSuffix(n.GetOp(), "AndRequantize") {
						fused++
					}
				}
				if fused == 0 {
					t.Error("the Intel path fused no convolution with its Requantize")
				}
			}
		})
	}
}

// TestWorkflowMobileNet runs the workflow on a real ImageNet model and
// real photographs: Google's MobileNet v1 0.25/128 (batch norms spelled
// out in primitive ops, 13 depthwise convolutions) on the 1000 sample
// photographs, one per class. fold_constants and fold_batch_norms prepare
// it; the Intel path quantizes it per channel (its Relu6 clamps survive
// only that way) with rounded weights; 100 photographs drawn with seed 1
// calibrate it (realdata has no other ImageNet images, so they are part of
// the evaluation set too). The int8 graph must be within 1 top-1 point of
// FP32 and its layers must all be measured by audit.
func TestWorkflowMobileNet(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: 1000 ImageNet photographs through FP32 and int8 MobileNet")
	}
	root := testutil.RealData(t, "imagenet")
	model := filepath.Join(root, "mobilenet_v1_0.25_128_2017", "frozen_graph.pb")
	photos := filepath.Join(root, "sample_images")
	const out = "MobilenetV1/Predictions/Reshape_1"
	dir := t.TempDir()
	p := func(name string) string { return filepath.Join(dir, name) }
	prep := []string{"-data", filepath.Join(photos, "images"), "-color", "rgb", "-central-crop", "0.875", "-resize", "128x128", "-mean", "127.5", "-std", "127.5"}
	labels := []string{"-labels", filepath.Join(photos, "labels.csv"), "-label-column", "class_index", "-label-offset", "1"}
	with := func(args []string, more ...[]string) []string {
		for _, m := range more {
			args = append(args, m...)
		}
		return args
	}
	steps := [][]string{
		{"transform", "-in_graph", model, "-out_graph", p("optimized_graph.pb"), "-inputs", "input", "-outputs", out, "-transforms", "fold_constants fold_batch_norms"},
		with([]string{"eval", "-graph", p("optimized_graph.pb"), "-o", p("fp32.csv")}, prep, labels),
		{"quantize", "-graph", p("optimized_graph.pb"), "-outputs", out, "-per-channel", "-round-weights", "-o", p("quantized.pb")},
		{"insert-logging", "-graph", p("quantized.pb"), "-o", p("logged.pb")},
		with([]string{"calibrate", "-graph", p("logged.pb"), "-batches", "100", "-seed", "1", "-o", p("log.txt")}, prep),
		{"freeze", "-graph", p("quantized.pb"), "-log", p("log.txt"), "-o", p("frozen_ranges.pb")},
		{"transform", "-in_graph", p("frozen_ranges.pb"), "-out_graph", p("int8.pb"), "-transforms", "fuse_quantized_conv_and_requantize"},
		with([]string{"eval", "-graph", p("int8.pb"), "-o", p("int8.csv")}, prep, labels),
		{"report", "-fp32", p("fp32.csv"), "-int8", p("int8.csv"), "-max-drop", "1"},
		with([]string{"audit", "-fp32", p("optimized_graph.pb"), "-int8", p("int8.pb"), "-limit", "4", "-format", "csv"}, prep),
	}
	var stdouts []string
	for _, args := range steps {
		code, stdout, stderr := qcal(t, "", args...)
		if code != 0 {
			t.Fatalf("qcal %s: exit %d\n%s%s", strings.Join(args, " "), code, stdout, stderr)
		}
		stdouts = append(stdouts, stdout)
	}
	// FP32: 475 and 715 of 1000 (an independent numpy evaluator: 475 and
	// 702; its JPEG decoder and resize differ). int8, measured: 468 and
	// 704, a drop of 0.7 points (with Intel's truncated weights: 363).
	// With -tags purego the FP32 first convolution (the Intel path leaves
	// it in FP32) differs in the last bits (gemm.F32's portable kernel does
	// not fuse its multiply-adds); the calibration ranges move with it, and
	// int8 scores 469 and 704 there (measured).
	int8Want := "(0.4680, 0.7040)"
	if pureGo {
		int8Want = "(0.4690, 0.7040)"
	}
	for i, want := range map[int]string{1: "(0.4750, 0.7150)", 7: int8Want} {
		if !strings.Contains(stdouts[i], want) {
			t.Errorf("qcal %s: %q, want top-1/top-5 %s", steps[i][0], stdouts[i], want)
		}
	}
	// audit measures all 27 quantized layers (13 depthwise and 13
	// pointwise ReLU6 outputs, the logits BiasAdd) and the output.
	rows := strings.Count(stdouts[9], "\n") - 1
	if rows != 28 || !strings.Contains(stdouts[9], "Conv2d_1_depthwise/Relu6") {
		t.Errorf("audit: %d rows, want 28:\n%s", rows, stdouts[9])
	}
}
