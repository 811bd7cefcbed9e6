package transform

import (
	"path/filepath"
	"testing"

	"qcal/internal/exec"
	"qcal/internal/rewrite/freezegraph"
	"qcal/internal/testutil"
)

// TestRealCifarResNetFreezeRunFold is issue 13's chain on a real model:
// freeze the mengwanguc CIFAR-10 ResNet (SavedModel + checkpoint, 22
// FusedBatchNorm), run it, fold the batch norms, and run it again: no
// batch-norm op is left and the outputs agree within 1e-5 of their scale.
func TestRealCifarResNetFreezeRunFold(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: runs a ResNet on a batch of 128 twice")
	}
	dir := testutil.RealData(t, "batchnorm/mengwanguc_cifar10_resnet_ckpt")
	s, err := freezegraph.Open(freezegraph.Input{SavedModelDir: dir, Checkpoint: filepath.Join(dir, "model.ckpt-19540")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	res, err := freezegraph.Freeze(s.Graph, s.Checkpoint, freezegraph.Options{Outputs: []string{"softmax_tensor"}, ClearDevices: true})
	if err != nil {
		t.Fatal(err)
	}
	frozen := res.Graph
	if n := opCounts(frozen)["FusedBatchNorm"]; n != 22 {
		t.Fatalf("frozen graph has %d FusedBatchNorm, want the SavedModel's 22", n)
	}
	// The serving signature: input_tensor float [128,32,32,3].
	opt := Options{Inputs: []string{"input_tensor"}, Outputs: []string{"softmax_tensor"}, Evaluator: exec.ConstFolder{}}
	folded, steps := run(t, frozen, "remove_nodes(op=Identity) fold_constants fold_old_batch_norms", opt)
	after := opCounts(folded)
	if after["FusedBatchNorm"] != 0 || after["FusedBatchNormV3"] != 0 {
		t.Errorf("batch norms left after folding: %v (notes %q)", after, steps[2].Notes)
	}
	worst, err := compareOutputs(realRunner, frozen, folded, randomFeeds(t, frozen, opt.Inputs, 7), opt.Outputs, 1e-5)
	if err != nil {
		t.Error(err)
	}
	t.Logf("%d nodes frozen, %d after folding (%v); largest output difference %.3g of the output's scale",
		len(frozen.Node), len(folded.Node), after, worst)
}
