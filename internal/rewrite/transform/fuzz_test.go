package transform

import (
	"bytes"
	"testing"

	"qcal/internal/graphio"
	"qcal/internal/tfpb"
)

// FuzzApply runs the graph transforms on arbitrary decodable graphs: no
// panic, and the input graph is left as it was.
func FuzzApply(f *testing.F) {
	seeds := []*tfpb.GraphDef{
		chain(),
		graph(placeholder("x"), constF("w", []int64{1, 1, 1, 2}, 3, 5), conv2D("conv", "x", "w"),
			constF("m", []int64{2}, 2, 0.5), floatT(node("mul", "Mul", "conv", "m"))),
		graph(placeholder("x"), constF("w", []int64{1, 1, 2, 2}, 1, 2, 3, 4), floatT(node("dw", "DepthwiseConv2dNative", "x", "w")),
			constF("gamma", []int64{4}, 1, 2, 3, 4), constF("beta", []int64{4}, 0, 0, 0, 1),
			constF("mean", []int64{4}, 0, 0, 1, 0), constF("var", []int64{4}, 1, 1, 1, 1),
			fusedBN("FusedBatchNormV3", "bn", "dw", "", 0.001)),
		graph(constF("a", nil, 1), constF("b", []int64{2}, 2, 3), floatT(node("add", "Add", "a", "b")), floatT(node("y", "Neg", "add"))),
		chainGraph(),
		sumGraph("res", node("res", "AddV2", "relu0", "relu0")),
		sumGraph("conv1/Relu", dequant("conv1/Relu", "conv1")),
	}
	for _, g := range seeds {
		data, err := graphio.Encode(g, graphio.Binary)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	steps, err := Parse("remove_nodes(op=Identity, op=Relu) fold_constants(ignore_errors=true) fold_batch_norms fold_old_batch_norms " +
		"remove_attribute(attribute_name=T) rename_attribute(old_attribute_name=dtype, new_attribute_name=dtype) remove_device " +
		"fuse_quantized_conv_and_requantize(ignore_errors=true)")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		g, _, err := graphio.Decode(data, "fuzz")
		if err != nil || len(g.GetNode()) > 200 {
			return
		}
		before, err := graphio.Encode(g, graphio.Binary)
		if err != nil {
			return
		}
		_, _, _ = Apply(g, steps, Options{Evaluator: arithEvaluator{}})
		after, err := graphio.Encode(g, graphio.Binary)
		if err != nil || !bytes.Equal(before, after) {
			t.Fatalf("Apply modified its input graph (%v)", err)
		}
	})
}
