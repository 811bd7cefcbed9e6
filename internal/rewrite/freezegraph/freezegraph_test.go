package freezegraph

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"

	"qcal/internal/checkpoint"
	"qcal/internal/tfpb"
)

// fakeVars is an in-memory checkpoint.
type fakeVars map[string]*tfpb.TensorProto

func (f fakeVars) Has(name string) bool { _, ok := f[name]; return ok }

func (f fakeVars) Check(name string, dtype tfpb.DataType, shape *tfpb.TensorShapeProto) error {
	t, ok := f[name]
	if !ok {
		return fmt.Errorf("variable %q: not in the checkpoint", name)
	}
	if t.GetDtype() != dtype {
		return fmt.Errorf("variable %q: dtype %v, graph %v", name, t.GetDtype(), dtype)
	}
	if shape != nil && checkpoint.ShapeString(shape) != checkpoint.ShapeString(t.GetTensorShape()) {
		return fmt.Errorf("variable %q: shape %s, graph %s", name, checkpoint.ShapeString(t.GetTensorShape()), checkpoint.ShapeString(shape))
	}
	return nil
}

func (f fakeVars) Tensor(name string) (*tfpb.TensorProto, error) { return f[name], nil }

func dims(d ...int64) *tfpb.TensorShapeProto {
	s := &tfpb.TensorShapeProto{}
	for _, x := range d {
		s.Dim = append(s.Dim, &tfpb.TensorShapeProto_Dim{Size: x})
	}
	return s
}

func floats(shape *tfpb.TensorShapeProto, v ...float32) *tfpb.TensorProto {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return &tfpb.TensorProto{Dtype: tfpb.DataType_DT_FLOAT, TensorShape: shape, TensorContent: b}
}

func parseGraph(t *testing.T, text string) *tfpb.GraphDef {
	t.Helper()
	g := new(tfpb.GraphDef)
	if err := prototext.Unmarshal([]byte(text), g); err != nil {
		t.Fatal(err)
	}
	return g
}

// text is m in one-line text format with one spelling of the spaces that
// prototext varies at random.
func text(m proto.Message) string { return norm(prototext.MarshalOptions{}.Format(m)) }

func norm(s string) string {
	return strings.NewReplacer(": ", ":", "{ ", "{", " }", "}").Replace(strings.Join(strings.Fields(s), " "))
}

// TestLayout: TensorFlow's make_tensor_proto puts more than one element of a
// packed dtype in tensor_content and everything else in the typed field.
func TestLayout(t *testing.T) {
	raw := func(dt tfpb.DataType, shape *tfpb.TensorShapeProto, b ...byte) *tfpb.TensorProto {
		return &tfpb.TensorProto{Dtype: dt, TensorShape: shape, TensorContent: b}
	}
	for _, c := range []struct {
		in   *tfpb.TensorProto
		want string
	}{
		// 0.9 as float32 = 0x3f666666 (beta1 of Adam); one element → float_val.
		{floats(dims(), 0.9), `dtype:DT_FLOAT tensor_shape:{} float_val:0.9`},
		{floats(dims(1), 0.9), `dtype:DT_FLOAT tensor_shape:{dim:{size:1}} float_val:0.9`},
		{floats(dims(2), 1.5, -2), `dtype:DT_FLOAT tensor_shape:{dim:{size:2}} tensor_content:"\x00\x00\xc0?\x00\x00\x00\xc0"`},
		{floats(dims(0)), `dtype:DT_FLOAT tensor_shape:{dim:{}}`}, // a size of 0 is the default, not printed
		{raw(tfpb.DataType_DT_BOOL, dims(2), 1, 0), `dtype:DT_BOOL tensor_shape:{dim:{size:2}} bool_val:true bool_val:false`},
		// half 1.0 = 0x3c00 = 15360; packed from two elements on.
		{raw(tfpb.DataType_DT_HALF, dims(), 0x00, 0x3c), `dtype:DT_HALF tensor_shape:{} half_val:15360`},
		{raw(tfpb.DataType_DT_HALF, dims(2), 0x00, 0x3c, 0x00, 0xc0), `dtype:DT_HALF tensor_shape:{dim:{size:2}} tensor_content:"\x00<\x00\xc0"`},
		// uint16 is never packed: 0x1234 = 4660, 0xffff = 65535.
		{raw(tfpb.DataType_DT_UINT16, dims(2), 0x34, 0x12, 0xff, 0xff), `dtype:DT_UINT16 tensor_shape:{dim:{size:2}} int_val:4660 int_val:65535`},
		{raw(tfpb.DataType_DT_INT8, dims(), 0xff), `dtype:DT_INT8 tensor_shape:{} int_val:-1`},
		{raw(tfpb.DataType_DT_INT16, dims(), 0xfe, 0xff), `dtype:DT_INT16 tensor_shape:{} int_val:-2`},
		{raw(tfpb.DataType_DT_UINT8, dims(), 0xff), `dtype:DT_UINT8 tensor_shape:{} int_val:255`},
		// 19540 = 0x4c54.
		{raw(tfpb.DataType_DT_INT64, dims(), 0x54, 0x4c, 0, 0, 0, 0, 0, 0), `dtype:DT_INT64 tensor_shape:{} int64_val:19540`},
		{raw(tfpb.DataType_DT_DOUBLE, dims(), 0, 0, 0, 0, 0, 0, 0xe0, 0x3f), `dtype:DT_DOUBLE tensor_shape:{} double_val:0.5`},
		{raw(tfpb.DataType_DT_INT32, dims(), 0xf9, 0xff, 0xff, 0xff), `dtype:DT_INT32 tensor_shape:{} int_val:-7`},
		{&tfpb.TensorProto{Dtype: tfpb.DataType_DT_STRING, TensorShape: dims(2), StringVal: [][]byte{[]byte("a"), nil}}, `dtype:DT_STRING tensor_shape:{dim:{size:2}} string_val:"a" string_val:""`},
	} {
		got, err := tfLayout(c.in)
		if err != nil {
			t.Errorf("%v: %v", c.in, err)
			continue
		}
		if g := text(got); g != c.want {
			t.Errorf("tfLayout(%s)\n got %s\nwant %s", text(c.in), g, c.want)
		}
	}
}

// resourceGraph is a small graph with one resource variable read three ways
// (directly, through an Identity of the handle, by ResourceGather), one
// reference variable, an unrelated initializer and a device everywhere.
const resourceGraph = `
node { name: "v" op: "VarHandleOp" device: "/cpu:0"
  attr { key: "dtype" value { type: DT_FLOAT } }
  attr { key: "shape" value { shape { dim { size: 2 } } } }
  attr { key: "shared_name" value { s: "v" } }
  attr { key: "_class" value { list { s: "loc:@v" } } } }
node { name: "v/Assign" op: "AssignVariableOp" input: "v" input: "x" }
node { name: "x" op: "Placeholder" device: "/cpu:0" attr { key: "dtype" value { type: DT_FLOAT } } }
node { name: "v/handle" op: "Identity" input: "v"
  attr { key: "T" value { type: DT_RESOURCE } }
  attr { key: "_output_shapes" value { list { shape { } } } } }
node { name: "r" op: "ReadVariableOp" input: "v/handle" input: "^x" device: "/cpu:0"
  attr { key: "dtype" value { type: DT_FLOAT } }
  attr { key: "_class" value { list { s: "loc:@v" } } }
  attr { key: "_output_shapes" value { list { shape { dim { size: 2 } } } } } }
node { name: "idx" op: "Const" attr { key: "dtype" value { type: DT_INT32 } }
  attr { key: "value" value { tensor { dtype: DT_INT32 tensor_shape { } int_val: 1 } } } }
node { name: "g" op: "ResourceGather" input: "v" input: "idx"
  attr { key: "dtype" value { type: DT_FLOAT } }
  attr { key: "Tindices" value { type: DT_INT32 } } }
node { name: "w" op: "VariableV2" device: "/gpu:0"
  attr { key: "dtype" value { type: DT_FLOAT } }
  attr { key: "shape" value { shape { } } } }
node { name: "w/read" op: "Identity" input: "w" device: "/gpu:0"
  attr { key: "T" value { type: DT_FLOAT } }
  attr { key: "_class" value { list { s: "loc:@w" } } } }
node { name: "sum" op: "AddV2" input: "r" input: "g"
  attr { key: "T" value { type: DT_FLOAT } } }
node { name: "out" op: "Mul" input: "sum" input: "w/read" device: "/gpu:0"
  attr { key: "T" value { type: DT_FLOAT } } }
versions { producer: 27 }
`

func resourceVars() fakeVars {
	return fakeVars{"v": floats(dims(2), 1, 2), "w": floats(dims(), 0.5)}
}

func TestFreezeResourceVariables(t *testing.T) {
	g := parseGraph(t, resourceGraph)
	res, err := Freeze(g, resourceVars(), Options{Outputs: []string{"out"}, ClearDevices: true})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range res.Graph.GetNode() {
		got = append(got, text(n))
	}
	// Worked by hand from TF's rules (TF-FILES.md §7, convert_to_constants'
	// _VarHandle, _ReadVariable, _Intermediate, _ResourceGather): v/Assign
	// is not needed by out and goes; x is kept, reached through r's control
	// input, although the Identity that replaces r keeps only its first
	// input; devices are cleared; g/axis is appended at the end.
	want := []string{
		`name: "v" op: "Const" attr: { key: "dtype" value: { type: DT_FLOAT } } attr: { key: "value" value: { tensor: { dtype: DT_FLOAT tensor_shape: { dim: { size: 2 } } tensor_content: "\x00\x00\x80?\x00\x00\x00@" } } }`,
		`name: "x" op: "Placeholder" attr: { key: "dtype" value: { type: DT_FLOAT } }`,
		`name: "v/handle" op: "Identity" input: "v" attr: { key: "T" value: { type: DT_FLOAT } }`,
		`name: "r" op: "Identity" input: "v/handle" attr: { key: "T" value: { type: DT_FLOAT } } attr: { key: "_class" value: { list: { s: "loc:@v" } } }`,
		`name: "idx" op: "Const" attr: { key: "dtype" value: { type: DT_INT32 } } attr: { key: "value" value: { tensor: { dtype: DT_INT32 tensor_shape: {} int_val: 1 } } }`,
		`name: "g" op: "GatherV2" input: "v" input: "idx" input: "g/axis" attr: { key: "Taxis" value: { type: DT_INT32 } } attr: { key: "Tindices" value: { type: DT_INT32 } } attr: { key: "Tparams" value: { type: DT_FLOAT } }`,
		`name: "w" op: "Const" attr: { key: "dtype" value: { type: DT_FLOAT } } attr: { key: "value" value: { tensor: { dtype: DT_FLOAT tensor_shape: {} float_val: 0.5 } } }`,
		`name: "w/read" op: "Identity" input: "w" attr: { key: "T" value: { type: DT_FLOAT } } attr: { key: "_class" value: { list: { s: "loc:@w" } } }`,
		`name: "sum" op: "AddV2" input: "r" input: "g" attr: { key: "T" value: { type: DT_FLOAT } }`,
		`name: "out" op: "Mul" input: "sum" input: "w/read" attr: { key: "T" value: { type: DT_FLOAT } }`,
		`name: "g/axis" op: "Const" attr: { key: "dtype" value: { type: DT_INT32 } } attr: { key: "value" value: { tensor: { dtype: DT_INT32 tensor_shape: {} int_val: 0 } } }`,
	}
	if len(got) != len(want) {
		t.Fatalf("got %d nodes:\n%s", len(got), strings.Join(got, "\n"))
	}
	for i := range want {
		if got[i] != norm(want[i]) {
			t.Errorf("node %d\n got %s\nwant %s", i, got[i], norm(want[i]))
		}
	}
	if strings.Join(res.Converted, ",") != "v,w" || res.Pruned != 1 || res.Graph.GetVersions().GetProducer() != 27 {
		t.Errorf("converted %q, pruned %d, versions %v; want v,w, 1 (v/Assign), producer 27", res.Converted, res.Pruned, res.Graph.GetVersions())
	}
	if g.GetNode()[0].GetOp() != "VarHandleOp" {
		t.Errorf("the input graph was changed")
	}
}

func TestOptions(t *testing.T) {
	g := parseGraph(t, resourceGraph)
	// Blacklisted w stays a variable; the whitelist limits to v.
	for _, o := range []Options{
		{Outputs: []string{"out"}, Blacklist: []string{"w"}},
		{Outputs: []string{"out"}, Whitelist: []string{"v"}},
	} {
		res, err := Freeze(g, resourceVars(), o)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(res.Converted, ",") != "v" || res.Graph.GetNode()[indexOf(res.Graph, "w")].GetOp() != "VariableV2" {
			t.Errorf("%+v: converted %q", o, res.Converted)
		}
		// Without ClearDevices, devices stay, except on what TF rebuilds.
		if d := res.Graph.GetNode()[indexOf(res.Graph, "out")].GetDevice(); d != "/gpu:0" {
			t.Errorf("device of out = %q, want /gpu:0 kept", d)
		}
		if d := res.Graph.GetNode()[indexOf(res.Graph, "v")].GetDevice(); d != "" {
			t.Errorf("device of the Const v = %q; TF builds it without one", d)
		}
	}
	// Colocation pulls in a node no input names: w/read is colocated with w
	// (loc:@w), here with an output that only has the attr.
	g2 := parseGraph(t, `node { name: "w" op: "VariableV2" attr { key: "dtype" value { type: DT_FLOAT } } }
node { name: "c" op: "NoOp" attr { key: "_class" value { list { s: "loc:@w" } } } }`)
	res, err := Freeze(g2, resourceVars(), Options{Outputs: []string{"c"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Graph.GetNode()) != 2 || strings.Join(res.Converted, ",") != "w" {
		t.Errorf("colocation: %d nodes, converted %q", len(res.Graph.GetNode()), res.Converted)
	}
	// A VarHandleOp found by shared_name.
	g3 := parseGraph(t, `node { name: "h_1" op: "VarHandleOp" attr { key: "dtype" value { type: DT_FLOAT } }
  attr { key: "shared_name" value { s: "w" } } }`)
	res, err = Freeze(g3, resourceVars(), Options{Outputs: []string{"h_1"}})
	if err != nil || res.Keys["h_1"] != "w" {
		t.Errorf("shared_name: keys %v, %v", res.Keys, err)
	}
}

func TestErrors(t *testing.T) {
	g := parseGraph(t, resourceGraph)
	for _, c := range []struct {
		name string
		g    *tfpb.GraphDef
		vars fakeVars
		o    Options
		want string
	}{
		{"no outputs", g, resourceVars(), Options{}, "no output node names (output_node_names)"},
		{"missing output", g, resourceVars(), Options{Outputs: []string{"poool2"}}, `output node "poool2" is not in the graph`},
		{"missing variable", g, fakeVars{"w": floats(dims(), 0.5)}, Options{Outputs: []string{"out"}}, `variable "v": not in the checkpoint`},
		{"shape", g, fakeVars{"v": floats(dims(3), 1, 2, 3), "w": floats(dims(), 0.5)}, Options{Outputs: []string{"out"}}, `variable "v": shape [3], graph [2]`},
		{"writer", g, resourceVars(), Options{Outputs: []string{"v/Assign"}}, `node "v/Assign" (op AssignVariableOp) changes or tests variable "v"`},
		{"dangling input", parseGraph(t, `node { name: "a" op: "Identity" input: "b" }`), resourceVars(), Options{Outputs: []string{"a"}}, `node "a": input "b" names no node`},
		{"duplicate", parseGraph(t, `node { name: "a" op: "NoOp" } node { name: "a" op: "NoOp" }`), resourceVars(), Options{Outputs: []string{"a"}}, `node "a": the name is used twice`},
		{"batch_dims", parseGraph(t, `node { name: "v" op: "VarHandleOp" attr { key: "dtype" value { type: DT_FLOAT } } }
node { name: "i" op: "Placeholder" }
node { name: "g" op: "ResourceGather" input: "v" input: "i" attr { key: "batch_dims" value { i: 1 } } }`), resourceVars(), Options{Outputs: []string{"g"}},
			`node "g" (ResourceGather): batch_dims must be 0 to freeze, got 1`},
		{"other handle user", parseGraph(t, `node { name: "v" op: "VarHandleOp" attr { key: "dtype" value { type: DT_FLOAT } } }
node { name: "f" op: "PartitionedCall" input: "v" }`), resourceVars(), Options{Outputs: []string{"f"}},
			`node "f" (op PartitionedCall) takes the resource handle of variable "v"`},
	} {
		_, err := Freeze(c.g, c.vars, c.o)
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
}
