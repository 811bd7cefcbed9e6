package kernels

import (
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"qcal/internal/tensor"
	"qcal/internal/tfpb"
)

func TestUnary(t *testing.T) {
	x := f32([]int{4}, -1, 0, 4, 7)
	cases := []struct {
		op   string
		want []float32
	}{
		{"Relu", []float32{0, 0, 4, 7}},
		{"Relu6", []float32{0, 0, 4, 6}},
		// Elu(−1) = e^−1 − 1 = −0.63212056.
		{"Elu", []float32{-0.63212056, 0, 4, 7}},
		// Sigmoid(0) = 1/2; Sigmoid(−1) = 1/(1+e) = 0.26894142; Sigmoid(4) = 0.98201379; Sigmoid(7) = 0.99908895.
		{"Sigmoid", []float32{0.26894142, 0.5, 0.98201379, 0.99908895}},
		// tanh(−1) = −0.76159416, tanh(4) = 0.99932930, tanh(7) = 0.99999834.
		{"Tanh", []float32{-0.76159416, 0, 0.99932930, 0.99999834}},
		// erf(−1) = −0.84270079, erf(4) = 0.99999998 (1 in float32), erf(7) = 1.
		{"Erf", []float32{-0.84270079, 0, 1, 1}},
		// e^−1 = 0.36787944, e^0 = 1, e^4 = 54.598150, e^7 = 1096.6332.
		{"Exp", []float32{0.36787944, 1, 54.598150, 1096.6332}},
		{"Square", []float32{1, 0, 16, 49}},
		{"Neg", []float32{1, 0, -4, -7}},
	}
	for _, c := range cases {
		same(t, c.op, mustRun(t, c.op, attrs{}, x)[0], []int{4}, c.want, 2e-7*math.Max(1, float64(c.want[3])))
	}
	// Log, Sqrt, Rsqrt on positives: ln 4 = 1.3862944, √4 = 2, 1/√4 = 0.5;
	// ln 0 = −Inf, 1/√0 = +Inf, √−1 = NaN as TensorFlow gives.
	p := f32([]int{3}, 4, 0, -1)
	ninf, inf, nan := float32(math.Inf(-1)), float32(math.Inf(1)), float32(math.NaN())
	y := mustRun(t, "Log", attrs{}, p)[0]
	if y.F32[0] != 1.3862944 || y.F32[1] != ninf || !math.IsNaN(float64(y.F32[2])) {
		t.Errorf("Log: %v", y.F32)
	}
	y = mustRun(t, "Sqrt", attrs{}, p)[0]
	if y.F32[0] != 2 || y.F32[1] != 0 || y.F32[2] == y.F32[2] {
		t.Errorf("Sqrt: %v", y.F32)
	}
	y = mustRun(t, "Rsqrt", attrs{}, p)[0]
	if y.F32[0] != 0.5 || y.F32[1] != inf || y.F32[2] == y.F32[2] {
		t.Errorf("Rsqrt: %v %v", y.F32, nan)
	}
	wantErr(t, "Relu", attrs{"T": aType(tfpb.DataType_DT_INT32)}, "T int32 is not supported", i32([]int{1}, 1))
	wantErr(t, "Relu", attrs{}, `input 0 ("in") is int32[1], want float`, i32([]int{1}, 1))
}

func TestUnaryLargeParallel(t *testing.T) {
	// Above parallelGrain the work is split; every element must still be done.
	n := 3*parallelGrain + 7
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(i%13) - 6
	}
	y := mustRun(t, "Relu6", attrs{}, tensor.FromF32([]int{n}, v))[0]
	for i, e := range y.F32 {
		if want := min(max(v[i], 0), 6); e != want {
			t.Fatalf("element %d: %v, want %v", i, e, want)
		}
	}
}

func TestBinaryBroadcast(t *testing.T) {
	// rank-1 [3] against rank-4 [1,2,2,3]: added along the last dimension.
	x := ramp(1, 2, 2, 3) // 1..12
	b := f32([]int{3}, 100, 200, 300)
	y := mustRun(t, "Add", attrs{}, x, b)[0]
	same(t, "[1,2,2,3]+[3]", y, []int{1, 2, 2, 3}, []float32{101, 202, 303, 104, 205, 306, 107, 208, 309, 110, 211, 312}, 0)
	// [2,1] − [3] → [2,3]: rows 10, 20 minus 1, 2, 3.
	y = mustRun(t, "Sub", attrs{}, f32([]int{2, 1}, 10, 20), f32([]int{3}, 1, 2, 3))[0]
	same(t, "[2,1]-[3]", y, []int{2, 3}, []float32{9, 8, 7, 19, 18, 17}, 0)
	// Scalar on the left: 12 / [1,2,3,4] = 12, 6, 4, 3.
	y = mustRun(t, "RealDiv", attrs{}, f32(nil, 12), ramp(4))[0]
	same(t, "12/x", y, []int{4}, []float32{12, 6, 4, 3}, 0)
	// [2,1,2] · [1,3,1] → [2,3,2]: a[i,0,k]·b[0,j,0].
	y = mustRun(t, "Mul", attrs{}, f32([]int{2, 1, 2}, 1, 2, 3, 4), f32([]int{1, 3, 1}, 1, 10, 100))[0]
	same(t, "[2,1,2]*[1,3,1]", y, []int{2, 3, 2}, []float32{1, 2, 10, 20, 100, 200, 3, 4, 30, 40, 300, 400}, 0)
	y = mustRun(t, "Maximum", attrs{}, f32([]int{3}, -1, 5, 2), f32(nil, 2))[0]
	same(t, "max", y, []int{3}, []float32{2, 5, 2}, 0)
	y = mustRun(t, "Minimum", attrs{}, f32([]int{3}, -1, 5, 2), f32(nil, 2))[0]
	same(t, "min", y, []int{3}, []float32{-1, 2, 2}, 0)
	// (3−5)² = 4, (1−(−2))² = 9.
	y = mustRun(t, "SquaredDifference", attrs{}, f32([]int{2}, 3, 1), f32([]int{2}, 5, -2))[0]
	same(t, "sqdiff", y, []int{2}, []float32{4, 9}, 0)
	y = mustRun(t, "AddV2", attrs{}, f32([]int{2}, 1, 2), f32([]int{2}, 3, 4))[0]
	same(t, "AddV2", y, []int{2}, []float32{4, 6}, 0)
	// int32 arithmetic, as shape computations use it.
	yi := mustRun(t, "Mul", attrs{"T": aType(tfpb.DataType_DT_INT32)}, i32([]int{2}, 3, -4), i32(nil, 5))[0]
	if !reflect.DeepEqual(yi.I32, []int32{15, -20}) {
		t.Errorf("int32 Mul: %v", yi.I32)
	}
	wantErr(t, "Add", attrs{}, "shapes [2,3] and [2] cannot be broadcast (dimension 1: 3 against 2)", ramp(2, 3), ramp(2))
	wantErr(t, "Add", attrs{}, "dtypes differ", ramp(2), i32([]int{2}, 1, 2))
	wantErr(t, "RealDiv", attrs{"T": aType(tfpb.DataType_DT_INT32)}, "T int32 is not supported", i32([]int{1}, 1), i32([]int{1}, 1))
}

// TestBinaryAgainstReference compares the broadcast loops (the written-out
// float32 ones and the generic ones) with an index computation from the
// definition and each op's element function, on shapes of mixed ranks.
func TestBinaryAgainstReference(t *testing.T) {
	shapes := [][2][]int{
		{{2, 3, 4, 5}, {5}}, {{2, 3, 4, 5}, {3, 1, 1}}, {{1, 3, 1, 5}, {2, 1, 4, 1}}, {{4, 1}, {1, 4}}, {{}, {2, 2}},
		// large enough to be split over cores, each part starting mid-tensor
		{{64, 33, 17, 8}, {17, 1}},
		{{2, 3, 1}, {2, 1, 1}}, // runs of one element, both inputs broadcast along them
		{{5}, {}}, {{}, {}},
	}
	for _, s := range shapes {
		a, b := ramp(s[0]...), ramp(s[1]...)
		for i := range b.F32 {
			b.F32[i] *= 1000
		}
		for _, op := range []string{"Add", "Sub", "Mul", "RealDiv", "Maximum"} {
			y := mustRun(t, op, attrs{}, a, b)[0]
			f := binaryOps[op].f32
			out, _ := BroadcastShape(s[0], s[1])
			want := make([]float32, tensor.NumElements(out))
			idx := make([]int, len(out))
			for i := range want {
				// index of the broadcast source: dimension by dimension, 0 where the input has 1
				off := func(sh []int) int {
					o := 0
					for d := range sh {
						k := len(out) - len(sh) + d
						v := idx[k]
						if sh[d] == 1 {
							v = 0
						}
						o = o*sh[d] + v
					}
					return o
				}
				want[i] = f(a.F32[off(s[0])], b.F32[off(s[1])])
				for d := len(out) - 1; d >= 0; d-- {
					idx[d]++
					if idx[d] < out[d] {
						break
					}
					idx[d] = 0
				}
			}
			same(t, op+tensor.ShapeString(s[0])+tensor.ShapeString(s[1]), y, out, want, 0)
		}
	}
}

func TestEqual(t *testing.T) {
	// [[1 2] [3 4]] == [1 4], the vector repeated for each row: 1=1, 2≠4, 3≠1, 4=4.
	y := mustRun(t, "Equal", attrs{}, i32([]int{2, 2}, 1, 2, 3, 4), i32([]int{2}, 1, 4))[0]
	if y.DType != tfpb.DataType_DT_BOOL || !reflect.DeepEqual(y.Bool, []bool{true, false, false, true}) {
		t.Errorf("Equal: %s %v, want [true false false true]", y, y.Bool)
	}
}

func TestReductions(t *testing.T) {
	x := ramp(2, 3) // [[1 2 3] [4 5 6]]
	cases := []struct {
		op    string
		axes  []int32
		keep  bool
		shape []int
		want  []float32
	}{
		{"Sum", []int32{1}, false, []int{2}, []float32{6, 15}},
		{"Sum", []int32{0, 1}, false, []int{}, []float32{21}},
		{"Mean", []int32{0}, true, []int{1, 3}, []float32{2.5, 3.5, 4.5}},
		{"Mean", []int32{-1}, true, []int{2, 1}, []float32{2, 5}},
		{"Max", []int32{0}, false, []int{3}, []float32{4, 5, 6}},
		{"Min", []int32{1}, false, []int{2}, []float32{1, 4}},
		{"Sum", []int32{}, false, []int{2, 3}, []float32{1, 2, 3, 4, 5, 6}},
	}
	for _, c := range cases {
		y := mustRun(t, c.op, attrs{"keep_dims": aBool(c.keep)}, x, i32([]int{len(c.axes)}, c.axes...))[0]
		same(t, c.op, y, c.shape, c.want, 0)
	}
	// Mean of the NHWC spatial dims of a [1,2,2,2] tensor: channel 0 holds
	// 1, 3, 5, 7 → 4; channel 1 holds 2, 4, 6, 8 → 5.
	y := mustRun(t, "Mean", attrs{"keep_dims": aBool(true)}, ramp(1, 2, 2, 2), i32([]int{2}, 1, 2))[0]
	same(t, "spatial mean", y, []int{1, 1, 1, 2}, []float32{4, 5}, 0)
	wantErr(t, "Sum", attrs{}, "axis 2 is out of range for rank 2", x, i32(nil, 2))
}

func TestArgMax(t *testing.T) {
	// Ties go to the first index: row 0 [3 7 7] → 1; row 1 [9 0 9] → 0.
	x := f32([]int{2, 3}, 3, 7, 7, 9, 0, 9)
	y := mustRun(t, "ArgMax", attrs{}, x, i32(nil, 1))[0]
	if y.DType != tfpb.DataType_DT_INT64 || !reflect.DeepEqual(y.I64, []int64{1, 0}) {
		t.Errorf("ArgMax axis 1: %s %v, want int64 [1 0]", y, y.I64)
	}
	y = mustRun(t, "ArgMax", attrs{"output_type": aType(tfpb.DataType_DT_INT32)}, x, i32(nil, 0))[0]
	// columns: [3 9] → 1, [7 0] → 0, [7 9] → 1.
	if !reflect.DeepEqual(y.I32, []int32{1, 0, 1}) {
		t.Errorf("ArgMax axis 0: %v, want [1 0 1]", y.I32)
	}
}

func TestFakeQuant(t *testing.T) {
	// min −1, max 1, 8 bits, all in float32 as TF computes: s = 2/255
	// rounds up to 0.0078431377, so zp = 0 − (−1)/s = 127.4999923, which is
	// the float32 127.49999237 (not 127.5) → round → 127; nudged min =
	// −127·s = −0.99607843, max = 128·s = 1.0039216.
	p := NudgeFakeQuant(-1, 1, 8, false)
	if math.Abs(float64(p.Min)+0.99607843) > 1e-7 || math.Abs(float64(p.Max)-1.0039216) > 1e-7 {
		t.Errorf("nudged range [%v, %v], want [−0.99607843, 1.0039216]", p.Min, p.Max)
	}
	// 0.5: (0.5 + 0.99607843)/s = 190.75 → floor(191.25) = 191 → 191·s − 0.99607843 = 0.50196078.
	// 2 clamps to 1.0039216; −2 to −0.99607843; 0 stays exactly 0 (the zero point is an integer).
	a := attrs{"num_bits": aInt(8), "narrow_range": aBool(false)}
	y := mustRun(t, "FakeQuantWithMinMaxVars", a, f32([]int{4}, 0.5, 2, -2, 0), f32(nil, -1), f32(nil, 1))[0]
	same(t, "fake quant", y, []int{4}, []float32{0.50196078, 1.0039216, -0.99607843, 0}, 2e-7)
	// A zero point exactly halfway: min −126.5, max 128.5 → s = 1, zp =
	// 126.5 → 127 (std::round, half away from zero; half-to-even would give
	// 126): range [−127, 128].
	p = NudgeFakeQuant(-126.5, 128.5, 8, false)
	if p.Min != -127 || p.Max != 128 {
		t.Errorf("halfway zero point: [%v, %v], want [−127, 128]", p.Min, p.Max)
	}
	// narrow range: qmin 1, s = 2/254; zp = 1 + 127 = 128 exactly; range [−127·s, 127·s] = [−1, 1].
	p = NudgeFakeQuant(-1, 1, 8, true)
	if math.Abs(float64(p.Min)+1) > 1e-7 || math.Abs(float64(p.Max)-1) > 1e-7 {
		t.Errorf("narrow: [%v, %v], want [−1, 1]", p.Min, p.Max)
	}
	// min 0.5 > 0: s = 0.5/255, zp = −0.5/s = −255 < qmin → 0: the range shifts to [0, 255·s] = [0, 0.5].
	p = NudgeFakeQuant(0.5, 1, 8, false)
	if p.Min != 0 || math.Abs(float64(p.Max)-0.5) > 1e-7 {
		t.Errorf("positive range: [%v, %v], want [0, 0.5]", p.Min, p.Max)
	}
	// min == max == 0 gives 0 (INT8-ARITHMETIC.md §1, checked against TF 1.14).
	y = mustRun(t, "FakeQuantWithMinMaxVars", attrs{}, f32([]int{2}, 3, -3), f32(nil, 0), f32(nil, 0))[0]
	same(t, "min=max=0", y, []int{2}, []float32{0, 0}, 0)
	wantErr(t, "FakeQuantWithMinMaxVars", attrs{"num_bits": aInt(1)}, "num_bits 1 is outside 2…16", f32(nil, 0), f32(nil, 0), f32(nil, 1))
}

// TestMaxMinWholeTensor checks the whole-tensor fast path of Max and Min
// (quantize_graph's range prologue) against the general loop: the same
// rows, reduced along their axis as a [2, n] tensor (two outputs, so the
// general loop runs), give the same bits — first of equal zeros, NaN once
// seen.
func TestMaxMinWholeTensor(t *testing.T) {
	nan := float32(math.NaN())
	negz := float32(math.Copysign(0, -1))
	rows := [][]float32{
		{3, -1, 7, 7, 2},
		{0, negz, -5},
		{negz, 0, 5},
		{1, nan, 9},
		{nan},
		{-2},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	big := make([]float32, 10007)
	for i := range big {
		big[i] = float32(rng.NormFloat64())
	}
	rows = append(rows, big)
	for _, row := range rows {
		for _, op := range []string{"Max", "Min"} {
			all := mustRun(t, op, attrs{}, f32([]int{len(row)}, row...), i32(nil, 0))[0]
			two := mustRun(t, op, attrs{}, f32([]int{2, len(row)}, append(append([]float32{}, row...), row...)...), i32(nil, 1))[0]
			if math.Float32bits(all.F32[0]) != math.Float32bits(two.F32[0]) || math.Float32bits(two.F32[0]) != math.Float32bits(two.F32[1]) {
				t.Errorf("%s of %d values: whole tensor %v, general loop %v", op, len(row), all.F32[0], two.F32)
			}
		}
	}
}

// TestBroadcastShapeUnknown checks the rule for unknown (negative)
// dimensions that static shape inference relies on, worked by hand from
// numpy's rule: ? against 1 stays ?, ? against 5 is 5, ? against ? is ?.
func TestBroadcastShapeUnknown(t *testing.T) {
	cases := []struct{ a, b, want []int }{
		{[]int{-1, 3}, []int{1}, []int{-1, 3}},
		{[]int{1, 3}, []int{-1, 3}, []int{-1, 3}},
		{[]int{-1, 5}, []int{4, -1}, []int{4, 5}},
		{[]int{-1}, []int{-1}, []int{-1}},
		{[]int{2, -1}, []int{-1}, []int{2, -1}},
	}
	for _, c := range cases {
		got, err := BroadcastShape(c.a, c.b)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("BroadcastShape(%v, %v) = %v, %v; want %v", c.a, c.b, got, err, c.want)
		}
	}
	if _, err := BroadcastShape([]int{-1, 3}, []int{4}); err == nil {
		t.Errorf("BroadcastShape([?,3], [4]): want an error (3 against 4)")
	}
}
