package transform

import (
	"errors"
	"fmt"

	"qcal/internal/tensor"

	"qcal/internal/graphinfo"
	"qcal/internal/tfpb"
)

// floats decodes a DT_FLOAT TensorProto as TensorFlow's Tensor::FromProto
// does (internal/tensor: tensor_content, or float_val whose last value
// fills the rest), with its shape.
func floats(t *tfpb.TensorProto) ([]float32, []int64, error) {
	if t == nil {
		return nil, nil, errors.New("no tensor value")
	}
	if t.GetDtype() != tfpb.DataType_DT_FLOAT {
		return nil, nil, fmt.Errorf("tensor of type %s, want float", graphinfo.TypeName(t.GetDtype()))
	}
	x, err := tensor.FromProto(t)
	if err != nil {
		return nil, nil, err
	}
	dims := make([]int64, len(x.Shape))
	for i, d := range x.Shape {
		dims[i] = int64(d)
	}
	return x.F32, dims, nil
}

// floatTensor encodes values as TensorFlow's SetNodeTensorAttr<float>
// writes them: DT_FLOAT, the shape, tensor_content.
func floatTensor(vals []float32, dims []int64) *tfpb.TensorProto {
	shape := make([]int, len(dims))
	for i, d := range dims {
		shape[i] = int(d)
	}
	return tensor.FromF32(shape, vals).ToProto()
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
