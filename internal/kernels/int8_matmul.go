package kernels

import (
	"fmt"

	"qcal/internal/tensor"
	"qcal/internal/tfpb"
	"qcal/quant"
)

// The bias of Intel's QuantizedMatMulWithBias family (TensorFlow's
// MklDnnQuantizedMatMulOp::GetBiasHandle, mkl_qmatmul_op.cc; the same in
// the file's first version, in TF 2.0.0, whose tree TF 1.15 shares, and
// later), by input_quant_mode (the op's default is MIN_FIRST):
//
//   - a qint32 bias is added as it is, whatever the mode (it is taken to be
//     converted offline, compensation included);
//   - a float bias with MIN_FIRST is compensated for the input's offset:
//     b'[j] = Q'a·Qw·b[j] + Q'a·min_a·Σ_p w[p, j] (quant.MatMulMinFirstBias);
//   - a float bias with SCALED is b·K/(R_a·R_w) as the fused convolutions'
//     (the file's first version; TF 2.0's SCALED branch computes
//     255·127/max_a·R_w, an operator-precedence slip qcal does not copy).
//
// TF sums the weight columns of the tensor as stored ([k, n]; its kernel
// ignores transpose_b); qcal sums the columns of b after the transposes, so
// the two agree whenever TF's kernel runs at all.

const (
	minFirst = "MIN_FIRST"
	scaled   = "SCALED"
)

// checkMatMulQuantMode refuses, at load time, an input_quant_mode other
// than MIN_FIRST or SCALED.
func checkMatMulQuantMode(n *tfpb.NodeDef) error {
	if !HasAttr(n, "input_quant_mode") {
		return nil
	}
	mode, err := AttrString(n, "input_quant_mode")
	if err != nil {
		return err
	}
	if mode != minFirst && mode != scaled {
		return fmt.Errorf("node %q (%s): input_quant_mode %q is not MIN_FIRST or SCALED", n.GetName(), n.GetOp(), mode)
	}
	return nil
}

// matMulQuantMode reads input_quant_mode (default MIN_FIRST, the op's).
func (c *Context) matMulQuantMode() (string, error) {
	mode, err := c.stringOr("input_quant_mode", minFirst)
	if err != nil {
		return "", err
	}
	if mode != minFirst && mode != scaled {
		return "", c.Errorf("input_quant_mode %q is not MIN_FIRST or SCALED", mode)
	}
	return mode, nil
}

// matMulBias returns b'[j] in accumulator units for the weights w (k×n,
// row-major) and the ranges r = min_a, max_a, min_b, max_b.
func (c *Context) matMulBias(mode string, w []int8, n int, r []float32) ([]float32, error) {
	b := c.Inputs[2]
	if mode != minFirst || b.DType != dtF32 {
		return c.fusedBias(true, n, r[0], r[1], []float32{r[2]}, []float32{r[3]})
	}
	if len(b.Shape) != 1 || b.Shape[0] != n {
		return nil, c.Errorf("bias %s: want [%d] (the output columns)", tensor.ShapeString(b.Shape), n)
	}
	if !(r[1] > r[0]) {
		return nil, c.Errorf("input range [%g, %g]: MIN_FIRST needs max_a > min_a", r[0], r[1])
	}
	colSum := make([]int32, n)
	for i, v := range w {
		colSum[i%n] += int32(v)
	}
	return quant.MatMulMinFirstBias(b.F32, colSum, r[0], r[1], r[2], r[3]), nil
}
