package quant

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"qcal/stats"
)

func mustPrepare(t *testing.T, q QuantizeV2, lo, hi float32) Quantization {
	t.Helper()
	z, err := q.Prepare(lo, hi)
	if err != nil {
		t.Fatal(err)
	}
	return z
}

func TestQuantizeV2Scaled(t *testing.T) {
	type code struct {
		in   float32
		want int32
		why  string
	}
	tests := []struct {
		name           string
		q              QuantizeV2
		inMin, inMax   float32
		outMin, outMax float32
		codes          []code
	}{
		{
			// epsilon = max(1, 6)·0.01 = 0.06 < 6: range [0, 6]. quint8:
			// lowest 0, so only the max side counts: scale = 255/6 = 42.5
			// (exact in float32); min = 0/42.5 = 0, max = 255/42.5 = 6.
			name: "quint8 [0,6] half-to-even", q: IntelQuantizeV2(QUInt8), inMin: 0, inMax: 6, outMin: 0, outMax: 6,
			codes: []code{
				{3, 128, "3·42.5 = 127.5 → to even: 128"},
				{1, 42, "1·42.5 = 42.5 → to even: 42"},
				{6, 255, "6·42.5 = 255"},
				{7, 255, "clamped to 6 first"},
				{-1, 0, "clamped to 0 first"},
				{0.01, 0, "0.425 → 0"},
			},
		},
		{
			name: "quint8 [0,6] half-away", q: QuantizeV2{T: QUInt8, Mode: Scaled, RoundMode: HalfAwayFromZero, EnsureMinimumRange: 0.01},
			inMin: 0, inMax: 6, outMin: 0, outMax: 6,
			codes: []code{
				{3, 128, "127.5 → away: 128"},
				{1, 43, "42.5 → away: 43"},
			},
		},
		{
			// min_range = min(0, 2) = 0: the range must hold zero.
			name: "quint8 [2,6] takes in zero", q: IntelQuantizeV2(QUInt8), inMin: 2, inMax: 6, outMin: 0, outMax: 6,
			codes: []code{{2, 85, "2·42.5 = 85"}},
		},
		{
			// qint8 [-1, 1], not narrow: lowest -128: -128·-1 > 0, so
			// from_min = -128/-1 = 128; from_max = 127/1 = 127; scale = 127;
			// min = -128/127 = -1.007874 (float32 -1.0078740119934082), max = 1.
			name: "qint8 [-1,1]", q: QuantizeV2{T: QInt8, Mode: Scaled, RoundMode: HalfAwayFromZero, EnsureMinimumRange: 0.01},
			inMin: -1, inMax: 1, outMin: -1.0078740119934082, outMax: 1,
			codes: []code{
				{-1, -127, "-127"},
				{-1.5, -128, "clamped to -1.007874; ·127 = -128"},
				{0.5, 64, "63.5 → away: 64"},
				{-0.5, -64, "-63.5 → away: -64"},
				{0.25, 32, "31.75 → 32"},
			},
		},
		{
			// narrow_range: lowest -127: from_min = 127 = from_max; range [-1, 1].
			name: "qint8 [-1,1] narrow", q: QuantizeV2{T: QInt8, Mode: Scaled, RoundMode: HalfToEven, NarrowRange: true, EnsureMinimumRange: 0.01},
			inMin: -1, inMax: 1, outMin: -1, outMax: 1,
			codes: []code{{-2, -127, "clamped to -1"}, {-0.5, -64, "-63.5 → to even: -64"}},
		},
		{
			// Asymmetric input: max_abs side decides. [-0.5, 2]: from_min =
			// -128/-0.5 = 256, from_max = 127/2 = 63.5; scale 63.5;
			// min = -128/63.5 = -2.015748, max = 127/63.5 = 2.
			name: "qint8 [-0.5,2]", q: IntelQuantizeV2(QInt8), inMin: -0.5, inMax: 2, outMin: float32(-128.0 / 63.5), outMax: 2,
			codes: []code{{1, 64, "63.5 → to even: 64"}, {-2, -127, "-127"}},
		},
		{
			// Both ends 0: epsilon = max(1, 0)·0.01 = 0.01 → [0, 0.01];
			// scale = 255/0.01 = 25500 (float32 25500.000...).
			name: "quint8 [0,0] ensure_minimum_range", q: IntelQuantizeV2(QUInt8), inMin: 0, inMax: 0, outMin: 0, outMax: 0.01,
			codes: []code{{0.005, 128, "0.005·25500 = 127.5 → 128 (to even)"}},
		},
		{
			// qint32 SCALED: scale = 2147483647/1 → float32 2³¹; min =
			// -2³¹/2³¹ = -1, max = 2³¹/2³¹... = 1.
			name: "qint32 [-1,1]", q: IntelQuantizeV2(QInt32), inMin: -1, inMax: 1, outMin: -1, outMax: 1,
			codes: []code{{0.5, 1 << 30, "0.5·2³¹ = 2³⁰"}, {1, math.MaxInt32, "2³¹ saturates to 2³¹-1"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			z := mustPrepare(t, tc.q, tc.inMin, tc.inMax)
			if lo, hi := z.Range(); lo != tc.outMin || hi != tc.outMax {
				t.Errorf("output range [%.9g, %.9g], want [%.9g, %.9g]", lo, hi, tc.outMin, tc.outMax)
			}
			for _, c := range tc.codes {
				if got := z.Quantize(c.in); got != c.want {
					t.Errorf("Quantize(%g) = %d, want %d (%s)", c.in, got, c.want, c.why)
				}
			}
		})
	}
}

func TestQuantizeV2MinFirst(t *testing.T) {
	// quint8 [-1, 1]: range_scale = 255/(1-(-1)) = 127.5;
	// range_min_scaled = round(-1·127.5) = round(-127.5) = -128 (away);
	// code = round(v·127.5) - (-128 - 0) = round(v·127.5) + 128, clamped.
	z := mustPrepare(t, QuantizeV2{T: QUInt8, Mode: MinFirst, RoundMode: HalfAwayFromZero, EnsureMinimumRange: 0.01}, -1, 1)
	for _, c := range []struct {
		in   float32
		want int32
	}{
		{0, 128}, {-1, 0}, {1, 255}, // 1·127.5 → 128 + 128 = 256 → 255
		{0.5, 192}, // 63.75 → 64 + 128
		{-2, 0}, {2, 255},
	} {
		if got := z.Quantize(c.in); got != c.want {
			t.Errorf("Quantize(%g) = %d, want %d", c.in, got, c.want)
		}
	}
	if lo, hi := z.Range(); lo != -1 || hi != 1 {
		t.Errorf("range [%g, %g], want [-1, 1]", lo, hi)
	}
	// Dequantize MIN_FIRST: range_scale = float32(2/255) = 0.007843137718737125;
	// -1/range_scale = -127.49999237 (float32) → round → -127, so
	// range_min_rounded = -127·range_scale = -0.9960784912109375: TF rounds
	// min onto the grid differently on the way back (-128 vs -127), and
	// code 128 comes back as 128·rs - 0.99607849 = 0.00784313678741455,
	// not 0. That is TF's arithmetic, reproduced.
	for _, c := range []struct {
		code int32
		want float32
	}{{0, -0.9960784912109375}, {128, 0.00784313678741455}, {255, 1.0039215087890625}} {
		if got := z.Dequantize(c.code); got != c.want {
			t.Errorf("Dequantize(%d) = %.17g, want %.17g", c.code, got, c.want)
		}
	}
	if s := z.Step(); s != 0.007843137718737125 {
		t.Errorf("step %g, want 2/255", s)
	}
	// qint8 MIN_FIRST [-1, 1]: lowest -128: code = round(v·127.5) - (-128 + 128)
	// = round(v·127.5).
	z8 := mustPrepare(t, QuantizeV2{T: QInt8, Mode: MinFirst, RoundMode: HalfAwayFromZero}, -1, 1)
	if a, b, c := z8.Quantize(0), z8.Quantize(1), z8.Quantize(-1); a != 0 || b != 127 || c != -128 {
		t.Errorf("qint8 MIN_FIRST codes of 0, 1, -1 = %d %d %d, want 0 127 -128", a, b, c)
	}
}

func TestDequantizeScaled(t *testing.T) {
	// quint8 [0, 6]: scale = 6/255 = 0.0235294122 (float32);
	// 128·scale = 3.0117647647857666; 255·scale = 6.
	if got := Dequantize(QUInt8, Scaled, false, 128, 0, 6); got != 3.0117647647857666 {
		t.Errorf("quint8 128 → %.17g, want 3.0117647647857666", got)
	}
	if got := Dequantize(QUInt8, Scaled, false, 255, 0, 6); got != 6 {
		t.Errorf("quint8 255 → %g, want 6", got)
	}
	// qint8 [-1.007874, 1], not narrow: scale = max(-1.007874/-128,
	// 1/127) = 1/127 (both 0.007874015718698502 in float32); -128 → -1.007874.
	if got := Dequantize(QInt8, Scaled, false, -128, -1.0078740119934082, 1); got != -1.0078740119934082 {
		t.Errorf("qint8 -128 → %.17g, want -1.0078740119934082", got)
	}
	// narrow [-1, 1]: scale = max(-1/-127, 1/127) = 1/127: -127 → -1.
	if got := Dequantize(QInt8, Scaled, true, -127, -1, 1); got != -1 {
		t.Errorf("qint8 narrow -127 → %g, want -1", got)
	}
	// A round trip through SCALED never moves a value by more than half a
	// step inside the range.
	z := mustPrepare(t, IntelQuantizeV2(QInt8), -3, 5)
	r := rand.New(rand.NewPCG(1, 2))
	for range 1000 {
		v := float32(r.Float64()*10 - 5)
		back := z.Dequantize(z.Quantize(v))
		in := min(max(v, z.Min), z.Max)
		if math.Abs(float64(back-in)) > float64(z.Step())/2*1.0001 {
			t.Fatalf("%g → %d → %g: more than half a step (%g) from %g", v, z.Quantize(v), back, z.Step(), in)
		}
	}
}

func TestQuantizeV2Errors(t *testing.T) {
	tests := []struct {
		q      QuantizeV2
		lo, hi float32
		want   string
	}{
		{QuantizeV2{T: QUInt8, Mode: MinFirst, RoundMode: HalfToEven}, 0, 1, "HALF_TO_EVEN is only supported with mode SCALED"},
		{IntelQuantizeV2(QUInt8), 1, 0, "input_max_range 0 must be larger than input_min_range 1"},
		{IntelQuantizeV2(QUInt8), 0, float32(math.NaN()), "not finite"},
		{QuantizeV2{Mode: Scaled, RoundMode: HalfToEven}, 0, 1, "unsupported type"},
		{QuantizeV2{T: QInt8, RoundMode: HalfToEven}, 0, 1, "unsupported mode"},
		{QuantizeV2{T: QInt8, Mode: Scaled}, 0, 1, "unsupported round mode"},
		{QuantizeV2{T: QInt8, Mode: Scaled, RoundMode: HalfToEven, EnsureMinimumRange: -1}, 0, 1, "ensure_minimum_range -1"},
	}
	for _, tc := range tests {
		if _, err := tc.q.Prepare(tc.lo, tc.hi); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v [%g, %g]: error %v, want %q", tc.q, tc.lo, tc.hi, err, tc.want)
		}
	}
}

func TestQuantizedToFloatQInt32(t *testing.T) {
	// [-128, 128] as qint32: range = 256·2³²/(2³²-1), range_scale =
	// range/2³² = 256/(2³²-1) (float64) which rounds to 2⁻²⁴ in float32;
	// range_min_rounded = round(-128/2⁻²⁴)·2⁻²⁴ = -2³¹·2⁻²⁴ = -128; so
	// float(c) = -128 + (c + 2³¹)·256/(2³²-1).
	tests := []struct {
		code int64
		want float32
		why  string
	}{
		{50331648, 3, "3·2²⁴: -128 + (3·2²⁴ + 2³¹)·256/(2³²-1) = 3.0000000... → 3"},
		{-5, -2.682209014892578e-07, "-128 + (2³¹-5)·256/(2³²-1) = -128 + 128 - 1152/(2³²-1) ≈ -2.68e-7"},
		{math.MinInt32, -128, "lowest → range_min_rounded"},
		{math.MaxInt32, 128, "highest → -128 + (2³²-1)·256/(2³²-1)"},
	}
	for _, tc := range tests {
		if got := QuantizedToFloat(QInt32, tc.code, -128, 128); got != tc.want {
			t.Errorf("QuantizedToFloat(%d) = %.17g, want %.17g (%s)", tc.code, got, tc.want, tc.why)
		}
	}
	if got := QuantizedToFloat(QInt32, 7, 2, 2); got != 2 {
		t.Errorf("min == max: %g, want min", got)
	}
	// FloatToQuantized is its inverse on these codes.
	for _, tc := range tests[:1] {
		if got := FloatToQuantized(QInt32, tc.want, -128, 128); got != tc.code {
			t.Errorf("FloatToQuantized(%g) = %d, want %d", tc.want, got, tc.code)
		}
	}
	// quint8 [0, 6]: range_scale = 6·256/255/256 = 6/255; 6/255 → float32
	// 0.0235294122; round(0/…) = 0; float(128) = 128·6/255 = 3.0117647...
	if got := QuantizedToFloat(QUInt8, 128, 0, 6); got != float32(128*6.0/255) {
		t.Errorf("quint8 128 → %.9g, want %.9g", got, float32(128*6.0/255))
	}
	if got := FloatToQuantized(QUInt8, 7, 0, 6); got != 255 {
		t.Errorf("FloatToQuantized clamps: %d", got)
	}
}

func TestRangeForMultiplication(t *testing.T) {
	// quint8 [0, 6] × qint8 [-1, 1] → qint32:
	// level = (6/255)·(2/255) (each float32), min = level·-2³¹, max = level·2³¹
	// (2³¹-1 rounds to 2³¹ as a float32).
	lo, hi := RangeForMultiplication(QUInt8, QInt8, QInt32, 0, 6, -1, 1)
	level := float32(float32(6.0/255) * float32(2.0/255))
	if lo != -level*(1<<31) || hi != level*(1<<31) {
		t.Errorf("range [%g, %g], want ±%g", lo, hi, level*(1<<31))
	}
	// Intel's fused ops count 254 steps for qint8: level = (6/255)·(2/254).
	lo, hi = MklRangeForMultiplication(QUInt8, QInt8, QInt32, 0, 6, -1, 1)
	level = float32(float32(6.0/255) * float32(2.0/254))
	if lo != -level*(1<<31) || hi != level*(1<<31) {
		t.Errorf("mkl range [%g, %g], want ±%g", lo, hi, level*(1<<31))
	}
	// FloatForOneQuantizedLevel: qint32 divides by float32(2³²-1) = 2³².
	if got := FloatForOneQuantizedLevel(QInt32, -1, 1); got != 2/float32(1<<32) {
		t.Errorf("qint32 level %g, want 2⁻³¹", got)
	}
}

func TestRequantizationRange(t *testing.T) {
	// Codes -5, 100 and 3·2²⁴ in [-128, 128] (see TestQuantizedToFloatQInt32):
	// min code -5 → -2.68e-7, kept (< 0); max 3·2²⁴ → 3.
	lo, hi := RequantizationRange([]int32{-5, 100, 50331648}, -128, 128)
	if lo != -2.682209014892578e-07 || hi != 3 {
		t.Errorf("range [%.17g, %g], want [-2.682209014892578e-07, 3]", lo, hi)
	}
	// All codes positive: the minimum is raised to 0.
	lo, hi = RequantizationRange([]int32{16777216, 50331648}, -128, 128)
	if lo != 0 || hi != 3 {
		t.Errorf("range [%g, %g], want [0, 3]", lo, hi)
	}
}

func TestRequantize(t *testing.T) {
	// qint32 in [-128, 128] (one code = 256/2³² = 2⁻²⁴) to quint8 [0, 6]:
	// input_range 256, output_range 6, recip = 42.5, rezero = 0;
	// scale_fp = int64(255·65536·256/6) = 713031680 (exact);
	// in_offset = 0; out_offset = int64(65536·0/6) = 0.
	// 3.0 = 3·2²⁴: (3·2²⁴·713031680) >> 32 = 3·713031680/256 = 8355840;
	// + 32768 = 8388608; >> 16 = 128.
	// 1.0 = 2²⁴: 2785280 + 32768 = 2818048 = 43·65536 → 43 (42.5 rounds up).
	// -1.0: -2785280 + 32768 >> 16 = -42 → 0. 10.0: 425 → 255.
	src := []int32{3 << 24, 1 << 24, -1 << 24, 10 << 24, 0}
	dst := make([]uint8, len(src))
	if err := Requantize(dst, src, -128, 128, 0, 6); err != nil {
		t.Fatal(err)
	}
	want := []uint8{128, 43, 0, 255, 0}
	for i := range want {
		if dst[i] != want[i] {
			t.Errorf("code %d → %d, want %d", src[i], dst[i], want[i])
		}
	}
	// The fixed-point path agrees with the reference float path
	// (QuantizedToFloat then FloatToQuantized) to one level.
	r := rand.New(rand.NewPCG(3, 4))
	for range 2000 {
		inMax := float32(math.Ldexp(1+r.Float64(), r.IntN(20)-5))
		outMin := -float32(r.Float64()) * inMax / 4
		outMax := float32(r.Float64()+0.01) * inMax
		v := int32(r.Uint32())
		var got [1]uint8
		if err := Requantize(got[:], []int32{v}, -inMax, inMax, outMin, outMax); err != nil {
			t.Fatal(err)
		}
		ref := RequantizeInNewRange(QInt32, QUInt8, int64(v), -inMax, inMax, outMin, outMax)
		if d := int64(got[0]) - ref; d > 1 || d < -1 {
			t.Fatalf("code %d in ±%g → [%g, %g]: fixed point %d, reference %d", v, inMax, outMin, outMax, got[0], ref)
		}
	}
	if err := Requantize(dst, src, -1, 1, 0.5, 6); err == nil || !strings.Contains(err.Error(), "requested_output_min must be <= 0") {
		t.Errorf("min > 0: error %v", err)
	}
	if err := Requantize(dst, src, -1, 1, -1, -0.5); err == nil || !strings.Contains(err.Error(), "requested_output_max must be >= 0") {
		t.Errorf("max < 0: error %v", err)
	}
}

func TestHistogramError(t *testing.T) {
	// Uniform values on [-1, 1): with qint8 SCALED over [-1, 1] (scale 127)
	// the rounding error is Δ²/12, Δ = 1/127, and the signal power 1/3:
	// SQNR = 10·log10((1/3)/(1/(12·127²))) = 10·log10(4·127²) = 48.10 dB.
	h := stats.NewHistogram()
	r := rand.New(rand.NewPCG(5, 6))
	for range 200000 {
		h.Add(float32(r.Float64()*2 - 1))
	}
	z := mustPrepare(t, IntelQuantizeV2(QInt8), -1, 1)
	e := HistogramError(h, z)
	wantMSE := 1.0 / (12 * 127 * 127)
	if math.Abs(e.MSE/wantMSE-1) > 0.02 || math.Abs(e.SQNR-48.10) > 0.1 || e.Clipped != 0 {
		t.Errorf("full range: MSE %g (want %g), SQNR %.2f dB (want 48.10), clipped %g (want 0)", e.MSE, wantMSE, e.SQNR, e.Clipped)
	}
	if math.Abs(e.Step-1.0/127) > 1e-9 {
		t.Errorf("step %g, want 1/127", e.Step)
	}
	// Half the range: half the values are clipped, by |x| - ½ ~ U(0, ½):
	// clipping MSE = ½·E[(|x| - ½)²] = ½·(½)²/3 = 1/24, plus the rounding
	// error of the other half (Δ = 0.5/127).
	half := mustPrepare(t, IntelQuantizeV2(QInt8), -0.5, 0.5)
	e = HistogramError(h, half)
	wantMSE = 0.5*(0.5*0.5/3) + 0.5/(12*254*254)
	if math.Abs(e.Clipped-0.5) > 0.01 || math.Abs(e.MSE/wantMSE-1) > 0.02 {
		t.Errorf("half range: clipped %g (want 0.5), MSE %g (want %g)", e.Clipped, e.MSE, wantMSE)
	}
	if e := HistogramError(stats.NewHistogram(), z); e.MSE != 0 || e.SQNR != 0 || e.Clipped != 0 {
		t.Errorf("empty histogram: %+v", e)
	}
}

// TestDequantizerFloats checks the batch form against the hand-worked
// values of TestQuantizedToFloatQInt32 and against Float code by code.
func TestDequantizerFloats(t *testing.T) {
	d := NewDequantizer(QInt32, -128, 128)
	codes := []float64{50331648, -5, math.MinInt32, math.MaxInt32}
	dst := make([]float32, 3) // shorter: stops at 3
	if n := d.Floats(dst, codes); n != 3 {
		t.Fatalf("Floats stored %d, want 3", n)
	}
	if want := []float32{3, -2.682209014892578e-07, -128}; dst[0] != want[0] || dst[1] != want[1] || dst[2] != want[2] {
		t.Errorf("Floats = %v, want %v (TestQuantizedToFloatQInt32's values)", dst, want)
	}
	rng := rand.New(rand.NewPCG(4, 4))
	for range 200 {
		lo := float32(-rng.ExpFloat64())
		hi := float32(rng.ExpFloat64())
		if rng.IntN(10) == 0 {
			hi = lo // flat: every code means min
		}
		d := NewDequantizer(QInt32, lo, hi)
		codes := make([]float64, 50)
		for i := range codes {
			codes[i] = float64(int32(rng.Uint32()))
		}
		got := make([]float32, len(codes))
		d.Floats(got, codes)
		for i, c := range codes {
			if want := QuantizedToFloat(QInt32, int64(c), lo, hi); got[i] != want {
				t.Fatalf("[%g, %g] code %d: Floats %g, QuantizedToFloat %g", lo, hi, int64(c), got[i], want)
			}
		}
	}
}

// BenchmarkDequantizerFloats dequantizes a 4096-code chunk, as the CLI
// does for Intel's quantized dumps.
func BenchmarkDequantizerFloats(b *testing.B) {
	codes := make([]float64, 4096)
	rng := rand.New(rand.NewPCG(1, 1))
	for i := range codes {
		codes[i] = float64(int32(rng.Uint32()))
	}
	dst := make([]float32, len(codes))
	d := NewDequantizer(QInt32, -6, 6)
	b.SetBytes(8 * int64(len(codes)))
	b.ReportAllocs()
	for b.Loop() {
		d.Floats(dst, codes)
	}
}
