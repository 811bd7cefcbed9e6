package tensor

import (
	"math"
	"reflect"
	"strings"
	"testing"

	"qcal/internal/tfpb"
)

func shapeProto(dims ...int64) *tfpb.TensorShapeProto {
	s := &tfpb.TensorShapeProto{}
	for _, d := range dims {
		s.Dim = append(s.Dim, &tfpb.TensorShapeProto_Dim{Size: d})
	}
	return s
}

func TestFromProtoContent(t *testing.T) {
	// float 1.0 = 0x3f800000, -2.0 = 0xc0000000, little-endian bytes.
	p := &tfpb.TensorProto{Dtype: tfpb.DataType_DT_FLOAT, TensorShape: shapeProto(2),
		TensorContent: []byte{0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0}}
	x, err := FromProto(p)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(x.F32, []float32{1, -2}) || !reflect.DeepEqual(x.Shape, []int{2}) {
		t.Errorf("got %v %v, want [1 -2] shape [2]", x.F32, x.Shape)
	}
	// int32 -1 = ff ff ff ff, 258 = 02 01 00 00.
	p = &tfpb.TensorProto{Dtype: tfpb.DataType_DT_INT32, TensorShape: shapeProto(1, 2),
		TensorContent: []byte{0xff, 0xff, 0xff, 0xff, 2, 1, 0, 0}}
	x, err = FromProto(p)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(x.I32, []int32{-1, 258}) {
		t.Errorf("int32 content: got %v, want [-1 258]", x.I32)
	}
	// qint8 0x80 = -128; quint8 keeps 0x80 = 128.
	x, _ = FromProto(&tfpb.TensorProto{Dtype: tfpb.DataType_DT_QINT8, TensorShape: shapeProto(1), TensorContent: []byte{0x80}})
	if x.I8[0] != -128 {
		t.Errorf("qint8 0x80: got %d, want -128", x.I8[0])
	}
	x, _ = FromProto(&tfpb.TensorProto{Dtype: tfpb.DataType_DT_QUINT8, TensorShape: shapeProto(1), TensorContent: []byte{0x80}})
	if x.U8[0] != 128 {
		t.Errorf("quint8 0x80: got %d, want 128", x.U8[0])
	}
	// int64 content: 2^40 = 00 00 00 00 00 01 00 00.
	x, _ = FromProto(&tfpb.TensorProto{Dtype: tfpb.DataType_DT_INT64, TensorShape: shapeProto(), TensorContent: []byte{0, 0, 0, 0, 0, 1, 0, 0}})
	if x.I64[0] != 1<<40 {
		t.Errorf("int64: got %d, want 2^40", x.I64[0])
	}
}

func TestFromProtoTypedFill(t *testing.T) {
	// TF's rule: fewer values than elements repeat the last value.
	x, err := FromProto(&tfpb.TensorProto{Dtype: tfpb.DataType_DT_FLOAT, TensorShape: shapeProto(2, 2), FloatVal: []float32{3, 7}})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(x.F32, []float32{3, 7, 7, 7}) {
		t.Errorf("float_val fill: got %v, want [3 7 7 7]", x.F32)
	}
	// No values: zeros (tf.zeros of an int32 shape).
	x, _ = FromProto(&tfpb.TensorProto{Dtype: tfpb.DataType_DT_INT32, TensorShape: shapeProto(3)})
	if !reflect.DeepEqual(x.I32, []int32{0, 0, 0}) {
		t.Errorf("empty int_val: got %v", x.I32)
	}
	// uint8 and int8 come from int_val.
	x, _ = FromProto(&tfpb.TensorProto{Dtype: tfpb.DataType_DT_QUINT8, TensorShape: shapeProto(2), IntVal: []int32{200}})
	if !reflect.DeepEqual(x.U8, []uint8{200, 200}) {
		t.Errorf("quint8 int_val: got %v", x.U8)
	}
	x, _ = FromProto(&tfpb.TensorProto{Dtype: tfpb.DataType_DT_INT8, TensorShape: shapeProto(2), IntVal: []int32{-5, 6}})
	if !reflect.DeepEqual(x.I8, []int8{-5, 6}) {
		t.Errorf("int8 int_val: got %v", x.I8)
	}
	x, _ = FromProto(&tfpb.TensorProto{Dtype: tfpb.DataType_DT_INT64, TensorShape: shapeProto(2), Int64Val: []int64{-1 << 40}})
	if !reflect.DeepEqual(x.I64, []int64{-1 << 40, -1 << 40}) {
		t.Errorf("int64_val: got %v", x.I64)
	}
	x, _ = FromProto(&tfpb.TensorProto{Dtype: tfpb.DataType_DT_BOOL, TensorShape: shapeProto(3), BoolVal: []bool{false, true}})
	if !reflect.DeepEqual(x.Bool, []bool{false, true, true}) {
		t.Errorf("bool_val: got %v", x.Bool)
	}
	x, _ = FromProto(&tfpb.TensorProto{Dtype: tfpb.DataType_DT_STRING, TensorShape: shapeProto(2), StringVal: [][]byte{[]byte("ab")}})
	if len(x.Str) != 2 || string(x.Str[0]) != "ab" || string(x.Str[1]) != "ab" {
		t.Errorf("string_val: got %q", x.Str)
	}
	x, _ = FromProto(&tfpb.TensorProto{Dtype: tfpb.DataType_DT_DOUBLE, TensorShape: shapeProto(), DoubleVal: []float64{0.1}})
	if x.F64[0] != 0.1 {
		t.Errorf("double_val: got %v", x.F64)
	}
	// half_val holds the 16 bits: 0x3c00 = 1.0, 0xc000 = -2.0.
	x, _ = FromProto(&tfpb.TensorProto{Dtype: tfpb.DataType_DT_HALF, TensorShape: shapeProto(2), HalfVal: []int32{0x3c00, 0xc000}})
	f, err := x.Float32s()
	if err != nil || !reflect.DeepEqual(f, []float32{1, -2}) {
		t.Errorf("half_val: got %v %v, want [1 -2]", f, err)
	}
}

func TestFromProtoErrors(t *testing.T) {
	cases := []struct {
		name string
		p    *tfpb.TensorProto
		want string
	}{
		{"short content", &tfpb.TensorProto{Dtype: tfpb.DataType_DT_FLOAT, TensorShape: shapeProto(2), TensorContent: []byte{1, 2, 3, 4}},
			"tensor_content has 4 bytes, want 8 for float[2]"},
		{"too many values", &tfpb.TensorProto{Dtype: tfpb.DataType_DT_FLOAT, TensorShape: shapeProto(1), FloatVal: []float32{1, 2}},
			"float_val has 2 values for 1 elements"},
		{"unknown dim", &tfpb.TensorProto{Dtype: tfpb.DataType_DT_FLOAT, TensorShape: shapeProto(-1)},
			"unknown dimension 0"},
		{"complex", &tfpb.TensorProto{Dtype: tfpb.DataType_DT_COMPLEX64, TensorShape: shapeProto(1)},
			"dtype complex64 is not supported"},
		{"huge", &tfpb.TensorProto{Dtype: tfpb.DataType_DT_FLOAT, TensorShape: shapeProto(1<<30, 1<<30)},
			"more than 2^40 elements"},
		{"string content", &tfpb.TensorProto{Dtype: tfpb.DataType_DT_STRING, TensorShape: shapeProto(1), TensorContent: []byte{1}},
			"only string_val"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := FromProto(c.p)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v, want an error containing %q", err, c.want)
			}
		})
	}
}

func TestProtoRoundTrip(t *testing.T) {
	xs := []*Tensor{
		FromF32([]int{2, 2}, []float32{1.5, -0, float32(math.Inf(1)), 3}),
		FromI32([]int{3}, []int32{-7, 0, 1 << 30}),
		FromI64(nil, []int64{-1 << 50}),
		FromU8(tfpb.DataType_DT_QUINT8, []int{2}, []uint8{0, 255}),
		FromI8(tfpb.DataType_DT_QINT8, []int{2}, []int8{-128, 127}),
		FromBool([]int{2}, []bool{true, false}),
		{DType: tfpb.DataType_DT_STRING, Shape: []int{1}, Str: [][]byte{[]byte("x")}},
		{DType: tfpb.DataType_DT_HALF, Shape: []int{1}, U16: []uint16{0x3555}},
	}
	for _, x := range xs {
		y, err := FromProto(x.ToProto())
		if err != nil {
			t.Fatalf("%s: %v", x, err)
		}
		if !reflect.DeepEqual(x, y) {
			t.Errorf("%s: round trip gave %+v, want %+v", x, y, x)
		}
	}
}

func TestHalf(t *testing.T) {
	cases := []struct {
		h uint16
		f float32
	}{
		{0x3c00, 1}, {0xc000, -2}, {0x7bff, 65504}, // largest finite half
		{0x0001, 1.0 / (1 << 24)}, // smallest subnormal: 2^-24
		{0x3555, 0.333251953125},  // 1/3 rounded: 0x155/1024·2^-2 + 2^-2
		{0x7c00, float32(math.Inf(1))},
	}
	for _, c := range cases {
		if got := HalfToF32(c.h); got != c.f {
			t.Errorf("HalfToF32(%#04x) = %v, want %v", c.h, got, c.f)
		}
		if got := F32ToHalf(c.f); got != c.h {
			t.Errorf("F32ToHalf(%v) = %#04x, want %#04x", c.f, got, c.h)
		}
	}
	// 1 + 2^-11 is halfway between 1 and 1+2^-10: ties to even gives 1.0.
	if got := F32ToHalf(1 + 1.0/2048); got != 0x3c00 {
		t.Errorf("tie: got %#04x, want 0x3c00", got)
	}
	// 65520 rounds up past the largest half: Inf.
	if got := F32ToHalf(65520); got != 0x7c00 {
		t.Errorf("overflow: got %#04x, want 0x7c00", got)
	}
}

func TestCheckShape(t *testing.T) {
	if n, err := CheckShape([]int{2, 3, 0}); n != 0 || err != nil {
		t.Errorf("[2,3,0]: %d %v, want 0", n, err)
	}
	if _, err := CheckShape([]int{2, -1}); err == nil || !strings.Contains(err.Error(), "negative dimension in shape [2,-1]") {
		t.Errorf("negative: %v", err)
	}
}
