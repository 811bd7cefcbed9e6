package mnistcnn

import (
	"qcal/internal/tensor"
	"qcal/internal/tfpb"
)

// Producer is the GraphDef version TensorFlow 1.15 stamps on the graphs it
// writes (TF_GRAPH_DEF_VERSION 134), the release Intel's quantization
// tools run on.
const Producer = 134

// Node names of the written graph.
const (
	InputName  = "input"
	OutputName = "probs"
)

// Graph returns the network as a frozen GraphDef: weights as Const nodes
// (float32 tensor_content, little-endian) and every op with the attrs
// TensorFlow 1.15's Python API writes for it, defaults included (as in a
// graph frozen by TF: T, data_format, strides, padding, dilations,
// explicit_paddings, use_cudnn_on_gpu, ksize, Tshape, transpose_a/b).
func Graph(p *Params) *tfpb.GraphDef {
	c := p.Config
	g := &tfpb.GraphDef{Versions: &tfpb.VersionDef{Producer: Producer}}
	add := func(n *tfpb.NodeDef) { g.Node = append(g.Node, n) }
	add(&tfpb.NodeDef{Name: InputName, Op: "Placeholder", Attr: map[string]*tfpb.AttrValue{
		"dtype": typeAttr(tfpb.DataType_DT_FLOAT),
		"shape": {Value: &tfpb.AttrValue_Shape{Shape: tensor.ShapeToProto([]int{-1, c.Height, c.Width, 1})}},
	}})
	x := InputName
	for _, l := range []struct {
		name, pool string
		w, b       []float32
		in, out    int
	}{{"conv1", "pool1", p.Conv1W, p.Conv1B, 1, c.Conv1}, {"conv2", "pool2", p.Conv2W, p.Conv2B, c.Conv1, c.Conv2}} {
		add(constNode(l.name+"/kernel", []int{3, 3, l.in, l.out}, l.w))
		add(constNode(l.name+"/bias", []int{l.out}, l.b))
		add(&tfpb.NodeDef{Name: l.name + "/Conv2D", Op: "Conv2D", Input: []string{x, l.name + "/kernel"},
			Attr: map[string]*tfpb.AttrValue{
				"T":                 typeAttr(tfpb.DataType_DT_FLOAT),
				"data_format":       strAttr("NHWC"),
				"dilations":         intsAttr(1, 1, 1, 1),
				"explicit_paddings": intsAttr(),
				"padding":           strAttr("SAME"),
				"strides":           intsAttr(1, 1, 1, 1),
				"use_cudnn_on_gpu":  {Value: &tfpb.AttrValue_B{B: true}},
			}})
		add(biasAdd(l.name+"/BiasAdd", l.name+"/Conv2D", l.name+"/bias"))
		add(&tfpb.NodeDef{Name: l.name + "/Relu", Op: "Relu", Input: []string{l.name + "/BiasAdd"},
			Attr: map[string]*tfpb.AttrValue{"T": typeAttr(tfpb.DataType_DT_FLOAT)}})
		add(&tfpb.NodeDef{Name: l.pool + "/MaxPool", Op: "MaxPool", Input: []string{l.name + "/Relu"},
			Attr: map[string]*tfpb.AttrValue{
				"T":           typeAttr(tfpb.DataType_DT_FLOAT),
				"data_format": strAttr("NHWC"),
				"ksize":       intsAttr(1, 2, 2, 1),
				"padding":     strAttr("VALID"),
				"strides":     intsAttr(1, 2, 2, 1),
			}})
		x = l.pool + "/MaxPool"
	}
	shape := tensor.FromI32([]int{2}, []int32{-1, int32(c.Features())})
	add(&tfpb.NodeDef{Name: "flatten/Reshape/shape", Op: "Const", Attr: map[string]*tfpb.AttrValue{
		"dtype": typeAttr(tfpb.DataType_DT_INT32),
		"value": {Value: &tfpb.AttrValue_Tensor{Tensor: shape.ToProto()}},
	}})
	add(&tfpb.NodeDef{Name: "flatten/Reshape", Op: "Reshape", Input: []string{x, "flatten/Reshape/shape"},
		Attr: map[string]*tfpb.AttrValue{
			"T":      typeAttr(tfpb.DataType_DT_FLOAT),
			"Tshape": typeAttr(tfpb.DataType_DT_INT32),
		}})
	add(constNode("logits/kernel", []int{c.Features(), c.Classes}, p.DenseW))
	add(constNode("logits/bias", []int{c.Classes}, p.DenseB))
	add(&tfpb.NodeDef{Name: "logits/MatMul", Op: "MatMul", Input: []string{"flatten/Reshape", "logits/kernel"},
		Attr: map[string]*tfpb.AttrValue{
			"T":           typeAttr(tfpb.DataType_DT_FLOAT),
			"transpose_a": {Value: &tfpb.AttrValue_B{B: false}},
			"transpose_b": {Value: &tfpb.AttrValue_B{B: false}},
		}})
	add(biasAdd("logits/BiasAdd", "logits/MatMul", "logits/bias"))
	add(&tfpb.NodeDef{Name: OutputName, Op: "Softmax", Input: []string{"logits/BiasAdd"},
		Attr: map[string]*tfpb.AttrValue{"T": typeAttr(tfpb.DataType_DT_FLOAT)}})
	return g
}

func constNode(name string, shape []int, v []float32) *tfpb.NodeDef {
	return &tfpb.NodeDef{Name: name, Op: "Const", Attr: map[string]*tfpb.AttrValue{
		"dtype": typeAttr(tfpb.DataType_DT_FLOAT),
		"value": {Value: &tfpb.AttrValue_Tensor{Tensor: tensor.FromF32(shape, v).ToProto()}},
	}}
}

func biasAdd(name, x, bias string) *tfpb.NodeDef {
	return &tfpb.NodeDef{Name: name, Op: "BiasAdd", Input: []string{x, bias},
		Attr: map[string]*tfpb.AttrValue{
			"T":           typeAttr(tfpb.DataType_DT_FLOAT),
			"data_format": strAttr("NHWC"),
		}}
}

func typeAttr(t tfpb.DataType) *tfpb.AttrValue {
	return &tfpb.AttrValue{Value: &tfpb.AttrValue_Type{Type: t}}
}

func strAttr(s string) *tfpb.AttrValue {
	return &tfpb.AttrValue{Value: &tfpb.AttrValue_S{S: []byte(s)}}
}

func intsAttr(v ...int64) *tfpb.AttrValue {
	return &tfpb.AttrValue{Value: &tfpb.AttrValue_List{List: &tfpb.AttrValue_ListValue{I: v}}}
}
