package synth

import (
	"math"
	"testing"
)

func TestAppendFloat(t *testing.T) {
	tests := []struct {
		v    float32
		want string
		why  string
	}{
		{0, "0", "seen in real logs as [0]"},
		{float32(math.Copysign(0, -1)), "-0", "seen in real logs as [-0]"},
		{12.0352411, "12.0352411", "needs 9 digits: 12.0352 reads back as another float32"},
		{6, "6", "%.6g drops trailing zeros"},
		{0.5, "0.5", ""},
		{2.4e-05, "2.4e-05", "C's %g switches to exponent below 1e-4, two exponent digits"},
		{1e6, "1e+06", "exponent >= precision"},
		{123456, "123456", ""},
		{float32(math.NaN()), "nan", ""},
		{float32(math.Inf(1)), "inf", ""},
		{float32(math.Inf(-1)), "-inf", ""},
		{-5.75943518, "-5.75943518", "first record of the real resnet50 log"},
	}
	for _, tc := range tests {
		if got := string(AppendFloat(nil, tc.v)); got != tc.want {
			t.Errorf("AppendFloat(%v) = %q, want %q (%s)", tc.v, got, tc.want, tc.why)
		}
	}
}
