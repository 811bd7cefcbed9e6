package quant_test

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"qcal/quant"
)

func TestBiasScale(t *testing.T) {
	tests := []struct {
		name                   string
		minX, maxX, minW, maxW float32
		want                   float32
	}{
		// The tool's rule: scale = f32(32385 / double(f32(R_x·R_w))).
		// R_x = 6.0, R_w = 0.5 → 3.0; 32385/3 = 10795 exactly.
		{"worked example", 0, 6, -0.5, 0.5, 10795},
		// R_x = max(|-8|, |6|) = 8, R_w = max(|-0.5|, |0.25|) = 0.5 → 4; 32385/4 = 8096.25.
		{"ranges are the larger magnitudes", -8, 6, -0.5, 0.25, 8096.25},
		// R_x·R_w = 6·f32(0.3) = 1.80000007152557 (0x3fe66667);
		// 32385/1.80000007152557 = 17991.6659517… → f32 17991.666 (0x468c8f55).
		{"inexact", 0, 6, -0.3, 0.3, math.Float32frombits(0x468c8f55)},
		// A zero range divides by zero: +Inf, as in C.
		{"zero range", 0, 0, -1, 1, float32(math.Inf(1))},
	}
	for _, tt := range tests {
		if got := quant.BiasScale(tt.minX, tt.maxX, tt.minW, tt.maxW); got != tt.want {
			t.Errorf("%s: BiasScale = %v (%#x), want %v", tt.name, got, math.Float32bits(got), tt.want)
		}
	}
}

func TestQuantizeBias(t *testing.T) {
	// b = 0x3dcce515 = 0.100046314…: with scale 10795 the exact product is
	// 1079.99996286, but the tool multiplies in float32, which rounds it to
	// 1080.0 before the cast: 1080, not 1079.
	nearInt := math.Float32frombits(0x3dcce515)
	tests := []struct {
		name       string
		b          []float32
		minX, maxX float32
		minW, maxW []float32
		want       []int32
	}{
		// R_x = 6.0, R_w = 0.5 → f32(3.0); scale = f32(32385/3.0) = 10795;
		// b = 0.1 → f32(0.1)·10795 = 1079.50001609 → f32 1079.5 → 1079 (truncated);
		// b = -0.1 → -1079 (toward zero, not -1080); b = 0 → 0.
		{"one filter range", []float32{0.1, -0.1, 0}, 0, 6, []float32{-0.5}, []float32{0.5}, []int32{1079, -1079, 0}},
		{"float32 product", []float32{nearInt}, 0, 6, []float32{-0.5}, []float32{0.5}, []int32{1080}},
		// Per channel: R_w = 0.5 and 0.25 → scales 10795 and 21590;
		// -0.2·21590 = f32(-4318.00006) = -4318.
		{"per channel", []float32{0.1, -0.2}, 0, 6, []float32{-0.5, -0.25}, []float32{0.5, 0.25}, []int32{1079, -4318}},
		// -2^31 is representable: R_x·R_w = 32385/2^30 gives scale 2^30; b = -2 → -2^31.
		{"lowest int32", []float32{-2}, 0, 32385, []float32{-1.0 / (1 << 30)}, []float32{1.0 / (1 << 30)}, []int32{math.MinInt32}},
	}
	for _, tt := range tests {
		got, err := quant.QuantizeBias(tt.b, tt.minX, tt.maxX, tt.minW, tt.maxW)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("%s: QuantizeBias = %v, %v; want %v", tt.name, got, err, tt.want)
		}
	}
	bad := []struct {
		name       string
		b          []float32
		minX, maxX float32
		minW, maxW []float32
		want       string
	}{
		{"channel count", []float32{1, 2, 3}, 0, 6, []float32{-1, -1}, []float32{1, 1}, "number of filter output channels (2) is not equal to bias size (3)"},
		{"min/max lengths", []float32{1}, 0, 6, []float32{-1}, nil, "filter range has 1 minimums and 0 maximums"},
		{"no range", []float32{1}, 0, 6, nil, nil, "filter range is empty"},
		// Zero input range: scale +Inf; 0·Inf is NaN, where C's cast is undefined.
		{"zero range", []float32{0}, 0, 0, []float32{-1}, []float32{1}, "bias 0: 0·+Inf = NaN is not an int32"},
		// 2^31 is just outside int32: scale 2^30, b = 2.
		{"overflow", []float32{2}, 0, 32385, []float32{-1.0 / (1 << 30)}, []float32{1.0 / (1 << 30)}, "is not an int32"},
	}
	for _, tt := range bad {
		if _, err := quant.QuantizeBias(tt.b, tt.minX, tt.maxX, tt.minW, tt.maxW); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.want)
		}
	}
}

// The bias of a fused conv fed by another fused conv frozen to [0, 6],
// with a filter range of [-0.5, 0.5]: scale 32385/(6·0.5) = 10795.
func ExampleQuantizeBias() {
	codes, err := quant.QuantizeBias([]float32{0.1, -0.1, 2}, 0, 6, []float32{-0.5}, []float32{0.5})
	fmt.Println(quant.BiasScale(0, 6, -0.5, 0.5), codes, err)
	// Output: 10795 [1079 -1079 21590] <nil>
}
