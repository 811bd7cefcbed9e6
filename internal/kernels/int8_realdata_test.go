package kernels_test

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"qcal/internal/exec"
	"qcal/internal/testutil"
)

// readIDXFloats reads a uTensor IDX file of float32: magic 00 00 0d
// <rank>, rank big-endian uint32 dimensions, then big-endian float32s.
func readIDXFloats(path string) ([]int, []float32, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	if len(b) < 4 || b[0] != 0 || b[1] != 0 || b[2] != 0x0d {
		return nil, nil, fmt.Errorf("%s: not a float32 IDX file", path)
	}
	rank := int(b[3])
	if len(b) < 4+4*rank {
		return nil, nil, fmt.Errorf("%s: truncated header", path)
	}
	shape := make([]int, rank)
	n := 1
	for i := range shape {
		shape[i] = int(binary.BigEndian.Uint32(b[4+4*i:]))
		n *= shape[i]
	}
	data := b[4+4*rank:]
	if len(data) != 4*n {
		return nil, nil, fmt.Errorf("%s: %d data bytes for shape %v", path, len(data), shape)
	}
	v := make([]float32, n)
	for i := range v {
		v[i] = math.Float32frombits(binary.BigEndian.Uint32(data[4*i:]))
	}
	return shape, v, nil
}

// TestQuantizedGraphsVsFP32: uTensor's op tests quantized by TF's
// quantize_graph.py --mode=eightbit (MIN_FIRST quint8, the reference
// kernels) run here and compared with TF's FP32 outputs. The tolerance is
// the quantization error: one step of the output's quint8 range.
func TestQuantizedGraphsVsFP32(t *testing.T) {
	dir := testutil.RealData(t, "quantize_graph_pairs")
	cases := []struct {
		sub, graph, out string
	}{
		// Measured: conv 0.77 steps (0.0286 over [0, 9.41]), matmul 0.37,
		// relu 0.90, max_pool_1 0.52, quantized_add 0 (bit-equal to TF's
		// FP32 output) — in steps of the FP32 output's range/255.
		{"conv", "test_quant_conv.pb", "output_conv.idx"},
		{"matmul", "test_quant_matmul.pb", "output_z.idx"},
		{"relu", "test_quant_relu.pb", "output_relu.idx"},
		{"max_pool_1", "test_quant_max_pool_1.pb", "output_pool.idx"},
		{"quantized_add", "test_quant_quantized_add.pb", "output_z.idx"},
	}
	for _, c := range cases {
		t.Run(c.sub, func(t *testing.T) {
			g, err := exec.Load(filepath.Join(dir, c.sub, c.graph))
			if err != nil {
				t.Fatal(err)
			}
			out, err := g.Run(nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			shape, want, err := readIDXFloats(filepath.Join(dir, c.sub, c.out))
			if err != nil {
				t.Fatal(err)
			}
			got := out[0].F32
			if len(got) != len(want) {
				t.Fatalf("%d outputs %v, want %d %v", len(got), out[0].Shape, len(want), shape)
			}
			var worst, lo, hi float64
			for i := range want {
				worst = max(worst, math.Abs(float64(got[i])-float64(want[i])))
				lo, hi = min(lo, float64(want[i])), max(hi, float64(want[i]))
			}
			t.Logf("%s: %d values in [%.4g, %.4g]: max |int8 - fp32| = %.4g (%.2f quint8 steps of that range)",
				c.sub, len(want), lo, hi, worst, worst/((hi-lo)/255))
			// At most one quint8 step of the output's range: the inputs'
			// and weights' rounding (half a step each) and the requantization.
			if step := (hi - lo) / 255; worst > step {
				t.Errorf("max error %.4g above one step %.4g", worst, step)
			}
		})
	}
}
