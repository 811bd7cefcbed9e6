package quant

import (
	"math"
	"slices"
	"testing"
)

// TestMatMulMinFirstBias, worked by hand: input [-1, 3] (D = 4, qaMin =
// -255/4 = -63.75), weights [-1, 1] (R_w = 1): scale = 32385/4 = 8096.25;
// b = [0.5, -0.25], column sums [40, -60]:
// 4048.125 - 2550 = 1498.125 and -2024.0625 + 3825 = 1800.9375 (exact in
// float32). With min_a = 0 the compensation vanishes and the scale is the
// fused convolutions' (32385/(3·1) = 10795 for [0, 3]).
func TestMatMulMinFirstBias(t *testing.T) {
	got := MatMulMinFirstBias([]float32{0.5, -0.25}, []int32{40, -60}, -1, 3, -1, 1)
	if !slices.Equal(got, []float32{1498.125, 1800.9375}) {
		t.Errorf("got %v, want [1498.125 1800.9375]", got)
	}
	got = MatMulMinFirstBias([]float32{0.5}, []int32{40}, 0, 3, -1, 1)
	if want := 0.5 * FusedConvBiasScale(QUInt8, 0, 3, -1, 1); got[0] != want || want != 5397.5 {
		t.Errorf("min_a = 0: %v, want %v = 5397.5", got, want)
	}
}

// TestMatMulRequantScale: scale = level·2³¹/R_o/2²³ with level =
// (max_a-min_a)/255 · (max_w-min_w)/254. Input [0, 2.5], weights [-1, 1],
// output [0, 2]: level = 0.00980392·0.00787402 = 7.719623e-5, scale =
// 2³¹·level/2/2²³ = 128·level = 0.00988112. The convolution's
// FusedConvRequantScale = 255·R_x·R_w/(255·127·R_o) = 2.5/254 = 0.00984252:
// the matmul's is 256/255 times it for symmetric weights. For Eigen SCALED
// weights [-128/s, 127/s] the two agree to rounding.
func TestMatMulRequantScale(t *testing.T) {
	got := MatMulRequantScale(QUInt8, 0, 2.5, -1, 1, 0, 2)
	if math.Abs(float64(got)-0.00988112) > 1e-8 {
		t.Errorf("quint8: %v, want 0.00988112", got)
	}
	conv := FusedConvRequantScale(QUInt8, QUInt8, 0, 2.5, -1, 1, 0, 2)
	if r := float64(got) / float64(conv); math.Abs(r-256.0/255) > 1e-6 {
		t.Errorf("matmul/conv = %v, want 256/255", r)
	}
	if q8 := MatMulRequantScale(QInt8, 0, 2.5, -1, 1, 0, 2); q8 != got/2 {
		t.Errorf("qint8 %v, want half of quint8's %v", q8, got)
	}
	s := float32(127.0 / 0.7) // Eigen SCALED qint8 weights of max |w| 0.7
	got = MatMulRequantScale(QUInt8, 0, 2.5, -128/s, 127/s, 0, 2)
	conv = FusedConvRequantScale(QUInt8, QUInt8, 0, 2.5, -128/s, 127/s, 0, 2)
	if r := float64(got) / float64(conv); math.Abs(r-1) > 1e-6 {
		t.Errorf("Eigen weights: matmul/conv = %v, want 1", r)
	}
}
