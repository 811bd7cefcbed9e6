package quantize

import (
	"path/filepath"
	"testing"

	"qcal/internal/graphio"
	"qcal/internal/testutil"
)

// TestExcludedNodes leaves layer_2_conv of the MNIST CNN in FP32 on the
// Intel path (Intel's --excluded_nodes): layer_3_conv is still quantized
// (its input is still a Relu), so one RequantizationRange remains where
// there were two, and the result says why layer_2 stayed FP32.
func TestExcludedNodes(t *testing.T) {
	g, _, err := graphio.Load(filepath.Join(testutil.RealData(t, "graphs"), "mnist_cnn_frozen.pb"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Quantize(g, Options{Outputs: []string{"output"}, Intel: true, ExcludedNodes: []string{"layer_2_conv/Conv2D"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Quantized) != 1 || res.Quantized[0].Name != "layer_3_conv/Conv2D" {
		t.Errorf("quantized %+v, want layer_3_conv/Conv2D alone", res.Quantized)
	}
	ops := map[string]int{}
	for _, n := range res.Graph.GetNode() {
		ops[n.GetOp()]++
		if n.GetName() == "layer_2_conv/Conv2D" && n.GetOp() != "Conv2D" {
			t.Errorf("layer_2_conv/Conv2D became %s", n.GetOp())
		}
	}
	if ops["RequantizationRange"] != 1 || ops["Conv2D"] != 2 {
		t.Errorf("ops %v: want 1 RequantizationRange and 2 FP32 Conv2D", ops)
	}
	found := false
	for _, f := range res.Float {
		if f.Name == "layer_2_conv/Conv2D" && f.Reason == "excluded (excluded_nodes)" {
			found = true
		}
	}
	if !found {
		t.Errorf("no FP32 reason for the excluded node in %+v", res.Float)
	}
}
