package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"qcal/internal/tensor"
	"qcal/quant"
)

// TestMatMulOffsetsMatchesDirect: the zero-point expansion through
// gemm.U8S8 equals the direct Σ(a-oa)(b-ob), for quint8 and qint8 b.
func TestMatMulOffsetsMatchesDirect(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, sz := range [][3]int{{1, 1, 1}, {3, 5, 4}, {17, 33, 9}, {2, 64, 31}} {
		m, k, n := sz[0], sz[1], sz[2]
		for _, signed := range []bool{false, true} {
			a := make([]uint8, m*k)
			for i := range a {
				a[i] = uint8(r.IntN(256))
			}
			b := randCodes(r, k*n, 0, 255)
			if signed {
				b = randCodes(r, k*n, -128, 127)
			}
			oa, ob := int32(r.IntN(256)), int32(r.IntN(256))
			got := make([]int32, m*n)
			MatMulOffsets(a, b, m, k, n, oa, ob, got)
			for i := 0; i < m; i++ {
				for j := 0; j < n; j++ {
					var s int32
					for p := 0; p < k; p++ {
						s += (int32(a[i*k+p]) - oa) * (b[p*n+j] - ob)
					}
					if got[i*n+j] != s {
						t.Fatalf("%v signed=%v: [%d,%d] = %d, want %d", sz, signed, i, j, got[i*n+j], s)
					}
				}
			}
		}
	}
}

func TestQuantizedMatMul(t *testing.T) {
	// a range [-1, 1] → oa = 128; b range [0, 2] → ob = 0. a = [138 118],
	// b = [3; 5]: (10)·3 + (-10)·5 = -20. With transpose_b and b given as
	// [3 5] (1×2) the same.
	a := qu8([]int{1, 2}, 138, 118)
	at := attrs{"T1": aType(dtQU8), "T2": aType(dtQU8), "Toutput": aType(dtQI32)}
	out := mustRun(t, "QuantizedMatMul", at, a, qu8([]int{2, 1}, 3, 5), sc(-1), sc(1), sc(0), sc(2))
	if out[0].I32[0] != -20 {
		t.Errorf("matmul %v, want -20", out[0].I32)
	}
	mn, mx := quant.RangeForMultiplication(quant.QUInt8, quant.QUInt8, quant.QInt32, -1, 1, 0, 2)
	wantRange(t, "matmul", out, mn, mx)
	at["transpose_b"] = aBool(true)
	out = mustRun(t, "QuantizedMatMul", at, a, qu8([]int{1, 2}, 3, 5), sc(-1), sc(1), sc(0), sc(2))
	if out[0].I32[0] != -20 {
		t.Errorf("transposed matmul %v, want -20", out[0].I32)
	}
	wantErr(t, "QuantizedMatMul", at, "inner dimensions", a, qu8([]int{3, 1}, 1, 2, 3), sc(-1), sc(1), sc(0), sc(2))
}

func TestQuantizedMatMulWithBiasMKL(t *testing.T) {
	// As TestQuantizedConv2DWithBiasMKL: acc 100·64 = 6400, b' = 0.5·12954
	// = 6477 → 12877; AndReluAndRequantize to [0, 2] → 127.
	at := attrs{"T1": aType(dtQU8), "T2": aType(dtQI8), "Toutput": aType(dtQI32)}
	a, b := qu8([]int{1, 1}, 100), qi8([]int{1, 1}, 64)
	out := mustRun(t, "QuantizedMatMulWithBias", at, a, b, f32([]int{1}, 0.5), sc(0), sc(2.5), sc(-1), sc(1))
	if out[0].I32[0] != 12877 {
		t.Errorf("WithBias %v, want 12877", out[0].I32)
	}
	at["Toutput"] = aType(dtQU8)
	out = mustRun(t, "QuantizedMatMulWithBiasAndReluAndRequantize", at, a, b, f32([]int{1}, 0.5), sc(0), sc(2.5), sc(-1), sc(1), sc(0), sc(2))
	if out[0].U8[0] != 127 {
		t.Errorf("AndRequantize %v, want 127", out[0].U8)
	}
}

func TestQuantizedBiasAdd(t *testing.T) {
	// x quint8 [0, 1], bias quint8 [-1, 1]: M = max(1, -0, 1, 1)·2¹⁷ =
	// 131072. The qint32 space [-M, M]: range_scale = (2³²-1)/2¹⁸ → float32
	// 16384, range_min_scaled = round(-2³¹) = -2³¹: a float v goes to
	// round(v·16384). Zero = FloatToQuantized<qint32>(0, -M, M) = 0.
	// x code 255 means 255·float32(1/255) = 1 → 16384; x code 0 → 0.
	// Bias code 128 means 0.007843137 (see TestDequantize) → round(128.50196) = 129.
	a := attrs{"T1": aType(dtQU8), "T2": aType(dtQU8), "out_type": aType(dtQI32)}
	out := mustRun(t, "QuantizedBiasAdd", a, qu8([]int{2, 1}, 255, 0), qu8([]int{1}, 128), sc(0), sc(1), sc(-1), sc(1))
	if fmt.Sprint(out[0].I32) != "[16513 129]" {
		t.Errorf("bias add %v, want [16513 129]", out[0].I32)
	}
	wantRange(t, "bias add", out, -131072, 131072)
}

func TestQuantizedRelu(t *testing.T) {
	// quint8 [-1, 1]: zero = FloatToQuantized(0) = 128 (range_scale
	// 127.5, round(0) - round(-127.5) = 128).
	out := mustRun(t, "QuantizedRelu", attrs{"Tinput": aType(dtQU8)}, qu8([]int{3}, 0, 128, 200), sc(-1), sc(1))
	if fmt.Sprint(out[0].U8) != "[128 128 200]" {
		t.Errorf("relu %v, want [128 128 200]", out[0].U8)
	}
	// Relu6 on [-1, 7]: range_scale = 256/(8·256/255) = 31.875; zero =
	// 0 - round(-31.875) = 32; six = round(191.25) + 32 = 223.
	out = mustRun(t, "QuantizedRelu6", attrs{"Tinput": aType(dtQU8)}, qu8([]int{3}, 0, 100, 250), sc(-1), sc(7))
	if fmt.Sprint(out[0].U8) != "[32 100 223]" {
		t.Errorf("relu6 %v, want [32 100 223]", out[0].U8)
	}
	wantRange(t, "relu6", out, -1, 7)
}

func TestQuantizedReshapeAndConcat(t *testing.T) {
	out := mustRun(t, "QuantizedReshape", attrs{}, qu8([]int{2, 2}, 1, 2, 3, 4), i32([]int{1}, -1), sc(-1), sc(1))
	if tensor.ShapeString(out[0].Shape) != "[4]" || fmt.Sprint(out[0].U8) != "[1 2 3 4]" {
		t.Errorf("reshape %v %v", out[0].Shape, out[0].U8)
	}
	wantRange(t, "reshape", out, -1, 1)
	// Ranges [0, 2] and [0, 4]: overall [0, 4]; input 0 is rescaled by
	// 2/4: 255 → 127.5 → 128 (rne), 3 → 1.5 → 2; input 1 stays.
	out = mustRun(t, "QuantizedConcatV2", attrs{"T": aType(dtQU8)},
		qu8([]int{2}, 255, 3), qu8([]int{1}, 9), i32(nil, 0), sc(0), sc(0), sc(2), sc(4))
	if fmt.Sprint(out[0].U8) != "[128 2 9]" {
		t.Errorf("concat %v, want [128 2 9]", out[0].U8)
	}
	wantRange(t, "concat", out, 0, 4)
}

func TestQuantizedConcat(t *testing.T) {
	// A in [0, 1] (codes 255, 0), B in [-1, 1] (code 128): output range
	// [min(0, -1), 1] = [-1, 1]. A is requantized: 255 means 1 → round(1·127.5)
	// + 128 = 256 → 255; 0 means 0 → 128. B keeps its codes.
	out := mustRun(t, "QuantizedConcat", attrs{"T": aType(dtQU8)},
		i32(nil, 0), qu8([]int{2}, 255, 0), qu8([]int{1}, 128), sc(0), sc(-1), sc(1), sc(1))
	if fmt.Sprint(out[0].U8) != "[255 128 128]" {
		t.Errorf("concat %v, want [255 128 128]", out[0].U8)
	}
	wantRange(t, "concat", out, -1, 1)
	wantErr(t, "QuantizedConcat", attrs{"T": aType(dtQU8)}, "want 1 + 3·N", i32(nil, 0), qu8([]int{1}, 1), sc(0))
}
