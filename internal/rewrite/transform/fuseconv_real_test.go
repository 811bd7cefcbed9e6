package transform

import (
	"math"
	"testing"

	"qcal/internal/rewrite/quantize"
	"qcal/internal/tfpb"
	"qcal/stats"
)

// TestRealMNISTCNNFuse quantizes the real mnist_cnn_frozen graph on the
// Intel path (INT8-ARITHMETIC §1d: layer_2 and layer_3 become
// QuantizedConv2DWithBiasAndRelu, layer_3 reading layer_2's Requantize
// directly), freezes its two RequantizationRange nodes and fuses. The
// frozen ranges are made up (no calibration log of this graph exists);
// everything else is the real graph's.
func TestRealMNISTCNNFuse(t *testing.T) {
	g := loadReal(t, "graphs", "mnist_cnn_frozen.pb")
	for _, perChannel := range []bool{false, true} {
		q, err := quantize.Quantize(g, quantize.Options{Outputs: []string{"output"}, Intel: true, PerChannel: perChannel})
		if err != nil {
			t.Fatal(err)
		}
		const l2, l3 = "layer_2_conv/Conv2D", "layer_3_conv/Conv2D"
		fr := &fakeRanges{ranges: []stats.Range{
			{Node: l2 + "_eightbit_requant_range", Side: stats.Both, Min: 0, Max: 7.5, Count: 1},
			{Node: l3 + "_eightbit_requant_range", Side: stats.Both, Min: 0, Max: 12, Count: 1},
		}}
		out, res := run(t, q.Graph, "freeze_requantization_ranges(min_max_log_file=made-up.log) "+spec, Options{Ranges: fr})
		ops := opCounts(out)
		// Node count: freezing replaces each RequantizationRange by two
		// Consts (+2); fusing removes the two convs (-2).
		if ops["QuantizedConv2DWithBiasAndReluAndRequantize"] != 2 || ops["QuantizedConv2DWithBiasAndRelu"] != 0 ||
			ops["Requantize"]+ops["RequantizePerChannel"] != 0 || len(out.GetNode()) != len(q.Graph.GetNode()) {
			t.Errorf("per-channel %v: ops %v, %d nodes from %d", perChannel, ops, len(out.GetNode()), len(q.Graph.GetNode()))
		}
		want := "fused 2 Requantize nodes into convolutions; 1 bias pre-quantized to qint32; 0 Dequantize nodes switched to qint8 SCALED"
		if len(res[1].Notes) != 1 || res[1].Notes[0] != want {
			t.Errorf("per-channel %v: notes %q", perChannel, res[1].Notes)
		}
		f2, f3 := find(out, l2+"_eightbit_requantize"), find(out, l3+"_eightbit_requantize")
		if attrType(f2, "Tbias") != tfpb.DataType_DT_FLOAT || attrType(f3, "Tbias") != tfpb.DataType_DT_QINT32 ||
			f3.GetInput()[0] != f2.GetName() || f3.GetInput()[7] != l3+"_eightbit_requant_range/frozen_min" {
			t.Fatalf("per-channel %v: layer_3 %v", perChannel, f3)
		}
		// The Dequantize after the Relu variant keeps its type: MIN_FIRST
		// quint8 (SCALED on the per-channel path).
		if d := find(out, "layer_3_conv/Relu"); attrType(d, "T") != tfpb.DataType_DT_QUINT8 {
			t.Errorf("per-channel %v: Dequantize %v", perChannel, d)
		}
		// layer_3's 24 bias codes: code = trunc(f32(b·scale)) with
		// scale = f32(32385/f32(7.5·R_w[c])) from layer_2's frozen range
		// and layer_3's filter range; so code/scale is within one step of b,
		// on the side of zero.
		b := constValues(t, q.Graph, "layer_3_conv/bias")
		wmin, wmax := constValues(t, out, "layer_3_conv/weight_min"), constValues(t, out, "layer_3_conv/weight_max")
		codes := int32Values(t, out, "layer_3_conv/bias")
		if len(codes) != 24 || len(b) != 24 || (perChannel && len(wmin) != 24) || (!perChannel && len(wmin) != 1) {
			t.Fatalf("per-channel %v: %d codes, %d biases, %d ranges", perChannel, len(codes), len(b), len(wmin))
		}
		nonzero := 0
		for i, c := range codes {
			if c != 0 {
				nonzero++
			}
			k := 0
			if perChannel {
				k = i
			}
			rw := max(float32(math.Abs(float64(wmin[k]))), float32(math.Abs(float64(wmax[k]))))
			scale := float64(32385 / (7.5 * float64(rw)))
			if d := float64(b[i]) - float64(c)/scale; math.Abs(d) >= 1/scale*1.0001 || d*float64(b[i]) < -1e-9 {
				t.Errorf("per-channel %v: bias %d: %g → %d (scale %g)", perChannel, i, b[i], c, scale)
			}
		}
		// The real biases are ~0.001-0.04 and the scales ~10⁴: codes in the tens to hundreds.
		if nonzero < 20 {
			t.Errorf("per-channel %v: only %d nonzero codes: %v", perChannel, nonzero, codes)
		}
	}
}

// TestRealKerasCNNFuse: mnist_keras_cnn has one quantized conv, whose
// Requantize feeds QuantizedMaxPool directly (§1d); the fused quint8
// output still does.
func TestRealKerasCNNFuse(t *testing.T) {
	g := loadReal(t, "graphs", "mnist_keras_cnn_frozen.pb")
	q, err := quantize.Quantize(g, quantize.Options{Outputs: []string{"dense_1/Softmax"}, Intel: true})
	if err != nil {
		t.Fatal(err)
	}
	fr := &fakeRanges{ranges: []stats.Range{{Node: "conv2d_1/Conv2D_eightbit_requant_range", Side: stats.Both, Min: 0, Max: 9, Count: 1}}}
	out, _ := run(t, q.Graph, "freeze_requantization_ranges(min_max_log_file=made-up.log) "+spec, Options{Ranges: fr})
	f := find(out, "conv2d_1/Conv2D_eightbit_requantize")
	if f.GetOp() != "QuantizedConv2DWithBiasAndReluAndRequantize" || attrType(f, "out_type") != tfpb.DataType_DT_QUINT8 || attrType(f, "Tbias") != tfpb.DataType_DT_FLOAT {
		t.Fatalf("fused %v", f)
	}
	var pool *tfpb.NodeDef
	for _, n := range out.GetNode() {
		if n.GetOp() == "QuantizedMaxPool" {
			pool = n
		}
	}
	if pool == nil || pool.GetInput()[0] != f.GetName() {
		t.Errorf("QuantizedMaxPool %v", pool)
	}
}
