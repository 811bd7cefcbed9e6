package exec

import (
	"path/filepath"
	"sync"
	"testing"

	"qcal/internal/tensor"
	"qcal/internal/testutil"
)

// TestConcurrentRuns runs one Graph from four goroutines at once (the
// plan cache and the scratch buffers are shared) and checks that each gets
// the result of a lone run. Run it with -race.
func TestConcurrentRuns(t *testing.T) {
	dir := testutil.RealData(t, "checkpoints/prathmesh_mnist_cnn")
	g, err := Load(filepath.Join(dir, "frozen_graph.pb"))
	if err != nil {
		t.Fatal(err)
	}
	inputs := make([]*tensor.Tensor, 4)
	wants := make([]*tensor.Tensor, 4)
	for i := range inputs {
		x := feedFor(g.Inputs[0], i+1)
		for j := range x.F32 {
			x.F32[j] *= float32(i + 1)
		}
		inputs[i] = x
		out, err := g.Run(map[string]*tensor.Tensor{"input_image": x}, []string{"predictions"})
		if err != nil {
			t.Fatal(err)
		}
		wants[i] = out[0]
	}
	var wg sync.WaitGroup
	errs := make([]error, 4)
	gots := make([][]*tensor.Tensor, 4)
	for i := range inputs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5 {
				out, err := g.Run(map[string]*tensor.Tensor{"input_image": inputs[i]}, []string{"predictions"})
				if err != nil {
					errs[i] = err
					return
				}
				gots[i] = append(gots[i], out[0])
			}
		}()
	}
	wg.Wait()
	for i := range inputs {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		for _, got := range gots[i] {
			closeTo(t, "concurrent run", got, wants[i], 0)
		}
	}
}
