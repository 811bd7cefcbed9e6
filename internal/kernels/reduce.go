package kernels

import (
	"math"

	"qcal/internal/tensor"
	"qcal/internal/tfpb"
)

// Reductions (Mean, Sum, Prod, Max, Min over reduction_indices, keep_dims) and
// ArgMax.

func init() {
	for _, op := range []string{"Mean", "Sum", "Max", "Min"} {
		Register(Def{Op: op, Run: reduceKernel(op), Check: CheckType("T", numeric...), TInputs: 1})
	}
	Register(Def{Op: "ArgMax", Run: argMax, Check: checkAll(CheckType("T", numeric...), CheckType("output_type", tfpb.DataType_DT_INT32, tfpb.DataType_DT_INT64)), TInputs: 1})
}

// reduction resolves the axes input against x's rank; it returns which
// dimensions are reduced and the output shape.
func reduction(c *Context, x *tensor.Tensor) ([]bool, []int, error) {
	axes, err := c.IntsInput(1)
	if err != nil {
		return nil, nil, err
	}
	keep := false
	if c.Has("keep_dims") {
		if keep, err = c.Bool("keep_dims"); err != nil {
			return nil, nil, err
		}
	}
	red := make([]bool, x.Rank())
	for _, a := range axes {
		r, err := axis(c, a, x.Rank())
		if err != nil {
			return nil, nil, err
		}
		red[r] = true
	}
	shape := []int{}
	for d, n := range x.Shape {
		switch {
		case !red[d]:
			shape = append(shape, n)
		case keep:
			shape = append(shape, 1)
		}
	}
	return red, shape, nil
}

// reduceIndex maps each input element to its output element.
func reduceIndex(x *tensor.Tensor, red []bool) []int {
	st := make([]int, x.Rank())
	s := 1
	for d := x.Rank() - 1; d >= 0; d-- {
		if !red[d] {
			st[d] = s
			s *= x.Shape[d]
		}
	}
	return stridedIndex(0, x.Shape, st)
}

func reduceKernel(op string) Kernel {
	return func(c *Context) ([]*tensor.Tensor, error) {
		if err := c.WantInputs(2); err != nil {
			return nil, err
		}
		x := c.Inputs[0]
		red, shape, err := reduction(c, x)
		if err != nil {
			return nil, err
		}
		n := tensor.NumElements(shape)
		y := c.New(x.DType, shape)
		if x.DType == tfpb.DataType_DT_FLOAT && n == 1 && (op == "Max" || op == "Min") && len(x.F32) > 0 {
			// The whole tensor to one value: the activation ranges of
			// quantize_graph's Min/Max prologues, once a batch.
			mn, mx := c.minMaxOf(x)
			y.F32[0] = mn
			if op == "Max" {
				y.F32[0] = mx
			}
			return []*tensor.Tensor{y}, nil
		}
		idx := reduceIndex(x, red)
		switch x.DType {
		case tfpb.DataType_DT_FLOAT:
			// Sums accumulate in float64, closer to the exact sum than any
			// float32 order (TensorFlow's own order is Eigen's and varies).
			acc := make([]float64, n)
			cnt := make([]int, n)
			first := make([]bool, n)
			for i, v := range x.F32 {
				o := idx[i]
				f := float64(v)
				switch op {
				case "Sum", "Mean":
					acc[o] += f
				case "Prod":
					if !first[o] {
						acc[o] = 1
					}
					acc[o] *= f
				case "Max":
					if !first[o] || f > acc[o] || f != f {
						acc[o] = f
					}
				case "Min":
					if !first[o] || f < acc[o] || f != f {
						acc[o] = f
					}
				}
				first[o] = true
				cnt[o]++
			}
			for o := range acc {
				switch {
				case op == "Mean" && cnt[o] > 0:
					y.F32[o] = float32(acc[o] / float64(cnt[o]))
				case op == "Mean":
					y.F32[o] = float32(math.NaN()) // 0/0, as TensorFlow gives
				case op == "Prod" && cnt[o] == 0:
					y.F32[o] = 1 // the empty product
				case (op == "Max" || op == "Min") && cnt[o] == 0:
					// The identity of an empty reduction: Max gives the lowest float.
					if op == "Max" {
						y.F32[o] = -math.MaxFloat32
					} else {
						y.F32[o] = math.MaxFloat32
					}
				default:
					y.F32[o] = float32(acc[o])
				}
			}
		case tfpb.DataType_DT_INT32, tfpb.DataType_DT_INT64:
			acc := make([]int64, n)
			cnt := make([]int64, n)
			for i := 0; i < x.Len(); i++ {
				var v int64
				if x.DType == tfpb.DataType_DT_INT32 {
					v = int64(x.I32[i])
				} else {
					v = x.I64[i]
				}
				o := idx[i]
				switch op {
				case "Sum", "Mean":
					acc[o] += v
				case "Prod":
					if cnt[o] == 0 {
						acc[o] = 1
					}
					acc[o] *= v
				case "Max":
					if cnt[o] == 0 || v > acc[o] {
						acc[o] = v
					}
				case "Min":
					if cnt[o] == 0 || v < acc[o] {
						acc[o] = v
					}
				}
				cnt[o]++
			}
			for o := range acc {
				if op == "Prod" && cnt[o] == 0 {
					acc[o] = 1
				}
				if op == "Mean" {
					if cnt[o] == 0 {
						return nil, c.Errorf("mean of an empty integer reduction")
					}
					acc[o] /= cnt[o] // integer division, as TensorFlow's
				}
				if x.DType == tfpb.DataType_DT_INT32 {
					y.I32[o] = int32(acc[o])
				} else {
					y.I64[o] = acc[o]
				}
			}
		default:
			return nil, c.Errorf("dtype %s is not supported", tensor.TypeName(x.DType))
		}
		return []*tensor.Tensor{y}, nil
	}
}

// extremes is the whole-tensor minimum and maximum of x, whose elements
// start at data.
type extremes struct {
	x        *tensor.Tensor
	data     *float32
	min, max float32
}

// minMaxOf returns the smallest and largest element of the non-empty
// float tensor x, from the Context's memory when the previous call was on
// the same tensor (the Max after the Min of a QuantizeV2 prologue).
func (c *Context) minMaxOf(x *tensor.Tensor) (mn, mx float32) {
	e := &c.extremes
	if e.x == x && e.data == &x.F32[0] {
		return e.min, e.max
	}
	mn, mx = minMax(x.F32)
	*e = extremes{x: x, data: &x.F32[0], min: mn, max: mx}
	return mn, mx
}

// minMax returns the smallest and largest element of the non-empty v in
// one pass, exactly as the general loop of reduceKernel picks each: the
// first of equal values (so -0 or +0 as it comes first), and the first
// NaN, for both, once a NaN is seen.
func minMax(v []float32) (mn, mx float32) {
	if useAVX2 && len(v) >= 64 {
		if mn, mx, ok := minMaxVector(v); ok {
			return mn, mx
		}
	}
	return minMaxGo(v)
}

// minMaxVector is minMax through AVX2 for a v without NaN (ok false
// otherwise). Equal non-zero floats have equal bits, so only a zero
// result needs the first of its equals: the first element that is == 0.
func minMaxVector(v []float32) (mn, mx float32, ok bool) {
	n := len(v) &^ 7
	mn, mx, nan := minMaxAVX2(&v[0], n)
	if nan {
		return 0, 0, false
	}
	for _, f := range v[n:] {
		if f > mx {
			mx = f
		} else if f < mn {
			mn = f
		} else if f != f {
			return 0, 0, false
		}
	}
	if mn == 0 || mx == 0 {
		var zero float32
		for _, f := range v {
			if f == 0 {
				zero = f
				break
			}
		}
		if mn == 0 {
			mn = zero
		}
		if mx == 0 {
			mx = zero
		}
	}
	return mn, mx, true
}

// minMaxGo is minMax in Go, one element at a time.
func minMaxGo(v []float32) (mn, mx float32) {
	mn, mx = v[0], v[0]
	if mn != mn {
		return mn, mx
	}
	for _, f := range v[1:] {
		// mn <= mx, so an f above mx is not below mn; a NaN is neither.
		if f > mx {
			mx = f
		} else if f < mn {
			mn = f
		} else if f != f {
			return f, f
		}
	}
	return mn, mx
}

// argMax returns the index of the largest element along an axis; the first
// one among equals.
func argMax(c *Context) ([]*tensor.Tensor, error) {
	x, av, err := c.tensorAndInts()
	if err != nil {
		return nil, err
	}
	if len(av) != 1 {
		return nil, c.Errorf("dimension %s must be a scalar", c.Inputs[1])
	}
	a, err := axis(c, av[0], x.Rank())
	if err != nil {
		return nil, err
	}
	if x.Shape[a] == 0 {
		return nil, c.Errorf("argmax over an empty dimension %d of %s", a, x)
	}
	outT := tfpb.DataType_DT_INT64
	if c.Has("output_type") {
		if outT, err = c.Type("output_type"); err != nil {
			return nil, err
		}
	}
	shape := append(append([]int{}, x.Shape[:a]...), x.Shape[a+1:]...)
	y := c.New(outT, shape)
	outer, n, inner := tensor.NumElements(x.Shape[:a]), x.Shape[a], tensor.NumElements(x.Shape[a+1:])
	val := func(i int) float64 {
		switch x.DType {
		case tfpb.DataType_DT_FLOAT:
			return float64(x.F32[i])
		case tfpb.DataType_DT_INT32:
			return float64(x.I32[i])
		}
		return float64(x.I64[i])
	}
	for o := 0; o < outer; o++ {
		for in := 0; in < inner; in++ {
			base := o*n*inner + in
			best, bi := val(base), 0
			for k := 1; k < n; k++ {
				if v := val(base + k*inner); v > best {
					best, bi = v, k
				}
			}
			if outT == tfpb.DataType_DT_INT32 {
				y.I32[o*inner+in] = int32(bi)
			} else {
				y.I64[o*inner+in] = int64(bi)
			}
		}
	}
	return []*tensor.Tensor{y}, nil
}
