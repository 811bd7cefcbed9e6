package kernels

import (
	"math"
	"slices"

	"qcal/internal/tensor"
	"qcal/quant"
)

// QuantizedAdd and QuantizedMul, TF's reference kernels
// (quantized_add_op.cc, quantized_mul_op.cc; quint8 × quint8 → qint32).
// Both handle three layouts, as TF's: one operand a single element, equal
// shapes, or the smaller operand repeated over the larger (its shape a
// suffix of the larger's); other broadcasts are refused, as TF does.
//
// QuantizedAdd: the output range is ±R, R = max(|min(min_x, min_y)|,
// |max(max_x, max_y)|)·2¹⁴. A quint8 operand goes into qint32 by a linear
// map through codes 0 and 1: v0 = FloatToQuantizedUnclamped<qint32>(
// QuantizedToFloat<quint8>(0), -R, R), v1 likewise for code 1, and code c
// → clamp(v0 + c·(v1 - v0)) — except a single-element operand, which is
// RequantizeInNewRange'd. The sum wraps in int32.
//
// QuantizedMul: (x - off_x)·(y - off_y) with off = FloatToQuantizedUnclamped(0)
// and the range of QuantizationRangeForMultiplication.

func init() {
	check := checkAll(CheckType("T1", dtQU8), CheckType("T2", dtQU8), CheckType("Toutput", dtQI32))
	Register(Def{Op: "QuantizedAdd", Run: quantizedBinary(true), Check: check})
	Register(Def{Op: "QuantizedMul", Run: quantizedBinary(false), Check: check})
}

// binaryLayout says how y's elements pair with x's: index j of the output
// takes x[ix(j)] and y[iy(j)].
func binaryLayout(xs, ys []int) (out []int, ix, iy func(int) int, ok bool) {
	nx, ny := tensor.NumElements(xs), tensor.NumElements(ys)
	id := func(j int) int { return j }
	zero := func(int) int { return 0 }
	switch {
	case slices.Equal(xs, ys):
		return xs, id, id, true
	case nx == 1:
		return ys, zero, id, true
	case ny == 1:
		return xs, id, zero, true
	}
	trim := func(s []int) []int {
		for len(s) > 0 && s[0] == 1 {
			s = s[1:]
		}
		return s
	}
	if nx < ny && suffix(trim(xs), ys) {
		return ys, func(j int) int { return j % nx }, id, true
	}
	if ny < nx && suffix(trim(ys), xs) {
		return xs, id, func(j int) int { return j % ny }, true
	}
	return nil, nil, nil, false
}

func suffix(s, of []int) bool {
	return len(s) <= len(of) && slices.Equal(s, of[len(of)-len(s):])
}

// linearToQInt32 returns TF's code → qint32 map of a quint8 operand in
// [mn, mx] for the output range [outMin, outMax].
func linearToQInt32(mn, mx, outMin, outMax float32) func(int32) int32 {
	v0 := quant.FloatToQuantizedUnclamped(quant.QInt32, quant.QuantizedToFloat(quant.QUInt8, 0, mn, mx), outMin, outMax)
	v1 := quant.FloatToQuantizedUnclamped(quant.QInt32, quant.QuantizedToFloat(quant.QUInt8, 1, mn, mx), outMin, outMax)
	mult := int64(int32(v1 - v0))
	return func(c int32) int32 {
		v := v0 + int64(c)*mult
		return int32(min(max(v, math.MinInt32), math.MaxInt32))
	}
}

func quantizedBinary(add bool) Kernel {
	return func(c *Context) ([]*tensor.Tensor, error) {
		if err := c.WantInputs(6); err != nil {
			return nil, err
		}
		x, y, err := c.quantOperands(dtQU8, dtQU8)
		if err != nil {
			return nil, err
		}
		r, err := c.scalarInputs(2, 4)
		if err != nil {
			return nil, err
		}
		minX, maxX, minY, maxY := r[0], r[1], r[2], r[3]
		shape, ix, iy, ok := binaryLayout(x.Shape, y.Shape)
		if !ok {
			return nil, c.Errorf("broadcast between %s and %s is not supported (TF's kernel neither)", tensor.ShapeString(x.Shape), tensor.ShapeString(y.Shape))
		}
		z := c.New(dtQI32, shape)
		if !add {
			ox := int32(quant.FloatToQuantizedUnclamped(quant.QUInt8, 0, minX, maxX))
			oy := int32(quant.FloatToQuantizedUnclamped(quant.QUInt8, 0, minY, maxY))
			for j := range z.I32 {
				z.I32[j] = (int32(x.U8[ix(j)]) - ox) * (int32(y.U8[iy(j)]) - oy)
			}
			mn, mx := quant.RangeForMultiplication(quant.QUInt8, quant.QUInt8, quant.QInt32, minX, maxX, minY, maxY)
			return []*tensor.Tensor{z, scalarF32(mn), scalarF32(mx)}, nil
		}
		if !(maxX > minX) || !(maxY > minY) {
			return nil, c.Errorf("ranges [%g, %g] and [%g, %g]: each max must be larger than its min", minX, maxX, minY, maxY)
		}
		big := max(float32(math.Abs(float64(min(minX, minY)))), float32(math.Abs(float64(max(maxX, maxY)))))
		outMax := big * (1 << 14)
		outMin := -outMax
		fx := linearToQInt32(minX, maxX, outMin, outMax)
		fy := linearToQInt32(minY, maxY, outMin, outMax)
		// A single-element operand (when the other is not) goes through
		// RequantizeInNewRange instead.
		scalar := func(v uint8, mn, mx float32) func(int32) int32 {
			s := int32(quant.RequantizeInNewRange(quant.QUInt8, quant.QInt32, int64(v), mn, mx, outMin, outMax))
			return func(int32) int32 { return s }
		}
		nx, ny := len(x.U8), len(y.U8)
		switch {
		case nx == 1 && !slices.Equal(x.Shape, y.Shape) || nx == 1 && ny == 1:
			fx = scalar(x.U8[0], minX, maxX)
		case ny == 1 && !slices.Equal(x.Shape, y.Shape):
			fy = scalar(y.U8[0], minY, maxY)
		}
		for j := range z.I32 {
			z.I32[j] = fx(int32(x.U8[ix(j)])) + fy(int32(y.U8[iy(j)]))
		}
		return []*tensor.Tensor{z, scalarF32(outMin), scalarF32(outMax)}, nil
	}
}
