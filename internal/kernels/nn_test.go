package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"qcal/internal/tensor"
	"qcal/internal/tfpb"
)

func convAttrs(padding string, sh, sw, dh, dw int) attrs {
	return attrs{"T": aType(tfpb.DataType_DT_FLOAT), "padding": aStr(padding),
		"strides": aInts(1, sh, sw, 1), "dilations": aInts(1, dh, dw, 1), "data_format": aStr("NHWC")}
}

// refConv is the obvious convolution from its definition: y[b,oy,ox,o] =
// Σ x[b, oy·s − pad + ky·d, ox·s − pad + kx·d, c] · f[ky,kx,c,o] over
// in-bounds positions, summed in float64. depthwise reads filter column
// (c, m) for output channel c·mult + m instead.
func refConv(x, f *tensor.Tensor, win Window, depthwise bool) []float32 {
	n, h, w, ch := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	kh, kw, oc := f.Shape[0], f.Shape[1], f.Shape[3]
	if depthwise {
		oc = ch * f.Shape[3]
	}
	y := make([]float32, n*win.OH*win.OW*oc)
	for b := 0; b < n; b++ {
		for oy := 0; oy < win.OH; oy++ {
			for ox := 0; ox < win.OW; ox++ {
				for o := 0; o < oc; o++ {
					var s float64
					for ky := 0; ky < kh; ky++ {
						for kx := 0; kx < kw; kx++ {
							iy, ix := oy*win.SH-win.PadT+ky*win.DH, ox*win.SW-win.PadL+kx*win.DW
							if iy < 0 || iy >= h || ix < 0 || ix >= w {
								continue
							}
							if depthwise {
								c, m := o/f.Shape[3], o%f.Shape[3]
								s += float64(x.F32[((b*h+iy)*w+ix)*ch+c]) * float64(f.F32[((ky*kw+kx)*ch+c)*f.Shape[3]+m])
								continue
							}
							for c := 0; c < ch; c++ {
								s += float64(x.F32[((b*h+iy)*w+ix)*ch+c]) * float64(f.F32[((ky*kw+kx)*ch+c)*oc+o])
							}
						}
					}
					y[((b*win.OH+oy)*win.OW+ox)*oc+o] = float32(s)
				}
			}
		}
	}
	return y
}

func TestWindow(t *testing.T) {
	cases := []struct {
		h, k, s, d     int
		pad            string
		out, padBefore int
	}{
		// SAME: out = ceil(5/2) = 3; total = (3-1)·2 + 3 - 5 = 2 → 1 before.
		{5, 3, 2, 1, "SAME", 3, 1},
		// SAME, even total split: h=4, k=3, s=1: total 2 → 1 before.
		{4, 3, 1, 1, "SAME", 4, 1},
		// SAME, odd total: h=3, k=2, s=1: total = 2·1+2-3 = 1 → 0 before (the extra row goes after).
		{3, 2, 1, 1, "SAME", 3, 0},
		// stride beyond kernel: h=7, k=2, s=3: out = ceil(7/3) = 3; total = 2·3+2-7 = 1 → 0.
		{7, 2, 3, 1, "SAME", 3, 0},
		// VALID with stride: out = (5-3)/2 + 1 = 2.
		{5, 3, 2, 1, "VALID", 2, 0},
		// dilation 2: effective kernel (3-1)·2+1 = 5; VALID on 7: out = 3.
		{7, 3, 1, 2, "VALID", 3, 0},
		// SAME with dilation: total = (7-1)·1 + 5 - 7 = 4 → 2 before.
		{7, 3, 1, 2, "SAME", 7, 2},
	}
	for _, c := range cases {
		win, err := NewWindow(c.h, c.h, c.k, c.k, c.s, c.s, c.d, c.d, c.pad, nil)
		if err != nil {
			t.Fatal(err)
		}
		if win.OH != c.out || win.PadT != c.padBefore || win.OW != c.out || win.PadL != c.padBefore {
			t.Errorf("h=%d k=%d s=%d d=%d %s: out %d pad %d, want %d %d", c.h, c.k, c.s, c.d, c.pad, win.OH, win.PadT, c.out, c.padBefore)
		}
	}
	if _, err := NewWindow(2, 2, 3, 3, 1, 1, 1, 1, "VALID", nil); err == nil {
		t.Error("VALID window larger than the input not refused")
	}
}

func TestConv2DByHand(t *testing.T) {
	// x = 1..9 as a 3×3 image, filter 2×2 of ones, one channel in and out.
	x := ramp(1, 3, 3, 1)
	f := f32([]int{2, 2, 1, 1}, 1, 1, 1, 1)
	// VALID: sums of 2×2 blocks: 1+2+4+5=12, 2+3+5+6=16, 4+5+7+8=24, 5+6+8+9=28.
	y := mustRun(t, "Conv2D", convAttrs("VALID", 1, 1, 1, 1), x, f)[0]
	same(t, "VALID", y, []int{1, 2, 2, 1}, []float32{12, 16, 24, 28}, 0)
	// SAME: total padding 1 goes after (bottom/right): the last row and
	// column sum what remains: 3+6=9, 7+8=15, 9.
	y = mustRun(t, "Conv2D", convAttrs("SAME", 1, 1, 1, 1), x, f)[0]
	same(t, "SAME", y, []int{1, 3, 3, 1}, []float32{12, 16, 9, 24, 28, 15, 15, 17, 9}, 0)
	// Two output channels, the second filter doubled: 2·12 = 24 etc.
	f2 := f32([]int{2, 2, 1, 2}, 1, 2, 1, 2, 1, 2, 1, 2)
	y = mustRun(t, "Conv2D", convAttrs("VALID", 1, 1, 1, 1), x, f2)[0]
	same(t, "two channels", y, []int{1, 2, 2, 2}, []float32{12, 24, 16, 32, 24, 48, 28, 56}, 0)
	// Stride 2 > kernel 1: picks x[0,0], x[0,2], x[2,0], x[2,2] = 1, 3, 7, 9.
	y = mustRun(t, "Conv2D", convAttrs("VALID", 2, 2, 1, 1), x, f32([]int{1, 1, 1, 1}, 1))[0]
	same(t, "stride 2, 1×1", y, []int{1, 2, 2, 1}, []float32{1, 3, 7, 9}, 0)
	// Dilation 2 on a 2×2 filter of ones reads the corners: 1+3+7+9 = 20.
	y = mustRun(t, "Conv2D", convAttrs("VALID", 1, 1, 2, 2), x, f)[0]
	same(t, "dilation 2", y, []int{1, 1, 1, 1}, []float32{20}, 0)

	wantErr(t, "Conv2D", convAttrs("VALID", 1, 1, 1, 1), "filter float[2,2,2,1] has 2 input channels, the input float[1,3,3,1] has 1", x, ramp(2, 2, 2, 1))
	wantErr(t, "Conv2D", convAttrs("FULL", 1, 1, 1, 1), `padding "FULL" is not SAME, VALID or EXPLICIT`, x, f)
	a := convAttrs("VALID", 1, 1, 1, 1)
	a["data_format"] = aStr("NCHW")
	wantErr(t, "Conv2D", a, `data_format "NCHW" is not supported`, x, f)
}

// TestConv2DAgainstReference compares im2col+GEMM with refConv on shapes
// covering odd SAME padding, strides beyond the kernel, dilations,
// EXPLICIT padding, 1×1 fast paths, batches, and a chunked im2col.
func TestConv2DAgainstReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	cases := []struct {
		n, h, w, c, kh, kw, o, sh, sw, dh, dw int
		pad                                   string
	}{
		{1, 5, 5, 1, 3, 3, 1, 1, 1, 1, 1, "SAME"},
		{2, 7, 6, 3, 3, 2, 4, 2, 2, 1, 1, "SAME"},
		{1, 9, 9, 2, 2, 2, 3, 3, 3, 1, 1, "SAME"},
		{1, 9, 9, 2, 2, 2, 3, 3, 3, 1, 1, "VALID"},
		{1, 11, 10, 2, 3, 3, 2, 1, 2, 2, 3, "SAME"},
		{1, 11, 10, 2, 3, 3, 2, 1, 1, 2, 2, "VALID"},
		{3, 4, 4, 5, 1, 1, 7, 1, 1, 1, 1, "VALID"}, // 1×1: GEMM on x itself
		{1, 6, 6, 3, 1, 1, 2, 2, 2, 1, 1, "SAME"},  // 1×1 strided: im2col
		{2, 8, 8, 3, 5, 5, 6, 1, 1, 1, 1, "EXPLICIT"},
		{4, 28, 28, 32, 3, 3, 64, 1, 1, 1, 1, "VALID"}, // Keras MNIST conv2: im2col in chunks
	}
	for _, c := range cases {
		name := fmt.Sprintf("%dx%dx%dx%d_k%dx%dx%d_s%d%d_d%d%d_%s", c.n, c.h, c.w, c.c, c.kh, c.kw, c.o, c.sh, c.sw, c.dh, c.dw, c.pad)
		t.Run(name, func(t *testing.T) {
			x := random(r, c.n, c.h, c.w, c.c)
			f := random(r, c.kh, c.kw, c.c, c.o)
			a := convAttrs(c.pad, c.sh, c.sw, c.dh, c.dw)
			var explicit []int
			if c.pad == "EXPLICIT" {
				explicit = []int{0, 0, 2, 1, 0, 3, 0, 0}
				a["explicit_paddings"] = aInts(explicit...)
			}
			y := mustRun(t, "Conv2D", a, x, f)[0]
			win, err := NewWindow(c.h, c.w, c.kh, c.kw, c.sh, c.sw, c.dh, c.dw, c.pad, explicit)
			if err != nil {
				t.Fatal(err)
			}
			// float32 sums of k terms in [-1,1]: error well under k·2^-24·k.
			k := float64(c.kh * c.kw * c.c)
			same(t, name, y, []int{c.n, win.OH, win.OW, c.o}, refConv(x, f, win, false), k*1e-6)
		})
	}
}

func TestDepthwiseByHand(t *testing.T) {
	// Two channels: x channel 0 = 1..4, channel 1 = 10·(1..4) as a 2×2
	// image; filter 2×2, multiplier 2: channel 0 × (1, then 2), channel 1
	// × (1, then -1). VALID gives one pixel with 4 outputs:
	// c0: 1+2+3+4 = 10, 20; c1: 100, -100.
	x := f32([]int{1, 2, 2, 2}, 1, 10, 2, 20, 3, 30, 4, 40)
	f := f32([]int{2, 2, 2, 2}, 1, 2, 1, -1, 1, 2, 1, -1, 1, 2, 1, -1, 1, 2, 1, -1)
	y := mustRun(t, "DepthwiseConv2dNative", convAttrs("VALID", 1, 1, 1, 1), x, f)[0]
	same(t, "depthwise", y, []int{1, 1, 1, 4}, []float32{10, 20, 100, -100}, 0)
}

func TestDepthwiseAgainstReference(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	cases := []struct {
		n, h, w, c, k, mult, s, d int
		pad                       string
	}{
		{1, 7, 7, 3, 3, 1, 2, 1, "SAME"},
		{2, 8, 5, 4, 3, 2, 1, 1, "SAME"},
		{1, 9, 9, 2, 2, 3, 3, 1, "VALID"},
		{1, 10, 10, 2, 3, 1, 1, 2, "SAME"},
		{1, 64, 64, 8, 3, 1, 1, 1, "SAME"}, // mobilenet-sized: runs on both cores
	}
	for _, c := range cases {
		x := random(r, c.n, c.h, c.w, c.c)
		f := random(r, c.k, c.k, c.c, c.mult)
		y := mustRun(t, "DepthwiseConv2dNative", convAttrs(c.pad, c.s, c.s, c.d, c.d), x, f)[0]
		win, _ := NewWindow(c.h, c.w, c.k, c.k, c.s, c.s, c.d, c.d, c.pad, nil)
		same(t, fmt.Sprint(c), y, []int{c.n, win.OH, win.OW, c.c * c.mult}, refConv(x, f, win, true), 1e-5)
	}
}

func poolAttrs(padding string, k, s int) attrs {
	return attrs{"T": aType(tfpb.DataType_DT_FLOAT), "padding": aStr(padding), "ksize": aInts(1, k, k, 1), "strides": aInts(1, s, s, 1)}
}

func TestPools(t *testing.T) {
	x := ramp(1, 3, 3, 1) // 1..9
	// SAME, k=2, s=2 on 3: out 2, total padding (2-1)·2+2-3 = 1, after.
	// Max: max(1,2,4,5)=5, max(3,6)=6, max(7,8)=8, 9.
	y := mustRun(t, "MaxPool", poolAttrs("SAME", 2, 2), x)[0]
	same(t, "max SAME", y, []int{1, 2, 2, 1}, []float32{5, 6, 8, 9}, 0)
	// Avg leaves padding out of the count: (1+2+4+5)/4 = 3, (3+6)/2 = 4.5,
	// (7+8)/2 = 7.5, 9/1 = 9.
	y = mustRun(t, "AvgPool", poolAttrs("SAME", 2, 2), x)[0]
	same(t, "avg SAME", y, []int{1, 2, 2, 1}, []float32{3, 4.5, 7.5, 9}, 0)
	// VALID k=2 s=1: max of each 2×2 block: 5, 6, 8, 9; avg: 3, 4, 6, 7.
	y = mustRun(t, "MaxPool", poolAttrs("VALID", 2, 1), x)[0]
	same(t, "max VALID", y, []int{1, 2, 2, 1}, []float32{5, 6, 8, 9}, 0)
	y = mustRun(t, "AvgPool", poolAttrs("VALID", 2, 1), x)[0]
	same(t, "avg VALID", y, []int{1, 2, 2, 1}, []float32{3, 4, 6, 7}, 0)
	// Stride beyond the window: k=1, s=2 picks 1, 3, 7, 9.
	y = mustRun(t, "MaxPool", poolAttrs("VALID", 1, 2), x)[0]
	same(t, "max stride>k", y, []int{1, 2, 2, 1}, []float32{1, 3, 7, 9}, 0)
	// Max over negatives: padding never contributes a 0.
	neg := f32([]int{1, 1, 3, 1}, -3, -2, -1)
	y = mustRun(t, "MaxPool", attrs{"padding": aStr("SAME"), "ksize": aInts(1, 1, 2, 1), "strides": aInts(1, 1, 2, 1)}, neg)[0]
	same(t, "max negatives SAME", y, []int{1, 1, 2, 1}, []float32{-2, -1}, 0)
	wantErr(t, "MaxPool", attrs{"padding": aStr("VALID"), "ksize": aInts(2, 2), "strides": aInts(1, 1, 1, 1)}, "ksize [2 2]: want [1, h, w, 1]", x)
}

func TestMatMul(t *testing.T) {
	a := ramp(2, 3) // [[1 2 3] [4 5 6]]
	b := ramp(3, 2) // [[1 2] [3 4] [5 6]]
	// a·b = [[1+6+15, 2+8+18], [4+15+30, 8+20+36]] = [[22 28] [49 64]].
	y := mustRun(t, "MatMul", attrs{}, a, b)[0]
	same(t, "a·b", y, []int{2, 2}, []float32{22, 28, 49, 64}, 0)
	// aᵀ·aᵀ... a (2×3) transposed is 3×2; with b transposed (2×3):
	// bᵀ·aᵀ = (a·b)ᵀ = [[22 49] [28 64]].
	y = mustRun(t, "MatMul", attrs{"transpose_a": aBool(true), "transpose_b": aBool(true)}, b, a)[0]
	same(t, "bᵀ·aᵀ", y, []int{2, 2}, []float32{22, 49, 28, 64}, 0)
	// a·aᵀ = [[1+4+9, 4+10+18], [.., 16+25+36]] = [[14 32] [32 77]].
	y = mustRun(t, "MatMul", attrs{"transpose_b": aBool(true)}, a, a)[0]
	same(t, "a·aᵀ", y, []int{2, 2}, []float32{14, 32, 32, 77}, 0)
	wantErr(t, "MatMul", attrs{}, "inner dimensions differ: float[2,3] × float[2,3]", a, a)
}

func TestBiasAdd(t *testing.T) {
	// Two pixels of three channels, 1..6, plus 10, 20, 30 per channel.
	y := mustRun(t, "BiasAdd", attrs{}, ramp(2, 1, 1, 3), f32([]int{3}, 10, 20, 30))[0]
	same(t, "bias", y, []int{2, 1, 1, 3}, []float32{11, 22, 33, 14, 25, 36}, 0)
	wantErr(t, "BiasAdd", attrs{}, "bias float[2] does not match the last dimension of float[2,3]", ramp(2, 3), ramp(2))
}

func TestSoftmax(t *testing.T) {
	// e^(x−3) for 1, 2, 3: e^-2 = 0.13533528, e^-1 = 0.36787944, 1;
	// sum 1.50321472 → 0.09003057, 0.24472847, 0.66524096.
	y := mustRun(t, "Softmax", attrs{}, f32([]int{2, 3}, 1, 2, 3, 1000, 1000, 1000))[0]
	same(t, "softmax", y, []int{2, 3}, []float32{0.09003057, 0.24472847, 0.66524096, 1.0 / 3, 1.0 / 3, 1.0 / 3}, 1e-7)
}

func TestBatchNorms(t *testing.T) {
	// Channel 0: x=3, mean 1, var 3, ε 1 → rsqrt(4) = 0.5; scale 2 → (3−1)·2·0.5 + 0.5 = 2.5.
	// Channel 1: x=−1, mean 0, var 0, ε 1 → 1; scale 1 → −1 + 0 = −1.
	x := f32([]int{1, 1, 1, 2}, 3, -1)
	scale, offset := f32([]int{2}, 2, 1), f32([]int{2}, 0.5, 0)
	mean, variance := f32([]int{2}, 1, 0), f32([]int{2}, 3, 0)
	a := attrs{"epsilon": aFloat(1), "is_training": aBool(false), "data_format": aStr("NHWC")}
	out := mustRun(t, "FusedBatchNormV3", a, x, scale, offset, mean, variance)
	same(t, "FusedBatchNormV3", out[0], []int{1, 1, 1, 2}, []float32{2.5, -1}, 1e-7)
	if len(out) != 6 || out[1] != mean || out[2] != variance {
		t.Errorf("FusedBatchNormV3: %d outputs; batch_mean/var should pass the inputs through", len(out))
	}
	wantErr(t, "FusedBatchNorm", attrs{"is_training": aBool(true)}, "only inference", x, scale, offset, mean, variance)
	// BatchNormWithGlobalNormalization takes t, m, v, beta, gamma.
	b := attrs{"variance_epsilon": aFloat(1), "scale_after_normalization": aBool(true)}
	y := mustRun(t, "BatchNormWithGlobalNormalization", b, x, mean, variance, offset, scale)[0]
	same(t, "BNGlobal", y, []int{1, 1, 1, 2}, []float32{2.5, -1}, 1e-7)
	// Without γ: (3−1)·0.5 + 0.5 = 1.5; −1·1 + 0 = −1.
	b["scale_after_normalization"] = aBool(false)
	y = mustRun(t, "BatchNormWithGlobalNormalization", b, x, mean, variance, offset, scale)[0]
	same(t, "BNGlobal no scale", y, []int{1, 1, 1, 2}, []float32{1.5, -1}, 1e-7)
}

// TestConvBatchEqualsSingles pins the im2col row order: conv2D on a batch must
// equal the convs of its images one at a time.
func TestConvBatchEqualsSingles(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	x := random(r, 3, 6, 6, 2)
	f := random(r, 3, 3, 2, 4)
	a := convAttrs("SAME", 1, 1, 1, 1)
	y := mustRun(t, "Conv2D", a, x, f)[0]
	per := 6 * 6 * 2
	for b := 0; b < 3; b++ {
		one := mustRun(t, "Conv2D", a, tensor.FromF32([]int{1, 6, 6, 2}, x.F32[b*per:(b+1)*per]), f)[0]
		same(t, fmt.Sprint("image ", b), one, []int{1, 6, 6, 4}, y.F32[b*6*6*4:(b+1)*6*6*4], 0)
	}
}

var sinkF32 []float32

// BenchmarkConv2D times the two convolutions of the Keras MNIST CNN
// (mnist_keras_cnn_frozen.pb: 28×28×1 → 3×3×32 VALID → 3×3×64 VALID) on a
// batch of 100 images.
func BenchmarkConv2D(b *testing.B) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, c := range []struct {
		name        string
		h, ch, o, k int
	}{{"conv1_28x28x1_k3x3x32", 28, 1, 32, 3}, {"conv2_26x26x32_k3x3x64", 26, 32, 64, 3}} {
		b.Run(c.name, func(b *testing.B) {
			const n = 100
			x := random(r, n, c.h, c.h, c.ch)
			f := random(r, c.k, c.k, c.ch, c.o)
			win, _ := NewWindow(c.h, c.h, c.k, c.k, 1, 1, 1, 1, "VALID", nil)
			y := make([]float32, n*win.OH*win.OW*c.o)
			s := new(Scratch)
			flops := 2 * float64(n*win.OH*win.OW*c.o*c.k*c.k*c.ch)
			b.SetBytes(int64(4 * len(x.F32)))
			b.ReportAllocs()
			for b.Loop() {
				Conv2DF32(x.F32, n, c.ch, f.F32, c.o, win, y, s)
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			sinkF32 = y
		})
	}
}

// TestIm2ColPad: padding positions get the pad value the caller gives
// (the int8 kernels' zero point). A 2×2 uint8 image 1 2 / 3 4, 2×2 window,
// SAME: total padding 1 after each dimension, so the last row and column
// of windows read the pad 128.
func TestIm2ColPad(t *testing.T) {
	win, err := NewWindow(2, 2, 2, 2, 1, 1, 1, 1, "SAME", nil)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]uint8, 4*4)
	Im2Col([]uint8{1, 2, 3, 4}, 1, win, 0, 4, buf, 128)
	want := []uint8{1, 2, 3, 4, 2, 128, 4, 128, 3, 4, 128, 128, 4, 128, 128, 128}
	for i := range want {
		if buf[i] != want[i] {
			t.Fatalf("im2col rows %v, want %v", buf, want)
		}
	}
}
