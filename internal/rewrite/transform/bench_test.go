package transform

import (
	"testing"

	"qcal/internal/tfpb"
)

// bigConvBN is one 3×3×256×256 Conv2D (2.4 MB of weights) with a
// FusedBatchNormV3 after it.
func bigConvBN() (*tfpb.GraphDef, int64) {
	const k, cin, cout = 3, 256, 256
	w := make([]float32, k*k*cin*cout)
	for i := range w {
		w[i] = float32(i%17) * 0.01
	}
	vec := func(v float32) []float32 {
		out := make([]float32, cout)
		for i := range out {
			out[i] = v + float32(i)*0.001
		}
		return out
	}
	g := graph(placeholder("x"), constF("w", []int64{k, k, cin, cout}, w...), conv2D("conv", "x", "w"),
		constF("gamma", []int64{cout}, vec(1)...), constF("beta", []int64{cout}, vec(0)...),
		constF("mean", []int64{cout}, vec(0.5)...), constF("var", []int64{cout}, vec(2)...),
		fusedBN("FusedBatchNormV3", "bn", "conv", "", 0.001))
	return g, int64(4 * len(w))
}

func BenchmarkFoldOldBatchNorms(b *testing.B) {
	g, size := bigConvBN()
	steps, err := Parse("fold_old_batch_norms")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		out, _, err := Apply(g, steps, Options{})
		if err != nil || find(out, "bn").GetOp() != "BiasAdd" {
			b.Fatal("not folded", err)
		}
	}
}
