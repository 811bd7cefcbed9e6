package quantize

import (
	"encoding/binary"
	"fmt"
	"math"
	"regexp"
	"strings"

	"google.golang.org/protobuf/proto"

	"qcal/internal/tfpb"
)

// nodeName is quantize_graph's node_name_from_input: the input without a
// leading '^' and without a trailing ":N".
func nodeName(input string) string {
	input = strings.TrimPrefix(input, "^")
	if m := portRE.FindStringSubmatch(input); m != nil {
		return m[1]
	}
	return input
}

var portRE = regexp.MustCompile(`^(.*):\d+$`)

// withPort is ensure_tensor_name_has_port: name:N stays, name becomes name:0.
func withPort(input string) string {
	if portRE.MatchString(input) {
		return input
	}
	return input + ":0"
}

// uniqueName is unique_node_name_from_input: an input spelled as a node
// name fragment (":" → "__port__", "^" → "__hat__").
func uniqueName(input string) string {
	return strings.NewReplacer(":", "__port__", "^", "__hat__").Replace(input)
}

func newNode(op, name string, inputs ...string) *tfpb.NodeDef {
	return &tfpb.NodeDef{Op: op, Name: name, Input: inputs, Attr: map[string]*tfpb.AttrValue{}}
}

func setType(n *tfpb.NodeDef, key string, t tfpb.DataType) {
	n.Attr[key] = &tfpb.AttrValue{Value: &tfpb.AttrValue_Type{Type: t}}
}

func setString(n *tfpb.NodeDef, key, s string) {
	n.Attr[key] = &tfpb.AttrValue{Value: &tfpb.AttrValue_S{S: []byte(s)}}
}

func setBool(n *tfpb.NodeDef, key string, b bool) {
	n.Attr[key] = &tfpb.AttrValue{Value: &tfpb.AttrValue_B{B: b}}
}

func setInt(n *tfpb.NodeDef, key string, i int64) {
	n.Attr[key] = &tfpb.AttrValue{Value: &tfpb.AttrValue_I{I: i}}
}

func setFloat(n *tfpb.NodeDef, key string, f float32) {
	n.Attr[key] = &tfpb.AttrValue{Value: &tfpb.AttrValue_F{F: f}}
}

// copyAttr copies attribute key of from to n, if from has it. (The Python
// tool reads a missing key as an empty AttrValue and writes that, which
// TensorFlow then rejects; qcal leaves the attribute out.)
func copyAttr(n, from *tfpb.NodeDef, key string) {
	if v, ok := from.Attr[key]; ok {
		n.Attr[key] = proto.Clone(v).(*tfpb.AttrValue)
	}
}

func attrType(n *tfpb.NodeDef, key string) tfpb.DataType {
	return n.GetAttr()[key].GetType()
}

// shapeProto returns the TensorShapeProto of dims.
func shapeProto(dims []int64) *tfpb.TensorShapeProto {
	s := &tfpb.TensorShapeProto{}
	for _, d := range dims {
		s.Dim = append(s.Dim, &tfpb.TensorShapeProto_Dim{Size: d})
	}
	return s
}

// constNode is create_constant_node: a Const whose value TF's
// make_tensor_proto would write. A tensor of more than one element goes to
// tensor_content (little-endian); a single element goes to the typed field
// (float_val or int_val).
func constNode(name string, t tfpb.DataType, dims []int64, floats []float32, ints []int32) *tfpb.NodeDef {
	n := newNode("Const", name)
	setType(n, "dtype", t)
	tp := &tfpb.TensorProto{Dtype: t, TensorShape: shapeProto(dims)}
	count := max(len(floats), len(ints))
	switch {
	case count > 1 && t == tfpb.DataType_DT_FLOAT:
		b := make([]byte, 4*len(floats))
		for i, f := range floats {
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(f))
		}
		tp.TensorContent = b
	case count > 1 && (t == tfpb.DataType_DT_QUINT8 || t == tfpb.DataType_DT_QINT8):
		b := make([]byte, len(ints))
		for i, v := range ints {
			b[i] = byte(v)
		}
		tp.TensorContent = b
	case count > 1 && t == tfpb.DataType_DT_INT32:
		b := make([]byte, 4*len(ints))
		for i, v := range ints {
			binary.LittleEndian.PutUint32(b[4*i:], uint32(v))
		}
		tp.TensorContent = b
	case t == tfpb.DataType_DT_FLOAT:
		tp.FloatVal = floats
	default:
		tp.IntVal = ints
	}
	n.Attr["value"] = &tfpb.AttrValue{Value: &tfpb.AttrValue_Tensor{Tensor: tp}}
	return n
}

// floatConst holds the float values of a Const node and its shape.
type floatConst struct {
	dims   []int64
	values []float32
}

// maxSplat bounds the elements a Const without tensor_content may expand to.
const maxSplat = 1 << 24

// readFloatConst decodes the value of a DT_FLOAT Const: tensor_content, or
// float_val with TF's rule that a short list repeats its last element.
func readFloatConst(n *tfpb.NodeDef) (floatConst, error) {
	tp := n.GetAttr()["value"].GetTensor()
	if tp == nil {
		return floatConst{}, fmt.Errorf("node %q: Const has no tensor value", n.Name)
	}
	if tp.Dtype != tfpb.DataType_DT_FLOAT {
		return floatConst{}, fmt.Errorf("node %q: weight Const is %v, not DT_FLOAT", n.Name, tp.Dtype)
	}
	if tp.GetTensorShape().GetUnknownRank() {
		return floatConst{}, fmt.Errorf("node %q: Const has an unknown rank", n.Name)
	}
	var c floatConst
	count := int64(1)
	for _, d := range tp.GetTensorShape().GetDim() {
		if d.Size < 0 {
			return floatConst{}, fmt.Errorf("node %q: Const has dimension %d", n.Name, d.Size)
		}
		c.dims = append(c.dims, d.Size)
		if d.Size != 0 && count > math.MaxInt32/d.Size {
			return floatConst{}, fmt.Errorf("node %q: Const is too large", n.Name)
		}
		count *= d.Size
	}
	if len(tp.TensorContent) == 0 && count > maxSplat {
		// Only a splat (a short float_val) or an empty value can describe
		// this many elements without holding them; expanding it could take
		// any amount of memory.
		return floatConst{}, fmt.Errorf("node %q: Const of shape %v holds %d float_val values; refusing to expand it to %d elements", n.Name, c.dims, len(tp.FloatVal), count)
	}
	if len(tp.TensorContent) > 0 && int64(len(tp.TensorContent)) != 4*count {
		return floatConst{}, fmt.Errorf("node %q: tensor_content has %d bytes, want %d for shape %v", n.Name, len(tp.TensorContent), 4*count, c.dims)
	}
	c.values = make([]float32, count)
	switch {
	case len(tp.TensorContent) > 0:
		for i := range c.values {
			c.values[i] = math.Float32frombits(binary.LittleEndian.Uint32(tp.TensorContent[4*i:]))
		}
	case len(tp.FloatVal) > 0:
		if int64(len(tp.FloatVal)) > count {
			return floatConst{}, fmt.Errorf("node %q: float_val has %d values, more than the %d of shape %v", n.Name, len(tp.FloatVal), count, c.dims)
		}
		for i := range c.values {
			c.values[i] = tp.FloatVal[min(i, len(tp.FloatVal)-1)]
		}
	}
	return c, nil
}
