package freezegraph

import (
	"path/filepath"
	"testing"

	"qcal/internal/testutil"
)

// BenchmarkFreezeResNet freezes the mengwanguc CIFAR-10 ResNet SavedModel
// graph (846 nodes, 112 variables read from the 2.2 MB checkpoint); the
// bytes are those of the converted tensors.
func BenchmarkFreezeResNet(b *testing.B) {
	dir := testutil.RealData(b, "batchnorm/mengwanguc_cifar10_resnet_ckpt")
	s, err := Open(Input{SavedModelDir: dir, Checkpoint: filepath.Join(dir, "model.ckpt-19540")})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	o := Options{Outputs: []string{"ArgMax", "softmax_tensor"}, ClearDevices: true}
	res, err := Freeze(s.Graph, s.Checkpoint, o)
	if err != nil {
		b.Fatal(err)
	}
	var n int64
	for _, k := range res.Keys {
		e, _ := s.Checkpoint.Entry(k)
		n += e.GetSize()
	}
	b.SetBytes(n)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Freeze(s.Graph, s.Checkpoint, o); err != nil {
			b.Fatal(err)
		}
	}
}
