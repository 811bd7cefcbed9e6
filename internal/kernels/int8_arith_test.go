package kernels

import (
	"fmt"
	"testing"

	"qcal/quant"
)

func TestQuantizedAdd(t *testing.T) {
	a := attrs{"T1": aType(dtQU8), "T2": aType(dtQU8), "Toutput": aType(dtQI32)}
	// x, y in [0, 1]: R = 1·2¹⁴ = 16384. The qint32 map of [-R, R]:
	// range_scale = 2³²/(2R·2³²/(2³²-1)) = (2³²-1)/32768; round(-R·that)
	// = round(-2147483647.5) = -2³¹, so v → round(v·131071.99997). Code 0
	// means 0 → v0 = 0; code 1 means float32(1/255) = 0.003921569 →
	// round(514.0078) = 514. Code c → 514·c: 255 + 255 → 131070 + 131070.
	out := mustRun(t, "QuantizedAdd", a, qu8([]int{3}, 255, 1, 0), qu8([]int{3}, 255, 2, 0), sc(0), sc(1), sc(0), sc(1))
	if fmt.Sprint(out[0].I32) != "[262140 1542 0]" {
		t.Errorf("add %v, want [262140 1542 0]", out[0].I32)
	}
	wantRange(t, "add", out, -16384, 16384)
	// A vector repeated over a matrix ([2,2] + [2]).
	out = mustRun(t, "QuantizedAdd", a, qu8([]int{2, 2}, 1, 2, 3, 4), qu8([]int{2}, 10, 0), sc(0), sc(1), sc(0), sc(1))
	if fmt.Sprint(out[0].I32) != fmt.Sprint([]int32{514 * 11, 514 * 2, 514 * 13, 514 * 4}) {
		t.Errorf("vector-tensor add %v", out[0].I32)
	}
	// A one-element operand is RequantizeInNewRange'd: code 255 of [0, 1]
	// means 1 → FloatToQuantized<qint32>(1) = round(131071.99997) = 131072
	// (not 514·255 = 131070).
	out = mustRun(t, "QuantizedAdd", a, qu8([]int{2}, 0, 1), qu8(nil, 255), sc(0), sc(1), sc(0), sc(1))
	if fmt.Sprint(out[0].I32) != "[131072 131586]" {
		t.Errorf("scalar add %v, want [131072 131586]", out[0].I32)
	}
	wantErr(t, "QuantizedAdd", a, "not supported", qu8([]int{2, 3}), qu8([]int{2, 1}), sc(0), sc(1), sc(0), sc(1))
	wantErr(t, "QuantizedAdd", a, "larger than its min", qu8([]int{1}), qu8([]int{1}), sc(0), sc(0), sc(0), sc(1))
}

func TestQuantizedMul(t *testing.T) {
	// x range [-1, 1] → off 128; y range [0, 2] → off 0: (138-128)·3 = 30,
	// (118-128)·5 = -50.
	a := attrs{"T1": aType(dtQU8), "T2": aType(dtQU8), "Toutput": aType(dtQI32)}
	out := mustRun(t, "QuantizedMul", a, qu8([]int{2}, 138, 118), qu8([]int{2}, 3, 5), sc(-1), sc(1), sc(0), sc(2))
	if fmt.Sprint(out[0].I32) != "[30 -50]" {
		t.Errorf("mul %v, want [30 -50]", out[0].I32)
	}
	mn, mx := quant.RangeForMultiplication(quant.QUInt8, quant.QUInt8, quant.QInt32, -1, 1, 0, 2)
	wantRange(t, "mul", out, mn, mx)
}
