package kernels

import (
	"math"

	"qcal/internal/gemm"
	"qcal/internal/tensor"
	"qcal/quant"
)

// The other quantized ops of the plain and Intel paths: QuantizedMatMul
// (reference, zero points), QuantizedMatMulWithBias[AndRelu[AndRequantize]]
// (Intel), QuantizedBiasAdd, QuantizedRelu/Relu6, QuantizedReshape and
// QuantizedConcatV2 (Intel). INT8-ARITHMETIC §2.3, §2.4.

func init() {
	Register(Def{Op: "QuantizedMatMul", Run: quantizedMatMul, Check: checkAll(CheckType("T1", dtQU8), CheckType("T2", dtQU8, dtQI8), CheckType("Toutput", dtQI32))})
	for op, s := range map[string]convSpec{
		"QuantizedMatMulWithBias":                     {bias: true},
		"QuantizedMatMulWithBiasAndRelu":              {bias: true, relu: true},
		"QuantizedMatMulWithBiasAndReluAndRequantize": {bias: true, relu: true, requant: true},
	} {
		Register(Def{Op: op, Run: mklMatMul(s), Check: checkAll(CheckType("T1", dtQU8), CheckType("T2", dtQI8), CheckType("Toutput", dtQI32, dtQU8), checkMatMulQuantMode)})
	}
	Register(Def{Op: "QuantizedBiasAdd", Run: quantizedBiasAdd, Check: checkAll(CheckType("T1", dtQU8, dtQI8), CheckType("T2", dtQU8, dtQI8), CheckType("out_type", dtQI32))})
	Register(Def{Op: "QuantizedRelu", Run: quantizedRelu(false), Check: CheckType("Tinput", dtQU8, dtQI8, dtQI32)})
	Register(Def{Op: "QuantizedRelu6", Run: quantizedRelu(true), Check: CheckType("Tinput", dtQU8, dtQI8, dtQI32)})
	Register(Def{Op: "QuantizedReshape", Run: quantizedReshape})
	Register(Def{Op: "QuantizedConcatV2", Run: quantizedConcatV2, Check: CheckType("T", dtQU8, dtQI8)})
	Register(Def{Op: "QuantizedConcat", Run: quantizedConcat, Check: CheckType("T", dtQU8, dtQI32)})
}

// matrix returns input i as a rows×cols matrix of codes (transposed when
// asked), as int32.
func (c *Context) matrix(i int, transpose bool) (codes []int32, rows, cols int, err error) {
	x := c.Inputs[i]
	if len(x.Shape) != 2 {
		return nil, 0, 0, c.Errorf("input %d (%q) %s is not a matrix", i, c.inputName(i), tensor.ShapeString(x.Shape))
	}
	if _, ok := quantType(x.DType); !ok {
		return nil, 0, 0, c.Errorf("input %d (%q) is %s, want a quantized type", i, c.inputName(i), tensor.TypeName(x.DType))
	}
	v := codesOf(x)
	rows, cols = x.Shape[0], x.Shape[1]
	if !transpose {
		return v, rows, cols, nil
	}
	t := make([]int32, len(v))
	for r := 0; r < rows; r++ {
		for q := 0; q < cols; q++ {
			t[q*rows+r] = v[r*cols+q]
		}
	}
	return t, cols, rows, nil
}

func (c *Context) boolOr(name string, def bool) (bool, error) {
	if !c.Has(name) {
		return def, nil
	}
	return c.Bool(name)
}

// matMulOperands reads a (quint8, m×k) and b (k×n) with their transposes.
func (c *Context) matMulOperands() (a []uint8, b []int32, m, k, n int, err error) {
	ta, err := c.boolOr("transpose_a", false)
	if err != nil {
		return
	}
	tb, err := c.boolOr("transpose_b", false)
	if err != nil {
		return
	}
	if c.Inputs[0].DType != dtQU8 {
		err = c.Errorf("input 0 (%q) is %s, want quint8", c.inputName(0), tensor.TypeName(c.Inputs[0].DType))
		return
	}
	av, m, k, err := c.matrix(0, ta)
	if err != nil {
		return
	}
	b, kb, n, err := c.matrix(1, tb)
	if err != nil {
		return
	}
	if kb != k {
		err = c.Errorf("a is %d×%d and b %d×%d: inner dimensions differ", m, k, kb, n)
		return
	}
	a = make([]uint8, len(av))
	for i, v := range av {
		a[i] = uint8(v)
	}
	return a, b, m, k, n, nil
}

// MatMulOffsets sets out (m×n) to Σ_p (a[i,p] - oa)·(b[p,j] - ob) for the
// quint8 codes a (m×k) and the codes b (k×n, each in -128..255 with all of
// b in one 8-bit type), in wrapping int32: gemm.U8S8 on b shifted into
// int8 and the zero-point expansion of int8_conv.go.
func MatMulOffsets(a []uint8, b []int32, m, k, n int, oa, ob int32, out []int32) {
	shift := int32(0)
	for _, v := range b {
		if v > 127 {
			shift = 128
			break
		}
	}
	bs := make([]int8, len(b))
	colSum := make([]int32, n)
	for i, v := range b {
		bs[i] = int8(v - shift)
		colSum[i%n] += int32(bs[i])
	}
	gemm.U8S8(m, n, k, a, k, bs, n, out, n)
	d := shift - ob
	konst := int32(k) * oa * d
	for i := 0; i < m; i++ {
		var rs int32
		for _, v := range a[i*k : (i+1)*k] {
			rs += int32(v)
		}
		row := out[i*n : (i+1)*n]
		for j := range row {
			row[j] += d*rs - konst - oa*colSum[j]
		}
	}
}

// quantizedMatMul is TF's reference QuantizedMatMul(a, b, min_a, max_a,
// min_b, max_b) → (qint32, min, max): zero points from
// FloatToQuantizedUnclamped(0, ·), the range of
// QuantizationRangeForMultiplication.
func quantizedMatMul(c *Context) ([]*tensor.Tensor, error) {
	if err := c.WantInputs(6); err != nil {
		return nil, err
	}
	a, b, m, k, n, err := c.matMulOperands()
	if err != nil {
		return nil, err
	}
	r, err := c.scalarInputs(2, 4)
	if err != nil {
		return nil, err
	}
	tb, _ := quantType(c.Inputs[1].DType)
	oa := int32(quant.FloatToQuantizedUnclamped(quant.QUInt8, 0, r[0], r[1]))
	ob := int32(quant.FloatToQuantizedUnclamped(tb, 0, r[2], r[3]))
	y := c.New(dtQI32, []int{m, n})
	MatMulOffsets(a, b, m, k, n, oa, ob, y.I32)
	mn, mx := quant.RangeForMultiplication(quant.QUInt8, tb, quant.QInt32, r[0], r[1], r[2], r[3])
	return []*tensor.Tensor{y, scalarF32(mn), scalarF32(mx)}, nil
}

// mklMatMul is Intel's QuantizedMatMulWithBias family
// (MklDnnQuantizedMatMulOp; see int8_matmul.go): a quint8, b qint8 (k×n
// after the transposes), acc = Σ a·b in int32 without zero points, then the
// fused convolutions' oneDNN epilogue. Inputs a, b, bias, min_a, max_a,
// min_b, max_b, [min_freezed_output, max_freezed_output].
func mklMatMul(spec convSpec) Kernel {
	return func(c *Context) ([]*tensor.Tensor, error) {
		want := 7
		if spec.requant {
			want = 9
		}
		if err := c.WantInputs(want); err != nil {
			return nil, err
		}
		mode, err := c.matMulQuantMode()
		if err != nil {
			return nil, err
		}
		a, b, m, k, n, err := c.matMulOperands()
		if err != nil {
			return nil, err
		}
		if c.Inputs[1].DType != dtQI8 {
			return nil, c.Errorf("input 1 (%q) is %s, want qint8", c.inputName(1), tensor.TypeName(c.Inputs[1].DType))
		}
		r, err := c.scalarInputs(3, 4)
		if err != nil {
			return nil, err
		}
		bs := make([]int8, len(b))
		for i, v := range b {
			bs[i] = int8(v)
		}
		bias, err := c.matMulBias(mode, bs, n, r)
		if err != nil {
			return nil, err
		}
		acc := make([]int32, m*n)
		gemm.U8S8(m, n, k, a, k, bs, n, acc, n)
		if !spec.requant {
			y := c.New(dtQI32, []int{m, n})
			newConvEpilogue(n, bias, nil, spec.relu, quant.QInt32).apply(acc, n, y, 0)
			mn, mx := quant.MklRangeForMultiplication(quant.QUInt8, quant.QInt8, quant.QInt32, r[0], r[1], r[2], r[3])
			return []*tensor.Tensor{y, scalarF32(mn), scalarF32(mx)}, nil
		}
		minO, maxO, err := c.rangeInput(7)
		if err != nil {
			return nil, err
		}
		s := quant.MatMulRequantScale(quant.QUInt8, r[0], r[1], r[2], r[3], minO, maxO)
		scale := make([]float32, n)
		for j := range scale {
			scale[j] = s
		}
		y := c.New(dtQU8, []int{m, n})
		newConvEpilogue(n, bias, scale, spec.relu, quant.QUInt8).apply(acc, n, y, 0)
		return []*tensor.Tensor{y, scalarF32(minO), scalarF32(maxO)}, nil
	}
}

// quantizedBiasAdd is TF's QuantizedBiasAdd(x, bias, min_x, max_x, min_b,
// max_b) → (qint32, min, max) (QuantizedAddUsingEigen): the output range
// is ±M with M = max(max_x, -min_x, max_b, -min_b)·2¹⁷; each operand is
// dequantized with its range (the DEQUANTIZE macro) and quantized into
// qint32 [-M, M] (the QUANTIZE macro), and the bias is added over the last
// dimension together with FloatToQuantized<qint32>(0, -M, M).
func quantizedBiasAdd(c *Context) ([]*tensor.Tensor, error) {
	if err := c.WantInputs(6); err != nil {
		return nil, err
	}
	x, b := c.Inputs[0], c.Inputs[1]
	tx, ok1 := quantType(x.DType)
	tbq, ok2 := quantType(b.DType)
	if !ok1 || !ok2 || tx == quant.QInt32 || tbq == quant.QInt32 {
		return nil, c.Errorf("inputs are %s and %s, want 8-bit quantized types", tensor.TypeName(x.DType), tensor.TypeName(b.DType))
	}
	if len(b.Shape) != 1 || len(x.Shape) == 0 || x.Shape[len(x.Shape)-1] != b.Shape[0] {
		return nil, c.Errorf("bias %s does not match the last dimension of input %s", tensor.ShapeString(b.Shape), tensor.ShapeString(x.Shape))
	}
	r, err := c.scalarInputs(2, 4)
	if err != nil {
		return nil, err
	}
	m := max(r[1], max(-r[0], max(r[3], -r[2]))) * (1 << 17)
	total := quant.NewMinFirst(quant.QInt32, -m, m)
	zero := int32(quant.FloatToQuantized(quant.QInt32, 0, -m, m))
	sx, ox := quant.DequantizeParams(tx, quant.MinFirst, false, r[0], r[1])
	sb, ob := quant.DequantizeParams(tbq, quant.MinFirst, false, r[2], r[3])
	bc := codesOf(b)
	bt := make([]int32, len(bc))
	for j, v := range bc {
		bt[j] = total.Quantize(float32(float32(v)*sb)+ob) + zero
	}
	xc := codesOf(x)
	y := c.New(dtQI32, x.Shape)
	ch := len(bt)
	Parallel(len(xc), parallelGrain, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			y.I32[i] = total.Quantize(float32(float32(xc[i])*sx)+ox) + bt[i%ch]
		}
	})
	return []*tensor.Tensor{y, scalarF32(-m), scalarF32(m)}, nil
}

// quantizedRelu is QuantizedRelu[6](x, min, max) → (y, min, max):
// max(q, FloatToQuantized(0)) and, for Relu6, min(·, FloatToQuantized(6)).
func quantizedRelu(six bool) Kernel {
	return func(c *Context) ([]*tensor.Tensor, error) {
		if err := c.WantInputs(3); err != nil {
			return nil, err
		}
		x := c.Inputs[0]
		qt, ok := quantType(x.DType)
		if !ok {
			return nil, c.Errorf("input 0 (%q) is %s, want a quantized type", c.inputName(0), tensor.TypeName(x.DType))
		}
		mn, mx, err := c.rangeInput(1)
		if err != nil {
			return nil, err
		}
		lo := int32(quant.FloatToQuantized(qt, 0, mn, mx))
		hi := int32(qt.Highest())
		if six {
			hi = int32(quant.FloatToQuantized(qt, 6, mn, mx))
		}
		codes := codesOf(x)
		out := make([]int32, len(codes))
		for i, v := range codes {
			out[i] = min(max(v, lo), hi)
		}
		y := c.New(x.DType, x.Shape)
		setCodes(y, out)
		return []*tensor.Tensor{y, scalarF32(mn), scalarF32(mx)}, nil
	}
}

// quantizedReshape is QuantizedReshape(x, shape, min, max) → (y, min, max).
func quantizedReshape(c *Context) ([]*tensor.Tensor, error) {
	if err := c.WantInputs(4); err != nil {
		return nil, err
	}
	mn, mx, err := c.rangeInput(2)
	if err != nil {
		return nil, err
	}
	sub := *c
	sub.Inputs = c.Inputs[:2]
	out, err := reshape(&sub)
	if err != nil {
		return nil, err
	}
	return []*tensor.Tensor{out[0], scalarF32(mn), scalarF32(mx)}, nil
}

// quantizedConcatV2 is Intel's QuantizedConcatV2(values…, axis, mins…,
// maxs…) → (y, min, max): when the ranges differ, each input is brought to
// the overall range [min of mins, max of maxs] by a oneDNN reorder with
// scale max(|min_i|, |max_i|)/max(|min|, |max|) (rne, saturated).
func quantizedConcatV2(c *Context) ([]*tensor.Tensor, error) {
	if (len(c.Inputs)-1)%3 != 0 || len(c.Inputs) < 4 {
		return nil, c.Errorf("has %d inputs, want 3·N + 1", len(c.Inputs))
	}
	nv := (len(c.Inputs) - 1) / 3
	mins := make([]float32, nv)
	maxs := make([]float32, nv)
	same := true
	var err error
	for i := 0; i < nv; i++ {
		if mins[i], err = c.scalarInput(nv + 1 + i); err != nil {
			return nil, err
		}
		if maxs[i], err = c.scalarInput(2*nv + 1 + i); err != nil {
			return nil, err
		}
		same = same && mins[i] == mins[0] && maxs[i] == maxs[0]
	}
	lo, hi := mins[0], maxs[0]
	for i := range mins {
		lo, hi = min(lo, mins[i]), max(hi, maxs[i])
	}
	inputs := append([]*tensor.Tensor{}, c.Inputs[:nv+1]...)
	if !same {
		outR := max(abs32(lo), abs32(hi))
		for i := 0; i < nv; i++ {
			x := inputs[i]
			qt, ok := quantType(x.DType)
			if !ok || qt == quant.QInt32 {
				return nil, c.Errorf("input %d is %s, want quint8 or qint8", i, tensor.TypeName(x.DType))
			}
			s := max(abs32(mins[i]), abs32(maxs[i])) / outR
			codes := codesOf(x)
			for j, v := range codes {
				codes[j] = quant.SatRNE(qt, float32(v)*s)
			}
			y := c.New(x.DType, x.Shape)
			setCodes(y, codes)
			inputs[i] = y
		}
	}
	sub := *c
	sub.Inputs = inputs
	out, err := concatV2(&sub)
	if err != nil {
		return nil, err
	}
	return []*tensor.Tensor{out[0], scalarF32(lo), scalarF32(hi)}, nil
}

func abs32(v float32) float32 {
	if v < 0 {
		return -v
	}
	return v
}

// quantizedConcat is TF's reference QuantizedConcat(concat_dim, values…,
// input_mins…, input_maxes…) → (y, min, max) (quantized_concat_op.cc): the
// output range is [min(0, min of mins), max of maxes] (made symmetric for
// signed types); an input with another range is DEQUANTIZEd and QUANTIZEd
// into it (the Eigen macros).
func quantizedConcat(c *Context) ([]*tensor.Tensor, error) {
	if (len(c.Inputs)-1)%3 != 0 || len(c.Inputs) < 4 {
		return nil, c.Errorf("has %d inputs, want 1 + 3·N", len(c.Inputs))
	}
	nv := (len(c.Inputs) - 1) / 3
	lo, hi := float32(math.MaxFloat32), float32(-math.MaxFloat32)
	mins := make([]float32, nv)
	maxs := make([]float32, nv)
	var err error
	for i := 0; i < nv; i++ {
		if mins[i], err = c.scalarInput(1 + nv + i); err != nil {
			return nil, err
		}
		if maxs[i], err = c.scalarInput(1 + 2*nv + i); err != nil {
			return nil, err
		}
		lo, hi = min(lo, mins[i]), max(hi, maxs[i])
	}
	lo = min(0, lo)
	dt := c.Inputs[1].DType
	qt, ok := quantType(dt)
	if !ok {
		return nil, c.Errorf("input 1 is %s, want a quantized type", tensor.TypeName(dt))
	}
	if qt.Lowest() < 0 {
		m := max(abs32(lo), abs32(hi))
		lo, hi = -m, m
	}
	out := quant.NewMinFirst(qt, lo, hi)
	inputs := make([]*tensor.Tensor, 0, nv+1)
	for i := 0; i < nv; i++ {
		x := c.Inputs[1+i]
		if x.DType != dt {
			return nil, c.Errorf("input %d is %s, input 1 %s", 1+i, tensor.TypeName(x.DType), tensor.TypeName(dt))
		}
		if mins[i] != lo || maxs[i] != hi {
			in := quant.NewMinFirst(qt, mins[i], maxs[i])
			codes := codesOf(x)
			re := make([]int32, len(codes))
			for j, v := range codes {
				re[j] = out.Quantize(in.Dequantize(v))
			}
			x = c.New(dt, x.Shape)
			setCodes(x, re)
		}
		inputs = append(inputs, x)
	}
	sub := *c
	sub.Inputs = append(inputs, c.Inputs[0])
	res, err := concatV2(&sub)
	if err != nil {
		return nil, err
	}
	return []*tensor.Tensor{res[0], scalarF32(lo), scalarF32(hi)}, nil
}
