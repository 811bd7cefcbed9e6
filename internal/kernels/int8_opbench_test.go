package kernels

import (
	"math/rand/v2"
	"testing"

	"qcal/internal/tensor"
)

// BenchmarkInt8Ops runs whole int8 ops as the executor calls them
// (runOp: the kernel with its checks and allocations) on the shapes of
// the two int8 graphs qcal evaluates: the Keras MNIST CNN for a batch of
// 64 (its prologue's Min and Max over the first Relu, 64×26×26×32, each
// in its own Context here, so two passes as before;
// QuantizeV2 of it; conv2d_1 3×3×32×64 VALID fused with bias, Relu and
// requantize; 2×2 max pooling, and average pooling on the same shape;
// the Dequantize after the pooling) and MobileNet
// v1 0.25/128's first and a late depthwise layer and its first pointwise
// layer (8 → 16 channels, a qint32 bias), batch 1. It uses only
// what the test helpers offered before the fast paths, so that the same
// file measures the code before and after them.
func BenchmarkInt8Ops(b *testing.B) {
	r := rand.New(rand.NewPCG(41, 42))
	relu := tensor.New(dtF32, []int{64, 26, 26, 32})
	for i := range relu.F32 {
		relu.F32[i] = max(0, r.Float32()*6-2)
	}
	flat := tensor.New(dtF32, []int{len(relu.F32)})
	flat.F32 = relu.F32
	codes := func(shape ...int) *tensor.Tensor {
		x := tensor.New(dtQU8, shape)
		for i := range x.U8 {
			x.U8[i] = uint8(r.IntN(256))
		}
		return x
	}
	filter := func(shape ...int) *tensor.Tensor {
		w := tensor.New(dtQI8, shape)
		for i := range w.I8 {
			w.I8[i] = int8(r.IntN(255) - 127)
		}
		return w
	}
	bias := func(n int) *tensor.Tensor {
		v := make([]float32, n)
		for i := range v {
			v[i] = r.Float32() - 0.5
		}
		return f32([]int{n}, v...)
	}
	fused := qconvAttrs(1, "VALID")
	fused["out_type"] = aType(dtQU8)
	dw := qconvAttrs(1, "SAME")
	dw["out_type"] = aType(dtQU8)
	x1, x2 := codes(64, 26, 26, 32), codes(64, 24, 24, 64)
	m1, m2 := codes(1, 64, 64, 8), codes(1, 8, 8, 128)
	pooled := codes(64, 12, 12, 64)
	w1, b1 := filter(3, 3, 32, 64), bias(64)
	wm1, bm1 := filter(3, 3, 8, 1), bias(8)
	wm2, bm2 := filter(3, 3, 128, 1), bias(128)
	pw, wpw := codes(1, 64, 64, 8), filter(1, 1, 8, 16)
	qb16 := tensor.New(dtQI32, []int{16})
	for i := range qb16.I32 {
		qb16.I32[i] = r.Int32N(1<<12) - 1<<11
	}
	mins, maxs := make([]float32, 128), make([]float32, 128)
	for i := range mins {
		mins[i], maxs[i] = -1, 1
	}
	cases := []struct {
		name  string
		bytes int
		run   func() error
	}{
		{"MinMax_64x26x26x32", 4 * len(flat.F32), func() error {
			for _, op := range []string{"Min", "Max"} {
				if _, err := runOp(op, attrs{"T": aType(dtF32)}, flat, i32([]int{1}, 0)); err != nil {
					return err
				}
			}
			return nil
		}},
		{"QuantizeV2_scaled_64x26x26x32", 4 * len(relu.F32), func() error {
			_, err := runOp("QuantizeV2", quantAttrs(dtQU8, "SCALED", "HALF_TO_EVEN"), relu, sc(0), sc(4))
			return err
		}},
		{"ConvBiasReluRequant_64x26x26x32_3x3x64", len(x1.U8), func() error {
			_, err := runOp("QuantizedConv2DWithBiasAndReluAndRequantize", fused, x1, w1, b1,
				sc(0), sc(4), sc(-1), sc(1), sc(0), sc(6))
			return err
		}},
		{"MaxPool_64x24x24x64", len(x2.U8), func() error {
			_, err := runOp("QuantizedMaxPool", qpoolAttrs(2, 2, "VALID"), x2, sc(0), sc(6))
			return err
		}},
		{"AvgPool_64x24x24x64", len(x2.U8), func() error {
			_, err := runOp("QuantizedAvgPool", qpoolAttrs(2, 2, "VALID"), x2, sc(0), sc(6))
			return err
		}},
		{"Dequantize_64x12x12x64", len(pooled.U8), func() error {
			_, err := runOp("Dequantize", attrs{"T": aType(dtQU8), "mode": aStr("SCALED")}, pooled, sc(0), sc(6))
			return err
		}},
		{"Depthwise_1x64x64x8", len(m1.U8), func() error {
			_, err := runOp("QuantizedDepthwiseConv2DWithBiasAndReluAndRequantize", dw, m1, wm1, bm1,
				sc(0), sc(6), f32([]int{8}, mins[:8]...), f32([]int{8}, maxs[:8]...), sc(0), sc(6))
			return err
		}},
		{"Pointwise_1x64x64x8_16", len(pw.U8), func() error {
			_, err := runOp("QuantizedConv2DWithBiasAndReluAndRequantize", fused, pw, wpw, qb16,
				sc(0), sc(6), f32([]int{16}, mins[:16]...), f32([]int{16}, maxs[:16]...), sc(0), sc(6))
			return err
		}},
		{"Depthwise_1x8x8x128", len(m2.U8), func() error {
			_, err := runOp("QuantizedDepthwiseConv2DWithBiasAndReluAndRequantize", dw, m2, wm2, bm2,
				sc(0), sc(6), f32([]int{128}, mins...), f32([]int{128}, maxs...), sc(0), sc(6))
			return err
		}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(c.bytes))
			b.ReportAllocs()
			for b.Loop() {
				if err := c.run(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
