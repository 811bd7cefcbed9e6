package quantize

import (
	"path/filepath"
	"slices"
	"testing"

	"qcal/internal/graphinfo"
	"qcal/internal/graphio"
	"qcal/internal/testutil"
	"qcal/internal/tfpb"
)

// TestSummaryAgrees: `qcal summarize`'s Intel view (graphinfo) names the
// same convolutions and MatMuls in FP32 as the rewrite leaves there.
func TestSummaryAgrees(t *testing.T) {
	dir := testutil.RealData(t, "graphs")
	graphs := map[string]*tfpb.GraphDef{
		"resnet block": resnetBlock(false),
		"conv relu":    convReluGraph("Relu", 1),
		"mlp":          mlp(false),
	}
	outputs := map[string]string{"resnet block": "v0/resnet_v10/Relu", "conv relu": "pool1", "mlp": "out",
		"mnist_cnn_frozen.pb": "output", "mnist_keras_cnn_frozen.pb": "dense_1/Softmax"}
	for _, name := range []string{"mnist_cnn_frozen.pb", "mnist_keras_cnn_frozen.pb"} {
		g, _, err := graphio.Load(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		graphs[name] = g
	}
	for name, g := range graphs {
		v := graphinfo.Summarize(g).Quantization.Intel
		res := mustQuantize(t, g, Options{Outputs: []string{outputs[name]}, Intel: true})
		var fromView, fromRewrite []string
		for _, f := range v.Float {
			fromView = append(fromView, f.Name)
		}
		for _, f := range res.Float {
			if f.Op == "Conv2D" || f.Op == "DepthwiseConv2dNative" || f.Op == "MatMul" {
				fromRewrite = append(fromRewrite, f.Name)
			}
		}
		slices.Sort(fromView)
		slices.Sort(fromRewrite)
		convs := 0
		for _, q := range res.Quantized {
			if q.Op == "Conv2D" || q.Op == "DepthwiseConv2dNative" {
				convs++
			}
		}
		if !slices.Equal(fromView, fromRewrite) || v.Quantized != convs {
			t.Errorf("%s: summarize says FP32 %q and %d convs quantized; the rewrite %q and %d", name, fromView, v.Quantized, fromRewrite, convs)
		}
	}
}

// TestRealGraphs quantizes every real graph on both paths: no error, no
// graph problem TensorFlow would refuse, and on the plain path no MatMul
// or Conv2D left in FP32.
func TestRealGraphs(t *testing.T) {
	dir := testutil.RealData(t, "graphs")
	for _, name := range []string{"fashion_fcn_frozen.pb", "fcn_frozen_textformat.pb", "linreg_frozen.pb", "logreg_frozen.pb",
		"mnist_cnn_frozen.pb", "mnist_keras_cnn_frozen.pb", "tf1_training_graph_unfrozen.pbtxt"} {
		g, _, err := graphio.Load(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		var outs []string
		for _, o := range graphinfo.Summarize(g).Outputs {
			outs = append(outs, o.Name)
		}
		for _, intel := range []bool{true, false} {
			res, err := Quantize(g, Options{Outputs: outs, Intel: intel})
			if err != nil {
				t.Errorf("%s intel=%v: %v", name, intel, err)
				continue
			}
			if err := graphinfo.Check(res.Graph).Err(); err != nil {
				t.Errorf("%s intel=%v: %v", name, intel, err)
			}
			for _, f := range res.Float {
				if !intel && (f.Op == "MatMul" || f.Op == "Conv2D") {
					t.Errorf("%s plain: %s left in FP32", name, f.Name)
				}
			}
		}
	}
}
