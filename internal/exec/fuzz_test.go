package exec

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"qcal/internal/kernels"
	"qcal/internal/tensor"
	"qcal/internal/testutil"
	"qcal/internal/tfpb"
)

// FuzzGraph loads and runs mutated graphs: New and Run return errors, and
// no kernel panics (Run reports a kernel's panic as an "internal error",
// which this target counts as a failure). The seeds are uTensor's small
// FP32 test graphs, read from the real data.
func FuzzGraph(f *testing.F) {
	dir := testutil.RealData(f, "quantize_graph_pairs")
	for _, p := range []string{"conv/test_conv.pb", "matmul/test_matmul.pb", "max_pool_1/test_max_pool_1.pb",
		"relu/test_relu.pb", "reshape_2/test_reshape_2.pb", "quantized_add/test_quantized_add.pb"} {
		b, err := os.ReadFile(filepath.Join(dir, p))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	old := kernels.MaxElements
	kernels.MaxElements = 1 << 20 // keep mutated sizes cheap
	f.Cleanup(func() { kernels.MaxElements = old })
	f.Fuzz(func(t *testing.T, b []byte) {
		var g tfpb.GraphDef
		if proto.Unmarshal(b, &g) != nil || len(g.Node) > 64 {
			return
		}
		for _, n := range g.Node {
			if v := n.GetAttr()["value"].GetTensor(); v != nil {
				if e, ok := elements(v.GetTensorShape()); !ok || e > 1<<16 {
					return // bound the work, not the checks
				}
			}
		}
		gr, err := New(&g, "fuzz")
		if err != nil {
			return
		}
		feeds := map[string]*tensor.Tensor{}
		for _, in := range gr.Inputs {
			shape := []int{1}
			if in.Shape != nil {
				shape = make([]int, len(in.Shape))
				for i, d := range in.Shape {
					shape[i] = max(1, min(d, 8))
				}
			}
			if tensor.NumElements(shape) > 1<<12 {
				return
			}
			x := tensor.New(in.DType, shape)
			if !shapeFits(in, shape) {
				return
			}
			feeds[in.Name] = x
		}
		_, err = gr.Run(feeds, nil)
		if err != nil && strings.Contains(err.Error(), "internal error") {
			t.Fatal(err)
		}
	})
}

func elements(s *tfpb.TensorShapeProto) (int, bool) {
	n := 1
	for _, d := range s.GetDim() {
		if d.GetSize() < 0 || d.GetSize() > 1<<16 {
			return 0, false
		}
		n *= int(d.GetSize())
		if n > 1<<16 {
			return 0, false
		}
	}
	return n, true
}

// shapeFits reports whether shape matches the placeholder's known dims.
func shapeFits(in Input, shape []int) bool {
	for i, d := range in.Shape {
		if d >= 0 && d != shape[i] {
			return false
		}
	}
	return true
}
