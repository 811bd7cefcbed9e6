package kernels

import (
	"fmt"
	"testing"
)

func qpoolAttrs(k, s int, pad string) attrs {
	return attrs{"T": aType(dtQU8), "ksize": aInts(1, k, k, 1), "strides": aInts(1, s, s, 1), "padding": aStr(pad)}
}

func TestQuantizedMaxPool(t *testing.T) {
	// 4×4 codes 0..15, 2×2 VALID stride 2: maxima 5, 7, 13, 15; the
	// range passes through.
	x := qu8([]int{1, 4, 4, 1}, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
	out := mustRun(t, "QuantizedMaxPool", qpoolAttrs(2, 2, "VALID"), x, sc(-1), sc(3))
	if fmt.Sprint(out[0].U8) != "[5 7 13 15]" {
		t.Errorf("max pool %v, want [5 7 13 15]", out[0].U8)
	}
	wantRange(t, "max pool", out, -1, 3)
	// qint8 with SAME padding: the padding never wins, even over -128.
	a := qpoolAttrs(2, 2, "SAME")
	a["T"] = aType(dtQI8)
	out = mustRun(t, "QuantizedMaxPool", a, qi8([]int{1, 1, 1, 1}, -128), sc(-1), sc(1))
	if out[0].I8[0] != -128 {
		t.Errorf("qint8 SAME max %v, want -128", out[0].I8)
	}
}

// TestAvgPoolMKLvsEigen: Intel rounds sum·float32(1/count) half to even,
// the reference truncates sum/count.
func TestAvgPoolMKLvsEigen(t *testing.T) {
	// Three 2×2 windows (1×2×6×1, VALID, stride 2): sums 7 (1,2,2,2),
	// 10 (2,3,2,3) and 14 (3,4,3,4), count 4.
	//   MKL:   1.75 → 2, 2.5 → 2 (to even), 3.5 → 4.
	//   Eigen: 7/4 = 1, 10/4 = 2, 14/4 = 3.
	x := qu8([]int{1, 2, 6, 1}, 1, 2, 2, 3, 3, 4, 2, 2, 2, 3, 3, 4)
	SetInt8Options(Int8Options{})
	mkl := mustRun(t, "QuantizedAvgPool", qpoolAttrs(2, 2, "VALID"), x, sc(0), sc(1))
	SetInt8Options(Int8Options{EigenAvgPool: true})
	eig := mustRun(t, "QuantizedAvgPool", qpoolAttrs(2, 2, "VALID"), x, sc(0), sc(1))
	SetInt8Options(Int8Options{})
	if fmt.Sprint(mkl[0].U8) != "[2 2 4]" {
		t.Errorf("MKL avg %v, want [2 2 4]", mkl[0].U8)
	}
	if fmt.Sprint(eig[0].U8) != "[1 2 3]" {
		t.Errorf("Eigen avg %v, want [1 2 3]", eig[0].U8)
	}
	// SAME on 3×3, 2×2 stride 2: the last row and column of windows hold
	// 2 and 1 pixels; padding is not counted. Codes 0..8: windows
	// {0,1,3,4} = 8/4 = 2; {2,5} = 7/2 = 3.5 → 4 (MKL); {6,7} = 13/2 = 6.5
	// → 6; {8} = 8.
	x = qu8([]int{1, 3, 3, 1}, 0, 1, 2, 3, 4, 5, 6, 7, 8)
	out := mustRun(t, "QuantizedAvgPool", qpoolAttrs(2, 2, "SAME"), x, sc(0), sc(1))
	if fmt.Sprint(out[0].U8) != "[2 4 6 8]" {
		t.Errorf("SAME avg %v, want [2 4 6 8]", out[0].U8)
	}
}
