package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"qcal/internal/tensor"
	"qcal/internal/tfpb"
	"qcal/quant"
)

// TestMatMulMinFirstWorked: input_quant_mode MIN_FIRST, worked by hand
// from TF's MklDnnQuantizedMatMulOp (mkl_qmatmul_op.cc, GetBiasHandle and
// ExtendMklDnnMatMulFwdParams).
//
// a quint8 1×2 = [100, 200] over [-1, 3] (MIN_FIRST: a code q means
// -1 + q·4/255, so a ≈ [0.568627, 2.137255]); w qint8 2×2 =
// [[10, -20], [30, -40]] over [-1, 1] (R_w = 1, w = code/127); bias
// float [0.5, -0.25].
//
//	D = 3 - (-1) = 4; qaMin = 255·(-1)/4 = -63.75
//	scale = 32385/(4·1) = 8096.25
//	colSum = [10+30, -20-40] = [40, -60]
//	b'[0] = 0.5·8096.25 + 40·(-63.75)    = 4048.125 - 2550    = 1498.125
//	b'[1] = -0.25·8096.25 + (-60)·(-63.75) = -2024.0625 + 3825 = 1800.9375
//	acc = [100·10 + 200·30, 100·(-20) + 200·(-40)] = [7000, -10000]
//	d = acc + b' = [8498.125, -8199.0625] → rne → [8498, -8199]
//
// (every step exact in float32). Relu makes the second 0. The output level
// is (4/255)·(2/254) ≈ 1.23512e-4, so 8498 means 1.04961; in floats
// 0.568627·10/127 + 2.137255·30/127 + 0.5 = 1.049637.
//
// AndReluAndRequantize to [0, 2]: scale = level·2³¹/2/2²³ = 128·level ≈
// 0.0158095; 8498.125·0.0158095 = 134.35 → 134 (the float 1.049637 is
// 133.83 of 255/2 steps: TF's 256/255 factor gives 134.35).
//
// SCALED on the same codes has no compensation and R_a = max(|-1|, 3) = 3:
// b' = [0.5, -0.25]·32385/3 = [5397.5, -2698.75], d = [12397.5,
// -12698.75] → [12398, -12699] (rne, ties to even). A qint32 bias
// is added as it is in either mode: [1498, 1801] → [8498, -8199].
func TestMatMulMinFirstWorked(t *testing.T) {
	a := qu8([]int{1, 2}, 100, 200)
	w := qi8([]int{2, 2}, 10, -20, 30, -40)
	bias := f32([]int{2}, 0.5, -0.25)
	rng := []*tensor.Tensor{sc(-1), sc(3), sc(-1), sc(1)}
	in := func(b *tensor.Tensor, extra ...*tensor.Tensor) []*tensor.Tensor {
		return append(append([]*tensor.Tensor{a, w, b}, rng...), extra...)
	}
	at := func(mode string, out tfpb.DataType) attrs {
		x := attrs{"T1": aType(dtQU8), "T2": aType(dtQI8), "Toutput": aType(out)}
		if mode != "" {
			x["input_quant_mode"] = aStr(mode)
		}
		return x
	}
	for _, tc := range []struct {
		op, mode string
		bias     *tensor.Tensor
		want     []int32
	}{
		{"QuantizedMatMulWithBias", "MIN_FIRST", bias, []int32{8498, -8199}},
		{"QuantizedMatMulWithBias", "", bias, []int32{8498, -8199}}, // the op's default is MIN_FIRST
		{"QuantizedMatMulWithBiasAndRelu", "MIN_FIRST", bias, []int32{8498, 0}},
		{"QuantizedMatMulWithBias", "SCALED", bias, []int32{12398, -12699}},
		{"QuantizedMatMulWithBias", "MIN_FIRST", qi32([]int{2}, 1498, 1801), []int32{8498, -8199}},
		{"QuantizedMatMulWithBias", "SCALED", qi32([]int{2}, 1498, 1801), []int32{8498, -8199}},
	} {
		out := mustRun(t, tc.op, at(tc.mode, dtQI32), in(tc.bias)...)
		if !slices.Equal(out[0].I32, tc.want) {
			t.Errorf("%s %q bias %s: %v, want %v", tc.op, tc.mode, tensor.TypeName(tc.bias.DType), out[0].I32, tc.want)
		}
		mn, mx := quant.MklRangeForMultiplication(quant.QUInt8, quant.QInt8, quant.QInt32, -1, 3, -1, 1)
		if out[1].F32[0] != mn || out[2].F32[0] != mx {
			t.Errorf("%s: range [%g, %g], want [%g, %g]", tc.op, out[1].F32[0], out[2].F32[0], mn, mx)
		}
	}
	out := mustRun(t, "QuantizedMatMulWithBiasAndReluAndRequantize", at("MIN_FIRST", dtQU8), in(bias, sc(0), sc(2))...)
	if !slices.Equal(out[0].U8, []uint8{134, 0}) || out[1].F32[0] != 0 || out[2].F32[0] != 2 {
		t.Errorf("AndReluAndRequantize %v [%g, %g], want [134 0] [0, 2]", out[0].U8, out[1].F32[0], out[2].F32[0])
	}
	wantErr(t, "QuantizedMatMulWithBias", at("MIN_COMBINED", dtQI32), "not MIN_FIRST or SCALED", in(bias)...)
	wantErr(t, "QuantizedMatMulWithBias", at("MIN_FIRST", dtQI32), "needs max_a > min_a",
		a, w, bias, sc(1), sc(1), sc(-1), sc(1))
	wantErr(t, "QuantizedMatMulWithBias", at("MIN_FIRST", dtQI32), "want [2]",
		a, w, f32([]int{3}, 1, 2, 3), sc(-1), sc(3), sc(-1), sc(1))
}

// refMinFirst is the slow obvious reference of the MIN_FIRST kernel:
// TF's float bias compensation written out step by step in float32, the
// integer products summed naively, then oneDNN's epilogue (d = float(acc)
// + b'; Relu; round half to even; saturate to int32).
func refMinFirst(a []uint8, w []int8, m, k, n int, bias []float32, minA, maxA, minW, maxW float32, relu bool) []int32 {
	d := maxA - minA
	rw := float32(math.Max(math.Abs(float64(minW)), math.Abs(float64(maxW))))
	qaMin := float32(float32(255*minA) / d)
	scale := float32(32385 / float64(float32(d*rw)))
	out := make([]int32, m*n)
	for j := 0; j < n; j++ {
		var cs int32
		for p := 0; p < k; p++ {
			cs += int32(w[p*n+j])
		}
		bj := float32(float32(bias[j]*scale) + float32(float32(cs)*qaMin))
		for i := 0; i < m; i++ {
			var acc int32
			for p := 0; p < k; p++ {
				acc += int32(a[i*k+p]) * int32(w[p*n+j])
			}
			v := float32(float32(acc) + bj)
			if relu && v < 0 {
				v = 0
			}
			out[i*n+j] = int32(max(min(math.RoundToEven(float64(v)), math.MaxInt32), math.MinInt32))
		}
	}
	return out
}

// TestMatMulMinFirstRandom runs QuantizedMatMulWithBias[AndRelu] with
// MIN_FIRST on random shapes (signed inputs quantized by the QuantizeV2
// kernel, MIN_FIRST quint8 over their own min and max; qint8 weights over
// a symmetric range [-R, R], so that Qw = 127/R is also the Dequantize
// step; transposes on some) and checks three things:
//
//  1. codes equal refMinFirst exactly;
//  2. against the float reference on the dequantized operands
//     (Dequantize MIN_FIRST of a, code·R/127 of w, float64 matmul + bias
//     [+ Relu]), the output code·level differs by at most
//     |min_a - m_r|·|Σ_p w[p,j]| + level/2 + 1e-5·(Σ_p|a·w| + |b|):
//     TF compensates with min_a itself, the input codes stand for values
//     from m_r = Dequantize(0), min_a rounded to a multiple of the step s
//     (|min_a - m_r| ≤ s/2); level/2 is the output rounding;
//  3. against the original float inputs, the error is within the input
//     quantization step: at most (s/2)·Σ_p|w[p,j]| + the same level/2 and
//     relative terms.
func TestMatMulMinFirstRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 41))
	worst2, worst3 := 0.0, 0.0 // measured error / bound
	for ci, sz := range [][3]int{{1, 1, 1}, {3, 5, 4}, {7, 33, 9}, {16, 64, 31}, {2, 130, 17}, {5, 300, 3}} {
		m, k, n := sz[0], sz[1], sz[2]
		for _, relu := range []bool{false, true} {
			ta, tb := ci%2 == 1, ci%3 == 2
			lo, hi := -3*r.Float32(), 0.5+3*r.Float32()
			if ci == 0 {
				lo = 0 // a non-negative input: min_a = 0, no compensation
			}
			x := make([]float32, m*k)
			for i := range x {
				x[i] = lo + (hi-lo)*r.Float32()
			}
			xmin, xmax := slices.Min(x), slices.Max(x)
			q := mustRun(t, "QuantizeV2", quantAttrs(dtQU8, "MIN_FIRST", ""), f32([]int{m, k}, x...), sc(xmin), sc(xmax))
			minA, maxA := q[1].F32[0], q[2].F32[0]
			codesA := q[0].U8
			R := 0.1 + 2*r.Float32()
			wc := randCodes(r, k*n, -127, 127)
			w := make([]int8, k*n)
			for i, v := range wc {
				w[i] = int8(v)
			}
			bias := make([]float32, n)
			for j := range bias {
				bias[j] = 2*r.Float32() - 1
			}
			aIn := tensor.New(dtQU8, []int{m, k})
			copy(aIn.U8, codesA)
			if ta {
				aIn = tensor.New(dtQU8, []int{k, m})
				for i := 0; i < m; i++ {
					for p := 0; p < k; p++ {
						aIn.U8[p*m+i] = codesA[i*k+p]
					}
				}
			}
			wIn := tensor.New(dtQI8, []int{k, n})
			copy(wIn.I8, w)
			if tb {
				wIn = tensor.New(dtQI8, []int{n, k})
				for p := 0; p < k; p++ {
					for j := 0; j < n; j++ {
						wIn.I8[j*k+p] = w[p*n+j]
					}
				}
			}
			op := "QuantizedMatMulWithBias"
			if relu {
				op = "QuantizedMatMulWithBiasAndRelu"
			}
			at := attrs{"T1": aType(dtQU8), "T2": aType(dtQI8), "Toutput": aType(dtQI32), "input_quant_mode": aStr("MIN_FIRST"),
				"transpose_a": aBool(ta), "transpose_b": aBool(tb)}
			out := mustRun(t, op, at, aIn, wIn, f32([]int{n}, bias...), sc(minA), sc(maxA), sc(-R), sc(R))
			name := fmt.Sprintf("%s %v ta=%v tb=%v [%g, %g]", op, sz, ta, tb, minA, maxA)

			want := refMinFirst(codesA, w, m, k, n, bias, minA, maxA, -R, R, relu)
			if !slices.Equal(out[0].I32, want) {
				t.Fatalf("%s: codes differ from refMinFirst\n got %v\nwant %v", name, out[0].I32, want)
			}

			level := float64(out[2].F32[0]) / (1 << 31)
			z := quant.NewMinFirst(quant.QUInt8, minA, maxA)
			mr := float64(z.Dequantize(0))
			s := float64(z.Step())
			wd := func(p, j int) float64 { return float64(w[p*n+j]) * float64(R) / 127 }
			for i := 0; i < m; i++ {
				for j := 0; j < n; j++ {
					var yDeq, yF, colSum, absW, absAW float64
					for p := 0; p < k; p++ {
						ad := float64(z.Dequantize(int32(codesA[i*k+p])))
						yDeq += ad * wd(p, j)
						yF += float64(x[i*k+p]) * wd(p, j)
						colSum += wd(p, j)
						absW += math.Abs(wd(p, j))
						absAW += math.Abs(ad * wd(p, j))
					}
					yDeq += float64(bias[j])
					yF += float64(bias[j])
					if relu {
						yDeq, yF = max(yDeq, 0), max(yF, 0)
					}
					got := float64(out[0].I32[i*n+j]) * level
					slack := level/2 + 1e-5*(absAW+math.Abs(float64(bias[j])))
					b2 := math.Abs(float64(minA)-mr)*math.Abs(colSum) + slack
					b3 := s/2*absW + slack
					if e := math.Abs(got - yDeq); e > b2 {
						t.Errorf("%s [%d,%d]: %g, dequantized reference %g: error %g over %g", name, i, j, got, yDeq, e, b2)
					} else {
						worst2 = max(worst2, e/b2)
					}
					if e := math.Abs(got - yF); e > b3 {
						t.Errorf("%s [%d,%d]: %g, float %g: error %g over the step bound %g", name, i, j, got, yF, e, b3)
					} else {
						worst3 = max(worst3, e/b3)
					}
				}
			}
		}
	}
	t.Logf("largest error / bound: %.3f against the dequantized operands, %.3f against the float inputs", worst2, worst3)
}

// BenchmarkMklMatMul: QuantizedMatMulWithBiasAndRelu on a 256×1024 input
// and 1024×512 weights with input_quant_mode SCALED and MIN_FIRST (whose
// extra cost is the weight column sums and the bias compensation, O(k·n)
// once per call). GOP/s counts a multiply and an add per product.
func BenchmarkMklMatMul(b *testing.B) {
	const m, k, n = 256, 1024, 512
	r := rand.New(rand.NewPCG(5, 6))
	a := tensor.New(dtQU8, []int{m, k})
	for i := range a.U8 {
		a.U8[i] = uint8(r.IntN(256))
	}
	w := tensor.New(dtQI8, []int{k, n})
	for i := range w.I8 {
		w.I8[i] = int8(r.IntN(255) - 127)
	}
	bias := tensor.New(dtF32, []int{n})
	for i := range bias.F32 {
		bias.F32[i] = r.Float32() - 0.5
	}
	for _, mode := range []string{"SCALED", "MIN_FIRST"} {
		b.Run(mode, func(b *testing.B) {
			at := attrs{"T1": aType(dtQU8), "T2": aType(dtQI8), "Toutput": aType(dtQI32), "input_quant_mode": aStr(mode)}
			b.SetBytes(int64(m * k))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := runOp("QuantizedMatMulWithBiasAndRelu", at, a, w, bias, sc(-1), sc(3), sc(-1), sc(1)); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(2*float64(m*k*n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GOP/s")
		})
	}
}
