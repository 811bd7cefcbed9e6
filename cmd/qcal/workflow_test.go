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
