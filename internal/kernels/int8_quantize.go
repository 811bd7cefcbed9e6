package kernels

import (
	"qcal/internal/tensor"
	"qcal/internal/tfpb"
	"qcal/quant"
)

// QuantizeV2, Dequantize, RequantizationRange[PerChannel] and
// Requantize[PerChannel]: TF 1.14/1.15's kernels (INT8-ARITHMETIC §0,
// §2.1, §2.2, §2.5, §2.6), the arithmetic in package quant.

func init() {
	Register(Def{Op: "QuantizeV2", Run: quantizeV2, Check: checkAll(CheckType("T", dtQU8, dtQI8, dtQI32), checkQuantizeV2)})
	Register(Def{Op: "Dequantize", Run: dequantize, Check: checkAll(CheckType("T", dtQU8, dtQI8, dtQI32), checkDequantize)})
	Register(Def{Op: "RequantizationRange", Run: requantizationRange, Check: CheckType("Tinput", dtQI32)})
	Register(Def{Op: "RequantizationRangePerChannel", Run: requantizationRangePerChannel, Check: CheckType("T", dtQI32)})
	Register(Def{Op: "Requantize", Run: requantize, Check: checkAll(CheckType("Tinput", dtQI32), CheckType("out_type", dtQU8, dtQI8))})
	Register(Def{Op: "RequantizePerChannel", Run: requantizePerChannel, Check: checkAll(CheckType("T", dtQI32), CheckType("out_type", dtQU8, dtQI8))})
}

// quantModes reads mode (default MIN_COMBINED) and round_mode (default
// HALF_AWAY_FROM_ZERO), the attrs of TF 1.15's QuantizeV2.
func quantModes(n *tfpb.NodeDef) (mode string, round quant.RoundMode, err error) {
	mode = "MIN_COMBINED"
	if HasAttr(n, "mode") {
		if mode, err = AttrString(n, "mode"); err != nil {
			return "", 0, err
		}
	}
	round = quant.HalfAwayFromZero
	if HasAttr(n, "round_mode") {
		r, err := AttrString(n, "round_mode")
		if err != nil {
			return "", 0, err
		}
		switch r {
		case "HALF_AWAY_FROM_ZERO":
		case "HALF_TO_EVEN":
			round = quant.HalfToEven
		default:
			return "", 0, fmtNode(n, "round_mode %q is not HALF_AWAY_FROM_ZERO or HALF_TO_EVEN", r)
		}
	}
	return mode, round, nil
}

func checkQuantizeV2(n *tfpb.NodeDef) error {
	mode, round, err := quantModes(n)
	if err != nil {
		return err
	}
	switch mode {
	case "MIN_FIRST", "SCALED":
	case "MIN_COMBINED":
		return fmtNode(n, "mode MIN_COMBINED is not supported (qcal quantizes with MIN_FIRST or SCALED)")
	default:
		return fmtNode(n, "mode %q is not MIN_COMBINED, MIN_FIRST or SCALED", mode)
	}
	if round == quant.HalfToEven && mode != "SCALED" {
		return fmtNode(n, "round_mode HALF_TO_EVEN needs mode SCALED, not %s (TF's rule)", mode)
	}
	if HasAttr(n, "narrow_range") {
		if b, err := AttrBool(n, "narrow_range"); err != nil || b {
			return fmtNode(n, "narrow_range is not an attr of TF 1.15's QuantizeV2 and is not supported")
		}
	}
	return nil
}

// quantizeV2 is QuantizeV2(input, min_range, max_range) → (output,
// output_min, output_max). The range is adjusted as TF 1.x does
// (quant.AdjustRangeTF1). SCALED with HALF_TO_EVEN is Intel's
// _MklQuantizeV2 unless Int8Options.EigenQuantizeV2 or the input is a Const
// node (TF's layout pass leaves those on Eigen); the rest is the Eigen
// kernel.
func quantizeV2(c *Context) ([]*tensor.Tensor, error) {
	if err := c.WantInputs(3); err != nil {
		return nil, err
	}
	if err := checkQuantizeV2(c.Node); err != nil {
		return nil, err
	}
	x, err := c.Float32Input(0)
	if err != nil {
		return nil, err
	}
	lo, hi, err := c.rangeInput(1)
	if err != nil {
		return nil, err
	}
	dt, err := c.Type("T")
	if err != nil {
		return nil, err
	}
	qt, _ := quantType(dt)
	modeName, round, _ := quantModes(c.Node)
	mode := quant.MinFirst
	if modeName == "SCALED" {
		mode = quant.Scaled
	}
	y := c.New(dt, c.Inputs[0].Shape)
	if mode == quant.Scaled && round == quant.HalfToEven && !currentInt8Options(c).EigenQuantizeV2 && qt != quant.QInt32 && !c.InputIsConst(0) {
		z, err := quant.NewMklScaled(qt, lo, hi)
		if err != nil {
			return nil, c.Wrap(err)
		}
		Parallel(len(x), parallelGrain, func(a, b int) {
			if qt == quant.QUInt8 {
				quantizeMklU8(y.U8[a:b], x[a:b], z.Scale)
				return
			}
			quantizeMklI8(y.I8[a:b], x[a:b], z.Scale)
		})
		return []*tensor.Tensor{y, scalarF32(z.Min), scalarF32(z.Max)}, nil
	}
	if !(hi >= lo) {
		return nil, c.Errorf("input_max_range %g must be larger than input_min_range %g", hi, lo)
	}
	alo, ahi := quant.AdjustRangeTF1(lo, hi)
	z, err := quant.QuantizeV2{T: qt, Mode: mode, RoundMode: round}.Prepare(alo, ahi)
	if err != nil {
		return nil, c.Wrap(err)
	}
	outMin, outMax := z.Min, z.Max
	if mode == quant.MinFirst && qt != quant.QInt32 {
		rs, rms := z.MinFirstParams()
		off := float32(rms - float32(qt.Lowest()))
		out := y.U8
		if qt == quant.QInt8 {
			out = int8Bytes(y.I8)
		}
		Parallel(len(x), parallelGrain, func(a, b int) {
			quantizeMinFirst8(out[a:b], x[a:b], rs, off, float32(qt.Lowest()), float32(qt.Highest()), z.Quantize)
		})
		return []*tensor.Tensor{y, scalarF32(outMin), scalarF32(outMax)}, nil
	}
	Parallel(len(x), parallelGrain, func(a, b int) {
		switch qt {
		case quant.QUInt8:
			for i := a; i < b; i++ {
				y.U8[i] = uint8(z.Quantize(x[i]))
			}
		case quant.QInt8:
			for i := a; i < b; i++ {
				y.I8[i] = int8(z.Quantize(x[i]))
			}
		default:
			for i := a; i < b; i++ {
				y.I32[i] = z.Quantize(x[i])
			}
		}
	})
	return []*tensor.Tensor{y, scalarF32(outMin), scalarF32(outMax)}, nil
}

func checkDequantize(n *tfpb.NodeDef) error {
	mode := "MIN_COMBINED"
	if HasAttr(n, "mode") {
		var err error
		if mode, err = AttrString(n, "mode"); err != nil {
			return err
		}
	}
	switch mode {
	case "MIN_COMBINED", "MIN_FIRST", "SCALED":
		return nil
	}
	return fmtNode(n, "mode %q is not MIN_COMBINED, MIN_FIRST or SCALED", mode)
}

// dequantize is Dequantize(input, min_range, max_range) → float, the Eigen
// kernel (TF 1.14/1.15 never rewrite it to _MklDequantize, §0.1): SCALED
// c·s with Eigen's s (§0.2), MIN_FIRST the DEQUANTIZE macro, MIN_COMBINED
// (c + half)·(max-min)/(highest-lowest) + min.
func dequantize(c *Context) ([]*tensor.Tensor, error) {
	if err := c.WantInputs(3); err != nil {
		return nil, err
	}
	if err := checkDequantize(c.Node); err != nil {
		return nil, err
	}
	dt, err := c.Type("T")
	if err != nil {
		return nil, err
	}
	qt, ok := quantType(dt)
	if !ok {
		return nil, c.Errorf("T %s is not a quantized type", tensor.TypeName(dt))
	}
	x, err := c.quantInput(0, dt)
	if err != nil {
		return nil, err
	}
	lo, hi, err := c.rangeInput(1)
	if err != nil {
		return nil, err
	}
	mode, _ := c.stringOr("mode", "MIN_COMBINED")
	y := c.NewUninit(dtF32, x.Shape) // every element is written
	// code c → float32(float32(c + add)·s) + off: MIN_COMBINED adds half
	// and min; SCALED and MIN_FIRST add nothing before the scale.
	var add, s, off float32
	switch mode {
	case "MIN_COMBINED":
		add, s = quant.MinCombinedParams(qt, lo, hi)
		off = lo
	case "SCALED":
		s, off = quant.DequantizeParams(qt, quant.Scaled, false, lo, hi)
	default:
		s, off = quant.DequantizeParams(qt, quant.MinFirst, false, lo, hi)
	}
	// An 8-bit code has 256 values: a table of their floats, computed
	// by the same expression, replaces the arithmetic.
	var table [256]float32
	switch qt {
	case quant.QUInt8:
		for c := range table {
			table[c] = float32(float32(float32(uint8(c))+add)*s) + off
		}
	case quant.QInt8:
		for c := range table {
			table[c] = float32(float32(float32(int8(uint8(c)))+add)*s) + off
		}
	}
	Parallel(len(y.F32), parallelGrain, func(a, b int) {
		switch qt {
		case quant.QUInt8:
			dst := y.F32[a:b]
			for i, c := range x.U8[a:b] {
				dst[i] = table[c]
			}
		case quant.QInt8:
			dst := y.F32[a:b]
			for i, c := range x.I8[a:b] {
				dst[i] = table[uint8(c)]
			}
		default:
			for i := a; i < b; i++ {
				y.F32[i] = float32(float32(float32(x.I32[i])+add)*s) + off
			}
		}
	})
	return []*tensor.Tensor{y}, nil
}

// requantizationRange is RequantizationRange(input qint32, input_min,
// input_max) → (output_min, output_max) (§2.5).
func requantizationRange(c *Context) ([]*tensor.Tensor, error) {
	if err := c.WantInputs(3); err != nil {
		return nil, err
	}
	x, err := c.quantInput(0, dtQI32)
	if err != nil {
		return nil, err
	}
	lo, hi, err := c.rangeInput(1)
	if err != nil {
		return nil, err
	}
	mn, mx := quant.RequantizationRange(x.I32, lo, hi)
	return []*tensor.Tensor{scalarF32(mn), scalarF32(mx)}, nil
}

// perChannelInputs checks that the node has want inputs and reads input 0
// (qint32, channels last) and inputs 1 and 2 as its per-channel ranges,
// whose length is x's last dimension.
func (c *Context) perChannelInputs(want int) (x *tensor.Tensor, mins, maxs []float32, err error) {
	if err := c.WantInputs(want); err != nil {
		return nil, nil, nil, err
	}
	if x, err = c.quantInput(0, dtQI32); err != nil {
		return nil, nil, nil, err
	}
	if mins, err = c.Float32Input(1); err != nil {
		return nil, nil, nil, err
	}
	if maxs, err = c.Float32Input(2); err != nil {
		return nil, nil, nil, err
	}
	if len(x.Shape) == 0 {
		return nil, nil, nil, c.Errorf("input 0 is a scalar; per-channel ops need channels last")
	}
	ch := x.Shape[len(x.Shape)-1]
	if len(mins) != ch || len(maxs) != ch {
		return nil, nil, nil, c.Errorf("input_min has %d and input_max %d elements, want %d (the channels of input 0, %s)",
			len(mins), len(maxs), ch, tensor.ShapeString(x.Shape))
	}
	return x, mins, maxs, nil
}

// requantizationRangePerChannel is Intel's RequantizationRangePerChannel
// (input qint32 NHWC, input_min[C], input_max[C]; attr clip_value_max) →
// (output_min, output_max); see quant.PerChannelRange.
func requantizationRangePerChannel(c *Context) ([]*tensor.Tensor, error) {
	x, mins, maxs, err := c.perChannelInputs(3)
	if err != nil {
		return nil, err
	}
	clip, err := c.Float("clip_value_max")
	if err != nil {
		return nil, err
	}
	mn, mx := quant.PerChannelRange(x.I32, mins, maxs, clip)
	return []*tensor.Tensor{scalarF32(mn), scalarF32(mx)}, nil
}

// requantize is Requantize(input qint32, input_min, input_max,
// requested_output_min, requested_output_max) → (output, output_min,
// output_max): to quint8 by TF's fixed-point path (§2.6), to qint8 by the
// float path FloatToQuantized(QuantizedToFloat(·)) (§0.4).
func requantize(c *Context) ([]*tensor.Tensor, error) {
	if err := c.WantInputs(5); err != nil {
		return nil, err
	}
	x, err := c.quantInput(0, dtQI32)
	if err != nil {
		return nil, err
	}
	r, err := c.scalarInputs(1, 4)
	if err != nil {
		return nil, err
	}
	inMin, inMax, outMin, outMax := r[0], r[1], r[2], r[3]
	out := dtQU8
	if c.Has("out_type") {
		if out, err = c.Type("out_type"); err != nil {
			return nil, err
		}
	}
	y := c.New(out, x.Shape)
	switch out {
	case dtQU8:
		if err := quant.Requantize(y.U8, x.I32, inMin, inMax, outMin, outMax); err != nil {
			return nil, c.Wrap(err)
		}
	case dtQI8:
		if !(outMin <= 0) || !(outMax >= outMin) {
			return nil, c.Errorf("requested output range [%g, %g]: need min <= 0 and max >= min", outMin, outMax)
		}
		for i, v := range x.I32 {
			y.I8[i] = int8(quant.RequantizeInNewRange(quant.QInt32, quant.QInt8, int64(v), inMin, inMax, outMin, outMax))
		}
	default:
		return nil, c.Errorf("out_type %s is not quint8 or qint8", tensor.TypeName(out))
	}
	return []*tensor.Tensor{y, scalarF32(outMin), scalarF32(outMax)}, nil
}

// requantizePerChannel is Intel's RequantizePerChannel (input qint32 NHWC,
// input_min[C], input_max[C], requested_output_min, requested_output_max;
// out_type) → (output, output_min, output_max): code =
// sat(rne(v·scale[c])) with quant.PerChannelRequantScales; the output range
// is the requested one.
func requantizePerChannel(c *Context) ([]*tensor.Tensor, error) {
	x, mins, maxs, err := c.perChannelInputs(5)
	if err != nil {
		return nil, err
	}
	reqMin, reqMax, err := c.rangeInput(3)
	if err != nil {
		return nil, err
	}
	if !(max(-reqMin, reqMax) > 0) {
		return nil, c.Errorf("requested output range [%g, %g] is empty", reqMin, reqMax)
	}
	out := dtQI8
	if c.Has("out_type") {
		if out, err = c.Type("out_type"); err != nil {
			return nil, err
		}
	}
	qt, _ := quantType(out)
	scales := quant.PerChannelRequantScales(qt, mins, maxs, reqMin, reqMax)
	ch := len(scales)
	codes := make([]int32, len(x.I32))
	for i, v := range x.I32 {
		codes[i] = quant.SatRNE(qt, float32(float32(v)*scales[i%ch]))
	}
	y := c.New(out, x.Shape)
	setCodes(y, codes)
	return []*tensor.Tensor{y, scalarF32(reqMin), scalarF32(reqMax)}, nil
}
