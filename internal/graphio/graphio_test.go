package graphio

import (
	"bytes"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"qcal/internal/tfpb"
)

// smallGraph is a two-node graph using most kinds of field: maps, oneofs,
// enums, bytes, floats, nested messages.
func smallGraph() *tfpb.GraphDef {
	return &tfpb.GraphDef{
		Node: []*tfpb.NodeDef{
			{
				Name: "x",
				Op:   "Placeholder",
				Attr: map[string]*tfpb.AttrValue{
					"dtype": {Value: &tfpb.AttrValue_Type{Type: tfpb.DataType_DT_FLOAT}},
					"shape": {Value: &tfpb.AttrValue_Shape{Shape: &tfpb.TensorShapeProto{
						Dim: []*tfpb.TensorShapeProto_Dim{{Size: -1}, {Size: 4}},
					}}},
				},
			},
			{
				Name:   "w",
				Op:     "Const",
				Input:  []string{"^x"},
				Device: "/device:CPU:0",
				Attr: map[string]*tfpb.AttrValue{
					"value": {Value: &tfpb.AttrValue_Tensor{Tensor: &tfpb.TensorProto{
						Dtype:         tfpb.DataType_DT_FLOAT,
						TensorShape:   &tfpb.TensorShapeProto{Dim: []*tfpb.TensorShapeProto_Dim{{Size: 2}}},
						TensorContent: []byte{0, 0, 0x80, 0x3f, 0, 0, 0, 0x40},
					}}},
					"dtype": {Value: &tfpb.AttrValue_Type{Type: tfpb.DataType_DT_FLOAT}},
				},
			},
		},
		Versions: &tfpb.VersionDef{Producer: 175},
	}
}

// Example of the text layout Encode writes: fields in field-number order,
// map entries sorted by key, enums by name, bytes as octal escapes.
func ExampleEncode() {
	data, err := Encode(smallGraph(), Text)
	if err != nil {
		panic(err)
	}
	os.Stdout.Write(data)
	// Output:
	// node {
	//   name: "x"
	//   op: "Placeholder"
	//   attr {
	//     key: "dtype"
	//     value {
	//       type: DT_FLOAT
	//     }
	//   }
	//   attr {
	//     key: "shape"
	//     value {
	//       shape {
	//         dim {
	//           size: -1
	//         }
	//         dim {
	//           size: 4
	//         }
	//       }
	//     }
	//   }
	// }
	// node {
	//   name: "w"
	//   op: "Const"
	//   input: "^x"
	//   device: "/device:CPU:0"
	//   attr {
	//     key: "dtype"
	//     value {
	//       type: DT_FLOAT
	//     }
	//   }
	//   attr {
	//     key: "value"
	//     value {
	//       tensor {
	//         dtype: DT_FLOAT
	//         tensor_shape {
	//           dim {
	//             size: 2
	//           }
	//         }
	//         tensor_content: "\000\000\200?\000\000\000@"
	//       }
	//     }
	//   }
	// }
	// versions {
	//   producer: 175
	// }
}

// fullGraph fills every message type of the schema, with awkward values:
// all 256 byte values, special floats, unknown enum numbers, proto3 optional
// zeros, large unsigned numbers.
func fullGraph() *tfpb.GraphDef {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	zero := int32(0)
	empty := ""
	attrs := func() map[string]*tfpb.AttrValue {
		return map[string]*tfpb.AttrValue{
			"b":    {Value: &tfpb.AttrValue_B{B: false}},
			"i":    {Value: &tfpb.AttrValue_I{I: math.MinInt64}},
			"f":    {Value: &tfpb.AttrValue_F{F: float32(math.Copysign(0, -1))}},
			"nan":  {Value: &tfpb.AttrValue_F{F: float32(math.NaN())}},
			"s":    {Value: &tfpb.AttrValue_S{S: all}},
			"ph":   {Value: &tfpb.AttrValue_Placeholder{Placeholder: "T"}},
			"type": {Value: &tfpb.AttrValue_Type{Type: tfpb.DataType(77)}},
			"ref":  {Value: &tfpb.AttrValue_Type{Type: tfpb.DataType_DT_UINT2_REF}},
			"func": {Value: &tfpb.AttrValue_Func{Func: &tfpb.NameAttrList{
				Name: "f", Attr: map[string]*tfpb.AttrValue{"T": {Value: &tfpb.AttrValue_Type{Type: tfpb.DataType_DT_INT4}}},
			}}},
			"list": {Value: &tfpb.AttrValue_List{List: &tfpb.AttrValue_ListValue{
				S:    [][]byte{{}, []byte("a\"b'c\\d\n\t\r")},
				I:    []int64{0, -1, math.MaxInt64},
				F:    []float32{0.1, float32(math.Inf(1)), float32(math.Inf(-1)), math.SmallestNonzeroFloat32, math.MaxFloat32, 16777217},
				B:    []bool{true, false},
				Type: []tfpb.DataType{tfpb.DataType_DT_FLOAT8_E5M2, 0},
				Shape: []*tfpb.TensorShapeProto{
					{UnknownRank: true},
					{Dim: []*tfpb.TensorShapeProto_Dim{{Size: 3, Name: "batch"}}},
				},
				Tensor: []*tfpb.TensorProto{{Dtype: tfpb.DataType_DT_STRING, StringVal: [][]byte{all}}},
				Func:   []*tfpb.NameAttrList{{Name: "g"}},
			}}},
			"empty_list": {Value: &tfpb.AttrValue_List{List: &tfpb.AttrValue_ListValue{}}},
		}
	}
	tensor := &tfpb.TensorProto{
		Dtype:         tfpb.DataType_DT_VARIANT,
		TensorShape:   &tfpb.TensorShapeProto{},
		VersionNumber: 1,
		TensorContent: all,
		FloatVal:      []float32{1.5, -2.25e-10},
		DoubleVal:     []float64{math.Pi, math.MaxFloat64, math.SmallestNonzeroFloat64, math.NaN()},
		IntVal:        []int32{math.MinInt32, 7},
		StringVal:     [][]byte{[]byte("héllo"), {0xff, 0xfe}},
		ScomplexVal:   []float32{1, 2},
		Int64Val:      []int64{math.MaxInt64},
		BoolVal:       []bool{true},
		DcomplexVal:   []float64{3, 4},
		HalfVal:       []int32{0x3c00},
		ResourceHandleVal: []*tfpb.ResourceHandleProto{{
			Device: "/cpu:0", Container: "c", Name: "v", HashCode: math.MaxUint64, MaybeTypeName: "t",
			DtypesAndShapes: []*tfpb.ResourceHandleProto_DtypeAndShape{{Dtype: tfpb.DataType_DT_HALF, Shape: &tfpb.TensorShapeProto{}}},
		}},
		VariantVal: []*tfpb.VariantTensorDataProto{{
			TypeName: "tensorflow::TensorList", Metadata: []byte{0, 1},
			Tensors: []*tfpb.TensorProto{{Dtype: tfpb.DataType_DT_INT32, IntVal: []int32{0}}},
		}},
		Uint32Val: []uint32{math.MaxUint32},
		Uint64Val: []uint64{math.MaxUint64},
		Float8Val: []byte{0x38},
	}
	fullType := &tfpb.FullTypeDef{
		TypeId: tfpb.FullTypeId_TFT_PRODUCT,
		Args: []*tfpb.FullTypeDef{
			{TypeId: tfpb.FullTypeId_TFT_TENSOR, Args: []*tfpb.FullTypeDef{{TypeId: tfpb.FullTypeId_TFT_FLOAT}}},
			{TypeId: tfpb.FullTypeId_TFT_VAR, Attr: &tfpb.FullTypeDef_S{S: "T"}},
			{TypeId: tfpb.FullTypeId_TFT_LITERAL, Attr: &tfpb.FullTypeDef_I{I: 0}},
			{TypeId: tfpb.FullTypeId(99999)},
		},
	}
	node := &tfpb.NodeDef{
		Name: "n/ü", Op: "Op", Input: []string{"a", "b:1", "^c"}, Device: "/job:w/task:0",
		Attr: attrs(),
		ExperimentalDebugInfo: &tfpb.NodeDef_ExperimentalDebugInfo{
			OriginalNodeNames: []string{"o"}, OriginalFuncNames: []string{"f"},
		},
		ExperimentalType: fullType,
	}
	node.Attr["tensor"] = &tfpb.AttrValue{Value: &tfpb.AttrValue_Tensor{Tensor: tensor}}
	arg := &tfpb.OpDef_ArgDef{
		Name: "x", Description: "d", Type: tfpb.DataType_DT_RESOURCE, TypeAttr: "T", NumberAttr: "N",
		TypeListAttr: "L", IsRef: true, ExperimentalFullType: fullType,
		HandleData: []*tfpb.ResourceHandleProto_DtypeAndShape{{Dtype: tfpb.DataType_DT_FLOAT}},
	}
	return &tfpb.GraphDef{
		Node:    []*tfpb.NodeDef{node, {Name: "m", Op: "NoOp"}},
		Version: 3,
		Versions: &tfpb.VersionDef{
			Producer: 1, MinConsumer: 0, BadConsumers: []int32{2, 5},
		},
		Library: &tfpb.FunctionDefLibrary{
			Function: []*tfpb.FunctionDef{{
				Signature: &tfpb.OpDef{
					Name: "f", InputArg: []*tfpb.OpDef_ArgDef{arg}, OutputArg: []*tfpb.OpDef_ArgDef{{Name: "y", Type: tfpb.DataType_DT_FLOAT}},
					ControlOutput: []string{"c"},
					Attr: []*tfpb.OpDef_AttrDef{{
						Name: "T", Type: "type", DefaultValue: &tfpb.AttrValue{Value: &tfpb.AttrValue_Type{Type: tfpb.DataType_DT_FLOAT}},
						Description: "t", HasMinimum: true, Minimum: -3,
						AllowedValues: &tfpb.AttrValue{Value: &tfpb.AttrValue_List{List: &tfpb.AttrValue_ListValue{Type: []tfpb.DataType{1, 2}}}},
					}},
					Deprecation: &tfpb.OpDeprecation{Version: 9, Explanation: "old"},
					Summary:     "s", Description: "d", IsCommutative: true, IsAggregate: true, IsStateful: true,
					AllowsUninitializedInput: true, IsDistributedCommunication: true,
				},
				Attr:                attrs(),
				ArgAttr:             map[uint32]*tfpb.FunctionDef_ArgAttrs{0: {Attr: attrs()}, 7: {}},
				ResourceArgUniqueId: map[uint32]uint32{3: 4, 0: 0},
				NodeDef:             []*tfpb.NodeDef{node},
				Ret:                 map[string]string{"y": "n:0", "a": ""},
				ControlRet:          map[string]string{"c": "n"},
			}},
			Gradient:            []*tfpb.GradientDef{{FunctionName: "f", GradientFunc: "g"}},
			RegisteredGradients: []*tfpb.RegisteredGradient{{GradientFunc: "g", RegisteredOpType: "Op"}},
		},
		DebugInfo: &tfpb.GraphDebugInfo{
			Files: []string{"a.py", "b.py"},
			Traces: map[string]*tfpb.GraphDebugInfo_StackTrace{
				"n": {FileLineCols: []*tfpb.GraphDebugInfo_FileLineCol{{FileIndex: &zero, Line: &zero, Func: &empty}}},
			},
			FramesById:    map[uint64]*tfpb.GraphDebugInfo_FileLineCol{math.MaxUint64: {Code: &empty}, 1: {}},
			TracesById:    map[uint64]*tfpb.GraphDebugInfo_StackTrace{5: {FrameId: []uint64{1, math.MaxUint64}}},
			NameToTraceId: map[string]uint64{"n": 5, "m@f": 0},
		},
	}
}

func TestEncodeRoundTripAllFields(t *testing.T) {
	g := fullGraph()
	for _, f := range []Format{Binary, Text} {
		t.Run(f.String(), func(t *testing.T) {
			data, err := Encode(g, f)
			if err != nil {
				t.Fatal(err)
			}
			for range 5 { // map iteration order differs between runs
				again, err := Encode(g, f)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(data, again) {
					t.Fatal("Encode is not deterministic")
				}
			}
			g2, f2, err := Decode(data, "full")
			if err != nil {
				t.Fatalf("Decode: %v\n%s", err, data)
			}
			if f2 != f {
				t.Errorf("detected %v, want %v", f2, f)
			}
			if !proto.Equal(g, g2) {
				t.Errorf("round trip through %v changed the graph", f)
			}
			// proto3 optional zeros keep their presence.
			fl := g2.GetDebugInfo().GetTraces()["n"].GetFileLineCols()[0]
			if fl.FileIndex == nil || fl.Line == nil || fl.Func == nil || fl.Col != nil {
				t.Errorf("FileLineCol presence lost: %v", fl)
			}
		})
	}
}

func TestTextSpelling(t *testing.T) {
	data, err := Encode(fullGraph(), Text)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	for _, want := range []string{
		`type: 77` + "\n",                 // unknown enum value as a number
		`type: DT_UINT2_REF` + "\n",       // enum by name
		`type_id: TFT_PRODUCT` + "\n",     // FullTypeId by name
		`type_id: 99999` + "\n",           // unknown FullTypeId
		`f: -0` + "\n",                    // negative zero kept
		`f: nan` + "\n",                   // NaN
		`f: inf` + "\n", `f: -inf` + "\n", // infinities
		`f: 0.1` + "\n",                // %.6g when it reads back exactly
		`f: 1.4013e-45` + "\n",         // smallest denormal
		`f: 3.40282347e+38` + "\n",     // largest float32 needs %.9g
		`f: 16777216` + "\n",           // 16777217 rounds to this float32; %.9g
		`s: "a\"b\'c\\d\n\t\r"` + "\n", // C escapes
		`hash_code: 18446744073709551615` + "\n",
		`name: "n/\303\274"` + "\n", // UTF-8 in a string field as octal
		`i: 0` + "\n",               // oneof member with a zero value
		`file_index: 0` + "\n",      // proto3 optional zero
		"  key: 18446744073709551615\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("text output lacks %q", want)
		}
	}
	if !strings.Contains(text, `"\000\001\002\003\004\005\006\007\010\t\n\013\014\r\016\017`) {
		t.Errorf("control bytes not written as octal/C escapes")
	}
	if !strings.Contains(text, ` !\"#$%&\'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`+"`abcdefghijklmnopqrstuvwxyz{|}~\\177\\200") {
		t.Errorf("printable ASCII not written as is")
	}
	// Map entries are sorted by key: "b" < "empty_list" < "f" < ...
	if i, j := strings.Index(text, `key: "b"`), strings.Index(text, `key: "empty_list"`); i < 0 || j < 0 || i > j {
		t.Errorf("attr entries not sorted by key")
	}
	if i, j := strings.Index(text, "key: 1\n"), strings.Index(text, "key: 18446744073709551615\n"); i < 0 || j < 0 || i > j {
		t.Errorf("fixed64 map keys not sorted numerically")
	}
}

// TestDecodeTextVariants feeds text spellings that real files use but that
// Encode never writes.
func TestDecodeTextVariants(t *testing.T) {
	want := &tfpb.GraphDef{Node: []*tfpb.NodeDef{{
		Name: "c", Op: "Const",
		Attr: map[string]*tfpb.AttrValue{
			"value": {Value: &tfpb.AttrValue_Tensor{Tensor: &tfpb.TensorProto{
				Dtype:         tfpb.DataType_DT_FLOAT,
				FloatVal:      []float32{0, 1, 0.5},
				TensorContent: []byte{0x01, 0xff, '\n'},
			}}},
		},
	}}}
	for name, text := range map[string]string{
		"python floats and comments": "# written by hand\n\nnode {\n  name: \"c\"\n  op: \"Const\"\n  attr {\n    key: \"value\"\n    value {\n      tensor {\n        dtype: DT_FLOAT\n        float_val: 0.0\n        float_val: 1.0\n        float_val: 0.5\n        tensor_content: \"\\001\\377\\n\"\n      }\n    }\n  }\n}\n",
		"CRLF, BOM and hex escapes":  "\ufeffnode {\r\n name: 'c' op: \"Const\"\r\n attr { key: \"value\" value { tensor { dtype: 1 float_val: [0, 1.0, 5e-1] tensor_content: \"\\x01\\xff\\012\" } } }\r\n}\r\n",
		"angle brackets and colons":  "node: < name: \"c\" op: \"Const\" attr: < key: \"value\" value: < tensor: < dtype: DT_FLOAT float_val: 0 float_val: 1 float_val: .5 tensor_content: \"\\1\\377\\n\" > > > >",
	} {
		t.Run(name, func(t *testing.T) {
			g, f, err := Decode([]byte(text), "in.pbtxt")
			if err != nil {
				t.Fatal(err)
			}
			if f != Text {
				t.Errorf("format = %v, want text", f)
			}
			if !proto.Equal(g, want) {
				t.Errorf("decoded %v, want %v", g, want)
			}
		})
	}
}

func TestDecodeBadInput(t *testing.T) {
	linreg := mustEncode(t, smallGraph(), Binary)
	if dir := realGraphsDirIfPresent(); dir != "" {
		if b, err := os.ReadFile(filepath.Join(dir, "linreg_frozen.pb")); err == nil {
			linreg = b
		}
	}
	// Cut the graph in the middle of its largest node.
	var cut int
	for off, b := 0, linreg; len(b) > 0; {
		num, typ, n := protowire.ConsumeTag(b)
		m := protowire.ConsumeFieldValue(num, typ, b[n:])
		if num == 1 && m > cut-off {
			cut = off + n + m/2
		}
		off += n + m
		b = b[n+m:]
	}
	truncated := linreg[:cut]

	random := make([]byte, 4096)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	jpeg := append([]byte{0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0x00, 0x01, 0x01, 0x00}, random[:200]...)

	// A SavedModel: saved_model_schema_version=1, meta_graphs=[{graph_def=2: linreg}].
	var meta []byte
	meta = protowire.AppendTag(meta, 2, protowire.BytesType)
	meta = protowire.AppendBytes(meta, linreg)
	var savedModel []byte
	savedModel = protowire.AppendTag(savedModel, 1, protowire.VarintType)
	savedModel = protowire.AppendVarint(savedModel, 1)
	savedModel = protowire.AppendTag(savedModel, 2, protowire.BytesType)
	savedModel = protowire.AppendBytes(savedModel, meta)

	noOp := mustEncode(t, &tfpb.GraphDef{Node: []*tfpb.NodeDef{{Name: "a"}}}, Binary)
	badName := mustEncode(t, &tfpb.GraphDef{Node: []*tfpb.NodeDef{{Name: "a\x00b", Op: "Const"}}}, Binary)

	tests := []struct {
		name   string
		data   []byte
		reason string // substring of the error after the file name
	}{
		{"empty.pb", nil, "empty file"},
		{"random.pb", random, "binary protobuf"},
		{"photo.jpg", jpeg, "binary protobuf"},
		{"truncated.pb", truncated, "truncated"},
		{"saved_model.pb", savedModel, "SavedModel"},
		{"noop.pb", noOp, "has no op"},
		{"badname.pb", badName, "unprintable name"},
		{"min_max_log.txt", []byte("I0108 10:22:14.123 12345 logging_ops.cc:79] ;conv__print__;__requant_min_max:[-20.887871][22.274715]\nStep 1/100\n"), "it is text but not a GraphDef in protobuf text format"},
		{"log2.txt", []byte("INFO: running inference\nnode: 1\n"), `(first line: "INFO: running inference")`},
		{"saved_model.pbtxt", []byte("saved_model_schema_version: 1\nmeta_graphs {\n}\n"), "SavedModel"},
		{"versions_only.pbtxt", []byte("versions {\n  producer: 1\n}\n"), "has no nodes"},
		{"comments_only.pbtxt", []byte("# nothing here\n   \n"), "it is text but not a GraphDef in protobuf text format"},
		{"passwd", []byte("root:x:0:0:root:/root:/bin/bash\n"), `(first line: "root:x:0:0:root:/root:/bin/bash")`},
		{"whitespace.pb", []byte("\n\n  \n"), "binary protobuf"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g, _, err := Decode(tc.data, tc.name)
			if err == nil {
				t.Fatalf("Decode succeeded with %d nodes, want an error", len(g.GetNode()))
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, tc.name+": not a TensorFlow GraphDef (binary or text): ") {
				t.Errorf("error %q does not start with the file name and the standard phrase", msg)
			}
			if !errors.Is(err, ErrNotGraphDef) {
				t.Errorf("error %q does not wrap ErrNotGraphDef", msg)
			}
			if !strings.Contains(msg, tc.reason) {
				t.Errorf("error %q does not contain %q", msg, tc.reason)
			}
		})
	}
}

// TestDecodeBinaryThatLooksLikeText decodes a binary graph whose first bytes
// read as text: tag 0x0a and the lengths 0x20 and 0x09 are whitespace, and
// the node name starts with "node{". The text parse fails and the binary one
// is used.
func TestDecodeBinaryThatLooksLikeText(t *testing.T) {
	g := &tfpb.GraphDef{Node: []*tfpb.NodeDef{{Name: "node{xyzw", Op: strings.Repeat("N", 19)}}}
	data := mustEncode(t, g, Binary)
	if !looksLikeText(data) {
		t.Fatalf("test input %q does not look like text", data)
	}
	got, f, err := Decode(data, "tricky.pb")
	if err != nil {
		t.Fatal(err)
	}
	if f != Binary || !proto.Equal(got, g) {
		t.Errorf("decoded %v as %v, want %v as binary", got, f, g)
	}
}

func TestDecodeRandomBytesNeverAccepted(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for i := range 2000 {
		data := make([]byte, 1+rng.IntN(512))
		for j := range data {
			data[j] = byte(rng.Uint32())
		}
		if g, _, err := Decode(data, "random"); err == nil {
			t.Errorf("random input %d (%d bytes) accepted as a graph with %d nodes", i, len(data), len(g.GetNode()))
		}
	}
}

func TestDecodeTextSyntaxErrorPosition(t *testing.T) {
	text := "node {\n  name: \"a\"\n  op: \"Const\"\n  bogus: 1\n}\n"
	_, f, err := Decode([]byte(text), "g.pbtxt")
	if err == nil {
		t.Fatal("Decode succeeded")
	}
	if f != Text {
		t.Errorf("format = %v, want text", f)
	}
	if want := "g.pbtxt:4:3: not a TensorFlow GraphDef (binary or text): text format: unknown field: bogus"; err.Error() != want {
		t.Errorf("error = %q\n want %q", err, want)
	}
	_, _, err = Decode([]byte("node {\n  name: \"a\"\n  op: \"Const\"\n"), "open.pbtxt")
	if err == nil || !strings.HasPrefix(err.Error(), "open.pbtxt: ") || !strings.Contains(err.Error(), "unexpected EOF") {
		t.Errorf("unterminated message: error = %v", err)
	}
}

func TestEncodeRejectsUnknownFieldsInText(t *testing.T) {
	g := smallGraph()
	var raw []byte
	raw = protowire.AppendTag(raw, 99, protowire.VarintType)
	raw = protowire.AppendVarint(raw, 1)
	g.Node[0].ProtoReflect().SetUnknown(raw)

	bin, err := Encode(g, Binary)
	if err != nil {
		t.Fatal(err)
	}
	g2, _, err := Decode(bin, "unknown.pb")
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(g, g2) {
		t.Error("binary round trip lost the unknown field")
	}
	if _, err := Encode(g, Text); err == nil || !strings.Contains(err.Error(), "field 99 (varint)") {
		t.Errorf("Encode(Text) error = %v, want one naming field 99", err)
	}
}

func TestFormatForPath(t *testing.T) {
	for path, want := range map[string]Format{
		"g.pb": Binary, "g.pbtxt": Text, "G.PBTXT": Text, "g.prototxt": Text, "out/g.txt": Text,
		"g": Binary, "-": Binary, "g.pb.gz": Binary, "dir.pbtxt/g.pb": Binary,
	} {
		if got := FormatForPath(path); got != want {
			t.Errorf("FormatForPath(%q) = %v, want %v", path, got, want)
		}
	}
}

func TestEncodeBadArguments(t *testing.T) {
	if _, err := Encode(nil, Binary); err == nil {
		t.Error("Encode(nil) succeeded")
	}
	if _, err := Encode(smallGraph(), Format(7)); err == nil {
		t.Error("Encode with an unknown format succeeded")
	}
}

func TestWrite(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, smallGraph(), Text); err != nil {
		t.Fatal(err)
	}
	if want := mustEncode(t, smallGraph(), Text); !bytes.Equal(buf.Bytes(), want) {
		t.Error("Write wrote other bytes than Encode returns")
	}
}

func TestSave(t *testing.T) {
	dir := t.TempDir()
	g := smallGraph()
	for _, f := range []Format{Binary, Text} {
		path := filepath.Join(dir, "out."+f.String())
		if err := Save(path, g, f); err != nil {
			t.Fatal(err)
		}
		// Overwriting an existing output is fine.
		if err := Save(path, g, f); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, mustEncode(t, g, f)) {
			t.Errorf("%v: saved bytes differ from Encode", f)
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if perm := fi.Mode().Perm(); perm != 0o644 {
			t.Errorf("%v: mode %v, want 0644", f, perm)
		}
	}
	assertEntries(t, dir, "out.binary", "out.text")

	// A relative path works too (temp file in ".").
	t.Chdir(dir)
	if err := Save("rel.pb", g, Binary); err != nil {
		t.Fatal(err)
	}
	assertEntries(t, dir, "out.binary", "out.text", "rel.pb")
}

func TestSaveFailureLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	g := smallGraph()

	if err := Save(filepath.Join(dir, "missing", "out.pb"), g, Binary); err == nil {
		t.Error("Save into a missing directory succeeded")
	} else if !strings.Contains(err.Error(), filepath.Join(dir, "missing", "out.pb")) {
		t.Errorf("error %q does not name the output", err)
	}
	assertEntries(t, dir)

	// The rename fails when the target is a non-empty directory: the
	// temporary file must be removed.
	target := filepath.Join(dir, "taken")
	if err := os.MkdirAll(filepath.Join(target, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := Save(target, g, Binary); err == nil {
		t.Error("Save over a directory succeeded")
	}
	assertEntries(t, dir, "taken")

	// An encoding failure happens before any file is created.
	bad := smallGraph()
	var raw []byte
	raw = protowire.AppendTag(raw, 99, protowire.VarintType)
	raw = protowire.AppendVarint(raw, 1)
	bad.ProtoReflect().SetUnknown(raw)
	if err := Save(filepath.Join(dir, "bad.pbtxt"), bad, Text); err == nil {
		t.Error("Save of an unencodable graph succeeded")
	}
	assertEntries(t, dir, "taken")
}

func TestSaveRefusesToOverwriteInput(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.pb")
	orig := mustEncode(t, smallGraph(), Binary)
	if err := os.WriteFile(in, orig, 0o644); err != nil {
		t.Fatal(err)
	}
	hard := filepath.Join(dir, "hard.pb")
	if err := os.Link(in, hard); err != nil {
		t.Fatal(err)
	}
	sym := filepath.Join(dir, "sym.pb")
	if err := os.Symlink("in.pb", sym); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)

	g := &tfpb.GraphDef{Node: []*tfpb.NodeDef{{Name: "changed", Op: "NoOp"}}}
	for _, tc := range []struct{ out, in string }{
		{in, in}, // same path
		{filepath.Join(dir, "sub", "..", "in.pb"), in}, // same path, spelled differently
		{"in.pb", in}, // relative vs absolute
		{in, "./in.pb"},
		{hard, in}, // hard link to the input
		{sym, in},  // symbolic link to the input
		{in, sym},  // input given through a symbolic link
	} {
		err := Save(tc.out, g, Binary, "other.pb", tc.in)
		if err == nil || !strings.Contains(err.Error(), "refusing to overwrite input file") {
			t.Errorf("Save(%q, inputs %q) error = %v, want a refusal", tc.out, tc.in, err)
		}
	}
	if got, _ := os.ReadFile(in); !bytes.Equal(got, orig) {
		t.Error("the input file was changed")
	}
	if err := Save(filepath.Join(dir, "new.pb"), g, Binary, in, "-"); err != nil {
		t.Errorf("Save to a fresh path: %v", err)
	}
}

func TestSaveStdout(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout := os.Stdout
	os.Stdout = w
	done := make(chan []byte)
	go func() {
		b, _ := io.ReadAll(r)
		done <- b
	}()
	saveErr := Save("-", smallGraph(), Text, "-")
	os.Stdout = stdout
	w.Close()
	got := <-done
	r.Close()
	if saveErr != nil {
		t.Fatal(saveErr)
	}
	if want := mustEncode(t, smallGraph(), Text); !bytes.Equal(got, want) {
		t.Errorf("stdout got %q, want %q", got, want)
	}
}

func mustEncode(t *testing.T, g *tfpb.GraphDef, f Format) []byte {
	t.Helper()
	b, err := Encode(g, f)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// assertEntries checks that dir holds exactly the named entries (no
// temporary files left behind).
func assertEntries(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if strings.Join(got, ",") != strings.Join(names, ",") {
		t.Errorf("%s holds %q, want %q", dir, got, names)
	}
}

// realGraphsDirIfPresent is realGraphsDir without skipping.
func realGraphsDirIfPresent() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			graphs := filepath.Join(dir, "..", "shared", "realdata", "graphs")
			if _, err := os.Stat(graphs); err == nil {
				return graphs
			}
			return ""
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// countingReader counts the bytes read from it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// TestReadRefusesEarly: a gigabyte of zeros (byte 0 is field 0, which no
// protobuf message has) is refused after the first MiB + 1 bytes; so is a
// large text file that is not a text GraphDef. A large valid graph is read
// whole.
func TestReadRefusesEarly(t *testing.T) {
	zeros := &countingReader{r: io.LimitReader(zeroReader{}, 1<<30)}
	_, _, err := Read(zeros, "zeros.pb")
	if err == nil || !errors.Is(err, ErrNotGraphDef) || !strings.Contains(err.Error(), "zeros.pb: ") ||
		!strings.Contains(err.Error(), "(00 00 00 00 00 00 00 00)") {
		t.Errorf("zeros: %v, want a refusal naming the file and its first bytes", err)
	}
	if zeros.n != sniffLen+1 {
		t.Errorf("read %d bytes of the zeros, want %d", zeros.n, sniffLen+1)
	}
	log := &countingReader{r: io.LimitReader(strings.NewReader(strings.Repeat(";a__print__;__requant_min_max:[-1][1]\n", 100000)), 1<<30)}
	if _, _, err := Read(log, "x.log"); err == nil || !strings.Contains(err.Error(), "it is text but not a GraphDef") || log.n != sniffLen+1 {
		t.Errorf("log: %v after %d bytes, want a refusal after %d", err, log.n, sniffLen+1)
	}
	// A graph over 1 MiB: one node with a 2 MiB attribute.
	g := &tfpb.GraphDef{Node: []*tfpb.NodeDef{{Name: "c", Op: "Const", Attr: map[string]*tfpb.AttrValue{
		"value": {Value: &tfpb.AttrValue_S{S: make([]byte, 2<<20)}}}}}}
	data, err := Encode(g, Binary)
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := Read(bytes.NewReader(data), "big.pb")
	if err != nil || len(got.GetNode()[0].GetAttr()["value"].GetS()) != 2<<20 {
		t.Errorf("big graph: %v", err)
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
