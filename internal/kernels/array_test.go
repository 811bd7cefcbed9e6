package kernels

import (
	"reflect"
	"testing"

	"qcal/internal/tensor"
	"qcal/internal/tfpb"
)

// iramp returns an int32 tensor holding 0, 1, 2, ...
func iramp(shape ...int) *tensor.Tensor {
	v := make([]int32, tensor.NumElements(shape))
	for i := range v {
		v[i] = int32(i)
	}
	return tensor.FromI32(shape, v)
}

func vec(v ...int32) *tensor.Tensor { return i32([]int{len(v)}, v...) }

func wantInts(t *testing.T, what string, got *tensor.Tensor, shape []int, want []int32) {
	t.Helper()
	if !reflect.DeepEqual(got.Shape, shape) && !(len(got.Shape) == 0 && len(shape) == 0) {
		t.Fatalf("%s: shape %v, want %v", what, got.Shape, shape)
	}
	if !reflect.DeepEqual(got.I32, want) && !(len(got.I32) == 0 && len(want) == 0) {
		t.Fatalf("%s: %v, want %v", what, got.I32, want)
	}
}

func TestStridedSlice(t *testing.T) {
	x := iramp(2, 3, 4) // x[i,j,k] = 12i + 4j + k
	cases := []struct {
		name               string
		begin, end, stride []int32
		masks              [5]int // begin, end, ellipsis, new_axis, shrink
		shape              []int
		want               []int32
	}{
		// x[1:2, 0:3:2]: i=1, j=0,2, all k → 12..15, 20..23.
		{"x[1:2,0:3:2]", []int32{1, 0}, []int32{2, 3}, []int32{1, 2}, [5]int{}, []int{1, 2, 4}, []int32{12, 13, 14, 15, 20, 21, 22, 23}},
		// x[0] (shrink): the first 12.
		{"x[0]", []int32{0}, []int32{1}, []int32{1}, [5]int{0, 0, 0, 0, 1}, []int{3, 4}, []int32{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}},
		// x[..., 1]: ellipsis then shrink → 4j+12i+1.
		{"x[...,1]", []int32{0, 1}, []int32{0, 2}, []int32{1, 1}, [5]int{0, 0, 1, 0, 2}, []int{2, 3}, []int32{1, 5, 9, 13, 17, 21}},
		// x[:, None, 0]: a new axis, then j=0 shrunk → [2,1,4] of x[:,0,:].
		{"x[:,None,0]", []int32{0, 0, 0}, []int32{0, 0, 1}, []int32{1, 1, 1}, [5]int{1, 1, 0, 2, 4}, []int{2, 1, 4}, []int32{0, 1, 2, 3, 12, 13, 14, 15}},
		// x[0, ::-1, -1]: j reversed, k = 3: 11, 7, 3.
		{"x[0,::-1,-1]", []int32{0, 0, -1}, []int32{1, 0, 0}, []int32{1, -1, 1}, [5]int{2, 2, 0, 0, 5}, []int{3}, []int32{11, 7, 3}},
		// x[-1:, -2:, 1:3] (negative begins count from the end): i=1, j=1,2, k=1,2.
		{"x[-1:,-2:,1:3]", []int32{-1, -2, 1}, []int32{0, 0, 3}, []int32{1, 1, 1}, [5]int{0, 3, 0, 0, 0}, []int{1, 2, 2}, []int32{17, 18, 21, 22}},
		// Out-of-range begin and end are clamped: x[0:1, -10:10, 3:100] → j=0..2, k=3.
		{"clamped", []int32{0, -10, 3}, []int32{1, 10, 100}, []int32{1, 1, 1}, [5]int{}, []int{1, 3, 1}, []int32{3, 7, 11}},
		// An empty slice: x[:, 2:1] has 0 elements.
		{"empty", []int32{0, 2}, []int32{2, 1}, []int32{1, 1}, [5]int{1, 0, 0, 0, 0}, []int{2, 0, 4}, []int32{}},
		// x[1, 2, ::-2]: k = 3, 1 → 23, 21.
		{"x[1,2,::-2]", []int32{1, 2, 0}, []int32{2, 3, 0}, []int32{1, 1, -2}, [5]int{4, 4, 0, 0, 3}, []int{2}, []int32{23, 21}},
	}
	for _, c := range cases {
		a := attrs{"T": aType(tfpb.DataType_DT_INT32), "Index": aType(tfpb.DataType_DT_INT32),
			"begin_mask": aInt(c.masks[0]), "end_mask": aInt(c.masks[1]), "ellipsis_mask": aInt(c.masks[2]),
			"new_axis_mask": aInt(c.masks[3]), "shrink_axis_mask": aInt(c.masks[4])}
		y := mustRun(t, "StridedSlice", a, x, vec(c.begin...), vec(c.end...), vec(c.stride...))[0]
		wantInts(t, c.name, y, c.shape, c.want)
	}
	// Keras' flatten: Shape → [0:1] shrunk = the batch size, a scalar.
	y := mustRun(t, "StridedSlice", attrs{"shrink_axis_mask": aInt(1)}, vec(2, 5, 5, 8), vec(0), vec(1), vec(1))[0]
	wantInts(t, "batch of a shape", y, []int{}, []int32{2})
	wantErr(t, "StridedSlice", attrs{"shrink_axis_mask": aInt(1)}, "index 4 of dimension 0 is out of bounds (size 4)", vec(2, 5, 5, 8), vec(4), vec(5), vec(1))
	wantErr(t, "StridedSlice", attrs{}, "stride 0 is 0", vec(1, 2), vec(0), vec(1), vec(0))
}

func TestSliceConcatPack(t *testing.T) {
	x := iramp(2, 3) // [[0 1 2] [3 4 5]]
	// Slice begin [0,1] size [2,-1]: columns 1..2 → 1 2 4 5.
	y := mustRun(t, "Slice", attrs{}, x, vec(0, 1), vec(2, -1))[0]
	wantInts(t, "Slice", y, []int{2, 2}, []int32{1, 2, 4, 5})
	wantErr(t, "Slice", attrs{}, "is outside int32[2,3] in dimension 1", x, vec(0, 2), vec(1, 2))
	// ConcatV2 on axis −1: [[0 1 2 0 1 2] [3 4 5 3 4 5]].
	y = mustRun(t, "ConcatV2", attrs{}, x, x, i32(nil, -1))[0]
	wantInts(t, "ConcatV2 -1", y, []int{2, 6}, []int32{0, 1, 2, 0, 1, 2, 3, 4, 5, 3, 4, 5})
	y = mustRun(t, "ConcatV2", attrs{}, x, iramp(1, 3), i32(nil, 0))[0]
	wantInts(t, "ConcatV2 0", y, []int{3, 3}, []int32{0, 1, 2, 3, 4, 5, 0, 1, 2})
	wantErr(t, "ConcatV2", attrs{}, "does not match input 0 int32[2,3] outside axis 0", x, iramp(1, 2), i32(nil, 0))
	// Pack axis 0 of scalars: Keras' reshape shape [batch, −1].
	y = mustRun(t, "Pack", attrs{"axis": aInt(0)}, i32(nil, 2), i32(nil, -1))[0]
	wantInts(t, "Pack scalars", y, []int{2}, []int32{2, -1})
	// Pack axis 1 of two [2] vectors: [[a0 b0] [a1 b1]].
	y = mustRun(t, "Pack", attrs{"axis": aInt(1)}, vec(1, 2), vec(3, 4))[0]
	wantInts(t, "Pack axis 1", y, []int{2, 2}, []int32{1, 3, 2, 4})
}

func TestShapeOps(t *testing.T) {
	x := ramp(2, 1, 3, 1)
	y := mustRun(t, "Reshape", attrs{}, x, vec(-1, 3))[0]
	if !reflect.DeepEqual(y.Shape, []int{2, 3}) || &y.F32[0] != &x.F32[0] {
		t.Errorf("Reshape: %v (sharing %v)", y.Shape, &y.F32[0] == &x.F32[0])
	}
	wantErr(t, "Reshape", attrs{}, "cannot reshape float[2,1,3,1] (6 elements) to [4 -1]", x, vec(4, -1))
	wantErr(t, "Reshape", attrs{}, "only one dimension may be -1", x, vec(-1, -1))
	s := mustRun(t, "Shape", attrs{}, x)[0]
	wantInts(t, "Shape", s, []int{4}, []int32{2, 1, 3, 1})
	s = mustRun(t, "Shape", attrs{"out_type": aType(tfpb.DataType_DT_INT64)}, x)[0]
	if !reflect.DeepEqual(s.I64, []int64{2, 1, 3, 1}) {
		t.Errorf("Shape int64: %v", s.I64)
	}
	y = mustRun(t, "Squeeze", attrs{}, x)[0]
	if !reflect.DeepEqual(y.Shape, []int{2, 3}) {
		t.Errorf("Squeeze all: %v", y.Shape)
	}
	y = mustRun(t, "Squeeze", attrs{"squeeze_dims": aInts(-1)}, x)[0]
	if !reflect.DeepEqual(y.Shape, []int{2, 1, 3}) {
		t.Errorf("Squeeze -1: %v", y.Shape)
	}
	wantErr(t, "Squeeze", attrs{"squeeze_dims": aInts(0)}, "cannot squeeze dimension 0 of float[2,1,3,1]: it is not 1", x)
	y = mustRun(t, "ExpandDims", attrs{}, ramp(2, 3), i32(nil, -1))[0]
	if !reflect.DeepEqual(y.Shape, []int{2, 3, 1}) {
		t.Errorf("ExpandDims -1: %v, want [2 3 1] (−1 means after the last)", y.Shape)
	}
	y = mustRun(t, "ExpandDims", attrs{}, ramp(2, 3), i32(nil, 0))[0]
	if !reflect.DeepEqual(y.Shape, []int{1, 2, 3}) {
		t.Errorf("ExpandDims 0: %v", y.Shape)
	}
}

func TestTransposePadFillCast(t *testing.T) {
	x := iramp(2, 3)
	// Transpose [1,0]: [[0 3] [1 4] [2 5]].
	y := mustRun(t, "Transpose", attrs{}, x, vec(1, 0))[0]
	wantInts(t, "Transpose", y, []int{3, 2}, []int32{0, 3, 1, 4, 2, 5})
	// NHWC → NCHW of a [1,2,2,2]: channel-major.
	y = mustRun(t, "Transpose", attrs{}, iramp(1, 2, 2, 2), vec(0, 3, 1, 2))[0]
	wantInts(t, "Transpose NCHW", y, []int{1, 2, 2, 2}, []int32{0, 2, 4, 6, 1, 3, 5, 7})
	wantErr(t, "Transpose", attrs{}, "perm [0 0] is not a permutation", x, vec(0, 0))
	// Pad [[1,0],[0,2]]: a zero row above, two zero columns right.
	y = mustRun(t, "Pad", attrs{}, x, i32([]int{2, 2}, 1, 0, 0, 2))[0]
	wantInts(t, "Pad", y, []int{3, 5}, []int32{0, 0, 0, 0, 0, 0, 1, 2, 0, 0, 3, 4, 5, 0, 0})
	y = mustRun(t, "Fill", attrs{}, vec(2, 2), f32(nil, 1.5))[0]
	same(t, "Fill", y, []int{2, 2}, []float32{1.5, 1.5, 1.5, 1.5}, 0)
	// Cast float → int32 truncates toward zero: −1.7 → −1, 2.9 → 2.
	y = mustRun(t, "Cast", attrs{"SrcT": aType(tfpb.DataType_DT_FLOAT), "DstT": aType(tfpb.DataType_DT_INT32)}, f32([]int{2}, -1.7, 2.9))[0]
	wantInts(t, "Cast", y, []int{2}, []int32{-1, 2})
	// int32 → float; bool → float: true = 1.
	y = mustRun(t, "Cast", attrs{"DstT": aType(tfpb.DataType_DT_FLOAT)}, tensor.FromBool([]int{2}, []bool{true, false}))[0]
	same(t, "Cast bool", y, []int{2}, []float32{1, 0}, 0)
	// float → half: 1/3 → 0x3555.
	y = mustRun(t, "Cast", attrs{"DstT": aType(tfpb.DataType_DT_HALF)}, f32(nil, 1.0/3))[0]
	if y.U16[0] != 0x3555 {
		t.Errorf("Cast half: %#x, want 0x3555", y.U16[0])
	}
	wantErr(t, "Cast", attrs{"DstT": aType(tfpb.DataType_DT_COMPLEX64)}, "DstT complex64 is not supported", f32(nil, 1))
}

// TestSizeLimits: outputs sized by input values are refused beyond
// MaxElements instead of exhausting memory.
func TestSizeLimits(t *testing.T) {
	wantErr(t, "Fill", attrs{}, "output shape [1048576,1048576,4] is beyond", vec(1<<20, 1<<20, 4), f32(nil, 0))
	wantErr(t, "Tile", attrs{}, "multiple 1099511627776 is negative or beyond", ramp(2), tensor.FromI64([]int{1}, []int64{1 << 40}))
	wantErr(t, "Range", attrs{}, "more than", f32(nil, 0), f32(nil, 1), f32(nil, 1e-12))
	wantErr(t, "Pad", attrs{}, "padding [0 4294967296] is negative or beyond", ramp(2), tensor.FromI64([]int{1, 2}, []int64{0, 1 << 32}))
	wantErr(t, "Add", attrs{}, "output shape [65536,65536] is beyond", ramp(1<<16, 1), ramp(1, 1<<16))
}
