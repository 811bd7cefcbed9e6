package main

import (
	"path/filepath"
	"strings"
	"testing"

	"qcal/internal/testutil"
)

// TestSummarizeSavedModelAndMeta: summarize reads a SavedModel folder and a
// .meta file as it reads a GraphDef (TF-FILES.md §6: the mengwanguc serve
// signature's input is input_tensor [128,32,32,3]).
func TestSummarizeSavedModelAndMeta(t *testing.T) {
	bn := testutil.RealData(t, "batchnorm/mengwanguc_cifar10_resnet_ckpt")
	code, stdout, stderr := qcal(t, "", "summarize", bn)
	if code != 0 || !strings.Contains(stdout, "(name=input_tensor, type=float(1), shape=[128,32,32,3])") {
		t.Errorf("SavedModel: exit %d, stdout %.300q, stderr %.300q", code, stdout, stderr)
	}
	meta := filepath.Join(testutil.RealData(t, "checkpoints/prathmesh_mnist_cnn"), "mnist.ckpt-75.meta")
	code, stdout, stderr = qcal(t, "", "summarize", meta)
	if code != 0 || !strings.Contains(stdout, "name=input_image") {
		t.Errorf("MetaGraph: exit %d, stdout %.300q, stderr %.300q", code, stdout, stderr)
	}
}
