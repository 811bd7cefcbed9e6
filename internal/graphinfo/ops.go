package graphinfo

import (
	"fmt"
	"strings"

	"qcal/internal/tfpb"
)

// outputSpecs describes the outputs of the ops qcal knows, the way
// TensorFlow's op registry does, one word per output:
//
//	T                an output whose type is in the type attr T
//	out_type=qint32  the same, with the type used when the attr is absent
//	float            an output of a fixed type (see fixedTypes)
//	T*num_split      attr T, repeated as often as the int attr num_split says
//	[dtypes]         one output per type in the list(type) attr dtypes
//
// An empty spec is an op without outputs. TensorFlow's insert_logging looks
// the output types up in its op registry; qcal has no registry, so the ops
// whose outputs it must type are listed here: the quantized ops of Intel's
// eightbit flow and the common float ops of inference graphs.
var outputSpecs = map[string]string{
	// Quantization.
	"QuantizeV2":                    "T float float",
	"Dequantize":                    "dtype=float",
	"Requantize":                    "out_type float float",
	"RequantizePerChannel":          "out_type float float",
	"RequantizationRange":           "float float",
	"RequantizationRangePerChannel": "float float",

	"QuantizedConv2D":                                      "out_type=qint32 float float",
	"QuantizedConv2DAndRelu":                               "out_type=qint32 float float",
	"QuantizedConv2DAndRequantize":                         "out_type float float",
	"QuantizedConv2DAndReluAndRequantize":                  "out_type float float",
	"QuantizedConv2DPerChannel":                            "out_type=qint32 float float",
	"QuantizedConv2DWithBias":                              "out_type=qint32 float float",
	"QuantizedConv2DWithBiasAndRelu":                       "out_type=qint32 float float",
	"QuantizedConv2DWithBiasAndRequantize":                 "out_type float float",
	"QuantizedConv2DWithBiasAndReluAndRequantize":          "out_type float float",
	"QuantizedConv2DWithBiasSumAndRelu":                    "out_type=qint32 float float",
	"QuantizedConv2DWithBiasSumAndReluAndRequantize":       "out_type float float",
	"QuantizedConv2DWithBiasSignedSumAndReluAndRequantize": "out_type float float",
	"QuantizedDepthwiseConv2D":                             "out_type=qint32 float float",
	"QuantizedDepthwiseConv2DWithBias":                     "out_type=qint32 float float",
	"QuantizedDepthwiseConv2DWithBiasAndRelu":              "out_type=qint32 float float",
	"QuantizedDepthwiseConv2DWithBiasAndReluAndRequantize": "out_type float float",
	"QuantizedMatMul":                                      "Toutput=qint32 float float",
	"QuantizedMatMulWithBias":                              "Toutput=qint32 float float",
	"QuantizedMatMulWithBiasAndRelu":                       "Toutput=qint32 float float",
	"QuantizedMatMulWithBiasAndRequantize":                 "Toutput float float",
	"QuantizedMatMulWithBiasAndReluAndRequantize":          "Toutput float float",
	"QuantizedMatMulWithBiasAndDequantize":                 "Toutput",
	"QuantizedRelu":                                        "out_type=quint8 float float",
	"QuantizedRelu6":                                       "out_type=quint8 float float",
	"QuantizedReluX":                                       "out_type=quint8 float float",
	"QuantizedBiasAdd":                                     "out_type float float",
	"QuantizedAdd":                                         "Toutput=qint32 float float",
	"QuantizedMul":                                         "Toutput=qint32 float float",
	"QuantizedAvgPool":                                     "T float float",
	"QuantizedMaxPool":                                     "T float float",
	"QuantizedConcat":                                      "T float float",
	"QuantizedReshape":                                     "T float float",
	"QuantizedResizeBilinear":                              "T float float",
	"QuantizedInstanceNorm":                                "T float float",
	"QuantizedBatchNormWithGlobalNormalization":            "out_type float float",

	// Sources and conversions.
	"Const":                  "dtype",
	"Placeholder":            "dtype",
	"PlaceholderWithDefault": "dtype",
	"Cast":                   "DstT",
	"Shape":                  "out_type=int32",
	"Size":                   "out_type=int32",
	"Rank":                   "int32",
	"ArgMax":                 "output_type=int64",
	"ArgMin":                 "output_type=int64",
	"Range":                  "Tidx",
	"GatherV2":               "Tparams",
	"Gather":                 "Tparams",
	"ResizeBilinear":         "float",
	"TopKV2":                 "T int32",
	"Unique":                 "T out_idx=int32",

	// Several outputs.
	"Switch":            "T T",
	"Merge":             "T int32",
	"Split":             "T*num_split",
	"SplitV":            "T*num_split",
	"Unpack":            "T*num",
	"IdentityN":         "[T]",
	"RestoreV2":         "[dtypes]",
	"FusedBatchNorm":    "T T T T T",
	"FusedBatchNormV2":  "T U U U U",
	"FusedBatchNormV3":  "T U U U U U",
	"_FusedBatchNormEx": "T U U U U U",

	// No outputs.
	"NoOp":   "",
	"SaveV2": "",

	// Comparisons.
	"Equal":        "bool",
	"NotEqual":     "bool",
	"Less":         "bool",
	"LessEqual":    "bool",
	"Greater":      "bool",
	"GreaterEqual": "bool",
	"LogicalAnd":   "bool",
	"LogicalOr":    "bool",
	"LogicalNot":   "bool",
	"IsNan":        "bool",
}

// sameTypeOps have one output whose type is in attr T.
var sameTypeOps = []string{
	"Abs", "Add", "AddN", "AddV2", "AvgPool", "AvgPool3D", "BatchMatMul", "BatchMatMulV2",
	"BiasAdd", "BiasAddV1", "BroadcastTo", "Ceil", "CheckNumerics", "ClipByValue", "Concat",
	"ConcatV2", "Conv2D", "Conv2DBackpropInput", "Conv3D", "Cumsum", "DepthToSpace",
	"DepthwiseConv2dNative", "Div", "DivNoNan", "Elu", "Enter", "Erf", "Exit", "Exp",
	"ExpandDims", "Fill", "Floor", "FloorDiv", "FloorMod", "Identity", "LeakyRelu", "Log",
	"LogSoftmax", "MatMul", "Max", "MaxPool", "MaxPool3D", "MaxPoolV2", "Maximum", "Mean",
	"Min", "Minimum", "MirrorPad", "Mul", "Neg", "NextIteration", "OnesLike", "Pack", "Pad",
	"PadV2", "Pow", "PreventGradient", "Print", "Prod", "RealDiv", "Reciprocal", "Relu",
	"Relu6", "Reshape", "ResizeNearestNeighbor", "ReverseV2", "Round", "Rsqrt", "Select",
	"SelectV2", "Selu", "Sigmoid", "Sign", "Slice", "Snapshot", "Softmax", "Softplus",
	"Softsign", "SpaceToDepth", "Sqrt", "Square", "SquaredDifference", "Squeeze",
	"StopGradient", "StridedSlice", "Sub", "Sum", "Tanh", "Tile", "Transpose", "ZerosLike",
	"_FusedConv2D", "_FusedMatMul",
}

func init() {
	for _, op := range sameTypeOps {
		outputSpecs[op] = "T"
	}
}

// fixedTypes are the type words an output spec may name directly.
var fixedTypes = map[string]tfpb.DataType{
	"float": tfpb.DataType_DT_FLOAT, "double": tfpb.DataType_DT_DOUBLE,
	"int32": tfpb.DataType_DT_INT32, "int64": tfpb.DataType_DT_INT64,
	"bool": tfpb.DataType_DT_BOOL, "string": tfpb.DataType_DT_STRING,
	"qint8": tfpb.DataType_DT_QINT8, "quint8": tfpb.DataType_DT_QUINT8,
	"qint32": tfpb.DataType_DT_QINT32,
}

// KnownOp reports whether qcal knows the outputs of op.
func KnownOp(op string) bool {
	_, ok := outputSpecs[op]
	return ok
}

// NumOutputs returns how many outputs n has, and whether qcal knows: false
// for an op outside its table, or when the count depends on an attr that is
// missing or of the wrong kind.
func NumOutputs(n *tfpb.NodeDef) (int, bool) {
	spec, ok := outputSpecs[n.GetOp()]
	if !ok {
		return 0, false
	}
	count := 0
	for _, word := range strings.Fields(spec) {
		switch {
		case strings.HasPrefix(word, "["):
			l := n.GetAttr()[strings.Trim(word, "[]")].GetList()
			if l == nil {
				return 0, false
			}
			count += len(l.GetType())
		case strings.Contains(word, "*"):
			_, countAttr, _ := strings.Cut(word, "*")
			a, ok := n.GetAttr()[countAttr].GetValue().(*tfpb.AttrValue_I)
			if !ok || a.I < 0 || a.I > 1<<20 {
				return 0, false
			}
			count += int(a.I)
		default:
			count++
		}
	}
	return count, true
}

// OutputTypes returns the types of n's outputs, as TensorFlow's op registry
// would give them for the node's attrs. It fails for an op outside qcal's
// table and for a node lacking an attr its outputs' types depend on.
func OutputTypes(n *tfpb.NodeDef) ([]tfpb.DataType, error) {
	spec, ok := outputSpecs[n.GetOp()]
	if !ok {
		return nil, fmt.Errorf("node %q: qcal does not know the output types of op %q", n.GetName(), n.GetOp())
	}
	var types []tfpb.DataType
	for _, word := range strings.Fields(spec) {
		if t, ok := fixedTypes[word]; ok {
			types = append(types, t)
			continue
		}
		if strings.HasPrefix(word, "[") {
			name := strings.Trim(word, "[]")
			l := n.GetAttr()[name].GetList()
			if l == nil {
				return nil, attrError(n, name, "a list of types")
			}
			types = append(types, l.GetType()...)
			continue
		}
		name, countAttr, repeated := strings.Cut(word, "*")
		name, def, hasDef := strings.Cut(name, "=")
		var t tfpb.DataType
		switch a := n.GetAttr()[name].GetValue().(type) {
		case *tfpb.AttrValue_Type:
			t = a.Type
		case nil:
			if !hasDef {
				return nil, attrError(n, name, "a type")
			}
			t = fixedTypes[def]
		default:
			return nil, attrError(n, name, "a type")
		}
		times := 1
		if repeated {
			a, ok := n.GetAttr()[countAttr].GetValue().(*tfpb.AttrValue_I)
			if !ok || a.I < 0 || a.I > 1<<20 {
				return nil, attrError(n, countAttr, "a count")
			}
			times = int(a.I)
		}
		for range times {
			types = append(types, t)
		}
	}
	return types, nil
}

func attrError(n *tfpb.NodeDef, attr, want string) error {
	if _, ok := n.GetAttr()[attr]; !ok {
		return fmt.Errorf("node %q (op %s): attr %q is missing; the op's output types depend on it", n.GetName(), n.GetOp(), attr)
	}
	return fmt.Errorf("node %q (op %s): attr %q is not %s", n.GetName(), n.GetOp(), attr, want)
}
