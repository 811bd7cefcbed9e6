package synth

import (
	"encoding/binary"
	"math"
	"strings"

	"qcal/internal/tfname"
	"qcal/internal/tfpb"
)

// Layer is one quantized convolution of a synthetic graph.
type Layer struct {
	// Name is the FP32 Conv2D node the layer was quantized from; the
	// RequantizationRange node is Name + "_eightbit_requant_range".
	Name string
	// Relu reports whether the conv is fused with a Relu (its outputs are
	// non-negative, so the logged mins are 0).
	Relu bool
	// Scale is the typical magnitude of the layer's per-batch maximum.
	Scale float64
}

// RequantRange returns the name of the layer's RequantizationRange node.
func (l Layer) RequantRange() string { return l.Name + tfname.RequantRangeSuffix }

// DemoLayers is the built-in example: a small ResNet-like stack with the
// names TensorFlow's slim ResNet-50 uses.
func DemoLayers() []Layer {
	return []Layer{
		{"resnet_v1_50/conv1/Conv2D", true, 11},
		{"resnet_v1_50/block1/unit_1/bottleneck_v1/shortcut/Conv2D", false, 21},
		{"resnet_v1_50/block1/unit_1/bottleneck_v1/conv1/Conv2D", true, 12},
		{"resnet_v1_50/block1/unit_1/bottleneck_v1/conv2/Conv2D", true, 9},
		{"resnet_v1_50/block1/unit_1/bottleneck_v1/conv3/Conv2D", false, 17},
		{"resnet_v1_50/block2/unit_1/bottleneck_v1/conv1/Conv2D", true, 7.5},
		{"resnet_v1_50/block2/unit_1/bottleneck_v1/conv2/Conv2D", true, 6.2},
		{"resnet_v1_50/block2/unit_1/bottleneck_v1/conv3/Conv2D", false, 14},
	}
}

// Graph builds a quantized GraphDef as Intel's eightbit quantize_graph
// writes it: the float input is quantized once (Min/Max/QuantizeV2 with the
// _eightbit_ helper nodes), then each layer is a fused quantized conv whose
// qint32 output goes through RequantizationRange and Requantize to quint8;
// the last layer is dequantized and fed to a Softmax named "output".
func Graph(layers []Layer) *tfpb.GraphDef {
	b := &builder{}
	b.add(&tfpb.NodeDef{Name: "input", Op: "Placeholder", Attr: map[string]*tfpb.AttrValue{
		"dtype": typeAttr(tfpb.DataType_DT_FLOAT),
		"shape": {Value: &tfpb.AttrValue_Shape{Shape: shape(-1, 32, 32, 3)}},
	}})
	first := layers[0].Name
	q := first + "_eightbit_"
	b.add(floatTensorConst(q+"reshape_dims", tfpb.DataType_DT_INT32, []int64{1}, int32Bytes(-1)))
	b.add(floatTensorConst(q+"reduction_dims", tfpb.DataType_DT_INT32, []int64{1}, int32Bytes(0)))
	b.add(&tfpb.NodeDef{Name: q + "reshape_input", Op: "Reshape", Input: []string{"input", q + "reshape_dims"},
		Attr: map[string]*tfpb.AttrValue{"T": typeAttr(tfpb.DataType_DT_FLOAT), "Tshape": typeAttr(tfpb.DataType_DT_INT32)}})
	for _, op := range []string{"Min", "Max"} {
		b.add(&tfpb.NodeDef{Name: q + map[string]string{"Min": "min_input", "Max": "max_input"}[op], Op: op,
			Input: []string{q + "reshape_input", q + "reduction_dims"},
			Attr: map[string]*tfpb.AttrValue{"T": typeAttr(tfpb.DataType_DT_FLOAT), "Tidx": typeAttr(tfpb.DataType_DT_INT32),
				"keep_dims": {Value: &tfpb.AttrValue_B{B: false}}}})
	}
	b.add(&tfpb.NodeDef{Name: q + "quantize_input", Op: "QuantizeV2", Input: []string{"input", q + "min_input", q + "max_input"},
		Attr: map[string]*tfpb.AttrValue{"T": typeAttr(tfpb.DataType_DT_QUINT8), "mode": strAttr("SCALED"),
			"round_mode": strAttr("HALF_TO_EVEN")}})
	x := [3]string{q + "quantize_input", q + "quantize_input:1", q + "quantize_input:2"}
	for i, l := range layers {
		base := strings.TrimSuffix(l.Name, "/Conv2D")
		w, bias := base+"/weights", base+"/biases"
		b.add(floatTensorConst(w+"_qint8_const", tfpb.DataType_DT_QINT8, []int64{3, 3, 3, 3}, make([]byte, 81)))
		b.add(scalarConst(w+"_min", -0.5-float32(i)/16))
		b.add(scalarConst(w+"_max", 0.5+float32(i)/16))
		b.add(floatTensorConst(bias, tfpb.DataType_DT_FLOAT, []int64{3}, make([]byte, 12)))
		op := "QuantizedConv2DWithBias"
		if l.Relu {
			op = "QuantizedConv2DWithBiasAndRelu"
		}
		conv := l.Name + "_eightbit_quantized_conv"
		b.add(&tfpb.NodeDef{Name: conv, Op: op,
			Input: []string{x[0], w + "_qint8_const", bias, x[1], x[2], w + "_min", w + "_max"},
			Attr: map[string]*tfpb.AttrValue{
				"Tinput": typeAttr(tfpb.DataType_DT_QUINT8), "Tfilter": typeAttr(tfpb.DataType_DT_QINT8),
				"Tbias": typeAttr(tfpb.DataType_DT_FLOAT), "out_type": typeAttr(tfpb.DataType_DT_QINT32),
				"strides": intsAttr(1, 1, 1, 1), "dilations": intsAttr(1, 1, 1, 1), "padding": strAttr("SAME"),
			}})
		rr := l.RequantRange()
		b.add(&tfpb.NodeDef{Name: rr, Op: tfname.OpRequantizationRange, Input: []string{conv, conv + ":1", conv + ":2"},
			Attr: map[string]*tfpb.AttrValue{"Tinput": typeAttr(tfpb.DataType_DT_QINT32)}})
		rq := l.Name + "_eightbit_requantize"
		b.add(&tfpb.NodeDef{Name: rq, Op: "Requantize", Input: []string{conv, conv + ":1", conv + ":2", rr, rr + ":1"},
			Attr: map[string]*tfpb.AttrValue{"Tinput": typeAttr(tfpb.DataType_DT_QINT32), "out_type": typeAttr(tfpb.DataType_DT_QUINT8)}})
		x = [3]string{rq, rq + ":1", rq + ":2"}
	}
	last := layers[len(layers)-1].Name
	deq := last + "_eightbit_dequantize"
	b.add(&tfpb.NodeDef{Name: deq, Op: "Dequantize", Input: x[:],
		Attr: map[string]*tfpb.AttrValue{"T": typeAttr(tfpb.DataType_DT_QUINT8), "mode": strAttr("SCALED")}})
	b.add(&tfpb.NodeDef{Name: "output", Op: "Softmax", Input: []string{deq},
		Attr: map[string]*tfpb.AttrValue{"T": typeAttr(tfpb.DataType_DT_FLOAT)}})
	b.g.Versions = &tfpb.VersionDef{Producer: 27}
	return b.g
}

type builder struct{ g *tfpb.GraphDef }

func (b *builder) add(n *tfpb.NodeDef) {
	if b.g == nil {
		b.g = &tfpb.GraphDef{}
	}
	b.g.Node = append(b.g.Node, n)
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

func shape(dims ...int64) *tfpb.TensorShapeProto {
	s := &tfpb.TensorShapeProto{}
	for _, d := range dims {
		s.Dim = append(s.Dim, &tfpb.TensorShapeProto_Dim{Size: d})
	}
	return s
}

func int32Bytes(v int32) []byte { return binary.LittleEndian.AppendUint32(nil, uint32(v)) }

func floatTensorConst(name string, dt tfpb.DataType, dims []int64, content []byte) *tfpb.NodeDef {
	return &tfpb.NodeDef{Name: name, Op: "Const", Attr: map[string]*tfpb.AttrValue{
		"dtype": typeAttr(dt),
		"value": {Value: &tfpb.AttrValue_Tensor{Tensor: &tfpb.TensorProto{Dtype: dt, TensorShape: shape(dims...), TensorContent: content}}},
	}}
}

func scalarConst(name string, v float32) *tfpb.NodeDef {
	return floatTensorConst(name, tfpb.DataType_DT_FLOAT, nil, binary.LittleEndian.AppendUint32(nil, math.Float32bits(v)))
}
