package kernels

import (
	"math"

	"qcal/internal/tensor"
	"qcal/internal/tfpb"
)

// Further ops found in frozen inference graphs beyond the core set:
// AddN, LeakyRelu, Reciprocal, Floor, Abs, LogSoftmax, PadV2, MirrorPad,
// Tile, GatherV2, Range, Prod, Split and the comparisons.

func init() {
	for op, f := range map[string]unaryF32{
		"Reciprocal": func(x float32) float32 { return 1 / x },
		"Floor":      func(x float32) float32 { return float32(math.Floor(float64(x))) },
		"Abs":        func(x float32) float32 { return float32(math.Abs(float64(x))) },
	} {
		Register(Def{Op: op, Run: unaryKernel(f), Check: CheckType("T", floatOnly...), TInputs: AllInputs})
	}
	Register(Def{Op: "AddN", Run: addN, Check: CheckType("T", numeric...), TInputs: AllInputs})
	Register(Def{Op: "LeakyRelu", Run: leakyRelu, Check: CheckType("T", floatOnly...), TInputs: AllInputs})
	Register(Def{Op: "LogSoftmax", Run: logSoftmax, Check: CheckType("T", floatOnly...), TInputs: AllInputs})
	Register(Def{Op: "PadV2", Run: padV2, TInputs: 1})
	Register(Def{Op: "MirrorPad", Run: mirrorPad, Check: checkMirrorMode, TInputs: 1})
	Register(Def{Op: "Tile", Run: tile, TInputs: 1})
	Register(Def{Op: "GatherV2", Run: gatherV2})
	Register(Def{Op: "Range", Run: rangeOp, Check: CheckType("Tidx", numeric...)})
	Register(Def{Op: "Prod", Run: reduceKernel("Prod"), Check: CheckType("T", numeric...), TInputs: 1})
	Register(Def{Op: "Split", Run: split})
	for op, cmp := range map[string]func(a, b float64) bool{
		"Less":         func(a, b float64) bool { return a < b },
		"LessEqual":    func(a, b float64) bool { return a <= b },
		"Greater":      func(a, b float64) bool { return a > b },
		"GreaterEqual": func(a, b float64) bool { return a >= b },
		"NotEqual":     func(a, b float64) bool { return a != b },
	} {
		Register(Def{Op: op, Run: compare(cmp), Check: CheckType("T", numeric...), TInputs: AllInputs})
	}
}

func addN(c *Context) ([]*tensor.Tensor, error) {
	if err := c.WantInputsAtLeast(1); err != nil {
		return nil, err
	}
	x0 := c.Inputs[0]
	for i, x := range c.Inputs {
		if x.DType != x0.DType || tensor.ShapeString(x.Shape) != tensor.ShapeString(x0.Shape) {
			return nil, c.Errorf("input %d %s does not match input 0 %s", i, x, x0)
		}
	}
	y := c.New(x0.DType, x0.Shape)
	for _, x := range c.Inputs {
		switch x0.DType {
		case tfpb.DataType_DT_FLOAT:
			for i, v := range x.F32 {
				y.F32[i] += v
			}
		case tfpb.DataType_DT_INT32:
			for i, v := range x.I32 {
				y.I32[i] += v
			}
		case tfpb.DataType_DT_INT64:
			for i, v := range x.I64 {
				y.I64[i] += v
			}
		default:
			return nil, c.Errorf("dtype %s is not supported", tensor.TypeName(x0.DType))
		}
	}
	return []*tensor.Tensor{y}, nil
}

// leakyRelu: x for x > 0, alpha·x otherwise (alpha defaults to 0.2).
func leakyRelu(c *Context) ([]*tensor.Tensor, error) {
	alpha := float32(0.2)
	if c.Has("alpha") {
		var err error
		if alpha, err = c.Float("alpha"); err != nil {
			return nil, err
		}
	}
	return unaryKernel(func(x float32) float32 {
		if x > 0 {
			return x
		}
		return x * alpha
	})(c)
}

// logSoftmax: x − max − log Σ e^(x − max) over the last dimension.
func logSoftmax(c *Context) ([]*tensor.Tensor, error) {
	x, xs, err := c.lastDimInput()
	if err != nil {
		return nil, err
	}
	y := c.New(tfpb.DataType_DT_FLOAT, xs)
	d := xs[len(xs)-1]
	for r := 0; d > 0 && r < len(x)/d; r++ {
		xr, yr := x[r*d:(r+1)*d], y.F32[r*d:(r+1)*d]
		m := xr[0]
		for _, v := range xr {
			m = max(m, v)
		}
		var sum float64
		for _, v := range xr {
			sum += math.Exp(float64(v - m))
		}
		l := float32(math.Log(sum))
		for j, v := range xr {
			yr[j] = v - m - l
		}
	}
	return []*tensor.Tensor{y}, nil
}

// paddings reads a rank×2 paddings input for x.
func paddings(c *Context, x *tensor.Tensor, i int) ([]int, error) {
	p, err := c.IntsInput(i)
	if err != nil {
		return nil, err
	}
	ps := c.Inputs[i].Shape
	if len(ps) != 2 || ps[0] != x.Rank() || ps[1] != 2 {
		return nil, c.Errorf("paddings %s must be [%d,2] for %s", c.Inputs[i], x.Rank(), x)
	}
	shape := make([]int, x.Rank())
	for d := range shape {
		if p[2*d] < 0 || p[2*d+1] < 0 || p[2*d] > MaxElements || p[2*d+1] > MaxElements {
			return nil, c.Errorf("padding %v is negative or beyond %d", p, MaxElements)
		}
		shape[d] = x.Shape[d] + p[2*d] + p[2*d+1]
	}
	if err := c.CheckSize(shape); err != nil {
		return nil, err
	}
	return p, nil
}

// padIndex maps each element of the padded shape to its source in x via
// src(d, j) for the coordinate j (possibly outside [0, dim)) of dimension
// d; src returns −1 for the constant.
func padIndex(x *tensor.Tensor, p []int, src func(d, j int) int) ([]int, []int) {
	shape := make([]int, x.Rank())
	for d := range shape {
		shape[d] = x.Shape[d] + p[2*d] + p[2*d+1]
	}
	st := strides(x.Shape)
	n := tensor.NumElements(shape)
	idx := make([]int, n)
	cur := make([]int, len(shape))
	for i := 0; i < n; i++ {
		off := 0
		for d, v := range cur {
			j := src(d, v-p[2*d])
			if j < 0 {
				off = -1
				break
			}
			off += j * st[d]
		}
		idx[i] = off
		nextIndex(cur, shape)
	}
	return shape, idx
}

// padV2 pads with the scalar constant_values (input 2).
func padV2(c *Context) ([]*tensor.Tensor, error) {
	if err := c.WantInputs(3); err != nil {
		return nil, err
	}
	x, v := c.Inputs[0], c.Inputs[2]
	p, err := paddings(c, x, 1)
	if err != nil {
		return nil, err
	}
	if v.Len() != 1 || v.DType != x.DType {
		return nil, c.Errorf("constant_values %s must be a scalar of the input's dtype %s", v, tensor.TypeName(x.DType))
	}
	shape, idx := padIndex(x, p, func(d, j int) int {
		if j < 0 || j >= x.Shape[d] {
			return -1
		}
		return j
	})
	// Gather from x with the constant appended as element len(x).
	ext := extend(c, x, v)
	for i, j := range idx {
		if j < 0 {
			idx[i] = x.Len()
		}
	}
	return []*tensor.Tensor{gatherTensor(c, ext, shape, idx)}, nil
}

// extend returns a flat tensor of x's elements followed by v's one.
func extend(c *Context, x, v *tensor.Tensor) *tensor.Tensor {
	e := c.New(x.DType, []int{x.Len() + 1})
	copyRun(e, 0, x, 0, x.Len())
	copyRun(e, x.Len(), v, 0, 1)
	return e
}

func checkMirrorMode(n *tfpb.NodeDef) error {
	m, err := AttrString(n, "mode")
	if err != nil {
		return err
	}
	if m != "REFLECT" && m != "SYMMETRIC" {
		return fmtNode(n, "mode %q is not REFLECT or SYMMETRIC", m)
	}
	return nil
}

// mirrorPad pads with the input's mirror image: REFLECT leaves the edge
// out ([1 2 3] padded by 2 → 3 2 1 2 3 2 1), SYMMETRIC repeats it
// (→ 2 1 1 2 3 3 2).
func mirrorPad(c *Context) ([]*tensor.Tensor, error) {
	if err := c.WantInputs(2); err != nil {
		return nil, err
	}
	x := c.Inputs[0]
	p, err := paddings(c, x, 1)
	if err != nil {
		return nil, err
	}
	mode, err := c.String("mode")
	if err != nil {
		return nil, err
	}
	off := 0
	if mode == "REFLECT" {
		off = 1
	}
	for d := range x.Shape {
		if p[2*d] > x.Shape[d]-off || p[2*d+1] > x.Shape[d]-off {
			return nil, c.Errorf("paddings %v are too large for %s in %s mode", p, x, mode)
		}
	}
	shape, idx := padIndex(x, p, func(d, j int) int {
		n := x.Shape[d]
		switch {
		case j < 0:
			return -j - 1 + off
		case j >= n:
			return 2*n - j - 1 - off
		}
		return j
	})
	return []*tensor.Tensor{gatherTensor(c, x, shape, idx)}, nil
}

// tile repeats x multiples[d] times along each dimension d.
func tile(c *Context) ([]*tensor.Tensor, error) {
	x, m, err := c.tensorAndInts()
	if err != nil {
		return nil, err
	}
	if len(m) != x.Rank() {
		return nil, c.Errorf("multiples %v must have one value per dimension of %s", m, x)
	}
	shape := make([]int, len(m))
	for d, k := range m {
		if k < 0 || k > MaxElements {
			return nil, c.Errorf("multiple %d is negative or beyond %d", k, MaxElements)
		}
		shape[d] = x.Shape[d] * k
	}
	if err := c.CheckSize(shape); err != nil {
		return nil, err
	}
	st := strides(x.Shape)
	n := tensor.NumElements(shape)
	idx := make([]int, n)
	cur := make([]int, len(shape))
	for i := 0; i < n; i++ {
		o := 0
		for d, v := range cur {
			o += (v % x.Shape[d]) * st[d]
		}
		idx[i] = o
		nextIndex(cur, shape)
	}
	return []*tensor.Tensor{gatherTensor(c, x, shape, idx)}, nil
}

// gatherV2 takes slices of params along axis at the given indices:
// output shape params[:axis] + indices.shape + params[axis+1:].
func gatherV2(c *Context) ([]*tensor.Tensor, error) {
	if err := c.WantInputs(3); err != nil {
		return nil, err
	}
	if c.Has("batch_dims") {
		b, err := c.Int("batch_dims")
		if err != nil {
			return nil, err
		}
		if b != 0 {
			return nil, c.Errorf("batch_dims %d is not supported (only 0)", b)
		}
	}
	x := c.Inputs[0]
	ind, err := c.IntsInput(1)
	if err != nil {
		return nil, err
	}
	av, err := c.IntsInput(2)
	if err != nil {
		return nil, err
	}
	if len(av) != 1 {
		return nil, c.Errorf("axis %s must be a scalar", c.Inputs[2])
	}
	a, err := axis(c, av[0], x.Rank())
	if err != nil {
		return nil, err
	}
	outer, n, inner := tensor.NumElements(x.Shape[:a]), x.Shape[a], tensor.NumElements(x.Shape[a+1:])
	shape := append(append(append([]int{}, x.Shape[:a]...), c.Inputs[1].Shape...), x.Shape[a+1:]...)
	idx := make([]int, 0, outer*len(ind)*inner)
	for o := 0; o < outer; o++ {
		for _, k := range ind {
			if k < 0 || k >= n {
				return nil, c.Errorf("index %d is out of range [0, %d)", k, n)
			}
			for i := 0; i < inner; i++ {
				idx = append(idx, (o*n+k)*inner+i)
			}
		}
	}
	return []*tensor.Tensor{gatherTensor(c, x, shape, idx)}, nil
}

// rangeOp is start, start+delta, … up to limit (excluded).
func rangeOp(c *Context) ([]*tensor.Tensor, error) {
	if err := c.WantInputs(3); err != nil {
		return nil, err
	}
	var v [3]float64
	t := c.Inputs[0].DType
	for i := range v {
		x := c.Inputs[i]
		if x.Len() != 1 || x.DType != t {
			return nil, c.Errorf("start, limit and delta must be scalars of one dtype; input %d is %s", i, x)
		}
		v[i], _, _ = element(x, 0)
	}
	start, limit, delta := v[0], v[1], v[2]
	if delta == 0 || (delta > 0 && start > limit) || (delta < 0 && start < limit) {
		return nil, c.Errorf("range from %g to %g by %g is empty or endless", start, limit, delta)
	}
	count := math.Ceil(math.Abs((limit - start) / delta))
	if count > float64(MaxElements) {
		return nil, c.Errorf("range from %g to %g by %g has more than %d elements", start, limit, delta, MaxElements)
	}
	n := int(count)
	y := c.New(t, []int{n})
	for i := 0; i < n; i++ {
		f := start + float64(i)*delta
		switch t {
		case tfpb.DataType_DT_FLOAT:
			y.F32[i] = float32(f)
		case tfpb.DataType_DT_INT32:
			y.I32[i] = int32(f)
		case tfpb.DataType_DT_INT64:
			y.I64[i] = int64(f)
		default:
			return nil, c.Errorf("dtype %s is not supported", tensor.TypeName(t))
		}
	}
	return []*tensor.Tensor{y}, nil
}

// split cuts value (input 1) into num_split equal parts along axis
// (input 0).
func split(c *Context) ([]*tensor.Tensor, error) {
	if err := c.WantInputs(2); err != nil {
		return nil, err
	}
	av, err := c.IntsInput(0)
	if err != nil {
		return nil, err
	}
	x := c.Inputs[1]
	if len(av) != 1 {
		return nil, c.Errorf("axis %s must be a scalar", c.Inputs[0])
	}
	a, err := axis(c, av[0], x.Rank())
	if err != nil {
		return nil, err
	}
	k, err := c.Int("num_split")
	if err != nil {
		return nil, err
	}
	if k <= 0 || x.Shape[a]%k != 0 {
		return nil, c.Errorf("dimension %d of %s does not split into %d equal parts", a, x, k)
	}
	part := append([]int{}, x.Shape...)
	part[a] /= k
	outer := tensor.NumElements(x.Shape[:a])
	run := tensor.NumElements(part[a:])
	outs := make([]*tensor.Tensor, k)
	for s := range outs {
		y := c.New(x.DType, part)
		for o := 0; o < outer; o++ {
			copyRun(y, o*run, x, (o*k+s)*run, run)
		}
		outs[s] = y
	}
	return outs, nil
}

// compare applies cmp elementwise with broadcasting; the result is bool.
func compare(cmp func(a, b float64) bool) Kernel {
	return func(c *Context) ([]*tensor.Tensor, error) {
		a, b, out, err := c.broadcastOperands()
		if err != nil {
			return nil, err
		}
		y := c.New(tfpb.DataType_DT_BOOL, out)
		// int64 beyond 2^53 compares through float64 inexactly; such
		// values do not occur in the index and shape tensors compared here.
		broadcastLoop(a.Shape, b.Shape, out, func(dst, ia, ib, n, sa, sb int) {
			for i := 0; i < n; i++ {
				x, _, _ := element(a, ia+i*sa)
				z, _, _ := element(b, ib+i*sb)
				y.Bool[dst+i] = cmp(x, z)
			}
		})
		return []*tensor.Tensor{y}, nil
	}
}
