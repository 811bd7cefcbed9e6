package transform

import (
	"math"
	"slices"
	"strings"
	"testing"

	"qcal/internal/tfpb"
)

func bitsOf(v []float32) []uint32 {
	var out []uint32
	for _, x := range v {
		out = append(out, math.Float32bits(x))
	}
	return out
}

func conv2D(name, in, w string) *tfpb.NodeDef {
	return withAttr(floatT(node(name, "Conv2D", in, w)), "data_format", strAttr("NHWC"))
}

// fusedBN is a FusedBatchNorm-family node: inputs x, gamma, beta, mean, variance.
func fusedBN(op, name, x, prefix string, eps float32) *tfpb.NodeDef {
	n := floatT(node(name, op, x, prefix+"gamma", prefix+"beta", prefix+"mean", prefix+"var"))
	n.Attr["epsilon"] = floatAttr(eps)
	n.Attr["is_training"] = boolAttr(false)
	return n
}

func TestFoldOldBatchNormsByHand(t *testing.T) {
	// Worked by hand with TF's formula, eps = 1:
	//   col 0: gamma=2, var=3 → scale = 1/sqrtf(4)·2 = 1;   offset = (−4·1)+1 = −3;    w' = 3·1 = 3
	//   col 1: gamma=1, var=3 → scale = 1/sqrtf(4)·1 = 0.5; offset = (−2·0.5)+0.5 = −0.5; w' = 5·0.5 = 2.5
	//   col 2: gamma=3, var=0 → scale = 1/sqrtf(1)·3 = 3;   offset = (−1·3)+0 = −3;    w' = 7·3 = 21
	g := graph(
		placeholder("x"),
		constF("w", []int64{1, 1, 1, 3}, 3, 5, 7),
		conv2D("conv", "x", "w"),
		constF("gamma", []int64{3}, 2, 1, 3),
		constF("beta", []int64{3}, 1, 0.5, 0),
		constF("mean", []int64{3}, 4, 2, 1),
		constF("var", []int64{3}, 3, 3, 0),
		fusedBN("FusedBatchNorm", "bn", "conv", "", 1),
		node("relu", "Relu", "bn"),
	)
	out, res := run(t, g, "fold_old_batch_norms", Options{})
	if got := constValues(t, out, "w"); !slices.Equal(got, []float32{3, 2.5, 21}) {
		t.Errorf("weights = %v, want [3 2.5 21]", got)
	}
	if got := constValues(t, out, "conv_bn_offset"); !slices.Equal(got, []float32{-3, -0.5, -3}) {
		t.Errorf("offset = %v, want [-3 -0.5 -3]", got)
	}
	// The BiasAdd takes the batch norm's name (TF), so relu is untouched.
	bn := find(out, "bn")
	if bn.GetOp() != "BiasAdd" || !slices.Equal(bn.GetInput(), []string{"conv", "conv_bn_offset"}) ||
		string(bn.GetAttr()["data_format"].GetS()) != "NHWC" || bn.GetAttr()["T"].GetType() != tfpb.DataType_DT_FLOAT {
		t.Errorf("bn = %v", bn)
	}
	if got := names(out); !slices.Equal(got, []string{"x", "w", "conv", "conv_bn_offset", "bn", "relu"}) {
		t.Errorf("nodes = %v", got)
	}
	// Changed: w rewritten, bn replaced, conv_bn_offset added, 4 Consts removed.
	if res[0].Changed != 7 || len(res[0].Notes) != 0 {
		t.Errorf("changed %d, notes %q", res[0].Changed, res[0].Notes)
	}
	golden(t, "fold_old_batch_norms", out)
}

func TestFoldOldBatchNormsBits(t *testing.T) {
	// BatchNormWithGlobalNormalization (inputs t, mean, var, beta, gamma),
	// var = 0.5, eps = 0.001, gamma = 3, mean = 1, beta = 0. By hand in
	// float32 (each step rounded; checked with Python's struct float32):
	//   var+eps      = 0x3f004189
	//   sqrtf(·)     = 0x3f353344
	//   1.0f/·       = 0x3fb4d6ae
	//   ·*gamma      = 0x4087a102  (TF's order; gamma/sqrtf(·) would give 0x4087a103)
	//   offset = (−1·scale)+0 = 0xc087a102; the weight 1 becomes the scale.
	build := func(scaleAfter bool) *tfpb.GraphDef {
		bn := floatT(node("bn", "BatchNormWithGlobalNormalization", "conv", "mean", "var", "beta", "gamma"))
		bn.Attr["variance_epsilon"] = floatAttr(0.001)
		bn.Attr["scale_after_normalization"] = boolAttr(scaleAfter)
		return graph(placeholder("x"), constF("w", []int64{1, 1, 1, 1}, 1), conv2D("conv", "x", "w"),
			constF("mean", []int64{1}, 1), constF("var", []int64{1}, 0.5), constF("beta", []int64{1}, 0), constF("gamma", []int64{1}, 3), bn)
	}
	out, _ := run(t, build(true), "fold_old_batch_norms", Options{})
	if got := bitsOf(constValues(t, out, "w")); !slices.Equal(got, []uint32{0x4087a102}) {
		t.Errorf("scale bits %#x, want 0x4087a102", got)
	}
	if got := bitsOf(constValues(t, out, "conv_bn_offset")); !slices.Equal(got, []uint32{0xc087a102}) {
		t.Errorf("offset bits %#x, want 0xc087a102", got)
	}
	// Without scale_after_normalization gamma is ignored: scale = 1.0f/sqrtf(·) = 0x3fb4d6ae.
	out, _ = run(t, build(false), "fold_old_batch_norms", Options{})
	if got := bitsOf(constValues(t, out, "w")); !slices.Equal(got, []uint32{0x3fb4d6ae}) {
		t.Errorf("scale bits without gamma %#x, want 0x3fb4d6ae", got)
	}
}

func TestFoldOldBatchNormsDepthwiseV3(t *testing.T) {
	// Depthwise weights [1,1,C=2,M=2]: 4 output columns, TF's rule: column =
	// flat index % (C·M). eps = 0, var = 1 → scale = gamma.
	g := graph(
		placeholder("x"),
		constF("w", []int64{1, 1, 2, 2}, 1, 2, 3, 4),
		floatT(node("dw", "DepthwiseConv2dNative", "x", "w")),
		constF("gamma", []int64{4}, 10, 20, 30, 40),
		constF("beta", []int64{4}, 0, 0, 0, 1),
		constF("mean", []int64{4}, 0, 0, 1, 0),
		constF("var", []int64{4}, 1, 1, 1, 1),
		fusedBN("FusedBatchNormV3", "bn", "dw", "", 0),
	)
	out, _ := run(t, g, "fold_old_batch_norms", Options{})
	if got := constValues(t, out, "w"); !slices.Equal(got, []float32{10, 40, 90, 160}) {
		t.Errorf("weights = %v, want [10 40 90 160]", got)
	}
	// offset = (−mean·gamma)+beta = [0, 0, −30, 1]
	if got := constValues(t, out, "dw_bn_offset"); !slices.Equal(got, []float32{0, 0, -30, 1}) {
		t.Errorf("offset = %v", got)
	}
	if _, ok := find(out, "bn").GetAttr()["data_format"]; ok {
		t.Error("data_format copied from a conv without one")
	}
}

func TestFoldOldBatchNormsThroughBiasAdd(t *testing.T) {
	// Keras: Conv2D → BiasAdd(b) → FusedBatchNormV3. b = 1 moves into the
	// mean: mean' = 5 − 1 = 4; with var = 3, eps = 1, gamma = 2, beta = 1:
	// scale = 1/sqrtf(4)·2 = 1, offset = (−4·1)+1 = −3, w' = 3.
	g := graph(
		placeholder("x"),
		constF("w", []int64{1, 1, 1, 1}, 3),
		conv2D("conv", "x", "w"),
		constF("b", []int64{1}, 1),
		floatT(node("conv/BiasAdd", "BiasAdd", "conv", "b")),
		constF("gamma", []int64{1}, 2), constF("beta", []int64{1}, 1), constF("mean", []int64{1}, 5), constF("var", []int64{1}, 3),
		fusedBN("FusedBatchNormV3", "bn", "conv/BiasAdd", "", 1),
		node("y", "Relu", "bn"),
	)
	out, _ := run(t, g, "fold_old_batch_norms", Options{})
	if got := constValues(t, out, "w"); !slices.Equal(got, []float32{3}) {
		t.Errorf("weights = %v", got)
	}
	if got := constValues(t, out, "conv_bn_offset"); !slices.Equal(got, []float32{-3}) {
		t.Errorf("offset = %v, want [-3]", got)
	}
	if got := names(out); !slices.Equal(got, []string{"x", "w", "conv", "conv_bn_offset", "bn", "y"}) {
		t.Errorf("nodes = %v", got)
	}
}

func TestFoldOldBatchNormsLeftAlone(t *testing.T) {
	base := func() []*tfpb.NodeDef {
		return []*tfpb.NodeDef{
			placeholder("x"), constF("w", []int64{1, 1, 1, 1}, 3), conv2D("conv", "x", "w"),
			constF("gamma", []int64{1}, 2), constF("beta", []int64{1}, 1), constF("mean", []int64{1}, 5), constF("var", []int64{1}, 3),
		}
	}
	training := fusedBN("FusedBatchNorm", "bn", "conv", "", 1)
	training.Attr["is_training"] = boolAttr(true)
	tests := []struct {
		name  string
		extra []*tfpb.NodeDef
		note  string
	}{
		{"training", []*tfpb.NodeDef{training}, `FusedBatchNorm "bn" left: is_training is set`},
		{"output 1 used", []*tfpb.NodeDef{fusedBN("FusedBatchNorm", "bn", "conv", "", 1), node("m", "Identity", "bn:1")}, "outputs other than 0 are consumed"},
		{"conv shared", []*tfpb.NodeDef{fusedBN("FusedBatchNorm", "bn", "conv", "", 1), node("r", "Relu", "conv")}, `Conv2D "conv" feeds other nodes too`},
		{"weights shared", []*tfpb.NodeDef{fusedBN("FusedBatchNorm", "bn", "conv", "", 1), node("r", "Relu", "w")}, `the weights "w" of "conv" feed other nodes too`},
		{"not conv", []*tfpb.NodeDef{fusedBN("FusedBatchNorm", "bn", "x", "", 1)}, "its input is not a Conv2D"},
	}
	for _, tt := range tests {
		g := graph(append(base(), tt.extra...)...)
		out, res := run(t, g, "fold_old_batch_norms", Options{})
		if res[0].Changed != 0 || len(out.Node) != len(g.Node) {
			t.Errorf("%s: changed %d nodes", tt.name, res[0].Changed)
		}
		if len(res[0].Notes) != 1 || !strings.Contains(res[0].Notes[0], tt.note) {
			t.Errorf("%s: notes %q, want %q", tt.name, res[0].Notes, tt.note)
		}
	}
	// Weights through an Identity: a note pointing at the fix.
	g := graph(placeholder("x"), constF("w0", []int64{1, 1, 1, 1}, 3), node("w", "Identity", "w0"), conv2D("conv", "x", "w"),
		constF("gamma", []int64{1}, 2), constF("beta", []int64{1}, 1), constF("mean", []int64{1}, 5), constF("var", []int64{1}, 3),
		fusedBN("FusedBatchNorm", "bn", "conv", "", 1))
	_, res := run(t, g, "fold_old_batch_norms", Options{})
	if len(res[0].Notes) != 1 || !strings.Contains(res[0].Notes[0], "remove_nodes(op=Identity)") {
		t.Errorf("identity weights: notes %q", res[0].Notes)
	}
	out, _ := run(t, g, "remove_nodes(op=Identity) fold_old_batch_norms", Options{})
	if find(out, "bn").GetOp() != "BiasAdd" {
		t.Errorf("after remove_nodes: bn = %v", find(out, "bn"))
	}
	// A mean of the wrong length is an error naming the node.
	g = graph(placeholder("x"), constF("w", []int64{1, 1, 1, 1}, 3), conv2D("conv", "x", "w"),
		constF("gamma", []int64{1}, 2), constF("beta", []int64{1}, 1), constF("mean", []int64{2}, 5, 5), constF("var", []int64{1}, 3),
		fusedBN("FusedBatchNorm", "bn", "conv", "", 1))
	steps, _ := Parse("fold_old_batch_norms")
	if _, _, err := Apply(g, steps, Options{}); err == nil || !strings.Contains(err.Error(), `node "bn": mean input "mean" has shape [2], want [1]`) {
		t.Errorf("bad mean: %v", err)
	}
}

func TestFoldBatchNorms(t *testing.T) {
	// Worked by hand: w·m[col]. Conv2D [1,1,1,2] w=[3,5], m=[2,0.5] → [6,2.5].
	// MatMul [2,2] w=[[1,2],[3,4]], m=[10,100] → [[10,200],[30,400]].
	g := graph(
		placeholder("x"),
		constF("w", []int64{1, 1, 1, 2}, 3, 5),
		conv2D("conv", "x", "w"),
		constF("m", []int64{2}, 2, 0.5),
		floatT(node("mul", "Mul", "conv", "m")),
		node("flat", "Reshape", "mul"),
		constF("w2", []int64{2, 2}, 1, 2, 3, 4),
		floatT(node("mm", "MatMul", "flat", "w2")),
		constF("m2", []int64{2}, 10, 100),
		floatT(node("mul2", "Mul", "mm", "m2")),
	)
	out, res := run(t, g, "fold_batch_norms", Options{})
	if got := constValues(t, out, "w"); !slices.Equal(got, []float32{6, 2.5}) {
		t.Errorf("conv weights = %v", got)
	}
	if got := constValues(t, out, "w2"); !slices.Equal(got, []float32{10, 200, 30, 400}) {
		t.Errorf("matmul weights = %v", got)
	}
	// TF: the conv takes the Mul's name; the Mul's Const goes.
	if m := find(out, "mul"); m.GetOp() != "Conv2D" || !slices.Equal(m.GetInput(), []string{"x", "w"}) {
		t.Errorf("mul = %v", m)
	}
	if got := names(out); !slices.Equal(got, []string{"x", "w", "mul", "flat", "w2", "mul2"}) {
		t.Errorf("nodes = %v", got)
	}
	if res[0].Changed != 8 {
		t.Errorf("changed = %d, want 8 (2 weights, 2 Muls, 2 convs and 2 Consts removed)", res[0].Changed)
	}
	golden(t, "fold_batch_norms", out)
}

func TestFoldBatchNormsLeftAlone(t *testing.T) {
	mk := func(mdims []int64, mvals []float32, extra ...*tfpb.NodeDef) *tfpb.GraphDef {
		return graph(append([]*tfpb.NodeDef{placeholder("x"), constF("w", []int64{1, 1, 1, 2}, 3, 5), conv2D("conv", "x", "w"),
			constF("m", mdims, mvals...), floatT(node("mul", "Mul", "conv", "m"))}, extra...)...)
	}
	nchw := mk([]int64{2}, []float32{1, 2})
	nchw.Node[2].Attr["data_format"] = strAttr("NCHW")
	tests := []struct {
		name string
		g    *tfpb.GraphDef
		note string
	}{
		{"scalar", mk(nil, []float32{2}), "its Const has shape [], not [2]"},
		{"conv shared", mk([]int64{2}, []float32{1, 2}, node("r", "Relu", "conv")), "feed other nodes too"},
		{"nchw", nchw, "is NCHW"},
	}
	for _, tt := range tests {
		out, res := run(t, tt.g, "fold_batch_norms", Options{})
		if res[0].Changed != 0 || len(out.Node) != len(tt.g.Node) {
			t.Errorf("%s: changed %d", tt.name, res[0].Changed)
		}
		if len(res[0].Notes) != 1 || !strings.Contains(res[0].Notes[0], tt.note) {
			t.Errorf("%s: notes %q, want %q", tt.name, res[0].Notes, tt.note)
		}
	}
}

func TestFloatsFromFloatVal(t *testing.T) {
	// TF's FromProto: the last float_val fills the tensor; none means zeros.
	v, dims, err := floats(&tfpb.TensorProto{Dtype: tfpb.DataType_DT_FLOAT,
		TensorShape: &tfpb.TensorShapeProto{Dim: []*tfpb.TensorShapeProto_Dim{{Size: 4}}}, FloatVal: []float32{1, 2}})
	if err != nil || !slices.Equal(v, []float32{1, 2, 2, 2}) || !slices.Equal(dims, []int64{4}) {
		t.Errorf("floats = %v %v %v", v, dims, err)
	}
	v, _, err = floats(&tfpb.TensorProto{Dtype: tfpb.DataType_DT_FLOAT,
		TensorShape: &tfpb.TensorShapeProto{Dim: []*tfpb.TensorShapeProto_Dim{{Size: 2}}}})
	if err != nil || !slices.Equal(v, []float32{0, 0}) {
		t.Errorf("zeros = %v %v", v, err)
	}
	if _, _, err := floats(&tfpb.TensorProto{Dtype: tfpb.DataType_DT_FLOAT, TensorContent: []byte{1, 2, 3}}); err == nil {
		t.Error("3 bytes for a scalar accepted")
	}
	if _, _, err := floats(&tfpb.TensorProto{Dtype: tfpb.DataType_DT_INT32}); err == nil || err.Error() != "tensor of type int32, want float" {
		t.Errorf("int32: %v", err)
	}
}

func TestFoldBatchNormsSharedInput(t *testing.T) {
	// Two conv+Mul branches read the same x. TF's matcher claims x for the
	// first match, so one fold_batch_norms pass folds only one branch; qcal
	// folds both: w1 = [2]·[3] = [6], w2 = [5]·[0.5] = [2.5].
	g := graph(
		placeholder("x"),
		constF("w1", []int64{1, 1, 1, 1}, 2), conv2D("c1", "x", "w1"), constF("m1", []int64{1}, 3), floatT(node("mul1", "Mul", "c1", "m1")),
		constF("w2", []int64{1, 1, 1, 1}, 5), conv2D("c2", "x", "w2"), constF("m2", []int64{1}, 0.5), floatT(node("mul2", "Mul", "c2", "m2")),
	)
	out, _ := run(t, g, "fold_batch_norms", Options{})
	if got := constValues(t, out, "w1"); !slices.Equal(got, []float32{6}) {
		t.Errorf("w1 = %v", got)
	}
	if got := constValues(t, out, "w2"); !slices.Equal(got, []float32{2.5}) {
		t.Errorf("w2 = %v", got)
	}
	if find(out, "mul1").GetOp() != "Conv2D" || find(out, "mul2").GetOp() != "Conv2D" {
		t.Errorf("nodes = %v", names(out))
	}
}
