package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"qcal/internal/tensor"
	"qcal/internal/tfpb"
	"qcal/quant"
)

var sinkI32 []int32

// BenchmarkInt8Conv: the Keras MNIST CNN's conv2d_1 (26×26×32 input,
// 3×3×32×50 filter, VALID, batch 16) as Intel's quint8×qint8 convolution
// (ConvU8S8), TF's reference quint8×quint8 with zero points
// (ConvU8U8Offsets), and the same shape in FP32 (Conv2DF32) for
// comparison. GOP/s counts a multiply and an add per tap.
func BenchmarkInt8Conv(b *testing.B) {
	const n, h, ch, k, oc = 16, 26, 32, 3, 50
	r := rand.New(rand.NewPCG(9, 10))
	win, _ := NewWindow(h, h, k, k, 1, 1, 1, 1, "VALID", nil)
	ops := 2 * float64(n*win.OH*win.OW*oc*k*k*ch)
	x := make([]uint8, n*h*h*ch)
	for i := range x {
		x[i] = uint8(r.IntN(256))
	}
	ws := make([]int8, k*k*ch*oc)
	wu := make([]uint8, len(ws))
	for i := range ws {
		ws[i] = int8(r.IntN(256) - 128)
		wu[i] = uint8(r.IntN(256))
	}
	acc := make([]int32, n*win.OH*win.OW*oc)
	report := func(b *testing.B) {
		b.ReportMetric(ops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GOP/s")
		b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "images/s")
	}
	b.Run("u8s8_mkl", func(b *testing.B) {
		s := new(Scratch)
		b.SetBytes(int64(len(x)))
		b.ReportAllocs()
		for b.Loop() {
			ConvU8S8(x, n, ch, ws, oc, win, 0, acc, s)
		}
		report(b)
		sinkI32 = acc
	})
	b.Run("u8u8_reference_offsets", func(b *testing.B) {
		s := new(Scratch)
		b.SetBytes(int64(len(x)))
		b.ReportAllocs()
		for b.Loop() {
			ConvU8U8Offsets(x, n, ch, wu, oc, win, 128, 131, acc, s)
		}
		report(b)
		sinkI32 = acc
	})
	b.Run("f32", func(b *testing.B) {
		xf := random(r, n, h, h, ch)
		f := random(r, k, k, ch, oc)
		y := make([]float32, len(acc))
		s := new(Scratch)
		b.SetBytes(int64(4 * len(xf.F32)))
		b.ReportAllocs()
		for b.Loop() {
			Conv2DF32(xf.F32, n, ch, f.F32, oc, win, y, s)
		}
		report(b)
		sinkF32 = y
	})
}

// BenchmarkInt8Elementwise: the per-activation kernels of a calibration
// run (QuantizeV2 both ways, Requantize, RequantizationRange, Dequantize)
// on the conv2d_1 output size (batch 16 × 24×24×50).
func BenchmarkInt8Elementwise(b *testing.B) {
	const n = 16 * 24 * 24 * 50
	r := rand.New(rand.NewPCG(17, 18))
	x := tensor.New(dtF32, []int{n})
	for i := range x.F32 {
		x.F32[i] = r.Float32() * 6
	}
	acc := qi32([]int{n})
	for i := range acc.I32 {
		acc.I32[i] = int32(r.IntN(1<<24) - 1<<20)
	}
	codes := tensor.New(dtQU8, []int{n})
	for i := range codes.U8 {
		codes.U8[i] = uint8(r.IntN(256))
	}
	cases := []struct {
		name, op string
		a        attrs
		in       []*tensor.Tensor
		bytes    int
	}{
		{"QuantizeV2_mkl_scaled", "QuantizeV2", quantAttrs(dtQU8, "SCALED", "HALF_TO_EVEN"), []*tensor.Tensor{x, sc(0), sc(6)}, 4 * n},
		{"QuantizeV2_min_first", "QuantizeV2", attrs{"T": aType(dtQU8), "mode": aStr("MIN_FIRST")}, []*tensor.Tensor{x, sc(0), sc(6)}, 4 * n},
		{"RequantizationRange", "RequantizationRange", attrs{"Tinput": aType(dtQI32)}, []*tensor.Tensor{acc, sc(-100), sc(100)}, 4 * n},
		{"Requantize", "Requantize", attrs{"Tinput": aType(dtQI32), "out_type": aType(dtQU8)}, []*tensor.Tensor{acc, sc(-100), sc(100), sc(0), sc(6)}, 4 * n},
		{"Dequantize_scaled", "Dequantize", attrs{"T": aType(dtQU8), "mode": aStr("SCALED")}, []*tensor.Tensor{codes, sc(0), sc(6)}, n},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(c.bytes))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := runOp(c.op, c.a, c.in...); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Melem/s")
		})
	}
}

// BenchmarkInt8Depthwise: MobileNet v1 0.25/128's depthwise layers as
// Intel's fused QuantizedDepthwiseConv2DWithBiasAndReluAndRequantize
// (quint8 in and out, 3×3 SAME, batch 1): the first (64×64×8, stride
// 1), a strided one (64×64×16, stride 2) and a late one (8×8×128). GOP/s
// counts a multiply and an add per tap.
func BenchmarkInt8Depthwise(b *testing.B) {
	for _, c := range []struct{ h, ch, s int }{{64, 8, 1}, {64, 16, 2}, {8, 128, 1}} {
		b.Run(fmt.Sprintf("%dx%dx%d_s%d", c.h, c.h, c.ch, c.s), func(b *testing.B) {
			r := rand.New(rand.NewPCG(31, 32))
			win, _ := NewWindow(c.h, c.h, 3, 3, c.s, c.s, 1, 1, "SAME", nil)
			x := make([]uint8, c.h*c.h*c.ch)
			for i := range x {
				x[i] = uint8(r.IntN(256))
			}
			w := make([]int8, 9*c.ch)
			bias, scale := make([]float32, c.ch), make([]float32, c.ch)
			for i := range w {
				w[i] = int8(r.IntN(256) - 128)
			}
			for j := range bias {
				bias[j], scale[j] = r.Float32()*1000, r.Float32()*1e-3
			}
			ep := newConvEpilogue(c.ch, bias, scale, true, quant.QUInt8)
			y := tensor.New(dtQU8, []int{1, win.OH, win.OW, c.ch})
			b.SetBytes(int64(len(x)))
			b.ReportAllocs()
			for b.Loop() {
				depthwiseMKL(x, 1, c.ch, w, 1, win, ep, y)
			}
			b.ReportMetric(2*9*float64(len(y.U8))*float64(b.N)/b.Elapsed().Seconds()/1e9, "GOP/s")
		})
	}
}

// BenchmarkInt8Epilogue: the fused convolution's epilogue (bias, scale,
// Relu, round and saturate to quint8) on the Keras CNN's conv2d_1 output
// for a batch of 64 (64·24·24 pixels × 64 channels).
func BenchmarkInt8Epilogue(b *testing.B) {
	const rows, oc = 64 * 24 * 24, 64
	r := rand.New(rand.NewPCG(33, 34))
	acc := make([]int32, rows*oc)
	for i := range acc {
		acc[i] = int32(r.IntN(1<<20) - 1<<19)
	}
	bias, scale := make([]float32, oc), make([]float32, oc)
	for j := range bias {
		bias[j], scale[j] = r.Float32()*1e4, r.Float32()*1e-3
	}
	ep := newConvEpilogue(oc, bias, scale, true, quant.QUInt8)
	y := tensor.New(dtQU8, []int{rows, oc})
	b.SetBytes(int64(4 * len(acc)))
	b.ReportAllocs()
	for b.Loop() {
		ep.apply(acc, oc, y, 0)
	}
	b.ReportMetric(float64(len(acc))*float64(b.N)/b.Elapsed().Seconds()/1e6, "Melem/s")
}

// BenchmarkInt8MinMax: the Min and Max of a QuantizeV2 prologue over the
// Keras CNN's first Relu output for a batch of 64 (64·26·26·32 floats),
// run as the graph runs them: Min, then Max of the same tensor.
func BenchmarkInt8MinMax(b *testing.B) {
	const n = 64 * 26 * 26 * 32
	r := rand.New(rand.NewPCG(35, 36))
	x := tensor.New(dtF32, []int{n})
	for i := range x.F32 {
		x.F32[i] = max(0, r.Float32()*6-2)
	}
	axes := i32([]int{1}, 0)
	b.SetBytes(4 * n)
	b.ReportAllocs()
	for b.Loop() {
		c := &Context{Inputs: []*tensor.Tensor{x, axes}, Node: &tfpb.NodeDef{Name: "m", Op: "Min"}}
		for _, op := range []string{"Min", "Max"} {
			if _, err := reduceKernel(op)(c); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Melem/s")
}

// BenchmarkInt8MaxPool: QuantizedMaxPool 2×2 stride 2 on the Keras CNN's
// conv2d_1 output for a batch of 64 (64×24×24×64 quint8).
func BenchmarkInt8MaxPool(b *testing.B) {
	r := rand.New(rand.NewPCG(37, 38))
	x := tensor.New(dtQU8, []int{64, 24, 24, 64})
	for i := range x.U8 {
		x.U8[i] = uint8(r.IntN(256))
	}
	a := qpoolAttrs(2, 2, "VALID")
	b.SetBytes(int64(len(x.U8)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := runOp("QuantizedMaxPool", a, x, sc(0), sc(6)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(x.U8))*float64(b.N)/b.Elapsed().Seconds()/1e6, "Melem/s")
}
