package transform

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"qcal/internal/graphinfo"
	"qcal/internal/tfpb"
)

// floats decodes a DT_FLOAT TensorProto as TensorFlow's Tensor::FromProto
// does: tensor_content when set (little-endian), otherwise float_val, whose
// last value fills the rest of the tensor (no values: zeros).
func floats(t *tfpb.TensorProto) ([]float32, []int64, error) {
	if t == nil {
		return nil, nil, errors.New("no tensor value")
	}
	if t.GetDtype() != tfpb.DataType_DT_FLOAT {
		return nil, nil, fmt.Errorf("tensor of type %s, want float", graphinfo.TypeName(t.GetDtype()))
	}
	n, ok := graphinfo.ShapeElements(t.GetTensorShape())
	if !ok || t.GetTensorShape().GetUnknownRank() {
		return nil, nil, fmt.Errorf("tensor shape %s is not a valid fully known shape", graphinfo.ShapeString(t.GetTensorShape()))
	}
	var dims []int64
	for _, d := range t.GetTensorShape().GetDim() {
		dims = append(dims, d.GetSize())
	}
	if c := t.GetTensorContent(); len(c) > 0 {
		if int64(len(c)) != 4*n {
			return nil, nil, fmt.Errorf("tensor_content holds %d bytes, want %d for shape %s", len(c), 4*n, graphinfo.ShapeString(t.GetTensorShape()))
		}
		out := make([]float32, n)
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(c[4*i:]))
		}
		return out, dims, nil
	}
	fv := t.GetFloatVal()
	if int64(len(fv)) > n {
		return nil, nil, fmt.Errorf("tensor holds %d float_val values, more than the %d of shape %s", len(fv), n, graphinfo.ShapeString(t.GetTensorShape()))
	}
	out := make([]float32, n)
	copy(out, fv)
	if len(fv) > 0 {
		for i := len(fv); i < len(out); i++ {
			out[i] = fv[len(fv)-1]
		}
	}
	return out, dims, nil
}

// floatTensor encodes values as TensorFlow's SetNodeTensorAttr<float>
// writes them: DT_FLOAT, the shape, tensor_content.
func floatTensor(vals []float32, dims []int64) *tfpb.TensorProto {
	b := make([]byte, 0, 4*len(vals))
	for _, v := range vals {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	shape := &tfpb.TensorShapeProto{}
	for _, d := range dims {
		shape.Dim = append(shape.Dim, &tfpb.TensorShapeProto_Dim{Size: d})
	}
	return &tfpb.TensorProto{Dtype: tfpb.DataType_DT_FLOAT, TensorShape: shape, TensorContent: b}
}

// constNode is a Const holding t, as TensorFlow's transforms build one:
// attrs dtype and value.
func constNode(name string, t *tfpb.TensorProto) *tfpb.NodeDef {
	return &tfpb.NodeDef{
		Name: name,
		Op:   "Const",
		Attr: map[string]*tfpb.AttrValue{
			"dtype": {Value: &tfpb.AttrValue_Type{Type: t.GetDtype()}},
			"value": {Value: &tfpb.AttrValue_Tensor{Tensor: t}},
		},
	}
}

// constFloats returns the values of a float Const node.
func constFloats(n *tfpb.NodeDef) ([]float32, []int64, error) {
	v, dims, err := floats(n.GetAttr()["value"].GetTensor())
	if err != nil {
		return nil, nil, fmt.Errorf("node %q: %w", n.GetName(), err)
	}
	return v, dims, nil
}
