package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"qcal/internal/tensor"
	"qcal/quant"
)

// slowConv is the obvious convolution: for each output, the sum over the
// in-image taps of (x - ox)·(w - ow); taps outside the image add nothing
// (TF's reference pads with ox, Intel's with 0 and ox = 0).
func slowConv(x []int32, n, h, w, ch int, f []int32, kh, kw, oc int, win Window, ox, ow int32) []int32 {
	out := make([]int32, n*win.OH*win.OW*oc)
	for b := 0; b < n; b++ {
		for oy := 0; oy < win.OH; oy++ {
			for oxp := 0; oxp < win.OW; oxp++ {
				for o := 0; o < oc; o++ {
					var s int32
					for ky := 0; ky < kh; ky++ {
						for kx := 0; kx < kw; kx++ {
							iy := oy*win.SH - win.PadT + ky*win.DH
							ix := oxp*win.SW - win.PadL + kx*win.DW
							if iy < 0 || iy >= h || ix < 0 || ix >= w {
								continue
							}
							for ci := 0; ci < ch; ci++ {
								xv := x[((b*h+iy)*w+ix)*ch+ci]
								fv := f[((ky*kw+kx)*ch+ci)*oc+o]
								s += (xv - ox) * (fv - ow)
							}
						}
					}
					out[((b*win.OH+oy)*win.OW+oxp)*oc+o] = s
				}
			}
		}
	}
	return out
}

type convCase struct {
	n, h, w, ch, kh, kw, oc, s, d int
	pad                           string
}

func convCases(r *rand.Rand) []convCase {
	cs := []convCase{
		{1, 1, 1, 1, 1, 1, 1, 1, 1, "VALID"},
		{2, 5, 6, 3, 3, 3, 4, 1, 1, "SAME"},
		{1, 8, 8, 2, 1, 1, 3, 4, 1, "VALID"}, // (8-1) % 4 = 3: the reference's origin quirk
		{1, 9, 7, 5, 3, 2, 7, 2, 1, "SAME"},
		{3, 7, 7, 4, 2, 2, 5, 3, 1, "VALID"},
		{1, 10, 10, 3, 3, 3, 2, 1, 2, "SAME"}, // dilated (Intel only)
	}
	for i := 0; i < 6; i++ {
		k := 1 + r.IntN(4)
		cs = append(cs, convCase{1 + r.IntN(2), k + r.IntN(8), k + r.IntN(8), 1 + r.IntN(9), k, k, 1 + r.IntN(17), 1 + r.IntN(3), 1,
			[]string{"SAME", "VALID"}[r.IntN(2)]})
	}
	return cs
}

func randCodes(r *rand.Rand, n int, lo, hi int32) []int32 {
	v := make([]int32, n)
	for i := range v {
		v[i] = lo + r.Int32N(hi-lo+1)
	}
	return v
}

// TestConvU8S8MatchesDirect: the im2col + gemm.U8S8 path equals the
// direct sum exactly, extreme codes included (255·-128 taps).
func TestConvU8S8MatchesDirect(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, cc := range convCases(r) {
		name := fmt.Sprintf("%+v", cc)
		win, err := NewWindow(cc.h, cc.w, cc.kh, cc.kw, cc.s, cc.s, cc.d, cc.d, cc.pad, nil)
		if err != nil {
			t.Fatal(name, err)
		}
		x := randCodes(r, cc.n*cc.h*cc.w*cc.ch, 0, 255)
		f := randCodes(r, cc.kh*cc.kw*cc.ch*cc.oc, -128, 127)
		if cc.ch > 2 {
			for i := range x[:len(x)/2] {
				x[i] = 255
			}
			for i := range f[:len(f)/2] {
				f[i] = -128
			}
		}
		xu, fs := make([]uint8, len(x)), make([]int8, len(f))
		for i, v := range x {
			xu[i] = uint8(v)
		}
		for i, v := range f {
			fs[i] = int8(v)
		}
		got := make([]int32, cc.n*win.OH*win.OW*cc.oc)
		ConvU8S8(xu, cc.n, cc.ch, fs, cc.oc, win, 0, got, new(Scratch))
		want := slowConv(x, cc.n, cc.h, cc.w, cc.ch, f, cc.kh, cc.kw, cc.oc, win, 0, 0)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: gemm path differs from the direct sum", name)
		}
	}
}

// TestConvU8U8OffsetsMatchesDirect: the zero-point expansion through
// gemm.U8S8 equals Σ(x-ox)(w-ow) over in-image taps, with the
// reference's window origins.
func TestConvU8U8OffsetsMatchesDirect(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, cc := range convCases(r) {
		if cc.d != 1 {
			continue
		}
		for _, off := range [][2]int32{{0, 0}, {128, 77}, {255, 255}, {int32(r.IntN(256)), int32(r.IntN(256))}} {
			name := fmt.Sprintf("%+v off %v", cc, off)
			win, err := NewWindow(cc.h, cc.w, cc.kh, cc.kw, cc.s, cc.s, 1, 1, cc.pad, nil)
			if err != nil {
				t.Fatal(name, err)
			}
			win = referenceOrigin(win, cc.pad)
			x := randCodes(r, cc.n*cc.h*cc.w*cc.ch, 0, 255)
			f := randCodes(r, cc.kh*cc.kw*cc.ch*cc.oc, 0, 255)
			xu, fu := make([]uint8, len(x)), make([]uint8, len(f))
			for i, v := range x {
				xu[i] = uint8(v)
			}
			for i, v := range f {
				fu[i] = uint8(v)
			}
			got := make([]int32, cc.n*win.OH*win.OW*cc.oc)
			ConvU8U8Offsets(xu, cc.n, cc.ch, fu, cc.oc, win, off[0], off[1], got, nil)
			want := slowConv(x, cc.n, cc.h, cc.w, cc.ch, f, cc.kh, cc.kw, cc.oc, win, off[0], off[1])
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%s: expansion differs from the direct sum", name)
			}
		}
	}
}

func qconvAttrs(stride int, pad string) attrs {
	return attrs{"Tinput": aType(dtQU8), "Tfilter": aType(dtQI8), "out_type": aType(dtQI32),
		"strides": aInts(1, stride, stride, 1), "padding": aStr(pad)}
}

// TestQuantizedConv2DReference: TF's reference kernel with zero points and
// its window origin quirk.
func TestQuantizedConv2DReference(t *testing.T) {
	a := qconvAttrs(4, "VALID")
	a["Tfilter"] = aType(dtQU8)
	// 8×8 input, 1×1 filter, stride 4, VALID: out 2×2; origin offset
	// ((2-1)·4 + 1 - 8 + 1)/2 = -2/2 = -1, so the windows sit at rows and
	// columns 1 and 5, not 0 and 4. x range [0, 255] → ox = 0; w range
	// [0, 255] → ow = 0; w code 1: the output is the picked code.
	x := tensor.New(dtQU8, []int{1, 8, 8, 1})
	for i := range x.U8 {
		x.U8[i] = uint8(i)
	}
	out := mustRun(t, "QuantizedConv2D", a, x, qu8([]int{1, 1, 1, 1}, 1), sc(0), sc(255), sc(0), sc(255))
	if got, want := out[0].I32, []int32{1*8 + 1, 1*8 + 5, 5*8 + 1, 5*8 + 5}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("quirk windows %v, want %v", got, want)
	}
	// Zero points: x range [-1, 1] → ox = round(0) - round(-1·127.5) =
	// 0 - (-128) = 128 (range_scale 256/(2·256/255) = 127.5); w range
	// [0, 2] → ow = 0. x code 138, w code 3: (138-128)·(3-0) = 30. Range:
	// level (2/255)·(2/255) times -2³¹ and 2³¹.
	a["strides"] = aInts(1, 1, 1, 1)
	out = mustRun(t, "QuantizedConv2D", a, qu8([]int{1, 1, 1, 1}, 138), qu8([]int{1, 1, 1, 1}, 3), sc(-1), sc(1), sc(0), sc(2))
	if out[0].I32[0] != 30 {
		t.Errorf("acc %d, want 30", out[0].I32[0])
	}
	mn, mx := quant.RangeForMultiplication(quant.QUInt8, quant.QUInt8, quant.QInt32, -1, 1, 0, 2)
	wantRange(t, "reference", out, mn, mx)
	a["strides"] = aInts(1, 1, 2, 1)
	wantErr(t, "QuantizedConv2D", a, "equal strides", qu8([]int{1, 1, 1, 1}, 138), qu8([]int{1, 1, 1, 1}, 3), sc(-1), sc(1), sc(0), sc(2))
}

// TestQuantizedConv2DWithBiasMKL: Intel's fused convolution on a 1×1
// example worked by hand.
func TestQuantizedConv2DWithBiasMKL(t *testing.T) {
	x := qu8([]int{1, 1, 1, 1}, 100)
	w := qi8([]int{1, 1, 1, 1}, 64)
	// R_x = 2.5, R_w = 1, K = 255·127 = 32385: bias scale 32385/2.5 =
	// 12954 (exact); b = 0.5 → b' = 6477. acc = 100·64 = 6400;
	// d = 6400 + 6477 = 12877.
	out := mustRun(t, "QuantizedConv2DWithBias", qconvAttrs(1, "SAME"), x, w, f32([]int{1}, 0.5), sc(0), sc(2.5), sc(-1), sc(1))
	if out[0].I32[0] != 12877 {
		t.Errorf("WithBias %d, want 12877", out[0].I32[0])
	}
	// Output range: lvl_x = 2.5/255, lvl_w = 2/254 (MKL's symmetric qint8).
	mn, mx := quant.MklRangeForMultiplication(quant.QUInt8, quant.QInt8, quant.QInt32, 0, 2.5, -1, 1)
	wantRange(t, "WithBias", out, mn, mx)
	// Bias -1 → b' = -12954; 6400 - 12954 = -6554; Relu → 0.
	out = mustRun(t, "QuantizedConv2DWithBiasAndRelu", qconvAttrs(1, "SAME"), x, w, f32([]int{1}, -1), sc(0), sc(2.5), sc(-1), sc(1))
	if out[0].I32[0] != 0 {
		t.Errorf("WithBiasAndRelu %d, want 0", out[0].I32[0])
	}
	// AndRequantize to quint8 with frozen range [0, 2]: scale =
	// (255·2.5·1)/(32385·2) = 637.5/64770; 12877·637.5/64770 = 126.74 → 127.
	a := qconvAttrs(1, "SAME")
	a["out_type"] = aType(dtQU8)
	out = mustRun(t, "QuantizedConv2DWithBiasAndReluAndRequantize", a, x, w, f32([]int{1}, 0.5), sc(0), sc(2.5), sc(-1), sc(1), sc(0), sc(2))
	if out[0].DType != dtQU8 || out[0].U8[0] != 127 {
		t.Errorf("AndRequantize %v %v, want quint8 127", out[0].DType, out[0].U8)
	}
	wantRange(t, "AndRequantize", out, 0, 2)
	// A qint32 bias is used as it is: 6400 + 100 = 6500.
	out = mustRun(t, "QuantizedConv2DWithBias", qconvAttrs(1, "SAME"), x, w, qi32([]int{1}, 100), sc(0), sc(2.5), sc(-1), sc(1))
	if out[0].I32[0] != 6500 {
		t.Errorf("qint32 bias %d, want 6500", out[0].I32[0])
	}
	wantErr(t, "QuantizedConv2DWithBias", qconvAttrs(1, "SAME"), "want [1]", x, w, f32([]int{2}, 0, 0), sc(0), sc(2.5), sc(-1), sc(1))
}

// TestQuantizedConv2DPadMKLvsReference: Intel pads with 0, the reference
// with the input's zero point, which subtracts to 0: with ox = 0 both
// agree; the difference is the zero points the reference subtracts.
func TestQuantizedConv2DPadMKLvsReference(t *testing.T) {
	// 1×2×2×1 input of code 10, 3×3 filter of code 1, SAME: every output
	// sees the 4 pixels. MKL (qint8 filter, no zero points): 4·10 = 40.
	x := qu8([]int{1, 2, 2, 1}, 10, 10, 10, 10)
	f := tensor.New(dtQI8, []int{3, 3, 1, 1})
	for i := range f.I8 {
		f.I8[i] = 1
	}
	out := mustRun(t, "QuantizedConv2D", qconvAttrs(1, "SAME"), x, f, sc(0), sc(1), sc(-1), sc(1))
	for _, v := range out[0].I32 {
		if v != 40 {
			t.Fatalf("MKL SAME %v, want all 40", out[0].I32)
		}
	}
	// Reference (quint8 filter) with x range [-1, 1] (ox = 128) and w
	// range [0, 1] (ow = 0): pixels give (10-128)·1 = -118, padding
	// (filled with 128) gives 0: 4·-118 = -472.
	a := qconvAttrs(1, "SAME")
	a["Tfilter"] = aType(dtQU8)
	fu := tensor.New(dtQU8, []int{3, 3, 1, 1})
	for i := range fu.U8 {
		fu.U8[i] = 1
	}
	out = mustRun(t, "QuantizedConv2D", a, x, fu, sc(-1), sc(1), sc(0), sc(1))
	for _, v := range out[0].I32 {
		if v != -472 {
			t.Fatalf("reference SAME %v, want all -472", out[0].I32)
		}
	}
}

func TestQuantizedDepthwiseMatchesDirect(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	const n, h, w, ch, k, mult = 2, 6, 5, 3, 3, 2
	x := tensor.New(dtQU8, []int{n, h, w, ch})
	for i := range x.U8 {
		x.U8[i] = uint8(r.IntN(256))
	}
	f := tensor.New(dtQI8, []int{k, k, ch, mult})
	for i := range f.I8 {
		f.I8[i] = int8(r.IntN(256) - 128)
	}
	a := qconvAttrs(2, "SAME")
	out := mustRun(t, "QuantizedDepthwiseConv2D", a, x, f, sc(0), sc(1), sc(-1), sc(1))
	win, _ := NewWindow(h, w, k, k, 2, 2, 1, 1, "SAME", nil)
	// Direct: output channel c·mult+m sums x[.., c]·f[.., c, m].
	for b := 0; b < n; b++ {
		for oy := 0; oy < win.OH; oy++ {
			for ox := 0; ox < win.OW; ox++ {
				for c := 0; c < ch; c++ {
					for m := 0; m < mult; m++ {
						var s int32
						for ky := 0; ky < k; ky++ {
							for kx := 0; kx < k; kx++ {
								iy, ix := oy*2-win.PadT+ky, ox*2-win.PadL+kx
								if iy < 0 || iy >= h || ix < 0 || ix >= w {
									continue
								}
								s += int32(x.U8[((b*h+iy)*w+ix)*ch+c]) * int32(f.I8[((ky*k+kx)*ch+c)*mult+m])
							}
						}
						if got := out[0].I32[((b*win.OH+oy)*win.OW+ox)*ch*mult+c*mult+m]; got != s {
							t.Fatalf("depthwise at %d,%d,%d,%d,%d: %d, want %d", b, oy, ox, c, m, got, s)
						}
					}
				}
			}
		}
	}
}

// TestQuantizedConv2DPerChannel: per-channel filter ranges give
// per-channel output ranges.
func TestQuantizedConv2DPerChannel(t *testing.T) {
	out := mustRun(t, "QuantizedConv2DPerChannel", qconvAttrs(1, "VALID"),
		qu8([]int{1, 1, 1, 1}, 2), qi8([]int{1, 1, 1, 2}, 3, -4), sc(0), sc(1), f32([]int{2}, -1, -2), f32([]int{2}, 1, 2))
	if fmt.Sprint(out[0].I32) != "[6 -8]" {
		t.Errorf("acc %v, want [6 -8]", out[0].I32)
	}
	for j, r := range [][2]float32{{-1, 1}, {-2, 2}} {
		mn, mx := quant.MklRangeForMultiplication(quant.QUInt8, quant.QInt8, quant.QInt32, 0, 1, r[0], r[1])
		if out[1].F32[j] != mn || out[2].F32[j] != mx {
			t.Errorf("channel %d range [%v %v], want [%v %v]", j, out[1].F32[j], out[2].F32[j], mn, mx)
		}
	}
}

// TestFusedRequantizeQuirk: Intel's fused …AndRequantize and the unfused
// conv → Requantize path give different codes for Eigen-quantized weights
// (INT8-ARITHMETIC §2.4 quirks). One tap: x = 1 (code 255 of [0, 1]),
// w = 1 quantized as Eigen SCALED qint8 of [-1, 1]: s = min(128, 127) =
// 127, range [-128/127, 1], code 127; bias 0; output range [0, 2], where
// the exact product 1 is code 127.5.
func TestFusedRequantizeQuirk(t *testing.T) {
	x, w := qu8([]int{1, 1, 1, 1}, 255), qi8([]int{1, 1, 1, 1}, 127)
	minW, maxW := float32(-128)/127, float32(1)
	a := qconvAttrs(1, "VALID")
	a["out_type"] = aType(dtQU8)
	// Fused: R_w = max(|min|, |max|) = 128/127 though the step is 1/127:
	// scale = 255·1·(128/127)/(32385·2); acc 32385 → 255·(128/127)/2 =
	// 128.50 → 129.
	fused := mustRun(t, "QuantizedConv2DWithBiasAndReluAndRequantize", a, x, w, f32([]int{1}, 0), sc(0), sc(1), sc(minW), sc(maxW), sc(0), sc(2))
	if fused[0].U8[0] != 129 {
		t.Errorf("fused %d, want 129", fused[0].U8[0])
	}
	// Unfused: the qint32 range counts 254 weight steps over (1 + 128/127):
	// 32385 means 32385·(1/255)·(255/127)/254 = 1.0039 → ·127.5 = 128.0 → 128.
	conv := mustRun(t, "QuantizedConv2DWithBiasAndRelu", qconvAttrs(1, "VALID"), x, w, f32([]int{1}, 0), sc(0), sc(1), sc(minW), sc(maxW))
	req := mustRun(t, "Requantize", attrs{"Tinput": aType(dtQI32), "out_type": aType(dtQU8)}, conv[0], conv[1], conv[2], sc(0), sc(2))
	if req[0].U8[0] != 128 {
		t.Errorf("unfused %d, want 128", req[0].U8[0])
	}
}
