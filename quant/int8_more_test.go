package quant

import (
	"math"
	"testing"
)

func TestAdjustRangeTF1(t *testing.T) {
	// TF 1.x: eps = max(1, max|·|)/100 in float32.
	cases := []struct {
		lo, hi, wantLo, wantHi float32
		why                    string
	}{
		{-1, 6, -1, 6, "eps 0.06: range kept"},
		{2, 6, 0, 6, "min raised to 0"},
		{0, 0, 0, float32(1) / 100, "empty range: hi = 0 + 1/100"},
		{-3, -2, -3, max(0, -3+float32(3)/100), "all negative: hi = max(-2, -3 + 0.03) = -2 → clamped to 0"},
		{0, 0.001, 0, 0.01, "eps 0.01 > 0.001"},
	}
	for _, c := range cases {
		lo, hi := AdjustRangeTF1(c.lo, c.hi)
		if lo != c.wantLo || hi != c.wantHi {
			t.Errorf("AdjustRangeTF1(%v, %v) = [%v, %v], want [%v, %v] (%s)", c.lo, c.hi, lo, hi, c.wantLo, c.wantHi, c.why)
		}
	}
	// The division can differ from the newer ·0.01 in the last bit: find
	// a range where it does, to show the two are not interchangeable.
	differ := false
	for m := float32(1); m < 200 && !differ; m += 0.37 {
		if m/100 != m*float32(0.01) {
			differ = true
		}
	}
	if !differ {
		t.Error("m/100 and m·0.01 never differ: the TF 1.x rule would be moot")
	}
}

func TestMklScaled(t *testing.T) {
	// quint8 [-8, 6]: max_abs 8, scale 255/8 = 31.875, range [0, 8].
	z, err := NewMklScaled(QUInt8, -8, 6)
	if err != nil {
		t.Fatal(err)
	}
	if z.Min != 0 || z.Max != 8 || z.Scale != 31.875 {
		t.Errorf("quint8 quantizer %+v, want [0, 8] scale 31.875", z)
	}
	// 3·31.875 = 95.625 → 96; 0.5·31.875 = 15.9375 → 16; -1 → 0 (saturated);
	// 9 → 286.875 → 255.
	for _, c := range [][2]float32{{3, 96}, {0.5, 16}, {-1, 0}, {9, 255}} {
		if got := z.Quantize(c[0]); got != int32(c[1]) {
			t.Errorf("Quantize(%v) = %d, want %v", c[0], got, c[1])
		}
	}
	// qint8 [-2, 4]: scale 127/4 = 31.75, range [-4, 4]; 2 → 63.5 → 64 (even),
	// 3 → 95.25 → 95.
	z, _ = NewMklScaled(QInt8, -2, 4)
	if z.Min != -4 || z.Max != 4 || z.Quantize(2) != 64 || z.Quantize(3) != 95 {
		t.Errorf("qint8 quantizer %+v: Quantize(2) = %d, Quantize(3) = %d; want [-4, 4], 64, 95", z, z.Quantize(2), z.Quantize(3))
	}
	if _, err := NewMklScaled(QUInt8, 1, 1); err == nil {
		t.Error("empty range accepted; TF's MKL kernel refuses it")
	}
}

func TestFusedConvScales(t *testing.T) {
	// Bias scale K/(R_x·R_w): 32385/(2.5·1) = 12954; qint8 input: 16129/2.5 = 6451.6.
	if got := FusedConvBiasScale(QUInt8, 0, 2.5, -1, 0.5); got != 12954 {
		t.Errorf("bias scale %v, want 12954", got)
	}
	if got, want := FusedConvBiasScale(QInt8, -2.5, 1, -1, 1), float32(16129)/2.5; got != want {
		t.Errorf("qint8 bias scale %v, want %v", got, want)
	}
	// Requantize scale ((L·R_x)·R_w)/(K·R_o): quint8 out, R_x 2.5, R_w 1,
	// R_o 2: 637.5/64770.
	if got, want := FusedConvRequantScale(QUInt8, QUInt8, 0, 2.5, -1, 1, 0, 2), float32(637.5)/float32(64770); got != want {
		t.Errorf("requant scale %v, want %v", got, want)
	}
}

func TestSatRNE(t *testing.T) {
	cases := []struct {
		ty   Type
		v    float32
		want int32
	}{
		{QUInt8, 2.5, 2}, {QUInt8, 3.5, 4}, {QUInt8, -0.5, 0}, {QUInt8, 300, 255},
		{QInt8, -128.5, -128}, {QInt8, -127.5, -128}, {QInt8, 126.5, 126},
		{QInt32, 3e9, math.MaxInt32}, {QInt32, -3e9, math.MinInt32},
		{QUInt8, float32(math.NaN()), 0},
	}
	for _, c := range cases {
		if got := SatRNE(c.ty, c.v); got != c.want {
			t.Errorf("SatRNE(%v, %v) = %d, want %d", c.ty, c.v, got, c.want)
		}
	}
}

func TestMinCombinedParams(t *testing.T) {
	// qint8: half = (127 + 128 + 1)/2 = 128, scale (1 - -1)/255; quint8: half 0.
	if h, s := MinCombinedParams(QInt8, -1, 1); h != 128 || s != float32(2)/255 {
		t.Errorf("qint8 half %v scale %v", h, s)
	}
	if h, s := MinCombinedParams(QUInt8, 0, 255); h != 0 || s != 1 {
		t.Errorf("quint8 half %v scale %v", h, s)
	}
}

func TestPerChannel(t *testing.T) {
	// Channels last, 2 channels: ch0 codes {2³⁰, -2²⁹} with range ±1 →
	// 1·2³⁰/2³¹ = 0.5; ch1 {2³⁰, 0} with ±2 → 1. M = 1, a negative code:
	// [-1, 1]. Codes {2³⁰, 0} (no negative): M = max(0.5, 0) = 0.5 → [0, 0.5];
	// clip 0.25 caps M.
	data := []int32{1 << 30, 1 << 30, -1 << 29, 0}
	mins, maxs := []float32{-1, -2}, []float32{1, 2}
	if lo, hi := PerChannelRange(data, mins, maxs, 6); lo != -1 || hi != 1 {
		t.Errorf("range [%v, %v], want [-1, 1]", lo, hi)
	}
	if lo, hi := PerChannelRange([]int32{1 << 30, 0}, mins, maxs, 6); lo != 0 || hi != 0.5 {
		t.Errorf("non-negative range [%v, %v], want [0, 0.5]", lo, hi)
	}
	if lo, hi := PerChannelRange([]int32{1 << 30, 0}, mins, maxs, 0.25); lo != 0 || hi != 0.25 {
		t.Errorf("clipped range [%v, %v], want [0, 0.25]", lo, hi)
	}
	// Requantize scales f·(R_c/R/2³¹): qint8 out, R = 2: ch0 127·(1/2/2³¹).
	s := PerChannelRequantScales(QInt8, mins, maxs, -2, 2)
	if s[0] != 127*float32(0.5/(1<<31)) || s[1] != 127*float32(1.0/(1<<31)) {
		t.Errorf("scales %v", s)
	}
}

func TestNewMinFirst(t *testing.T) {
	// [-1, 1] quint8 as in TestQuantizeV2MinFirst of the kernels: range_scale
	// 127.5, range_min_scaled -128: 0.5 → 64 + 128 = 192. Unlike Prepare the
	// range is kept even when it excludes 0: [1, 2] → range_scale 255,
	// range_min_scaled 255: 1.5 → round(382.5) - 255 = 383 - 255 = 128.
	if got := NewMinFirst(QUInt8, -1, 1).Quantize(0.5); got != 192 {
		t.Errorf("[-1, 1]: 0.5 → %d, want 192", got)
	}
	z := NewMinFirst(QUInt8, 1, 2)
	if z.Min != 1 || z.Max != 2 || z.Quantize(1.5) != 128 {
		t.Errorf("[1, 2]: range [%v, %v], 1.5 → %d; want [1, 2], 128", z.Min, z.Max, z.Quantize(1.5))
	}
}
