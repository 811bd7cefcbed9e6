package kernels

import (
	"math"

	"qcal/internal/tensor"
	"qcal/quant"
)

// Intel's QuantizedConv2DWithBias[Signed]SumAndRelu[AndRequantize]: the
// convolution of int8_conv.go with a summand added before the Relu
// (mkl_conv_ops.cc, MklQuantizedConv2DSumReluOp, mkldnn 0.x):
//
//   - qint32 output (inputs x, w, bias, min_x, max_x, min_w, max_w,
//     summand): the float summand is first brought to the accumulator's
//     scale by a reorder, prev = sat_s32(rne(s·255·127/(R_x·R_w[c]))), and
//     the sum post-op with scale 1 adds it: d = (acc + b') + prev.
//   - AndRequantize (inputs …, min_freezed_output, max_freezed_output,
//     summand, min_summand, max_summand): the summand's codes are the
//     output buffer's previous contents; the sum post-op adds them times
//     R_s/R_o (quint8 summand) or 255·R_s/(127·R_o) (qint8 summand, the
//     Signed op) as one fused multiply-add after the output scale. TF hands
//     a qint8 summand's bytes to oneDNN as quint8, so a negative code c
//     counts as c + 256: reproduced here.

func init() {
	for op, s := range map[string]struct{ requant, signed bool }{
		"QuantizedConv2DWithBiasSumAndRelu":                    {},
		"QuantizedConv2DWithBiasSumAndReluAndRequantize":       {requant: true},
		"QuantizedConv2DWithBiasSignedSumAndReluAndRequantize": {requant: true, signed: true},
	} {
		Register(Def{Op: op, Run: mklConvSum(s.requant, s.signed), Check: checkAll(CheckType("Tinput", dtQU8), CheckType("Tfilter", dtQI8),
			CheckType("out_type", dtQI32, dtQU8), CheckType("Tsummand", dtQU8, dtQI8, dtF32), checkPadding)})
	}
}

// fma32 is a float32 fused multiply-add a·b + c (computed exactly in
// float64 and rounded twice; the two roundings can differ from one in
// rare ties).
func fma32(a, b, c float32) float32 { return float32(math.FMA(float64(a), float64(b), float64(c))) }

func mklConvSum(requant, signed bool) Kernel {
	return func(c *Context) ([]*tensor.Tensor, error) {
		want := 8
		if requant {
			want = 12
		}
		if err := c.WantInputs(want); err != nil {
			return nil, err
		}
		x, w, err := c.quantOperands(dtQU8, dtQI8)
		if err != nil {
			return nil, err
		}
		n, ch, oc, win, err := convGeometry(c, false)
		if err != nil {
			return nil, err
		}
		minX, maxX, err := c.rangeInput(3)
		if err != nil {
			return nil, err
		}
		minW, maxW, err := c.filterRanges(5, oc)
		if err != nil {
			return nil, err
		}
		bias, err := c.fusedBias(true, oc, minX, maxX, minW, maxW)
		if err != nil {
			return nil, err
		}
		shape := []int{n, win.OH, win.OW, oc}
		si := 7
		if requant {
			si = 9
		}
		sum := c.Inputs[si]
		if tensor.NumElements(sum.Shape) != tensor.NumElements(shape) {
			return nil, c.Errorf("summand %s does not match the output %s", tensor.ShapeString(sum.Shape), tensor.ShapeString(shape))
		}
		acc := make([]int32, tensor.NumElements(shape))
		ConvU8S8(x.U8, n, ch, w.I8, oc, win, 0, acc, c.Scratch)
		if !requant {
			if sum.DType != dtF32 {
				return nil, c.Errorf("summand is %s, want float (TF: \"Current fusion requires summand to be float\")", tensor.TypeName(sum.DType))
			}
			y := c.New(dtQI32, shape)
			for i, v := range acc {
				j := i % oc
				s := quant.FusedConvBiasScale(quant.QUInt8, minX, maxX, at(minW, j), at(maxW, j))
				prev := float32(quant.SatRNE(quant.QInt32, sum.F32[i]*s))
				d := float32(v) + bias[j]
				d += prev
				y.I32[i] = quant.SatRNE(quant.QInt32, max(d, 0))
			}
			mins := make([]float32, len(minW))
			maxs := make([]float32, len(minW))
			for j := range minW {
				mins[j], maxs[j] = quant.MklRangeForMultiplication(quant.QUInt8, quant.QInt8, quant.QInt32, minX, maxX, minW[j], maxW[j])
			}
			return []*tensor.Tensor{y, rangeTensor(mins), rangeTensor(maxs)}, nil
		}
		minO, maxO, err := c.rangeInput(7)
		if err != nil {
			return nil, err
		}
		minS, maxS, err := c.rangeInput(10)
		if err != nil {
			return nil, err
		}
		var prev []int32
		ro, rs := max(abs32(minO), abs32(maxO)), max(abs32(minS), abs32(maxS))
		sumScale := rs / ro
		switch {
		case sum.DType == dtQU8 && !signed:
			prev = codesOf(sum)
		case sum.DType == dtQI8 && signed:
			prev = make([]int32, len(sum.I8))
			for i, v := range sum.I8 {
				prev[i] = int32(uint8(v)) // TF passes the bytes as quint8
			}
			sumScale = 255 * rs / (ro * 127)
		default:
			return nil, c.Errorf("summand is %s: the Signed op takes qint8, the other quint8", tensor.TypeName(sum.DType))
		}
		y := c.New(dtQU8, shape)
		for i, v := range acc {
			j := i % oc
			s := quant.FusedConvRequantScale(quant.QUInt8, quant.QUInt8, minX, maxX, at(minW, j), at(maxW, j), minO, maxO)
			d := (float32(v) + bias[j]) * s
			d = fma32(sumScale, float32(prev[i]), d)
			y.U8[i] = uint8(quant.SatRNE(quant.QUInt8, max(d, 0)))
		}
		return []*tensor.Tensor{y, scalarF32(minO), scalarF32(maxO)}, nil
	}
}
