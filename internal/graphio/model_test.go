package graphio

import (
	"path/filepath"
	"testing"

	"qcal/internal/testutil"
)

// TestLoadModel reads the three containers of a graph. Counts: prathmesh's
// mnist.pb has 297 nodes and its .meta the same graph plus the 35 "save/"
// nodes tf.train.Saver added (332); the mengwanguc SavedModel's serve graph
// has 846 (TF-FILES.md §6).
func TestLoadModel(t *testing.T) {
	ck := testutil.RealData(t, "checkpoints/prathmesh_mnist_cnn")
	bn := testutil.RealData(t, "batchnorm/mengwanguc_cifar10_resnet_ckpt")
	for _, c := range []struct {
		path, kind string
		nodes      int
	}{
		{filepath.Join(ck, "mnist.ckpt-75.meta"), "MetaGraph", 332},
		{filepath.Join(ck, "mnist.pb"), "GraphDef", 297},
		{bn, "SavedModel", 846},
		{filepath.Join(bn, "saved_model.pb"), "SavedModel", 846},
	} {
		g, kind, err := LoadModel(c.path)
		if err != nil {
			t.Errorf("%s: %v", c.path, err)
			continue
		}
		if kind != c.kind || len(g.GetNode()) != c.nodes {
			t.Errorf("%s: %s with %d nodes, want %s with %d", c.path, kind, len(g.GetNode()), c.kind, c.nodes)
		}
	}
	if _, _, err := LoadModel(t.TempDir()); err == nil {
		t.Error("an empty folder loaded")
	}
}
