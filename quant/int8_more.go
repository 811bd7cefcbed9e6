package quant

import (
	"fmt"
	"math"
)

// This file adds the pieces of TensorFlow 1.14/1.15's int8 arithmetic that
// the kernels need beyond int8.go: the 1.x range adjustment (epsilon by a
// division), Intel's _MklQuantizeV2 SCALED quantizer, Dequantize's
// MIN_COMBINED mode, and the scales of Intel's fused convolutions and
// per-channel requantization (INT8-ARITHMETIC.md §0, §2.1, §2.2, §2.4).
// Facts from tensorflow/core/kernels/quantize_op.cc,
// dequantize_op.cc and mkl/mkl_{quantize,conv,requantize_per_channel}_op.cc
// at v1.15.0; re-implemented.

// AdjustRangeTF1 is QuantizeV2's range adjustment as TF 1.x up to 2.0
// computes it (INT8-ARITHMETIC §0.5), all in float32:
//
//	lo  = min(0, minRange)
//	eps = max(1, max(|minRange|, |maxRange|)) / 100
//	hi  = max(0, max(maxRange, lo + eps))
//
// The division can differ from the newer ·0.01 in the last bit. The
// adjusted range is a fixed point of the adjustment with
// ensure_minimum_range 0, so QuantizeV2{EnsureMinimumRange: 0}.Prepare(lo, hi)
// then reproduces TF 1.x.
func AdjustRangeTF1(minRange, maxRange float32) (lo, hi float32) {
	lo = min(0, minRange)
	absMin := float32(math.Abs(float64(minRange)))
	absMax := float32(math.Abs(float64(maxRange)))
	eps := max(1, max(absMin, absMax)) / 100
	hi = max(maxRange, lo+eps)
	return lo, max(0, hi)
}

// MklScaled is Intel's _MklQuantizeV2 in SCALED mode applied to one input
// range (INT8-ARITHMETIC §2.1, TF ≤ 2.x with mkl-dnn 0.x): with the range
// adjusted as AdjustRangeTF1 and maxAbs = max(|lo|, |hi|),
//
//	quint8: range [0, maxAbs],       scale = 255/maxAbs
//	qint8:  range [-maxAbs, maxAbs], scale = 127/maxAbs
//
// and a code is sat(rne(v·scale)) (oneDNN's f32 → int8 reorder).
type MklScaled struct {
	T        Type
	Min, Max float32
	Scale    float32
}

// NewMklScaled returns the quantizer of _MklQuantizeV2 SCALED for type t
// (quint8 or qint8) and the input range [minRange, maxRange]. As TF's kernel
// it fails unless maxRange > minRange (an all-zero activation is an error
// there, where the Eigen kernel nudges the range).
func NewMklScaled(t Type, minRange, maxRange float32) (MklScaled, error) {
	if t != QUInt8 && t != QInt8 {
		return MklScaled{}, fmt.Errorf("quantize: _MklQuantizeV2 supports quint8 and qint8, not %v", t)
	}
	if !finite(minRange) || !finite(maxRange) {
		return MklScaled{}, fmt.Errorf("quantize: range [%g, %g] is not finite", minRange, maxRange)
	}
	if !(maxRange > minRange) {
		return MklScaled{}, fmt.Errorf("quantize: _MklQuantizeV2 needs max_range > min_range, got [%g, %g]", minRange, maxRange)
	}
	lo, hi := AdjustRangeTF1(minRange, maxRange)
	maxAbs := max(float32(math.Abs(float64(lo))), float32(math.Abs(float64(hi))))
	z := MklScaled{T: t, Max: maxAbs}
	if t == QInt8 {
		z.Min = -maxAbs
		z.Scale = 127 / maxAbs
	} else {
		z.Scale = 255 / maxAbs
	}
	return z, nil
}

// Quantize returns the code of v: sat(rne(float32(v·Scale))). NaN gives 0.
func (z MklScaled) Quantize(v float32) int32 {
	if v != v {
		return 0
	}
	r := math.RoundToEven(float64(float32(v * z.Scale)))
	return int32(min(max(r, float64(z.T.Lowest())), float64(z.T.Highest())))
}

// DequantizeParams returns the scale s and offset o with which TF's
// Dequantize (modes SCALED and MIN_FIRST) maps a code c to
// float32(float32(c)·s) + o (see Quantization.Dequantize).
func DequantizeParams(t Type, mode Mode, narrowRange bool, minRange, maxRange float32) (scale, offset float32) {
	return dequantizeParams(t, mode, narrowRange, minRange, maxRange)
}

// MinCombinedParams returns the scale and offset of TF's Dequantize in
// MIN_COMBINED mode: with half = 128 for signed 8-bit types (2³¹ for
// qint32) and 0 for quint8, and scale = (max - min)/(highest - lowest) in
// float32, a code c means float32(float32(float32(c) + half)·scale) + min.
// It returns half, scale.
func MinCombinedParams(t Type, minRange, maxRange float32) (half, scale float32) {
	if t.Lowest() < 0 {
		half = (float32(t.Highest()) - float32(t.Lowest()) + 1) / 2
	}
	scale = (maxRange - minRange) / (float32(t.Highest()) - float32(t.Lowest()))
	return half, scale
}

// FusedConvBiasScale is the factor by which Intel's fused quantized
// convolutions bring a float bias to the accumulator's scale
// (INT8-ARITHMETIC §2.4 step 2): K/(R_x·R_w), with R_x = max(|minX|, |maxX|),
// R_w = max(|minW|, |maxW|) and K = 255·127 for a quint8 input (127·127 for
// qint8), in float32.
func FusedConvBiasScale(input Type, minX, maxX, minW, maxW float32) float32 {
	k := float32(255 * 127)
	if input == QInt8 {
		k = 127 * 127
	}
	rx := absMax(minX, maxX)
	rw := absMax(minW, maxW)
	return k / float32(rx*rw)
}

// FusedConvRequantScale is the output scale of Intel's
// QuantizedConv2D…AndRequantize (§2.4 step 4): L·R_x·R_w/(K·R_o), where L
// is 255 for a quint8 output and 127 for qint8, K as FusedConvBiasScale and
// R_o = max(|minO|, |maxO|), in float32 in TF's order:
// ((L·R_x)·R_w) / (K·R_o).
func FusedConvRequantScale(input, output Type, minX, maxX, minW, maxW, minO, maxO float32) float32 {
	k := float32(255 * 127)
	if input == QInt8 {
		k = 127 * 127
	}
	l := float32(255)
	if output == QInt8 {
		l = 127
	}
	rx, rw, ro := absMax(minX, maxX), absMax(minW, maxW), absMax(minO, maxO)
	return float32(float32(float32(l*rx)*rw) / float32(k*ro))
}

func absMax(a, b float32) float32 {
	return max(float32(math.Abs(float64(a))), float32(math.Abs(float64(b))))
}

// SatRNE rounds v half to even and saturates it to type t (oneDNN's
// float → int conversion: vcvtps2dq, then saturating packs). NaN gives 0.
func SatRNE(t Type, v float32) int32 {
	if v != v {
		return 0
	}
	r := math.RoundToEven(float64(v))
	return int32(min(max(r, float64(t.Lowest())), float64(t.Highest())))
}

// PerChannelRange is Intel's RequantizationRangePerChannel on qint32 data
// with channels last (INT8-ARITHMETIC §2.5, mkl_requantization_range_per_channel_op.cc):
// for channel c with codes in [lo_c, hi_c] and range [minC[c], maxC[c]],
//
//	r_c = max(|minC[c]|, |maxC[c]|) · float32(max(|lo_c|, |hi_c|)) / 2³¹
//
// M = min(max_c r_c, clip), and the output is [-M, M], or [0, M] when no
// code is negative. channels must be len(minC) == len(maxC) and divide
// len(data).
func PerChannelRange(data []int32, minC, maxC []float32, clip float32) (outMin, outMax float32) {
	ch := len(minC)
	lo := make([]int32, ch)
	hi := make([]int32, ch)
	for c := range lo {
		lo[c], hi[c] = math.MaxInt32, math.MinInt32
	}
	for i, v := range data {
		c := i % ch
		lo[c] = min(lo[c], v)
		hi[c] = max(hi[c], v)
	}
	nonNeg := true
	m := float32(1.17549435e-38) // TF starts from FLT_MIN (numeric_limits<float>::min())
	for c := 0; c < ch; c++ {
		if len(data) == 0 {
			break
		}
		a := max(abs64(int64(lo[c])), abs64(int64(hi[c])))
		if a > math.MaxInt32 { // std::abs(INT32_MIN) overflows in C; TF gets INT32_MIN back
			a = -a
		}
		r := float32(float32(absMax(minC[c], maxC[c])*float32(a)) / float32(1<<31))
		if lo[c] < 0 {
			nonNeg = false
		}
		m = max(m, r)
	}
	if m > clip {
		m = clip
	}
	if nonNeg {
		return 0, m
	}
	return -m, m
}

func abs64(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// PerChannelRequantScales returns Intel's RequantizePerChannel scales
// (mkl_requantize_per_channel_op.cc): with f = 127 for a qint8 output and
// 255 for quint8 and R = max(|reqMin|, |reqMax|),
// scale[c] = f·(max(|minC[c]|, |maxC[c]|)/R/2³¹), in float32; a code is
// then SatRNE(out, float32(float32(v)·scale[c])).
func PerChannelRequantScales(out Type, minC, maxC []float32, reqMin, reqMax float32) []float32 {
	f := float32(255)
	if out == QInt8 {
		f = 127
	}
	r := absMax(reqMin, reqMax)
	s := make([]float32, len(minC))
	for c := range s {
		s[c] = f * float32(float32(absMax(minC[c], maxC[c])/r)/float32(1<<31))
	}
	return s
}

// NewMinFirst returns TF's Eigen MIN_FIRST quantizer of the range [min, max]
// as it is, without QuantizeV2's adjustment: FloatToQuantizedStruct and
// QuantizedToFloatStruct, as QuantizedConcat and QuantizedBiasAdd use them
// (Quantize is the QUANTIZE macro, Dequantize the DEQUANTIZE macro).
func NewMinFirst(t Type, minRange, maxRange float32) Quantization {
	z := Quantization{T: t, Mode: MinFirst, RoundMode: HalfAwayFromZero, Min: minRange, Max: maxRange}
	if maxRange != minRange {
		steps := math.Ldexp(1, t.Bits())
		z.rangeScale = float32((steps - 1.0) / float64(maxRange-minRange))
	}
	z.rangeMinScaled = float32(math.Round(float64(float32(minRange * z.rangeScale))))
	z.deqScale, z.deqOffset = dequantizeParams(t, MinFirst, false, minRange, maxRange)
	return z
}
