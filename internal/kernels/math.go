package kernels

import (
	"fmt"
	"math"

	"qcal/internal/tensor"
	"qcal/internal/tfpb"
)

// Elementwise ops: unary float functions and binary ops with numpy's
// broadcasting.

var (
	floatOnly = []tfpb.DataType{tfpb.DataType_DT_FLOAT}
	numeric   = []tfpb.DataType{tfpb.DataType_DT_FLOAT, tfpb.DataType_DT_INT32, tfpb.DataType_DT_INT64}
)

// parallelGrain is the fewest elements worth a goroutine in elementwise
// loops: about 10 µs of work for the cheap ops, ten times what starting
// the goroutine costs.
const parallelGrain = 1 << 14

type unaryF32 func(float32) float32

var unaryOps = map[string]unaryF32{
	"Relu": func(x float32) float32 {
		if x > 0 {
			return x
		}
		return 0
	},
	"Relu6": func(x float32) float32 { return min(max(x, 0), 6) },
	// Elu: x for x > 0, e^x - 1 otherwise (alpha 1, TF's Elu).
	"Elu": func(x float32) float32 {
		if x > 0 {
			return x
		}
		return float32(math.Expm1(float64(x)))
	},
	"Sigmoid": func(x float32) float32 { return float32(1 / (1 + math.Exp(-float64(x)))) },
	"Tanh":    func(x float32) float32 { return float32(math.Tanh(float64(x))) },
	"Erf":     func(x float32) float32 { return float32(math.Erf(float64(x))) },
	"Exp":     func(x float32) float32 { return float32(math.Exp(float64(x))) },
	"Log":     func(x float32) float32 { return float32(math.Log(float64(x))) },
	"Sqrt":    func(x float32) float32 { return float32(math.Sqrt(float64(x))) },
	"Rsqrt":   func(x float32) float32 { return float32(1 / math.Sqrt(float64(x))) },
	"Square":  func(x float32) float32 { return x * x },
	"Neg":     func(x float32) float32 { return -x },
}

func init() {
	for op, f := range unaryOps {
		run := unaryKernel(f)
		switch op {
		case "Relu":
			run = activationKernel(ActRelu)
		case "Relu6":
			run = activationKernel(ActRelu6)
		}
		Register(Def{Op: op, Run: run, Check: CheckType("T", floatOnly...), TInputs: AllInputs})
	}
	for op, f := range binaryOps {
		types := numeric
		if op == "RealDiv" {
			types = floatOnly
		}
		Register(Def{Op: op, Run: binaryKernel(f), Check: CheckType("T", types...), TInputs: AllInputs})
	}
	Register(Def{Op: "Equal", Run: equal, TInputs: AllInputs})
}

func unaryKernel(f unaryF32) Kernel {
	return func(c *Context) ([]*tensor.Tensor, error) {
		x, err := c.soleFloat32Input()
		if err != nil {
			return nil, err
		}
		y := c.NewUninit(tfpb.DataType_DT_FLOAT, c.Inputs[0].Shape)
		Parallel(len(x), parallelGrain, func(lo, hi int) {
			for i, v := range x[lo:hi] {
				y.F32[lo+i] = f(v)
			}
		})
		return []*tensor.Tensor{y}, nil
	}
}

// activationKernel is unaryKernel for Relu and Relu6 with the loop written
// out (about four times faster than a call per element); unaryOps holds
// their definitions, which the tests compare against.
func activationKernel(act Activation) Kernel {
	return func(c *Context) ([]*tensor.Tensor, error) {
		x, err := c.soleFloat32Input()
		if err != nil {
			return nil, err
		}
		y := c.NewUninit(tfpb.DataType_DT_FLOAT, c.Inputs[0].Shape)
		ep := &Epilogue{Act: act}
		Parallel(len(x), parallelGrain, func(lo, hi int) {
			copy(y.F32[lo:hi], x[lo:hi])
			ep.Apply(y.F32[lo:hi])
		})
		return []*tensor.Tensor{y}, nil
	}
}

// binaryOp holds one op's element functions per element type, and for the
// four arithmetic ops a code selecting loops written out for float32.
type binaryOp struct {
	f32  func(a, b float32) float32
	i32  func(a, b int32) int32
	i64  func(a, b int64) int64
	code f32Code
}

// f32Code names a float32 arithmetic op with written-out loops.
type f32Code int

const (
	noCode f32Code = iota
	codeAdd
	codeSub
	codeMul
	codeDiv
)

// runF32 sets y[i] = a[i] op b[i], where a or b may hold one element
// standing for all (a scalar, or a broadcast run of stride 0).
func runF32(code f32Code, y, a, b []float32) {
	n := len(y)
	switch {
	case len(a) == n && len(b) == n:
		a, b = a[:n], b[:n]
		switch code {
		case codeAdd:
			for i := range y {
				y[i] = a[i] + b[i]
			}
		case codeSub:
			for i := range y {
				y[i] = a[i] - b[i]
			}
		case codeMul:
			for i := range y {
				y[i] = a[i] * b[i]
			}
		case codeDiv:
			for i := range y {
				y[i] = a[i] / b[i]
			}
		}
	case len(b) == 1:
		a = a[:n]
		s := b[0]
		switch code {
		case codeAdd:
			for i := range y {
				y[i] = a[i] + s
			}
		case codeSub:
			for i := range y {
				y[i] = a[i] - s
			}
		case codeMul:
			for i := range y {
				y[i] = a[i] * s
			}
		case codeDiv:
			for i := range y {
				y[i] = a[i] / s
			}
		}
	default: // len(a) == 1
		b = b[:n]
		s := a[0]
		switch code {
		case codeAdd:
			for i := range y {
				y[i] = s + b[i]
			}
		case codeSub:
			for i := range y {
				y[i] = s - b[i]
			}
		case codeMul:
			for i := range y {
				y[i] = s * b[i]
			}
		case codeDiv:
			for i := range y {
				y[i] = s / b[i]
			}
		}
	}
}

// applyCodeF32 is applyBinary for the float32 ops with a code.
func applyCodeF32(code f32Code, a, b, y []float32, aShape, bShape, out []int) {
	if len(a) == len(y) && len(b) == len(y) || len(a) == 1 || len(b) == 1 {
		Parallel(len(y), parallelGrain, func(lo, hi int) {
			as, bs := a, b
			if len(a) == len(y) {
				as = a[lo:hi]
			}
			if len(b) == len(y) {
				bs = b[lo:hi]
			}
			runF32(code, y[lo:hi], as, bs)
		})
		return
	}
	inner := out[len(out)-1]
	if inner == 0 {
		return
	}
	Parallel(len(y)/inner, parallelGrain/inner+1, func(lo, hi int) {
		broadcastRows(aShape, bShape, out, lo, hi, func(dst, ia, ib, n, sa, sb int) {
			ar, br := a[ia:ia+1], b[ib:ib+1]
			if sa != 0 {
				ar = a[ia : ia+n]
			}
			if sb != 0 {
				br = b[ib : ib+n]
			}
			if sa == 0 && sb == 0 {
				// both broadcast along the run: one value, repeated
				var v [1]float32
				runF32(code, v[:], ar, br)
				for i := dst; i < dst+n; i++ {
					y[i] = v[0]
				}
				return
			}
			runF32(code, y[dst:dst+n], ar, br)
		})
	})
}

var binaryOps = map[string]binaryOp{
	"Add":     {f32: addF32, i32: addI32, i64: addI64, code: codeAdd},
	"AddV2":   {f32: addF32, i32: addI32, i64: addI64, code: codeAdd},
	"Sub":     {f32: func(a, b float32) float32 { return a - b }, i32: func(a, b int32) int32 { return a - b }, i64: func(a, b int64) int64 { return a - b }, code: codeSub},
	"Mul":     {f32: func(a, b float32) float32 { return a * b }, i32: func(a, b int32) int32 { return a * b }, i64: func(a, b int64) int64 { return a * b }, code: codeMul},
	"RealDiv": {f32: func(a, b float32) float32 { return a / b }, code: codeDiv},
	"Maximum": {
		// NaN propagates, as Eigen's scalar_max_op does for floats.
		f32: func(a, b float32) float32 {
			if a != a || a > b {
				return a
			}
			return b
		},
		i32: func(a, b int32) int32 { return max(a, b) }, i64: func(a, b int64) int64 { return max(a, b) }},
	"Minimum": {
		f32: func(a, b float32) float32 {
			if a != a || a < b {
				return a
			}
			return b
		},
		i32: func(a, b int32) int32 { return min(a, b) }, i64: func(a, b int64) int64 { return min(a, b) }},
	"SquaredDifference": {
		f32: func(a, b float32) float32 { d := a - b; return d * d },
		i32: func(a, b int32) int32 { d := a - b; return d * d },
		i64: func(a, b int64) int64 { d := a - b; return d * d }},
}

func addF32(a, b float32) float32 { return a + b }
func addI32(a, b int32) int32     { return a + b }
func addI64(a, b int64) int64     { return a + b }

// BroadcastShape returns the shape numpy's broadcasting gives a and b:
// shapes aligned at their last dimension, each pair of dimensions equal or
// one of them 1. For shape inference a negative dimension is unknown: with
// a known one it gives the known one (or stays unknown against 1), with
// another unknown it stays unknown.
func BroadcastShape(a, b []int) ([]int, error) {
	r := max(len(a), len(b))
	out := make([]int, r)
	for i := 0; i < r; i++ {
		da, db := 1, 1
		if k := len(a) - r + i; k >= 0 {
			da = a[k]
		}
		if k := len(b) - r + i; k >= 0 {
			db = b[k]
		}
		switch {
		case da == db || db == 1:
			out[i] = da
		case da == 1:
			out[i] = db
		case da < 0 || db < 0:
			out[i] = max(da, db)
		default:
			return nil, fmt.Errorf("shapes %s and %s cannot be broadcast (dimension %d: %d against %d)",
				tensor.ShapeString(a), tensor.ShapeString(b), i, da, db)
		}
	}
	return out, nil
}

// broadcastStrides returns the element strides of a tensor of shape s read
// at the indices of shape out (0 along broadcast dimensions).
func broadcastStrides(s, out []int) []int {
	st := make([]int, len(out))
	stride := 1
	for i := len(out) - 1; i >= 0; i-- {
		k := len(s) - len(out) + i
		if k < 0 {
			continue
		}
		if s[k] != 1 {
			st[i] = stride
		}
		stride *= s[k]
	}
	return st
}

// broadcastLoop calls f(dst, ia, ib, n, sa, sb) for runs of the innermost
// dimension of out: dst is the output offset, ia and ib the first elements
// of a and b, sa and sb their strides along the run.
func broadcastLoop(aShape, bShape, out []int, f func(dst, ia, ib, n, sa, sb int)) {
	if len(out) == 0 {
		f(0, 0, 0, 1, 0, 0)
		return
	}
	inner := out[len(out)-1]
	if inner == 0 {
		return
	}
	broadcastRows(aShape, bShape, out, 0, tensor.NumElements(out)/inner, f)
}

// broadcastRows is broadcastLoop over the runs lo … hi-1 only, so that
// disjoint ranges of runs can go to different cores.
func broadcastRows(aShape, bShape, out []int, lo, hi int, f func(dst, ia, ib, n, sa, sb int)) {
	as, bs := broadcastStrides(aShape, out), broadcastStrides(bShape, out)
	r := len(out)
	inner := out[r-1]
	idx := make([]int, r)
	ia, ib := 0, 0
	for d, rem := r-2, lo; d >= 0; d-- {
		idx[d] = rem % out[d]
		rem /= out[d]
		ia += idx[d] * as[d]
		ib += idx[d] * bs[d]
	}
	for row := lo; row < hi; row++ {
		f(row*inner, ia, ib, inner, as[r-1], bs[r-1])
		for d := r - 2; d >= 0; d-- {
			idx[d]++
			ia += as[d]
			ib += bs[d]
			if idx[d] < out[d] {
				break
			}
			ia -= as[d] * out[d]
			ib -= bs[d] * out[d]
			idx[d] = 0
		}
	}
}

func applyBinary[T any](a, b, y []T, aShape, bShape, out []int, f func(x, z T) T) {
	switch {
	case len(a) == len(y) && len(b) == len(y):
		Parallel(len(y), parallelGrain, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				y[i] = f(a[i], b[i])
			}
		})
	case len(b) == 1 && len(a) == len(y):
		s := b[0]
		Parallel(len(y), parallelGrain, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				y[i] = f(a[i], s)
			}
		})
	case len(a) == 1 && len(b) == len(y):
		s := a[0]
		Parallel(len(y), parallelGrain, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				y[i] = f(s, b[i])
			}
		})
	default:
		inner := out[len(out)-1]
		if inner == 0 {
			return
		}
		run := func(dst, ia, ib, n, sa, sb int) {
			for i := 0; i < n; i++ {
				y[dst+i] = f(a[ia+i*sa], b[ib+i*sb])
			}
		}
		Parallel(len(y)/inner, parallelGrain/inner+1, func(lo, hi int) {
			broadcastRows(aShape, bShape, out, lo, hi, run)
		})
	}
}

// broadcastOperands returns a binary op's two inputs, checked to share a
// dtype, and the shape their broadcast gives, checked against MaxElements.
func (c *Context) broadcastOperands() (a, b *tensor.Tensor, out []int, err error) {
	if err := c.WantInputs(2); err != nil {
		return nil, nil, nil, err
	}
	a, b = c.Inputs[0], c.Inputs[1]
	if a.DType != b.DType {
		return nil, nil, nil, c.Errorf("inputs are %s and %s: dtypes differ", a, b)
	}
	if out, err = BroadcastShape(a.Shape, b.Shape); err != nil {
		return nil, nil, nil, c.Wrap(err)
	}
	if err := c.CheckSize(out); err != nil {
		return nil, nil, nil, err
	}
	return a, b, out, nil
}

func binaryKernel(op binaryOp) Kernel {
	return func(c *Context) ([]*tensor.Tensor, error) {
		a, b, out, err := c.broadcastOperands()
		if err != nil {
			return nil, err
		}
		y := c.NewUninit(a.DType, out)
		switch {
		case a.DType == tfpb.DataType_DT_FLOAT && op.code != noCode && len(out) > 0:
			applyCodeF32(op.code, a.F32, b.F32, y.F32, a.Shape, b.Shape, out)
		case a.DType == tfpb.DataType_DT_FLOAT && op.f32 != nil:
			applyBinary(a.F32, b.F32, y.F32, a.Shape, b.Shape, out, op.f32)
		case a.DType == tfpb.DataType_DT_INT32 && op.i32 != nil:
			applyBinary(a.I32, b.I32, y.I32, a.Shape, b.Shape, out, op.i32)
		case a.DType == tfpb.DataType_DT_INT64 && op.i64 != nil:
			applyBinary(a.I64, b.I64, y.I64, a.Shape, b.Shape, out, op.i64)
		default:
			return nil, c.Errorf("dtype %s is not supported", tensor.TypeName(a.DType))
		}
		return []*tensor.Tensor{y}, nil
	}
}

// equal compares elements of any numeric or bool dtype, with broadcasting.
func equal(c *Context) ([]*tensor.Tensor, error) {
	a, b, out, err := c.broadcastOperands()
	if err != nil {
		return nil, err
	}
	y := c.New(tfpb.DataType_DT_BOOL, out)
	var eq func(i, j int) bool
	switch tensor.StorageOf(a.DType) {
	case tensor.StoreF32:
		eq = func(i, j int) bool { return a.F32[i] == b.F32[j] }
	case tensor.StoreF64:
		eq = func(i, j int) bool { return a.F64[i] == b.F64[j] }
	case tensor.StoreI32:
		eq = func(i, j int) bool { return a.I32[i] == b.I32[j] }
	case tensor.StoreI64:
		eq = func(i, j int) bool { return a.I64[i] == b.I64[j] }
	case tensor.StoreU8:
		eq = func(i, j int) bool { return a.U8[i] == b.U8[j] }
	case tensor.StoreI8:
		eq = func(i, j int) bool { return a.I8[i] == b.I8[j] }
	case tensor.StoreBool:
		eq = func(i, j int) bool { return a.Bool[i] == b.Bool[j] }
	default:
		return nil, c.Errorf("dtype %s is not supported", tensor.TypeName(a.DType))
	}
	broadcastLoop(a.Shape, b.Shape, out, func(dst, ia, ib, n, sa, sb int) {
		for i := 0; i < n; i++ {
			y.Bool[dst+i] = eq(ia+i*sa, ib+i*sb)
		}
	})
	return []*tensor.Tensor{y}, nil
}
