package exec

import (
	"math"
	"sync"
	"testing"

	"qcal/internal/tensor"
	"qcal/internal/tfpb"
)

// cacheGraph: x → Relu → a; Min(a) (a's last use: its buffer is recycled);
// Neg(x) → b, made after a died, so in a's buffer; Max(b). Then a
// convolution with a Const filter (packed once per graph), an Add of a
// Const per-channel vector and Relu6 (fused), and the Min and Max of its
// output (the second from the Context's memory).
func cacheGraph(t *testing.T) *Graph {
	t.Helper()
	f := map[string]*tfpb.AttrValue{"T": typeAttr(tfpb.DataType_DT_FLOAT)}
	red := map[string]*tfpb.AttrValue{"T": typeAttr(tfpb.DataType_DT_FLOAT), "Tidx": typeAttr(tfpb.DataType_DT_INT32)}
	conv := map[string]*tfpb.AttrValue{
		"T": typeAttr(tfpb.DataType_DT_FLOAT), "padding": {Value: &tfpb.AttrValue_S{S: []byte("SAME")}},
		"strides": {Value: &tfpb.AttrValue_List{List: &tfpb.AttrValue_ListValue{I: []int64{1, 1, 1, 1}}}},
	}
	w := make([]float32, 3*3*4*8)
	for i := range w {
		w[i] = float32(i%7)*0.25 - 0.7
	}
	b := []float32{0.5, -1, 2, 0, 1, -0.5, 3, -2}
	axes := &tensor.Tensor{DType: tfpb.DataType_DT_INT32, Shape: []int{4}, I32: []int32{0, 1, 2, 3}}
	g := &tfpb.GraphDef{Node: []*tfpb.NodeDef{
		mkNode("x", "Placeholder", nil, map[string]*tfpb.AttrValue{"dtype": typeAttr(tfpb.DataType_DT_FLOAT)}),
		constNode("axes", axes),
		constNode("w", tensor.FromF32([]int{3, 3, 4, 8}, w)),
		constNode("bias", tensor.FromF32([]int{8}, b)),
		mkNode("a", "Relu", []string{"x"}, f),
		mkNode("minA", "Min", []string{"a", "axes"}, red),
		mkNode("b", "Neg", []string{"x", "^minA"}, f),
		mkNode("maxB", "Max", []string{"b", "axes"}, red),
		mkNode("conv", "Conv2D", []string{"x", "w", "^maxB"}, conv),
		mkNode("add", "Add", []string{"conv", "bias"}, f),
		mkNode("act", "Relu6", []string{"add"}, f),
		mkNode("minC", "Min", []string{"act", "axes"}, red),
		mkNode("maxC", "Max", []string{"act", "axes"}, red),
	}}
	gr, err := New(g, "cache")
	if err != nil {
		t.Fatal(err)
	}
	return gr
}

// TestCachesAcrossRunsAndBuffers: the remembered Min/Max and the packed
// Const filter are never served for another tensor — not for a tensor
// made later in the first one's recycled buffer, not across runs with
// other inputs, not across concurrent runs (run it with -race). Expected
// values: minA and maxB are min(relu(x)) and max(−x), worked from x here;
// the rest are a lone run's on a fresh Graph.
func TestCachesAcrossRunsAndBuffers(t *testing.T) {
	fetch := []string{"minA", "maxB", "act", "minC", "maxC"}
	inputs := make([]*tensor.Tensor, 6)
	wants := make([][]*tensor.Tensor, len(inputs))
	for i := range inputs {
		x := make([]float32, 5*5*4)
		for j := range x {
			x[j] = float32((j*(i+3))%17)*0.5 - 3 - float32(i)
		}
		inputs[i] = tensor.FromF32([]int{1, 5, 5, 4}, x)
		out, err := cacheGraph(t).Run(map[string]*tensor.Tensor{"x": inputs[i]}, fetch)
		if err != nil {
			t.Fatal(err)
		}
		mnA, mxB := float32(math.Inf(1)), float32(math.Inf(-1))
		for _, v := range x {
			mnA, mxB = min(mnA, max(v, 0)), max(mxB, -v)
		}
		if out[0].F32[0] != mnA || out[1].F32[0] != mxB {
			t.Fatalf("input %d: min(relu x) %v, max(−x) %v; worked: %v, %v", i, out[0].F32[0], out[1].F32[0], mnA, mxB)
		}
		mnC, mxC := float32(math.Inf(1)), float32(math.Inf(-1))
		for _, v := range out[2].F32 {
			mnC, mxC = min(mnC, v), max(mxC, v)
		}
		if out[3].F32[0] != mnC || out[4].F32[0] != mxC || mnC == mxC {
			t.Fatalf("input %d: Min/Max of act %v, %v; from its values %v, %v", i, out[3].F32[0], out[4].F32[0], mnC, mxC)
		}
		wants[i] = out
	}
	gr := cacheGraph(t)
	if got := stepOps(t, gr, []string{"x"}, fetch); got != "Const Const Const Relu Min Neg Max _FusedConv2D Min Max" {
		t.Fatalf("steps %q", got)
	}
	var wg sync.WaitGroup
	errs := make([]error, len(inputs))
	gots := make([][][]*tensor.Tensor, len(inputs))
	for i := range inputs {
		wg.Go(func() {
			for range 4 {
				out, err := gr.Run(map[string]*tensor.Tensor{"x": inputs[i]}, fetch)
				if err != nil {
					errs[i] = err
					return
				}
				gots[i] = append(gots[i], out)
			}
		})
	}
	wg.Wait()
	for i := range inputs {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		for r, out := range gots[i] {
			for k := range fetch {
				for j, v := range wants[i][k].F32 {
					if math.Float32bits(out[k].F32[j]) != math.Float32bits(v) {
						t.Fatalf("input %d run %d: %s[%d] = %v, a lone run gives %v", i, r, fetch[k], j, out[k].F32[j], v)
					}
				}
			}
		}
	}
}
