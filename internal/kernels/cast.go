package kernels

import (
	"math"

	"qcal/internal/tensor"
	"qcal/internal/tfpb"
)

// Cast and FakeQuantWithMinMaxVars.

var castTypes = []tfpb.DataType{
	tfpb.DataType_DT_FLOAT, tfpb.DataType_DT_DOUBLE, tfpb.DataType_DT_HALF, tfpb.DataType_DT_BFLOAT16,
	tfpb.DataType_DT_INT32, tfpb.DataType_DT_INT64, tfpb.DataType_DT_UINT8, tfpb.DataType_DT_INT8,
	tfpb.DataType_DT_INT16, tfpb.DataType_DT_UINT16, tfpb.DataType_DT_BOOL,
}

func init() {
	Register(Def{Op: "Cast", Run: cast, Check: checkAll(CheckType("SrcT", castTypes...), CheckType("DstT", castTypes...))})
	Register(Def{Op: "FakeQuantWithMinMaxVars", Run: fakeQuantVars, Check: checkFakeQuant, TInputs: AllInputs})
}

// element reads element i of x as a float64 and, for integer and bool
// dtypes, as an exact int64.
func element(x *tensor.Tensor, i int) (float64, int64, bool) {
	switch x.DType {
	case tfpb.DataType_DT_FLOAT:
		return float64(x.F32[i]), 0, false
	case tfpb.DataType_DT_DOUBLE:
		return x.F64[i], 0, false
	case tfpb.DataType_DT_HALF:
		return float64(tensor.HalfToF32(x.U16[i])), 0, false
	case tfpb.DataType_DT_BFLOAT16:
		return float64(tensor.BFloat16ToF32(x.U16[i])), 0, false
	case tfpb.DataType_DT_INT32:
		return float64(x.I32[i]), int64(x.I32[i]), true
	case tfpb.DataType_DT_INT64:
		return float64(x.I64[i]), x.I64[i], true
	case tfpb.DataType_DT_UINT8:
		return float64(x.U8[i]), int64(x.U8[i]), true
	case tfpb.DataType_DT_INT8:
		return float64(x.I8[i]), int64(x.I8[i]), true
	case tfpb.DataType_DT_INT16:
		return float64(x.I16[i]), int64(x.I16[i]), true
	case tfpb.DataType_DT_UINT16:
		return float64(x.U16[i]), int64(x.U16[i]), true
	case tfpb.DataType_DT_BOOL:
		if x.Bool[i] {
			return 1, 1, true
		}
		return 0, 0, true
	}
	return 0, 0, false
}

// toInt converts like C++'s static_cast from a float: truncation toward
// zero (NaN and out-of-range values, undefined in C++, give 0 and the
// wrapped value of the int64 conversion).
func toInt(f float64, v int64, isInt bool) int64 {
	if isInt {
		return v
	}
	if f != f {
		return 0
	}
	return int64(f)
}

// cast converts every element: floats to integers truncate toward zero,
// integers wrap, anything nonzero is true, double to float rounds to
// nearest.
func cast(c *Context) ([]*tensor.Tensor, error) {
	if err := c.WantInputs(1); err != nil {
		return nil, err
	}
	x := c.Inputs[0]
	dst, err := c.Type("DstT")
	if err != nil {
		return nil, err
	}
	if x.DType == dst {
		return []*tensor.Tensor{x}, nil
	}
	y := c.New(dst, x.Shape)
	for i := 0; i < x.Len(); i++ {
		f, v, isInt := element(x, i)
		switch dst {
		case tfpb.DataType_DT_FLOAT:
			if isInt {
				y.F32[i] = float32(v)
			} else {
				y.F32[i] = float32(f)
			}
		case tfpb.DataType_DT_DOUBLE:
			y.F64[i] = f
		case tfpb.DataType_DT_HALF:
			y.U16[i] = tensor.F32ToHalf(float32(f))
		case tfpb.DataType_DT_BFLOAT16:
			y.U16[i] = bfloat16(float32(f))
		case tfpb.DataType_DT_INT32:
			y.I32[i] = int32(toInt(f, v, isInt))
		case tfpb.DataType_DT_INT64:
			y.I64[i] = toInt(f, v, isInt)
		case tfpb.DataType_DT_UINT8:
			y.U8[i] = uint8(toInt(f, v, isInt))
		case tfpb.DataType_DT_INT8:
			y.I8[i] = int8(toInt(f, v, isInt))
		case tfpb.DataType_DT_INT16:
			y.I16[i] = int16(toInt(f, v, isInt))
		case tfpb.DataType_DT_UINT16:
			y.U16[i] = uint16(toInt(f, v, isInt))
		case tfpb.DataType_DT_BOOL:
			y.Bool[i] = f != 0
		default:
			return nil, c.Errorf("cast to %s is not supported", tensor.TypeName(dst))
		}
	}
	return []*tensor.Tensor{y}, nil
}

// bfloat16 rounds a float32 to bfloat16 bits, to nearest even.
func bfloat16(f float32) uint16 {
	b := math.Float32bits(f)
	if f != f {
		return uint16(b>>16) | 0x40
	}
	b += 0x7fff + (b>>16)&1
	return uint16(b >> 16)
}

func checkFakeQuant(n *tfpb.NodeDef) error {
	if HasAttr(n, "num_bits") {
		b, err := AttrInt(n, "num_bits")
		if err != nil {
			return err
		}
		if b < 2 || b > 16 {
			return fmtNode(n, "num_bits %d is outside 2…16", b)
		}
	}
	return nil
}

// FakeQuantParams are TensorFlow's nudged quantization range for
// FakeQuantWithMinMaxVars.
type FakeQuantParams struct {
	Min, Max, Scale float32
}

// NudgeFakeQuant computes the nudged range as TensorFlow does (in float32):
// qmin = narrow ? 1 : 0, qmax = 2^bits − 1, s = (max − min)/(qmax − qmin),
// zp = qmin − min/s, the zero point clamped to [qmin, qmax] or else rounded
// half away from zero, nudged min = (qmin − zp)·s, nudged max = (qmax − zp)·s.
func NudgeFakeQuant(lo, hi float32, bits int, narrow bool) FakeQuantParams {
	qmin := float32(0)
	if narrow {
		qmin = 1
	}
	qmax := float32(int(1)<<bits - 1)
	s := (hi - lo) / (qmax - qmin)
	zpf := qmin - lo/s
	var zp float32
	switch {
	case zpf < qmin:
		zp = qmin
	case zpf > qmax:
		zp = qmax
	case zpf != zpf:
		zp = 0 // min == max: s is 0 and zp 0/0; TF's conversion gives 0
	default:
		zp = float32(math.Round(float64(zpf)))
	}
	return FakeQuantParams{Min: (qmin - zp) * s, Max: (qmax - zp) * s, Scale: s}
}

// Apply fake-quantizes v: y = floor((clamp(v) − nmin)·(1/s) + 0.5)·s + nmin.
// With a zero scale (min == max) every value becomes the nudged min.
func (p FakeQuantParams) Apply(v float32) float32 {
	if p.Scale == 0 {
		return p.Min
	}
	inv := 1 / p.Scale
	cl := min(max(v, p.Min), p.Max) - p.Min
	return float32(math.Floor(float64(cl*inv+0.5)))*p.Scale + p.Min
}

func fakeQuantVars(c *Context) ([]*tensor.Tensor, error) {
	if err := c.WantInputs(3); err != nil {
		return nil, err
	}
	x, err := c.Float32Input(0)
	if err != nil {
		return nil, err
	}
	lo, err := c.Float32Input(1)
	if err != nil {
		return nil, err
	}
	hi, err := c.Float32Input(2)
	if err != nil {
		return nil, err
	}
	if len(lo) != 1 || len(hi) != 1 {
		return nil, c.Errorf("min %s and max %s must be scalars", c.Inputs[1], c.Inputs[2])
	}
	if lo[0] > hi[0] {
		return nil, c.Errorf("min %g is above max %g", lo[0], hi[0])
	}
	bits, narrow := 8, false
	if c.Has("num_bits") {
		if bits, err = c.Int("num_bits"); err != nil {
			return nil, err
		}
	}
	if c.Has("narrow_range") {
		if narrow, err = c.Bool("narrow_range"); err != nil {
			return nil, err
		}
	}
	p := NudgeFakeQuant(lo[0], hi[0], bits, narrow)
	y := c.New(tfpb.DataType_DT_FLOAT, c.Inputs[0].Shape)
	for i, v := range x {
		y.F32[i] = p.Apply(v)
	}
	return []*tensor.Tensor{y}, nil
}
