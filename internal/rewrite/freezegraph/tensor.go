package freezegraph

import (
	"encoding/binary"
	"fmt"
	"math"

	"qcal/internal/tfpb"
)

// packed reports whether TensorFlow's make_tensor_proto stores a tensor of
// dtype t with more than one element as raw tensor_content (its
// _TENSOR_CONTENT_TYPES in current TensorFlow; half, uint32, uint64 and
// bfloat16 joined after TF 1.x). Bool, uint16, string and complex values
// always go to their typed fields.
func packed(t tfpb.DataType) bool {
	switch t {
	case tfpb.DataType_DT_HALF, tfpb.DataType_DT_FLOAT, tfpb.DataType_DT_DOUBLE,
		tfpb.DataType_DT_INT32, tfpb.DataType_DT_UINT8, tfpb.DataType_DT_INT16,
		tfpb.DataType_DT_INT8, tfpb.DataType_DT_INT64,
		tfpb.DataType_DT_QINT8, tfpb.DataType_DT_QUINT8, tfpb.DataType_DT_QINT16,
		tfpb.DataType_DT_QUINT16, tfpb.DataType_DT_QINT32,
		tfpb.DataType_DT_UINT32, tfpb.DataType_DT_UINT64, tfpb.DataType_DT_BFLOAT16:
		return true
	}
	return false
}

// tfLayout returns the Const value TensorFlow's make_tensor_proto writes for
// t (a checkpoint tensor: little-endian tensor_content, or string_val): the
// same dtype and shape, with tensor_content for more than one element of a
// packed dtype, else every element in the dtype's typed field.
func tfLayout(t *tfpb.TensorProto) (*tfpb.TensorProto, error) {
	out := &tfpb.TensorProto{Dtype: t.GetDtype(), TensorShape: t.GetTensorShape()}
	if out.TensorShape == nil {
		out.TensorShape = &tfpb.TensorShapeProto{}
	}
	if t.GetDtype() == tfpb.DataType_DT_STRING {
		out.StringVal = t.GetStringVal()
		return out, nil
	}
	b := t.GetTensorContent()
	n := 1
	for _, d := range out.TensorShape.GetDim() {
		n *= int(d.GetSize())
	}
	if n > 1 && packed(t.GetDtype()) {
		out.TensorContent = b
		return out, nil
	}
	le := binary.LittleEndian
	step := map[tfpb.DataType]int{
		tfpb.DataType_DT_FLOAT: 4, tfpb.DataType_DT_DOUBLE: 8, tfpb.DataType_DT_INT32: 4, tfpb.DataType_DT_QINT32: 4,
		tfpb.DataType_DT_INT16: 2, tfpb.DataType_DT_UINT16: 2, tfpb.DataType_DT_QINT16: 2, tfpb.DataType_DT_QUINT16: 2,
		tfpb.DataType_DT_INT8: 1, tfpb.DataType_DT_UINT8: 1, tfpb.DataType_DT_QINT8: 1, tfpb.DataType_DT_QUINT8: 1,
		tfpb.DataType_DT_BOOL: 1, tfpb.DataType_DT_INT64: 8, tfpb.DataType_DT_UINT32: 4, tfpb.DataType_DT_UINT64: 8,
		tfpb.DataType_DT_HALF: 2, tfpb.DataType_DT_BFLOAT16: 2, tfpb.DataType_DT_COMPLEX64: 4, tfpb.DataType_DT_COMPLEX128: 8,
	}[t.GetDtype()]
	if step == 0 {
		return nil, fmt.Errorf("qcal cannot write a %v Const", t.GetDtype())
	}
	if len(b)%step != 0 {
		return nil, fmt.Errorf("%d bytes of %v data", len(b), t.GetDtype())
	}
	for i := 0; i < len(b); i += step {
		w := b[i : i+step]
		switch t.GetDtype() {
		case tfpb.DataType_DT_FLOAT:
			out.FloatVal = append(out.FloatVal, math.Float32frombits(le.Uint32(w)))
		case tfpb.DataType_DT_COMPLEX64:
			out.ScomplexVal = append(out.ScomplexVal, math.Float32frombits(le.Uint32(w)))
		case tfpb.DataType_DT_DOUBLE:
			out.DoubleVal = append(out.DoubleVal, math.Float64frombits(le.Uint64(w)))
		case tfpb.DataType_DT_COMPLEX128:
			out.DcomplexVal = append(out.DcomplexVal, math.Float64frombits(le.Uint64(w)))
		case tfpb.DataType_DT_INT32, tfpb.DataType_DT_QINT32:
			out.IntVal = append(out.IntVal, int32(le.Uint32(w)))
		case tfpb.DataType_DT_INT16, tfpb.DataType_DT_QINT16:
			out.IntVal = append(out.IntVal, int32(int16(le.Uint16(w))))
		case tfpb.DataType_DT_UINT16, tfpb.DataType_DT_QUINT16:
			out.IntVal = append(out.IntVal, int32(le.Uint16(w)))
		case tfpb.DataType_DT_INT8, tfpb.DataType_DT_QINT8:
			out.IntVal = append(out.IntVal, int32(int8(w[0])))
		case tfpb.DataType_DT_UINT8, tfpb.DataType_DT_QUINT8:
			out.IntVal = append(out.IntVal, int32(w[0]))
		case tfpb.DataType_DT_BOOL:
			out.BoolVal = append(out.BoolVal, w[0] != 0)
		case tfpb.DataType_DT_INT64:
			out.Int64Val = append(out.Int64Val, int64(le.Uint64(w)))
		case tfpb.DataType_DT_UINT32:
			out.Uint32Val = append(out.Uint32Val, le.Uint32(w))
		case tfpb.DataType_DT_UINT64:
			out.Uint64Val = append(out.Uint64Val, le.Uint64(w))
		case tfpb.DataType_DT_HALF, tfpb.DataType_DT_BFLOAT16:
			out.HalfVal = append(out.HalfVal, int32(le.Uint16(w)))
		}
	}
	return out, nil
}
