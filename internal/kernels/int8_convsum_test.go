package kernels

import (
	"fmt"
	"testing"
)

// TestConvSumMKL: the summand variants on the 1×1 example of
// TestQuantizedConv2DWithBiasMKL (acc 6400, b' 6477: 12877 before the sum;
// requantized to [0, 2]: 12877·637.5/64770 = 126.74).
func TestConvSumMKL(t *testing.T) {
	x, w := qu8([]int{1, 1, 2, 1}, 100, 100), qi8([]int{1, 1, 1, 1}, 64)
	a := qconvAttrs(1, "VALID")
	// qint32 out, float summand: prev = rne(s·12954): 0.1 → 1295.4 → 1295,
	// d = 12877 + 1295 = 14172; -2 → -25908, d = -13031 → Relu 0.
	out := mustRun(t, "QuantizedConv2DWithBiasSumAndRelu", a, x, w, f32([]int{1}, 0.5), sc(0), sc(2.5), sc(-1), sc(1),
		f32([]int{1, 1, 2, 1}, 0.1, -2))
	if fmt.Sprint(out[0].I32) != "[14172 0]" {
		t.Errorf("SumAndRelu %v, want [14172 0]", out[0].I32)
	}
	// quint8 summand in [0, 1], frozen output [0, 2]: sum scale R_s/R_o =
	// 0.5; code 100 → 126.74 + 50 = 176.74 → 177; code 0 → 127.
	a["out_type"] = aType(dtQU8)
	out = mustRun(t, "QuantizedConv2DWithBiasSumAndReluAndRequantize", a, x, w, f32([]int{1}, 0.5), sc(0), sc(2.5), sc(-1), sc(1),
		sc(0), sc(2), qu8([]int{1, 1, 2, 1}, 100, 0), sc(0), sc(1))
	if fmt.Sprint(out[0].U8) != "[177 127]" {
		t.Errorf("SumAndReluAndRequantize %v, want [177 127]", out[0].U8)
	}
	wantRange(t, "sum requantize", out, 0, 2)
	// qint8 summand in [-1, 1]: scale 255·1/(2·127) = 1.003937; code 10 →
	// 126.74 + 10.04 = 136.78 → 137. Code -10 is read as the byte 246 (TF's
	// quirk): 126.74 + 246·1.003937 = 373.7 → 255, not 116.7 → 117.
	out = mustRun(t, "QuantizedConv2DWithBiasSignedSumAndReluAndRequantize", a, x, w, f32([]int{1}, 0.5), sc(0), sc(2.5), sc(-1), sc(1),
		sc(0), sc(2), qi8([]int{1, 1, 2, 1}, 10, -10), sc(-1), sc(1))
	if fmt.Sprint(out[0].U8) != "[137 255]" {
		t.Errorf("SignedSum %v, want [137 255]", out[0].U8)
	}
	wantErr(t, "QuantizedConv2DWithBiasSumAndReluAndRequantize", a, "the Signed op takes qint8", x, w, f32([]int{1}, 0.5), sc(0), sc(2.5), sc(-1), sc(1),
		sc(0), sc(2), qi8([]int{1, 1, 2, 1}, 10, -10), sc(-1), sc(1))
}
