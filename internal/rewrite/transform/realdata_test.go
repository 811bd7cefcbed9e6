package transform

import (
	"path/filepath"
	"testing"

	"qcal/internal/exec"
	"qcal/internal/graphinfo"
	"qcal/internal/graphio"
	"qcal/internal/testutil"
	"qcal/internal/tfpb"
)

func loadReal(t *testing.T, sub, file string) *tfpb.GraphDef {
	t.Helper()
	g, _, err := graphio.Load(filepath.Join(testutil.RealData(t, sub), file))
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// TestRealSignMNISTFoldOld folds the three Keras FusedBatchNormV3 of a TF2
// frozen graph (Conv2D → BiasAdd → FusedBatchNormV3, every weight read
// through Identity nodes).
func TestRealSignMNISTFoldOld(t *testing.T) {
	g := loadReal(t, "batchnorm/alperiox_signmnist_bn", "frozen_graph.pb")
	before := opCounts(g)
	// From `qcal summarize`: 79 Identity, 25 Const, 6 BiasAdd, 3 Conv2D,
	// 3 FusedBatchNormV3, 3 MatMul, 3 NoOp, 2 Relu, 1 Placeholder,
	// 1 Reshape, 1 Softmax.
	if before["FusedBatchNormV3"] != 3 || before["Identity"] != 79 || before["BiasAdd"] != 6 || len(g.Node) != 127 {
		t.Fatalf("unexpected graph: %v", before)
	}
	opt := Options{Inputs: []string{"input_13"}, Outputs: []string{"Identity"}}
	// fold_old_batch_norms alone folds nothing: the weights come through Identity.
	_, res := run(t, g, "fold_old_batch_norms", opt)
	if res[0].Changed != 0 || len(res[0].Notes) != 3 {
		t.Fatalf("fold_old_batch_norms alone: changed %d, notes %q", res[0].Changed, res[0].Notes)
	}
	out, res := run(t, g, "remove_nodes(op=Identity) fold_old_batch_norms", opt)
	after := opCounts(out)
	// remove_nodes keeps the output Identity (TF: -outputs nodes stay): 78 go.
	// The fold replaces each FusedBatchNormV3 by a BiasAdd of its name,
	// removes the Keras BiasAdd before it and adds a <conv>_bn_offset Const.
	// The bias and batch-norm Consts stay: a NoOp (the function call's
	// input_control_node) waits on each of them (^ inputs once through the
	// removed Identities).
	if after["FusedBatchNormV3"] != 0 || after["Identity"] != 1 || after["BiasAdd"] != 6 || after["Conv2D"] != 3 {
		t.Errorf("after: %v", after)
	}
	if after["Const"] != 25+3 {
		t.Errorf("Const %d, want 28", after["Const"])
	}
	if len(out.Node) != 127-78-3+3 {
		t.Errorf("%d nodes, want 49", len(out.Node))
	}
	for _, bn := range []string{"39", "40", "41"} {
		if n := find(out, "StatefulPartitionedCall/StatefulPartitionedCall/model_11/batch_normalization_"+bn+"/FusedBatchNormV3"); n.GetOp() != "BiasAdd" {
			t.Errorf("batch norm %s: %v", bn, n)
		}
	}
	if len(res[1].Notes) != 0 {
		t.Errorf("notes: %q", res[1].Notes)
	}
	if err := graphinfo.Check(out).Err(); err != nil {
		t.Errorf("folded graph: %v", err)
	}
	checkSameOutputs(t, g, out, opt)
}

// TestRealMobileNetFoldConstants folds MobileNet v1's spelled-out batch
// norms: fold_constants turns Add(var, eps) → Rsqrt → Mul(gamma) (and the
// mean/beta side) into Consts, fold_batch_norms the Mul(conv, Const) into
// the weights.
func TestRealMobileNetFoldConstants(t *testing.T) {
	if testing.Short() {
		t.Skip("MobileNet folding: skipped in -short")
	}
	g := loadReal(t, "imagenet/mobilenet_v1_0.25_128_2017", "frozen_graph.pb")
	before := opCounts(g)
	// From the real-data README: Add 54, Const 166, Conv2D 15,
	// DepthwiseConv2dNative 13, Identity 138, Mul 81, Rsqrt 27, Sub 27.
	if before["Rsqrt"] != 27 || before["Mul"] != 81 || before["Sub"] != 27 || before["Add"] != 54 || len(g.Node) != 555 {
		t.Fatalf("unexpected graph: %v", before)
	}
	opt := Options{Inputs: []string{"input"}, Outputs: []string{"MobilenetV1/Predictions/Reshape_1"}, Evaluator: arithEvaluator{}}
	out, res := run(t, g, "fold_constants fold_batch_norms", opt)
	after := opCounts(out)
	// 27 batch norms: Rsqrt, Sub and all 81 Muls gone (27 Mul(conv, scale)
	// folded into the weights, 54 constant); of the Adds only the 27
	// Add(conv, offset) stay; the Identities (/read of Consts) are folded.
	for _, op := range []string{"Rsqrt", "Sub", "Mul"} {
		if after[op] != 0 {
			t.Errorf("%s: %d left", op, after[op])
		}
	}
	// The one Identity left is the dropout's, on the AvgPool output.
	if after["Add"] != 27 || after["Conv2D"] != 15 || after["DepthwiseConv2dNative"] != 13 || after["Identity"] != 1 ||
		find(out, "MobilenetV1/Logits/Dropout_1b/Identity") == nil {
		t.Errorf("after: %v", after)
	}
	// Consts: per batch norm the folded weights and the offset (54), the
	// logits weights and biases (folded /read Identities) and the two
	// Reshape shapes: 58. With 27 Add, AvgPool, BiasAdd, 15 Conv2D, 13
	// DepthwiseConv2dNative, Identity, Placeholder, 27 Relu6, 2 Reshape,
	// Softmax and Squeeze: 148 nodes.
	if after["Const"] != 58 || len(out.Node) != 148 {
		t.Errorf("%d Consts, %d nodes; want 58 and 148", after["Const"], len(out.Node))
	}
	t.Logf("fold_constants: %d nodes changed, %d left; fold_batch_norms: %d changed, %d left; ops %v",
		res[0].Changed, res[0].Nodes, res[1].Changed, res[1].Nodes, after)
	if err := graphinfo.Check(out).Err(); err != nil {
		t.Errorf("folded graph: %v", err)
	}
	checkSameOutputs(t, g, out, opt)
}

// TestRealMobileNetFoldConstantsExecutor folds MobileNet's constant
// subgraphs with qcal's executor and expects the graph's outputs
// bit-identical: folding computes the same kernels on the same values,
// only earlier.
func TestRealMobileNetFoldConstantsExecutor(t *testing.T) {
	if testing.Short() {
		t.Skip("MobileNet folding: skipped in -short")
	}
	g := loadReal(t, "imagenet/mobilenet_v1_0.25_128_2017", "frozen_graph.pb")
	opt := Options{Inputs: []string{"input"}, Outputs: []string{"MobilenetV1/Predictions/Reshape_1"}, Evaluator: exec.ConstFolder{}}
	out, res := run(t, g, "fold_constants", opt)
	after := opCounts(out)
	// The 27 batch norms' constant halves: Rsqrt(Add(var, eps))·gamma, and
	// mean·scale subtracted from beta, become Consts; Rsqrt and Sub vanish.
	if after["Rsqrt"] != 0 || after["Sub"] != 0 {
		t.Errorf("after fold_constants: %v", after)
	}
	t.Logf("fold_constants with the executor: %d nodes changed, %d left", res[0].Changed, res[0].Nodes)
	worst, err := compareOutputs(realRunner, g, out, randomFeeds(t, g, opt.Inputs, 1), opt.Outputs, 0)
	if err != nil || worst != 0 {
		t.Errorf("outputs not bit-identical after fold_constants (largest relative difference %.3g): %v", worst, err)
	}
}
