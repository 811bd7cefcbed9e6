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

// BenchmarkFuseQuantizedConv fuses a chain of 32 quantized convs with
// 512-channel per-channel biases (each but the first pre-quantized).
func BenchmarkFuseQuantizedConv(b *testing.B) {
	const convs, ch = 32, 512
	bias, wmin, wmax := make([]float32, ch), make([]float32, ch), make([]float32, ch)
	for i := range bias {
		bias[i] = float32(i%13)*0.01 - 0.05
		wmin[i], wmax[i] = -0.5-float32(i%7)*0.01, 0.4
	}
	nodes := quantizedInput()
	x := "xq"
	for i := range convs {
		name := "c" + string(rune('A'+i/26)) + string(rune('a'+i%26))
		nodes = append(nodes, weights(name, 1, wmin, wmax, bias)...)
		nodes = append(nodes, qconv("QuantizedConv2DWithBiasAndRelu", name, x))
		nodes = append(nodes, requant(name, 0, 6)...)
		x = name + "_eightbit_requantize"
	}
	g := graph(nodes...)
	steps, err := Parse(spec)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(4 * ch * convs))
	b.ReportAllocs()
	for b.Loop() {
		out, res, err := Apply(g, steps, Options{})
		if err != nil || len(res[0].Notes) != 1 || find(out, x).GetAttr()["Tbias"].GetType() != tfpb.DataType_DT_QINT32 {
			b.Fatal("not fused", err)
		}
	}
}
