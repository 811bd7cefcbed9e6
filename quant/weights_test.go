package quant

import (
	"math"
	"testing"
)

func TestWeightRange(t *testing.T) {
	tests := []struct {
		name   string
		w      []float32
		lo, hi float32
	}{
		// Worked by hand from quantize_weight_eightbit's rules.
		{"mixed signs: plain min and max", []float32{0.3, -0.5, 0.1}, -0.5, 0.3},
		{"all positive: min raised to 0", []float32{1, 2, 3}, 0, 3},
		{"all zero: max = 0 + 1", []float32{0, 0}, 0, 1},
		{"one negative value: max = min/2", []float32{-4}, -4, -2},
		{"tiny negative: |min| < 1e-6 gives min + 1", []float32{-5e-7, -5e-7}, -5e-7, float32(1 - 5e-7)},
		// A single positive value: min becomes 0, max stays; no nudge.
		{"single positive", []float32{0.25}, 0, 0.25},
	}
	for _, tt := range tests {
		lo, hi, err := WeightRange(tt.w)
		if err != nil || lo != tt.lo || hi != tt.hi {
			t.Errorf("%s: WeightRange(%v) = %g, %g, %v; want %g, %g", tt.name, tt.w, lo, hi, err, tt.lo, tt.hi)
		}
	}
	for _, bad := range [][]float32{nil, {1, float32(math.NaN())}, {float32(math.Inf(-1))}} {
		if _, _, err := WeightRange(bad); err == nil {
			t.Errorf("WeightRange(%v): no error", bad)
		}
	}
}

func TestPerChannelQInt8(t *testing.T) {
	// Two channels (innermost axis): channel 0 holds 0.5, -0.25, 0.1;
	// channel 1 holds 2, 1, -1.5.
	w := []float32{0.5, 2, -0.25, 1, 0.1, -1.5}
	codes, ranges := PerChannelQInt8(w, 2, Truncate)
	// r0 = max(0.5, 0.25, 0.1) = 0.5, r1 = max(2, 1, 1.5) = 2.
	if ranges[0] != 0.5 || ranges[1] != 2 {
		t.Fatalf("ranges = %v, want [0.5 2]", ranges)
	}
	want := []int8{
		127, // 0.5·127/0.5 = 127
		127, // 2·127/2 = 127
		-63, // -0.25·127 = -31.75, /0.5 = -63.5 → truncated toward zero: -63
		63,  // 1·127/2 = 63.5 → 63 (truncation, not rounding)
		25,  // 0.1·127 = 12.7 (f32 12.700001), /0.5 = 25.4 → 25
		-95, // -1.5·127/2 = -95.25 → -95
	}
	for i := range want {
		if codes[i] != want[i] {
			t.Errorf("code %d of %g = %d, want %d", i, w[i], codes[i], want[i])
		}
	}
	// A channel of zeros gets the epsilon range and code 0.
	codes, ranges = PerChannelQInt8([]float32{0, 3e-5}, 1, Truncate)
	// r = max(0, 3e-5) = 3e-5 < 1e-4 → 1e-4; 3e-5·127/1e-4 = 38.1 → 38.
	if ranges[0] != PerChannelEpsilon || codes[0] != 0 || codes[1] != 38 {
		t.Errorf("epsilon channel: codes %v ranges %v, want [0 38] [1e-4]", codes, ranges)
	}
}

// TestPerChannelQInt8Rounded: the same quotients as above, rounded to the
// nearest code with ties to even instead of truncated.
func TestPerChannelQInt8Rounded(t *testing.T) {
	w := []float32{0.5, 2, -0.25, 1, 0.1, -1.5, -0.7, 0.3}
	codes, ranges := PerChannelQInt8(w, 2, RoundHalfEven)
	// r0 = max(0.5, 0.25, 0.1, 0.7) = 0.7, r1 = max(2, 1, 1.5, 0.3) = 2.
	if ranges[0] != 0.7 || ranges[1] != 2 {
		t.Fatalf("ranges = %v, want [0.7 2]", ranges)
	}
	want := []int8{
		91,   // 0.5·127 = 63.5, /0.7 = 90.714 → 91 (truncation: 90)
		127,  // 2·127/2 = 127
		-45,  // -0.25·127 = -31.75, /0.7 = -45.357 → -45
		64,   // 1·127/2 = 63.5, a tie → even 64 (truncation: 63)
		18,   // 0.1·127 = 12.700001, /0.7 = 18.143 → 18
		-95,  // -1.5·127/2 = -95.25 → -95
		-127, // -0.7·127/0.7 = -127
		19,   // 0.3·127 = 38.1, /2 = 19.05 → 19
	}
	for i := range want {
		if codes[i] != want[i] {
			t.Errorf("code %d of %g = %d, want %d", i, w[i], codes[i], want[i])
		}
	}
}
