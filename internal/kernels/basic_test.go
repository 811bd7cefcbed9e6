package kernels

import (
	"slices"
	"strings"
	"testing"

	"qcal/internal/tfpb"
)

func TestBasicOps(t *testing.T) {
	v := f32([]int{2}, 1.5, -2)
	y := mustRun(t, "Const", attrs{"dtype": aType(tfpb.DataType_DT_FLOAT), "value": {Value: &tfpb.AttrValue_Tensor{Tensor: v.ToProto()}}})[0]
	same(t, "Const", y, []int{2}, []float32{1.5, -2}, 0)
	wantErr(t, "Const", attrs{"value": aInt(3)}, `attr "value" is not a tensor`)
	for _, op := range []string{"Identity", "StopGradient", "PlaceholderWithDefault"} {
		if y := mustRun(t, op, attrs{}, v)[0]; y != v {
			t.Errorf("%s: got a new tensor, want its input passed through", op)
		}
	}
	if out := mustRun(t, "NoOp", attrs{}); len(out) != 0 {
		t.Errorf("NoOp: %d outputs", len(out))
	}
	wantErr(t, "Placeholder", attrs{}, "placeholder is not fed")
}

func TestRegistryLists(t *testing.T) {
	ops := Ops()
	if !slices.IsSorted(ops) {
		t.Error("Ops() is not sorted")
	}
	// The ops the executor's task names, all registered.
	for _, op := range strings.Fields(`Placeholder Const Identity NoOp StopGradient Reshape Shape Squeeze
		ExpandDims StridedSlice Slice Pack ConcatV2 Transpose Pad Fill Cast MatMul BiasAdd Conv2D
		DepthwiseConv2dNative MaxPool AvgPool Add AddV2 Sub Mul RealDiv Maximum Minimum SquaredDifference
		Relu Relu6 Elu Sigmoid Tanh Erf Exp Log Sqrt Rsqrt Square Neg Softmax Mean Sum Max Min ArgMax
		Equal FusedBatchNorm FusedBatchNormV3 BatchNormWithGlobalNormalization FakeQuantWithMinMaxVars`) {
		if !Supported(op) || !slices.Contains(ops, op) {
			t.Errorf("%s is not registered", op)
		}
	}
	if Supported("NoSuchOp") {
		t.Error(`Supported("NoSuchOp") is true`)
	}
}

func TestCastBFloat16(t *testing.T) {
	// bfloat16 keeps 7 fraction bits: 1 + 2^-8 is halfway between 1 (0x3f80)
	// and 1 + 2^-7 (0x3f81) and rounds to the even 0x3f80; 1 + 2^-8 + 2^-9
	// is past halfway: 0x3f81.
	x := f32([]int{3}, 1+1.0/256, 1+1.0/256+1.0/512, -2)
	y := mustRun(t, "Cast", attrs{"DstT": aType(tfpb.DataType_DT_BFLOAT16)}, x)[0]
	if !slices.Equal(y.U16, []uint16{0x3f80, 0x3f81, 0xc000}) {
		t.Errorf("Cast bfloat16: %#x", y.U16)
	}
	back := mustRun(t, "Cast", attrs{"DstT": aType(tfpb.DataType_DT_FLOAT)}, y)[0]
	same(t, "bfloat16 → float", back, []int{3}, []float32{1, 1 + 1.0/128, -2}, 0)
	// int32 → uint8 wraps: 300 → 300 − 256 = 44, −1 → 255.
	z := mustRun(t, "Cast", attrs{"DstT": aType(tfpb.DataType_DT_UINT8)}, i32([]int{2}, 300, -1))[0]
	if !slices.Equal(z.U8, []uint8{44, 255}) {
		t.Errorf("Cast int32→uint8: %v, want [44 255]", z.U8)
	}
}
