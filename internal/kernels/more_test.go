package kernels

import (
	"reflect"
	"testing"

	"qcal/internal/tensor"
	"qcal/internal/tfpb"
)

func TestMoreUnary(t *testing.T) {
	x := f32([]int{4}, -2.5, -0.5, 0.5, 4)
	same(t, "Reciprocal", mustRun(t, "Reciprocal", attrs{}, x)[0], []int{4}, []float32{-0.4, -2, 2, 0.25}, 0)
	same(t, "Floor", mustRun(t, "Floor", attrs{}, x)[0], []int{4}, []float32{-3, -1, 0, 4}, 0)
	same(t, "Abs", mustRun(t, "Abs", attrs{}, x)[0], []int{4}, []float32{2.5, 0.5, 0.5, 4}, 0)
	// LeakyRelu alpha 0.1: −2.5·0.1 = −0.25, −0.05; positives kept.
	same(t, "LeakyRelu", mustRun(t, "LeakyRelu", attrs{"alpha": aFloat(0.1)}, x)[0], []int{4}, []float32{-0.25, -0.05, 0.5, 4}, 1e-7)
	// default alpha 0.2: −0.5, −0.1.
	same(t, "LeakyRelu default", mustRun(t, "LeakyRelu", attrs{}, x)[0], []int{4}, []float32{-0.5, -0.1, 0.5, 4}, 1e-7)
	// LogSoftmax of 1, 2, 3: x − 3 − ln(e^−2 + e^−1 + 1) = x − 3 − 0.40760596
	// → −2.40760596, −1.40760596, −0.40760596.
	same(t, "LogSoftmax", mustRun(t, "LogSoftmax", attrs{}, f32([]int{1, 3}, 1, 2, 3))[0], []int{1, 3}, []float32{-2.40760596, -1.40760596, -0.40760596}, 1e-6)
}

func TestAddNAndProd(t *testing.T) {
	y := mustRun(t, "AddN", attrs{}, ramp(3), ramp(3), f32([]int{3}, 10, 10, 10))[0]
	same(t, "AddN", y, []int{3}, []float32{12, 14, 16}, 0)
	wantErr(t, "AddN", attrs{}, "input 1 float[2] does not match input 0 float[3]", ramp(3), ramp(2))
	// Prod over axis 1 of [[1 2 3] [4 5 6]]: 6, 120; over nothing of an empty axis: 1.
	y = mustRun(t, "Prod", attrs{}, ramp(2, 3), vec(1))[0]
	same(t, "Prod", y, []int{2}, []float32{6, 120}, 0)
	yi := mustRun(t, "Prod", attrs{"T": aType(tfpb.DataType_DT_INT32)}, vec(2, 5, 5, 8), vec(0))[0]
	wantInts(t, "Prod int32 (flatten size)", yi, []int{}, []int32{400})
	y = mustRun(t, "Prod", attrs{}, tensor.New(tfpb.DataType_DT_FLOAT, []int{2, 0}), vec(1))[0]
	same(t, "empty Prod", y, []int{2}, []float32{1, 1}, 0)
}

func TestPadV2MirrorPad(t *testing.T) {
	// PadV2 of [1 2 3] by (1, 2) with −1: −1 1 2 3 −1 −1.
	y := mustRun(t, "PadV2", attrs{}, ramp(3), i32([]int{1, 2}, 1, 2), f32(nil, -1))[0]
	same(t, "PadV2", y, []int{6}, []float32{-1, 1, 2, 3, -1, -1}, 0)
	// REFLECT [1 2 3] by (2, 2): 3 2 1 2 3 2 1; SYMMETRIC: 2 1 1 2 3 3 2.
	y = mustRun(t, "MirrorPad", attrs{"mode": aStr("REFLECT")}, ramp(3), i32([]int{1, 2}, 2, 2))[0]
	same(t, "REFLECT", y, []int{7}, []float32{3, 2, 1, 2, 3, 2, 1}, 0)
	y = mustRun(t, "MirrorPad", attrs{"mode": aStr("SYMMETRIC")}, ramp(3), i32([]int{1, 2}, 2, 2))[0]
	same(t, "SYMMETRIC", y, []int{7}, []float32{2, 1, 1, 2, 3, 3, 2}, 0)
	wantErr(t, "MirrorPad", attrs{"mode": aStr("REFLECT")}, "too large", ramp(3), i32([]int{1, 2}, 3, 0))
	wantErr(t, "MirrorPad", attrs{"mode": aStr("EDGE")}, `mode "EDGE" is not REFLECT or SYMMETRIC`, ramp(3), i32([]int{1, 2}, 1, 1))
}

func TestTileGatherRangeSplit(t *testing.T) {
	// Tile [[0 1] [2 3]] by (1, 2): [[0 1 0 1] [2 3 2 3]].
	y := mustRun(t, "Tile", attrs{}, iramp(2, 2), vec(1, 2))[0]
	wantInts(t, "Tile", y, []int{2, 4}, []int32{0, 1, 0, 1, 2, 3, 2, 3})
	// GatherV2 rows 2, 0 of [[0 1] [2 3] [4 5]]: [[4 5] [0 1]]; along axis 1, column 1: [1 3 5].
	y = mustRun(t, "GatherV2", attrs{}, iramp(3, 2), vec(2, 0), i32(nil, 0))[0]
	wantInts(t, "GatherV2 axis 0", y, []int{2, 2}, []int32{4, 5, 0, 1})
	y = mustRun(t, "GatherV2", attrs{}, iramp(3, 2), i32(nil, 1), i32(nil, 1))[0]
	wantInts(t, "GatherV2 axis 1 scalar index", y, []int{3}, []int32{1, 3, 5})
	wantErr(t, "GatherV2", attrs{}, "index 3 is out of range [0, 3)", iramp(3, 2), vec(3), i32(nil, 0))
	// Range 3 to 10 by 3: 3 6 9; float 0 to 1 by 0.25: 0 .25 .5 .75.
	y = mustRun(t, "Range", attrs{}, i32(nil, 3), i32(nil, 10), i32(nil, 3))[0]
	wantInts(t, "Range", y, []int{3}, []int32{3, 6, 9})
	yf := mustRun(t, "Range", attrs{}, f32(nil, 0), f32(nil, 1), f32(nil, 0.25))[0]
	same(t, "Range float", yf, []int{4}, []float32{0, 0.25, 0.5, 0.75}, 0)
	wantErr(t, "Range", attrs{}, "empty or endless", i32(nil, 3), i32(nil, 10), i32(nil, -1))
	// Split [[0 1 2 3] [4 5 6 7]] in 2 along axis 1: [[0 1] [4 5]], [[2 3] [6 7]].
	outs := mustRun(t, "Split", attrs{"num_split": aInt(2)}, i32(nil, 1), iramp(2, 4))
	wantInts(t, "Split 0", outs[0], []int{2, 2}, []int32{0, 1, 4, 5})
	wantInts(t, "Split 1", outs[1], []int{2, 2}, []int32{2, 3, 6, 7})
	wantErr(t, "Split", attrs{"num_split": aInt(3)}, "does not split into 3 equal parts", i32(nil, 1), iramp(2, 4))
}

func TestComparisons(t *testing.T) {
	a, b := f32([]int{3}, 1, 2, 3), f32(nil, 2)
	for op, want := range map[string][]bool{
		"Less": {true, false, false}, "LessEqual": {true, true, false},
		"Greater": {false, false, true}, "GreaterEqual": {false, true, true}, "NotEqual": {true, false, true},
	} {
		y := mustRun(t, op, attrs{}, a, b)[0]
		if !reflect.DeepEqual(y.Bool, want) {
			t.Errorf("%s([1 2 3], 2) = %v, want %v", op, y.Bool, want)
		}
	}
}
