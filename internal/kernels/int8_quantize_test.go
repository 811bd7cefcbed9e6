package kernels

import (
	"math"
	"slices"
	"testing"

	"qcal/internal/tensor"
	"qcal/internal/tfpb"
)

func qu8(shape []int, v ...uint8) *tensor.Tensor {
	x := tensor.New(dtQU8, shape)
	copy(x.U8, v)
	return x
}

func qi8(shape []int, v ...int8) *tensor.Tensor {
	x := tensor.New(dtQI8, shape)
	copy(x.I8, v)
	return x
}

func qi32(shape []int, v ...int32) *tensor.Tensor {
	x := tensor.New(dtQI32, shape)
	copy(x.I32, v)
	return x
}

func sc(v float32) *tensor.Tensor { return f32(nil, v) }

func quantAttrs(t tfpb.DataType, mode, round string) attrs {
	a := attrs{"T": aType(t), "mode": aStr(mode)}
	if round != "" {
		a["round_mode"] = aStr(round)
	}
	return a
}

func wantRange(t *testing.T, what string, out []*tensor.Tensor, mn, mx float32) {
	t.Helper()
	if got := [2]float32{out[1].F32[0], out[2].F32[0]}; got != [2]float32{mn, mx} {
		t.Errorf("%s: output range %v, want [%v %v]", what, got, mn, mx)
	}
}

func TestQuantizeV2MKLScaled(t *testing.T) {
	SetInt8Options(Int8Options{})
	// _MklQuantizeV2 quint8, input range [-1, 6]: eps = max(1, 6)/100 =
	// 0.06, range [-1, 6]; max_abs = 6, scale = 255/6 = 42.5, output
	// range [0, 6]. 3·42.5 = 127.5 → rne 128; 1·42.5 = 42.5 → 42;
	// -0.5·42.5 = -21.25 → saturated 0; 0.05·42.5 = 2.125 → 2; 7 → 297.5 → 255.
	out := mustRun(t, "QuantizeV2", quantAttrs(dtQU8, "SCALED", "HALF_TO_EVEN"),
		f32([]int{5}, 3, 1, -0.5, 0.05, 7), sc(-1), sc(6))
	if got, want := out[0].U8, []uint8{128, 42, 0, 2, 255}; string(got) != string(want) {
		t.Errorf("quint8 codes %v, want %v", got, want)
	}
	wantRange(t, "quint8", out, 0, 6)

	// qint8, range [-2, 4]: max_abs = 4, scale = 127/4 = 31.75 (exact);
	// range [-4, 4]. 2 → 63.5 → rne 64; -2 → -63.5 → -64; 1 → 31.75 → 32;
	// -5 → -158.75 → -128.
	out = mustRun(t, "QuantizeV2", quantAttrs(dtQI8, "SCALED", "HALF_TO_EVEN"),
		f32([]int{4}, 2, -2, 1, -5), sc(-2), sc(4))
	if got, want := out[0].I8, []int8{64, -64, 32, -128}; !slices.Equal(got, want) {
		t.Errorf("qint8 codes %v, want %v", got, want)
	}
	wantRange(t, "qint8", out, -4, 4)

	// TF's MKL kernel refuses an empty range (all-zero activations).
	wantErr(t, "QuantizeV2", quantAttrs(dtQU8, "SCALED", "HALF_TO_EVEN"), "max_range > min_range",
		f32([]int{1}, 0), sc(0), sc(0))
}

// TestQuantizeV2MKLvsEigen: the two SCALED kernels differ when the
// negative side of the range is the larger one.
func TestQuantizeV2MKLvsEigen(t *testing.T) {
	x := f32([]int{2}, 3, 6)
	a := quantAttrs(dtQU8, "SCALED", "HALF_TO_EVEN")
	// Range [-8, 6]. MKL: max_abs = 8, scale = 255/8 = 31.875, range
	// [0, 8]: 3 → 95.625 → 96; 6 → 191.25 → 191.
	SetInt8Options(Int8Options{})
	mkl := mustRun(t, "QuantizeV2", a, x, sc(-8), sc(6))
	// Eigen: quint8 counts only the max side: scale = 255/6 = 42.5, range
	// [0, 255/42.5 = 6]: 3 → 127.5 → 128; 6 → 255.
	SetInt8Options(Int8Options{EigenQuantizeV2: true})
	eig := mustRun(t, "QuantizeV2", a, x, sc(-8), sc(6))
	SetInt8Options(Int8Options{})
	if string(mkl[0].U8) != string([]uint8{96, 191}) {
		t.Errorf("MKL codes %v, want [96 191]", mkl[0].U8)
	}
	wantRange(t, "MKL", mkl, 0, 8)
	if string(eig[0].U8) != string([]uint8{128, 255}) {
		t.Errorf("Eigen codes %v, want [128 255]", eig[0].U8)
	}
	wantRange(t, "Eigen", eig, 0, 6)
}

// TestQuantizeV2ConstInput: TF's MKL layout pass leaves a QuantizeV2 whose
// input is a Const node on the Eigen kernel, so with the default (MKL)
// options the same input gives TestQuantizeV2MKLvsEigen's Eigen codes
// [128 255] and range [0, 6] when the executor marks input 0 a Const.
func TestQuantizeV2ConstInput(t *testing.T) {
	SetInt8Options(Int8Options{})
	n := &tfpb.NodeDef{Name: "q", Op: "QuantizeV2", Input: []string{"c", "lo", "hi"}, Attr: quantAttrs(dtQU8, "SCALED", "HALF_TO_EVEN")}
	d, _ := Lookup("QuantizeV2")
	for _, c := range []struct {
		bits uint64
		want []uint8
		max  float32
	}{{0, []uint8{96, 191}, 8}, {1, []uint8{128, 255}, 6}, {0b110, []uint8{96, 191}, 8}} {
		out, err := d.Run(&Context{Node: n, ConstInputs: c.bits, Inputs: []*tensor.Tensor{f32([]int{2}, 3, 6), sc(-8), sc(6)}})
		if err != nil {
			t.Fatal(err)
		}
		if string(out[0].U8) != string(c.want) {
			t.Errorf("ConstInputs %b: codes %v, want %v", c.bits, out[0].U8, c.want)
		}
		wantRange(t, "const", out, 0, c.max)
	}
}

func TestQuantizeV2MinFirst(t *testing.T) {
	// MIN_FIRST quint8 (the plain path, HALF_AWAY_FROM_ZERO by default),
	// range [-1, 1]: eps = 1/100 → range stays [-1, 1]; range_scale =
	// 255/2 = 127.5, range_min_scaled = round(-127.5) = -128 (half away).
	// code = round(x·127.5) + 128: 0 → 128; 0.5 → round(63.75) = 64 → 192;
	// -1 → -128 + 128 = 0; 1 → 128 + 128 = 256 → 255; 0.2 → round(25.5) = 26 → 154.
	out := mustRun(t, "QuantizeV2", attrs{"T": aType(dtQU8), "mode": aStr("MIN_FIRST")},
		f32([]int{5}, 0, 0.5, -1, 1, 0.2), sc(-1), sc(1))
	if got, want := out[0].U8, []uint8{128, 192, 0, 255, 154}; string(got) != string(want) {
		t.Errorf("codes %v, want %v", got, want)
	}
	wantRange(t, "MIN_FIRST", out, -1, 1)

	// Range [0.5, 0.5]: lo = min(0, 0.5) = 0, eps = 1/100 = 0.01 (float32
	// division), hi = max(0.5, 0.01) = 0.5.
	out = mustRun(t, "QuantizeV2", attrs{"T": aType(dtQU8), "mode": aStr("MIN_FIRST")},
		f32([]int{1}, 0.5), sc(0.5), sc(0.5))
	wantRange(t, "MIN_FIRST lifted", out, 0, 0.5)
	// Range [0, 0]: hi = 0 + 1/100 = 0.01 in float32.
	out = mustRun(t, "QuantizeV2", attrs{"T": aType(dtQU8), "mode": aStr("MIN_FIRST")},
		f32([]int{1}, 0), sc(0), sc(0))
	wantRange(t, "MIN_FIRST eps", out, 0, float32(1)/100)
}

func TestQuantizeV2Errors(t *testing.T) {
	x := f32([]int{1}, 0)
	wantErr(t, "QuantizeV2", quantAttrs(dtQU8, "MIN_FIRST", "HALF_TO_EVEN"), "needs mode SCALED", x, sc(0), sc(1))
	wantErr(t, "QuantizeV2", attrs{"T": aType(dtQU8)}, "MIN_COMBINED is not supported", x, sc(0), sc(1))
	wantErr(t, "QuantizeV2", quantAttrs(dtQU8, "MIN_FIRST", ""), "must be larger", x, sc(1), sc(0))
	wantErr(t, "QuantizeV2", quantAttrs(dtQU8, "MIN_FIRST", ""), "want 1", x, f32([]int{2}, 0, 1), sc(1))
	wantErr(t, "QuantizeV2", quantAttrs(tfpb.DataType_DT_FLOAT, "MIN_FIRST", ""), "not supported", x, sc(0), sc(1))
}

func TestDequantize(t *testing.T) {
	// MIN_FIRST quint8 [-1, 1]: range_scale s = float32(2/255) =
	// 0.0078431377, a little above 2/255, so -1/s = -127.49999 in float32
	// and range_min_rounded = round(-127.49999)·s = -127·s; code c → c·s -
	// 127·s, where rmr = float32(-127·s) is rounded: code 128 → 128·s + rmr
	// = 0.007843137 (one ulp below s); code 0 → rmr = -0.9960785.
	s := float32(2.0 / 255)
	out := mustRun(t, "Dequantize", attrs{"T": aType(dtQU8), "mode": aStr("MIN_FIRST")}, qu8([]int{2}, 128, 0), sc(-1), sc(1))
	rmr := -127 * s
	if got, want := out[0].F32, []float32{float32(128*s) + rmr, rmr}; got[0] != want[0] || got[1] != want[1] {
		t.Errorf("MIN_FIRST %v, want %v", got, want)
	}
	// SCALED qint8 [-2, 1], Eigen's rule (§0.2): s = max(-2/-128, 1/127) =
	// 0.015625; -128 → -2, 64 → 1. (MKL's max(|·|)/127 would give 64 →
	// 1.00787.)
	out = mustRun(t, "Dequantize", attrs{"T": aType(dtQI8), "mode": aStr("SCALED")}, qi8([]int{2}, -128, 64), sc(-2), sc(1))
	if got := out[0].F32; got[0] != -2 || got[1] != 1 {
		t.Errorf("SCALED qint8 %v, want [-2 1]", got)
	}
	// SCALED quint8 [0, 127.5]: s = 127.5/255 = 0.5; 7 → 3.5.
	out = mustRun(t, "Dequantize", attrs{"T": aType(dtQU8), "mode": aStr("SCALED")}, qu8([]int{1}, 7), sc(0), sc(127.5))
	if got := out[0].F32[0]; got != 3.5 {
		t.Errorf("SCALED quint8 %v, want 3.5", got)
	}
	// MIN_COMBINED (the op's default mode) qint8 [-1, 1]: (c + 128)·(2/255) - 1:
	// -128 → -1. quint8 [0, 255]: (c + 0)·1 + 0: 10 → 10.
	out = mustRun(t, "Dequantize", attrs{"T": aType(dtQI8)}, qi8([]int{1}, -128), sc(-1), sc(1))
	if got := out[0].F32[0]; got != -1 {
		t.Errorf("MIN_COMBINED qint8 %v, want -1", got)
	}
	out = mustRun(t, "Dequantize", attrs{"T": aType(dtQU8)}, qu8([]int{1}, 10), sc(0), sc(255))
	if got := out[0].F32[0]; got != 10 {
		t.Errorf("MIN_COMBINED quint8 %v, want 10", got)
	}
	wantErr(t, "Dequantize", attrs{"T": aType(dtQI8), "mode": aStr("SCALED")}, "is quint8, want qint8", qu8([]int{1}, 1), sc(0), sc(1))
}

func TestRequantizationRange(t *testing.T) {
	// qint32 in [-1, 1]: QuantizedToFloat: range_scale = 2/(2³²-1),
	// float32 → 2⁻³¹; range_min_rounded = round(-2³¹)·2⁻³¹ = -1; code q →
	// -1 + (q + 2³¹)·2/(2³²-1). q = -2³⁰ → -1 + 2³¹/(2³²-1) = -0.4999999998
	// → float32 -0.5; q = 2²⁹ → -1 + (2³² + 2³⁰)/(2³²-1) → 0.25.
	out := mustRun(t, "RequantizationRange", attrs{"Tinput": aType(dtQI32)}, qi32([]int{3}, -1<<30, 1<<29, 7), sc(-1), sc(1))
	if got := [2]float32{out[0].F32[0], out[1].F32[0]}; got != [2]float32{-0.5, 0.25} {
		t.Errorf("range %v, want [-0.5 0.25]", got)
	}
	// All codes positive: min = min(0, 0.25) = 0; max 2³⁰ → 0.5.
	out = mustRun(t, "RequantizationRange", attrs{"Tinput": aType(dtQI32)}, qi32([]int{2}, 1<<29, 1<<30), sc(-1), sc(1))
	if got := [2]float32{out[0].F32[0], out[1].F32[0]}; got != [2]float32{0, 0.5} {
		t.Errorf("range %v, want [0 0.5]", got)
	}
}

func TestRequantize(t *testing.T) {
	// qint32 [-1, 1] → quint8 [0, 1]: in_r = 2, out_r = 1, recip = 255,
	// rezero = 0, scale_fp = int64(255·65536·2/1) = 33423360, offsets 0.
	// q = 2³⁰: (2³⁰·33423360)>>32 = 8355840, + 32768 = 8388608, >>16 = 128.
	// q = -2³⁰: -8355840 + 32768 = -8323072, >>16 = -127 → 0.
	// q = 2³¹-1: 16711679 + 32768 = 16744447, >>16 = 255.
	out := mustRun(t, "Requantize", attrs{"Tinput": aType(dtQI32), "out_type": aType(dtQU8)},
		qi32([]int{3}, 1<<30, -1<<30, math.MaxInt32), sc(-1), sc(1), sc(0), sc(1))
	if got, want := out[0].U8, []uint8{128, 0, 255}; string(got) != string(want) {
		t.Errorf("quint8 %v, want %v", got, want)
	}
	wantRange(t, "quint8", out, 0, 1)
	// → qint8 [-1, 1] by the float path: q = 2³⁰ means 0.5 (see
	// TestRequantizationRange); FloatToQuantized<qint8>(0.5, -1, 1):
	// range_scale = 256/(2·256/255) = 127.5, round(63.75) - round(-127.5)
	// - 128 = 64 + 128 - 128 = 64. q = -2³¹ means -1 → -128.
	out = mustRun(t, "Requantize", attrs{"Tinput": aType(dtQI32), "out_type": aType(dtQI8)},
		qi32([]int{2}, 1<<30, math.MinInt32), sc(-1), sc(1), sc(-1), sc(1))
	if got, want := out[0].I8, []int8{64, -128}; !slices.Equal(got, want) {
		t.Errorf("qint8 %v, want %v", got, want)
	}
	wantErr(t, "Requantize", attrs{"Tinput": aType(dtQI32), "out_type": aType(dtQU8)}, "requested_output_min must be <= 0",
		qi32([]int{1}, 0), sc(-1), sc(1), sc(0.5), sc(1))
}

func TestRequantizePerChannel(t *testing.T) {
	// Two channels, ranges [-1, 1] and [-2, 2]. RequantizationRangePerChannel:
	// ch0 codes {2³⁰, -2²⁹}: 1·2³⁰/2³¹ = 0.5; ch1 {2³⁰, 0}: 2·2³⁰/2³¹ = 1;
	// M = 1; a negative code → [-1, 1]; clip 0.75 → [-0.75, 0.75].
	x := qi32([]int{1, 1, 2, 2}, 1<<30, 1<<30, -1<<29, 0)
	mins, maxs := f32([]int{2}, -1, -2), f32([]int{2}, 1, 2)
	a := attrs{"T": aType(dtQI32), "clip_value_max": aFloat(6)}
	out := mustRun(t, "RequantizationRangePerChannel", a, x, mins, maxs)
	if got := [2]float32{out[0].F32[0], out[1].F32[0]}; got != [2]float32{-1, 1} {
		t.Errorf("range %v, want [-1 1]", got)
	}
	a["clip_value_max"] = aFloat(0.75)
	out = mustRun(t, "RequantizationRangePerChannel", a, x, mins, maxs)
	if got := [2]float32{out[0].F32[0], out[1].F32[0]}; got != [2]float32{-0.75, 0.75} {
		t.Errorf("clipped range %v, want [-0.75 0.75]", got)
	}
	// RequantizePerChannel → quint8 [0, 1]: scale[c] = 255·(R_c/1/2³¹):
	// ch0 255/2³¹, ch1 510/2³¹. 2³⁰ in ch0 → 127.5 → rne 128; 2³⁰ in ch1 →
	// 255; -2²⁹ → -63.75 → 0; 0 → 0.
	out = mustRun(t, "RequantizePerChannel", attrs{"T": aType(dtQI32), "out_type": aType(dtQU8)}, x, mins, maxs, sc(0), sc(1))
	if got, want := out[0].U8, []uint8{128, 255, 0, 0}; string(got) != string(want) {
		t.Errorf("codes %v, want %v", got, want)
	}
	wantRange(t, "per channel", out, 0, 1)
	wantErr(t, "RequantizePerChannel", attrs{"T": aType(dtQI32), "out_type": aType(dtQU8)}, "want 2",
		x, f32([]int{1}, -1), maxs, sc(0), sc(1))
}
