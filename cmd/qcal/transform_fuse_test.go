package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestTransformFuseQuantizedConv runs the int8 end of qcal's flow through
// the commands on a real graph: qcal quantize (Intel path) of mnist_cnn,
// then one qcal transform call that freezes a calibration log and fuses.
// INT8-ARITHMETIC §1d: layer_2 and layer_3 become
// QuantizedConv2DWithBiasAndRelu, layer_3 reading layer_2's Requantize, so
// layer_3's bias becomes qint32.
func TestTransformFuseQuantizedConv(t *testing.T) {
	fp32 := realGraph(t, "mnist_cnn_frozen.pb")
	dir := t.TempDir()
	q := filepath.Join(dir, "q.pb")
	if code, _, stderr := qcal(t, "", "quantize", "-graph", fp32, "-outputs", "output", "-o", q); code != 0 {
		t.Fatalf("quantize: exit %d: %s", code, stderr)
	}
	const l2, l3 = "layer_2_conv/Conv2D_eightbit_requant_range", "layer_3_conv/Conv2D_eightbit_requant_range"
	log := writeText(t, dir, "cal.log", rec(l2, "0", "7.5")+rec(l3, "0", "12"))
	out := filepath.Join(dir, "fused.pb")
	code, _, stderr := qcal(t, "", "transform", "-in_graph", q, "-out_graph", out,
		"-transforms", "freeze_requantization_ranges(min_max_log_file="+log+") fuse_quantized_conv_and_requantize")
	if code != 0 {
		t.Fatalf("transform: exit %d: %s", code, stderr)
	}
	if want := "fused 2 Requantize nodes into convolutions; 1 bias pre-quantized to qint32; 0 Dequantize nodes switched to qint8 SCALED"; !strings.Contains(stderr, want) {
		t.Errorf("stderr %q lacks %q", stderr, want)
	}
	g := loadGraph(t, out)
	ops := map[string]int{}
	tbias := map[string]string{}
	for _, n := range g.Node {
		ops[n.Op]++
		if n.Op == "QuantizedConv2DWithBiasAndReluAndRequantize" {
			tbias[n.Name] = n.Attr["Tbias"].GetType().String()
		}
	}
	if ops["QuantizedConv2DWithBiasAndReluAndRequantize"] != 2 || ops["Requantize"] != 0 || ops["RequantizationRange"] != 0 {
		t.Errorf("ops %v", ops)
	}
	if tbias["layer_2_conv/Conv2D_eightbit_requantize"] != "DT_FLOAT" || tbias["layer_3_conv/Conv2D_eightbit_requantize"] != "DT_QINT32" {
		t.Errorf("Tbias %v", tbias)
	}
}
