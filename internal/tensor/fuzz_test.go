package tensor

import (
	"reflect"
	"testing"

	"google.golang.org/protobuf/proto"

	"qcal/internal/tfpb"
)

// FuzzFromProto decodes arbitrary TensorProto bytes: FromProto never
// panics, and what it accepts survives ToProto → FromProto unchanged.
func FuzzFromProto(f *testing.F) {
	seeds := []*tfpb.TensorProto{
		FromF32([]int{2}, []float32{1, -2}).ToProto(),
		{Dtype: tfpb.DataType_DT_INT32, TensorShape: shapeProto(3), IntVal: []int32{7}},
		{Dtype: tfpb.DataType_DT_HALF, TensorShape: shapeProto(2), HalfVal: []int32{0x3c00}},
		{Dtype: tfpb.DataType_DT_STRING, TensorShape: shapeProto(1), StringVal: [][]byte{[]byte("a")}},
		{Dtype: tfpb.DataType_DT_FLOAT, TensorShape: shapeProto(1<<20, 1<<20)},
	}
	for _, s := range seeds {
		b, err := proto.Marshal(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var p tfpb.TensorProto
		if proto.Unmarshal(b, &p) != nil {
			return
		}
		// Bound the work: shapes beyond a million elements are only checked.
		if n, ok := protoElements(&p); !ok || n > 1<<20 {
			return
		}
		x, err := FromProto(&p)
		if err != nil {
			return
		}
		if x.Len() != x.NumElements() {
			t.Fatalf("%s holds %d elements", x, x.Len())
		}
		y, err := FromProto(x.ToProto())
		if err != nil {
			t.Fatalf("round trip of %s: %v", x, err)
		}
		// Compared as protos: floats by their bytes, so NaN equals itself.
		if !reflect.DeepEqual(x.Shape, y.Shape) || !proto.Equal(x.ToProto(), y.ToProto()) {
			t.Fatalf("round trip changed %s into %s", x, y)
		}
	})
}

// protoElements multiplies the dims of p's shape, reporting false on a
// negative dimension or overflow past 2^40.
func protoElements(p *tfpb.TensorProto) (int, bool) {
	n := 1
	for _, d := range p.GetTensorShape().GetDim() {
		if d.Size < 0 || d.Size > maxElements {
			return 0, false
		}
		if d.Size != 0 && n > maxElements/int(d.Size) {
			return 0, false
		}
		n *= int(d.Size)
	}
	return n, true
}
