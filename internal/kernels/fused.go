package kernels

import (
	"fmt"
	"slices"

	"qcal/internal/tensor"
	"qcal/internal/tfpb"
)

// Fused ops, as TensorFlow's grappler remapper writes them:
// _FusedConv2D, _FusedDepthwiseConv2dNative and _FusedMatMul compute the
// op, then the ops listed in the fused_ops attr on its output ("BiasAdd",
// optionally followed by "Relu" or "Relu6"), with the bias as the third
// input. The executor also builds such nodes itself from
// Conv2D → BiasAdd → Relu chains, so that the bias and the activation are
// applied to each block of output while it is still in the cache.

func init() {
	Register(Def{Op: "_FusedConv2D", Run: fusedConv2D, Check: checkAll(CheckType("T", floatOnly...), checkNHWC, checkPadding, checkFusedOps), TInputs: AllInputs})
	Register(Def{Op: "_FusedDepthwiseConv2dNative", Run: fusedDepthwise, Check: checkAll(CheckType("T", floatOnly...), checkNHWC, checkPadding, checkFusedOps), TInputs: AllInputs})
	Register(Def{Op: "_FusedMatMul", Run: fusedMatMul, Check: checkAll(CheckType("T", floatOnly...), checkFusedOps), TInputs: AllInputs})
}

// Activation is the function an Epilogue applies last.
type Activation int

// The activations a fused op may end with.
const (
	ActNone Activation = iota
	ActRelu
	ActRelu6
)

// Epilogue is what a fused op does to its output after the main
// computation: add Bias along the last dimension (when not nil), then
// apply Act.
type Epilogue struct {
	Bias []float32
	Act  Activation
}

// Apply runs the epilogue over rows of len(e.Bias) values (or over all of
// y when there is no bias), in one pass: the first multiple of 8 of each
// row in assembly on CPUs with AVX (biasActAVX, the same results as the
// Go loops, NaN and −0 included), the rest in Go.
func (e *Epilogue) Apply(y []float32) {
	if e == nil {
		return
	}
	if e.Bias == nil {
		activate(y, e.Act)
		return
	}
	c := len(e.Bias)
	if c == 0 {
		return
	}
	simd := c &^ 7
	if !useAsm {
		simd = 0
	}
	if simd == c && len(y) >= c {
		// Whole rows of whole vectors: one call for all of them.
		rows := len(y) / c
		biasActAVX(&y[0], &e.Bias[0], c, rows, int(e.Act))
		y = y[rows*c:]
	}
	for r := 0; r+c <= len(y); r += c {
		row := y[r : r+c : r+c]
		b := e.Bias[:len(row)]
		if simd > 0 {
			biasActAVX(&row[0], &b[0], simd, 1, int(e.Act))
			row, b = row[simd:], b[simd:]
		}
		switch e.Act {
		case ActNone:
			for j, v := range row {
				row[j] = v + b[j]
			}
		case ActRelu:
			// max, not a branch: conv outputs have random signs, and a
			// mispredicted branch per element costs seven times the loop.
			for j, v := range row {
				row[j] = max(v+b[j], 0)
			}
		case ActRelu6:
			for j, v := range row {
				row[j] = min(max(v+b[j], 0), 6)
			}
		}
	}
}

func activate(y []float32, act Activation) {
	switch act {
	case ActRelu:
		for i, v := range y {
			y[i] = max(v, 0)
		}
	case ActRelu6:
		for i, v := range y {
			y[i] = min(max(v, 0), 6)
		}
	}
}

// FusedOps lists the fused_ops the fused kernels support.
var FusedOps = [][]string{{"BiasAdd"}, {"BiasAdd", "Relu"}, {"BiasAdd", "Relu6"}}

func checkFusedOps(n *tfpb.NodeDef) error {
	ops, err := fusedOps(n)
	if err != nil {
		return err
	}
	for _, f := range FusedOps {
		if slices.Equal(ops, f) {
			return nil
		}
	}
	return fmt.Errorf("node %q (%s): fused_ops %q are not supported (supported: %q)", n.GetName(), n.GetOp(), ops, FusedOps)
}

func fusedOps(n *tfpb.NodeDef) ([]string, error) {
	a, err := attr(n, "fused_ops")
	if err != nil {
		return nil, err
	}
	l, ok := a.Value.(*tfpb.AttrValue_List)
	if !ok {
		return nil, attrKind(n, "fused_ops", "a list of strings")
	}
	ops := make([]string, len(l.List.GetS()))
	for i, s := range l.List.GetS() {
		ops[i] = string(s)
	}
	return ops, nil
}

// epilogue reads the fused ops and the bias (input 2) of a fused node
// whose output has oc channels.
func epilogue(c *Context, oc int) (*Epilogue, error) {
	if err := c.WantInputs(3); err != nil {
		return nil, err
	}
	ops, err := fusedOps(c.Node)
	if err != nil {
		return nil, err
	}
	b, err := c.Float32Input(2)
	if err != nil {
		return nil, err
	}
	if len(b) != oc || c.Inputs[2].Rank() != 1 {
		return nil, c.Errorf("bias %s does not match the %d output channels", c.Inputs[2], oc)
	}
	e := &Epilogue{Bias: b}
	if len(ops) == 2 {
		switch ops[1] {
		case "Relu":
			e.Act = ActRelu
		case "Relu6":
			e.Act = ActRelu6
		}
	}
	return e, nil
}

func fusedConv2D(c *Context) ([]*tensor.Tensor, error) {
	x, f, xs, fs, err := float32ConvInputs(c, 3)
	if err != nil {
		return nil, err
	}
	ep, err := epilogue(c, fs[3])
	if err != nil {
		return nil, err
	}
	win, err := windowAttrs(c, xs[1], xs[2], fs[0], fs[1], false)
	if err != nil {
		return nil, err
	}
	y := c.NewUninit(tfpb.DataType_DT_FLOAT, []int{xs[0], win.OH, win.OW, fs[3]})
	conv2DF32(x, xs[0], xs[3], f, c.packedFilter(f, fs[0]*fs[1]*fs[2], fs[3]), fs[3], win, y.F32, c.Scratch, ep)
	return []*tensor.Tensor{y}, nil
}

func fusedDepthwise(c *Context) ([]*tensor.Tensor, error) {
	return depthwiseEpilogue(c, 3)
}

func fusedMatMul(c *Context) ([]*tensor.Tensor, error) {
	if err := c.WantInputs(3); err != nil {
		return nil, err
	}
	plain := *c
	plain.Inputs = c.Inputs[:2]
	out, err := matMul(&plain)
	if err != nil {
		return nil, err
	}
	y := out[0]
	ep, err := epilogue(c, y.Shape[1])
	if err != nil {
		return nil, err
	}
	oc := y.Shape[1]
	Parallel(len(y.F32)/max(oc, 1), parallelGrain/max(oc, 1)+1, func(lo, hi int) { ep.Apply(y.F32[lo*oc : hi*oc]) })
	return out, nil
}
