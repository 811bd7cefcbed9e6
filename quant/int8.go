package quant

import (
	"errors"
	"fmt"
	"math"
)

// This file reproduces TensorFlow's int8 arithmetic on the CPU reference
// kernels, operation by operation, from these sources (facts, re-implemented):
//   - tensorflow/core/kernels/quantize_op.cc: QuantizeV2 (range
//     adjustment, SCALED, MIN_FIRST, round modes);
//   - tensorflow/core/kernels/dequantize_op.cc: Dequantize;
//   - tensorflow/core/kernels/quantization_utils.h: FloatToQuantized,
//     QuantizedToFloat, FloatForOneQuantizedLevel,
//     QuantizationRangeForMultiplication, FloatToQuantizedStruct and
//     QuantizedToFloatStruct (the Eigen paths), RequantizeManyInNewRange and
//     its fixed-point qint32 → quint8 specialisation;
//   - tensorflow/core/kernels/requantization_range_op.cc: RequantizationRange;
//   - tensorflow/core/kernels/requantize.cc: Requantize;
//   - tensorflow/core/kernels/mkl/mkl_quantized_conv_ops.h:
//     MklQuantizationRangeForMultiplication (the output range of Intel's
//     fused quantized convolutions);
//   - tensorflow/core/ops/array_ops.cc: the attribute defaults.
//
// Every float32 operation TF does in float is done here in float32 and
// rounded on its own (each product is converted explicitly, so Go never
// fuses a multiply-add); TF's double operations are done in float64. TF's
// MKL (oneDNN) kernels compute some of these with other roundings and may
// differ by one level.

// Type is a TensorFlow quantized type.
type Type uint8

const (
	// QUInt8 is DT_QUINT8: 0..255.
	QUInt8 Type = iota + 1
	// QInt8 is DT_QINT8: -128..127.
	QInt8
	// QInt32 is DT_QINT32: -2³¹..2³¹-1.
	QInt32
)

func (t Type) String() string {
	switch t {
	case QUInt8:
		return "quint8"
	case QInt8:
		return "qint8"
	case QInt32:
		return "qint32"
	}
	return fmt.Sprintf("Type(%d)", uint8(t))
}

// Lowest returns the type's smallest value.
func (t Type) Lowest() int64 {
	switch t {
	case QInt8:
		return math.MinInt8
	case QInt32:
		return math.MinInt32
	}
	return 0
}

// Highest returns the type's largest value.
func (t Type) Highest() int64 {
	switch t {
	case QInt8:
		return math.MaxInt8
	case QInt32:
		return math.MaxInt32
	}
	return math.MaxUint8
}

// Bits returns the type's width in bits.
func (t Type) Bits() int {
	if t == QInt32 {
		return 32
	}
	return 8
}

func (t Type) valid() bool { return t >= QUInt8 && t <= QInt32 }

// Mode is the mode attribute of QuantizeV2 and Dequantize.
type Mode uint8

const (
	// MinFirst is TF's MIN_FIRST: an affine map of [min, max] onto all
	// 2^bits codes, with min rounded onto the grid.
	MinFirst Mode = iota + 1
	// Scaled is TF's SCALED: a scale only, zero maps to code 0; the range
	// is made symmetric for signed types.
	Scaled
)

func (m Mode) String() string {
	switch m {
	case MinFirst:
		return "MIN_FIRST"
	case Scaled:
		return "SCALED"
	}
	return fmt.Sprintf("Mode(%d)", uint8(m))
}

// RoundMode is QuantizeV2's round_mode attribute.
type RoundMode uint8

const (
	// HalfAwayFromZero rounds 2.5 to 3 and -2.5 to -3 (std::round); TF's
	// default.
	HalfAwayFromZero RoundMode = iota + 1
	// HalfToEven rounds 2.5 to 2 and 3.5 to 4; TF allows it with SCALED
	// only. Intel's quantized graphs use it (TF-FORMATS §6).
	HalfToEven
)

func (r RoundMode) String() string {
	switch r {
	case HalfAwayFromZero:
		return "HALF_AWAY_FROM_ZERO"
	case HalfToEven:
		return "HALF_TO_EVEN"
	}
	return fmt.Sprintf("RoundMode(%d)", uint8(r))
}

// DefaultEnsureMinimumRange is QuantizeV2's default ensure_minimum_range.
const DefaultEnsureMinimumRange = 0.01

// QuantizeV2 holds the attributes of a TensorFlow QuantizeV2 node. TF's
// defaults are MIN_COMBINED (not supported here), HALF_AWAY_FROM_ZERO,
// narrow_range false and ensure_minimum_range 0.01; the zero value of
// EnsureMinimumRange means 0, not the default.
type QuantizeV2 struct {
	T                  Type
	Mode               Mode
	RoundMode          RoundMode
	NarrowRange        bool
	EnsureMinimumRange float32
}

// IntelQuantizeV2 returns the QuantizeV2 of Intel's eightbit graphs:
// SCALED, HALF_TO_EVEN, ensure_minimum_range 0.01, for type t.
func IntelQuantizeV2(t Type) QuantizeV2 {
	return QuantizeV2{T: t, Mode: Scaled, RoundMode: HalfToEven, EnsureMinimumRange: DefaultEnsureMinimumRange}
}

// Quantization is a QuantizeV2 node applied to one input range: it maps
// floats to codes as the node does, and codes back to floats as a
// Dequantize node with the same mode and narrow_range does given the
// node's output range. It implements Codec.
type Quantization struct {
	T           Type
	Mode        Mode
	RoundMode   RoundMode
	NarrowRange bool
	// Min and Max are the node's output_min and output_max: the range
	// after TF's adjustments, the one Dequantize receives.
	Min, Max float32

	scale          float32 // SCALED: codes per float
	rangeScale     float32 // MIN_FIRST: FloatToQuantizedStruct.range_scale
	rangeMinScaled float32 // MIN_FIRST: FloatToQuantizedStruct.range_min_scaled
	deqScale       float32 // Dequantize: float per code
	deqOffset      float32 // Dequantize MIN_FIRST: range_min_rounded - lowest·range_scale
}

// Prepare applies the node to the input range [minRange, maxRange] (its
// min_range and max_range inputs) as TF's kernel does:
//
//	min_range = min(0, minRange)
//	epsilon   = max(1, max(|minRange|, |maxRange|)) · ensure_minimum_range
//	max_range = max(0, max(maxRange, min_range + epsilon))
//
// then, for SCALED, with lo = lowest(T) (+1 with narrow_range) and
// hi = highest(T):
//
//	scale     = min(lo/min_range if lo·min_range > 0 else FLT_MAX,
//	                hi/max_range if hi·max_range > 0 else FLT_MAX)
//	min_range = lo/scale, max_range = hi/scale
//
// (so a signed type gets the symmetric range of the larger side), all in
// float32. For MIN_FIRST the range stays [min_range, max_range] and
// range_scale = (2^bits - 1)/(max_range - min_range) (computed in float64,
// stored as float32), range_min_scaled = round(min_range·range_scale).
//
// It returns an error where TF's kernel fails (max < min; HALF_TO_EVEN
// without SCALED) and for NaN or infinite ranges, unknown attributes, and
// a negative ensure_minimum_range.
func (q QuantizeV2) Prepare(minRange, maxRange float32) (Quantization, error) {
	z := Quantization{T: q.T, Mode: q.Mode, RoundMode: q.RoundMode, NarrowRange: q.NarrowRange}
	switch {
	case !q.T.valid():
		return z, fmt.Errorf("quantize: unsupported type %v", q.T)
	case q.Mode != Scaled && q.Mode != MinFirst:
		return z, fmt.Errorf("quantize: unsupported mode %v", q.Mode)
	case q.RoundMode != HalfAwayFromZero && q.RoundMode != HalfToEven:
		return z, fmt.Errorf("quantize: unsupported round mode %v", q.RoundMode)
	case q.RoundMode == HalfToEven && q.Mode != Scaled:
		return z, fmt.Errorf("quantize: round mode HALF_TO_EVEN is only supported with mode SCALED, not %v", q.Mode)
	case !finite(minRange) || !finite(maxRange):
		return z, fmt.Errorf("quantize: range [%g, %g] is not finite", minRange, maxRange)
	case maxRange < minRange:
		return z, fmt.Errorf("quantize: input_max_range %g must be larger than input_min_range %g", maxRange, minRange)
	case !(q.EnsureMinimumRange >= 0) || !finite(q.EnsureMinimumRange):
		return z, fmt.Errorf("quantize: ensure_minimum_range %g must be a finite number >= 0", q.EnsureMinimumRange)
	}
	lo, hi := adjustRange(minRange, maxRange, q.EnsureMinimumRange)
	if q.Mode == Scaled {
		minOut := float32(q.T.Lowest())
		if q.NarrowRange {
			minOut = float32(q.T.Lowest() + 1)
		}
		maxOut := float32(q.T.Highest())
		fromMin, fromMax := float32(math.MaxFloat32), float32(math.MaxFloat32)
		if float32(minOut*lo) > 0 {
			fromMin = minOut / lo
		}
		if float32(maxOut*hi) > 0 {
			fromMax = maxOut / hi
		}
		z.scale = min(fromMin, fromMax)
		z.Min, z.Max = minOut/z.scale, maxOut/z.scale
	} else {
		z.Min, z.Max = lo, hi
		if hi != lo {
			steps := math.Ldexp(1, q.T.Bits())
			z.rangeScale = float32((steps - 1.0) / float64(hi-lo))
		}
		z.rangeMinScaled = float32(math.Round(float64(float32(lo * z.rangeScale))))
	}
	z.deqScale, z.deqOffset = dequantizeParams(q.T, q.Mode, q.NarrowRange, z.Min, z.Max)
	return z, nil
}

// adjustRange is QuantizeV2's range adjustment (see Prepare).
func adjustRange(minRange, maxRange, ensureMinimumRange float32) (lo, hi float32) {
	lo = 0
	if minRange < 0 {
		lo = minRange
	}
	absMin := float32(math.Abs(float64(minRange)))
	absMax := float32(math.Abs(float64(maxRange)))
	eps := float32(max(1, max(absMin, absMax)) * ensureMinimumRange)
	hi = maxRange
	if s := lo + eps; maxRange < s {
		hi = s
	}
	return lo, max(0, hi)
}

func finite(v float32) bool { return !math.IsNaN(float64(v)) && !math.IsInf(float64(v), 0) }

// Range returns the output range (Min, Max). It implements Codec.
func (z Quantization) Range() (min, max float32) { return z.Min, z.Max }

// Step returns the float value of one code, as Dequantize computes it:
// SCALED: the dequantization scale; MIN_FIRST: (max - min)/(2^bits - 1).
func (z Quantization) Step() float32 { return z.deqScale }

// Quantize returns the code of v. NaN gives 0 (TF's result is undefined).
//
// SCALED: round(clamp(v, Min, Max)·scale) with the node's round mode.
// MIN_FIRST (TF's QUANTIZE_WITH_EIGEN): round(v·range_scale) -
// (range_min_scaled - lowest), half away from zero, clamped to the type
// (to [-2147483648, 2147483520] for qint32, the float bounds TF uses). All
// float32. A SCALED qint32 code is saturated too (TF's cast overflows).
func (z Quantization) Quantize(v float32) int32 {
	if v != v {
		return 0
	}
	var r float64
	if z.Mode == Scaled {
		x := float32(min(max(v, z.Min), z.Max) * z.scale)
		if z.RoundMode == HalfToEven {
			r = math.RoundToEven(float64(x))
		} else {
			r = math.Round(float64(x))
		}
		r = min(max(r, float64(z.T.Lowest())), float64(z.T.Highest()))
		return int32(r)
	}
	x := float32(math.Round(float64(float32(v * z.rangeScale))))
	x = x - float32(z.rangeMinScaled-float32(z.T.Lowest()))
	lo, hi := float32(z.T.Lowest()), float32(z.T.Highest())
	if z.T == QInt32 {
		hi = 2.147483520e+09 // the largest float32 below 2³¹
	}
	return int32(min(max(x, lo), hi))
}

// MinFirstParams returns the two float32 constants of MIN_FIRST
// quantization (see Quantize): range_scale and range_min_scaled; zeros in
// SCALED mode. Kernels with a loop of their own use them.
func (z Quantization) MinFirstParams() (rangeScale, rangeMinScaled float32) {
	return z.rangeScale, z.rangeMinScaled
}

// QuantizeSlice quantizes src into dst (same length).
func (z Quantization) QuantizeSlice(dst []int32, src []float32) {
	if len(dst) != len(src) {
		panic("quant: QuantizeSlice: len(dst) != len(src)")
	}
	for i, v := range src {
		dst[i] = z.Quantize(v)
	}
}

// Dequantize returns the float of code c as TF's Dequantize node with the
// same mode and narrow_range does given [Min, Max]. It implements Codec.
//
// SCALED: c·s with s = Max/highest for quint8, else
// max(Min/lo, Max/highest), lo = lowest (+1 with narrow_range).
// MIN_FIRST (TF's DEQUANTIZE_WITH_EIGEN): range_scale = (Max - Min)/(2^bits - 1)
// (float64 division, stored as float32), range_min_rounded =
// round(Min/range_scale)·range_scale, and
// c·range_scale + (range_min_rounded - lowest·range_scale), in float32.
func (z Quantization) Dequantize(c int32) float32 {
	return float32(float32(c)*z.deqScale) + z.deqOffset
}

// DequantizeSlice dequantizes src into dst (same length).
func (z Quantization) DequantizeSlice(dst []float32, src []int32) {
	if len(dst) != len(src) {
		panic("quant: DequantizeSlice: len(dst) != len(src)")
	}
	for i, c := range src {
		dst[i] = z.Dequantize(c)
	}
}

// Dequantize returns TF's Dequantize of code c of type t in the given mode
// and range [minRange, maxRange] (see Quantization.Dequantize).
func Dequantize(t Type, mode Mode, narrowRange bool, c int32, minRange, maxRange float32) float32 {
	s, off := dequantizeParams(t, mode, narrowRange, minRange, maxRange)
	return float32(float32(c)*s) + off
}

func dequantizeParams(t Type, mode Mode, narrow bool, minRange, maxRange float32) (scale, offset float32) {
	if mode == Scaled {
		highest := float32(t.Highest())
		if t.Lowest() == 0 {
			return maxRange / highest, 0
		}
		minOut := float32(t.Lowest())
		if narrow {
			minOut = float32(t.Lowest() + 1)
		}
		return max(minRange/minOut, maxRange/highest), 0
	}
	steps := math.Ldexp(1, t.Bits())
	rs := float32(float64(maxRange-minRange) / (steps - 1.0))
	rmr := minRange
	if maxRange != minRange {
		rmr = float32(float32(math.Round(float64(minRange/rs))) * rs)
	}
	return rs, rmr - float32(float32(t.Lowest())*rs)
}

// Codec maps floats to codes and back, over a representable range.
// Quantization implements it.
type Codec interface {
	Quantize(v float32) int32
	Dequantize(c int32) float32
	Range() (min, max float32)
}

// FloatToQuantizedUnclamped is TF's FloatToQuantizedUnclamped<T>: with
// steps = 2^bits, range = (max - min)·steps/(steps - 1) and
// range_scale = steps/range in float64,
// round(v·range_scale) - round(min·range_scale) + lowest (half away from
// zero). min == max gives lowest.
func FloatToQuantizedUnclamped(t Type, v, minRange, maxRange float32) int64 {
	lowest := t.Lowest()
	if minRange == maxRange {
		return lowest
	}
	steps := math.Ldexp(1, t.Bits())
	rangeAdjust := steps / (steps - 1.0)
	rng := float64(maxRange-minRange) * rangeAdjust
	rangeScale := steps / rng
	q := math.Round(float64(v)*rangeScale) - math.Round(float64(minRange)*rangeScale)
	return int64(q) + lowest
}

// FloatToQuantized is TF's FloatToQuantized<T>: FloatToQuantizedUnclamped
// clamped to the type.
func FloatToQuantized(t Type, v, minRange, maxRange float32) int64 {
	return min(max(FloatToQuantizedUnclamped(t, v, minRange, maxRange), t.Lowest()), t.Highest())
}

// QuantizedToFloat is TF's QuantizedToFloat<T>, the rule by which a code
// of type t in the float range [minRange, maxRange] means a float: with
// steps = 2^bits, range = (max - min)·steps/(steps - 1) and
// range_scale = range/steps in float64,
//
//	range_min_rounded = round(min/float32(range_scale))·float32(range_scale)
//	result = float32(range_min_rounded + (code - lowest)·range_scale)
//
// The range_min_rounded product is a float32 product: the kernels that use
// it include <math.h>, whose C++ wrapper makes round(float) the float
// overload. min == max gives min.
func QuantizedToFloat(t Type, code int64, minRange, maxRange float32) float32 {
	return NewDequantizer(t, minRange, maxRange).Float(code)
}

// A Dequantizer applies QuantizedToFloat for one type and range to many
// codes, with the per-range arithmetic done once.
type Dequantizer struct {
	flat          bool    // min == max: every code means min
	min           float32 // for flat
	base          float64 // range_min_rounded
	lowest, scale float64 // lowest(t), range_scale
}

// NewDequantizer returns the Dequantizer for codes of type t in the float
// range [minRange, maxRange].
func NewDequantizer(t Type, minRange, maxRange float32) Dequantizer {
	if minRange == maxRange {
		return Dequantizer{flat: true, min: minRange}
	}
	steps := math.Ldexp(1, t.Bits())
	rangeAdjust := steps / (steps - 1.0)
	rng := float64(maxRange-minRange) * rangeAdjust
	rangeScale := rng / steps
	rs32 := float32(rangeScale)
	rmr := float32(float32(math.Round(float64(minRange/rs32))) * rs32)
	return Dequantizer{base: float64(rmr), lowest: float64(t.Lowest()), scale: rangeScale}
}

// Float returns the float that code means.
func (d Dequantizer) Float(code int64) float32 {
	return d.float(float64(code))
}

func (d Dequantizer) float(code float64) float32 {
	if d.flat {
		return d.min
	}
	return float32(d.base + (code-d.lowest)*d.scale)
}

// Floats stores in dst[i] the float that codes[i] means, for codes that
// are integers held exactly as float64 (as logparse's Values64), for i
// below the shorter length, and returns how many it stored.
func (d Dequantizer) Floats(dst []float32, codes []float64) int {
	n := min(len(dst), len(codes))
	for i, c := range codes[:n] {
		dst[i] = d.float(c)
	}
	return n
}

// FloatForOneQuantizedLevel is TF's FloatForOneQuantizedLevel<T>:
// (max - min)/(highest - lowest) in float32 (for qint32 the divisor
// 2³²-1 rounds to 2³² as a float32).
func FloatForOneQuantizedLevel(t Type, minRange, maxRange float32) float32 {
	return (maxRange - minRange) / float32(t.Highest()-t.Lowest())
}

// RangeForMultiplication is TF's QuantizationRangeForMultiplication<Ta, Tb, Tc>:
// the float range of the product of a code of ta in [minA, maxA] and one of
// tb in [minB, maxB], stored as tc (the output range of QuantizedConv2D and
// QuantizedMatMul with qint32 output): with
// level = FloatForOneQuantizedLevel(ta)·FloatForOneQuantizedLevel(tb),
// [level·lowest(tc), level·highest(tc)], in float32.
func RangeForMultiplication(ta, tb, tc Type, minA, maxA, minB, maxB float32) (minC, maxC float32) {
	level := float32(FloatForOneQuantizedLevel(ta, minA, maxA) * FloatForOneQuantizedLevel(tb, minB, maxB))
	return float32(level * float32(tc.Lowest())), float32(level * float32(tc.Highest()))
}

// MklRangeForMultiplication is MklQuantizationRangeForMultiplication, the
// output range of Intel's fused quantized convolutions and matmuls
// (QuantizedConv2DWithBias..., TF-FORMATS §6): as RangeForMultiplication
// but a signed type's level is (max - min)/(highest - lowest - 1): qint8
// counts 254 steps ([-127, 127]), qint32 2³²-2.
func MklRangeForMultiplication(ta, tb, tc Type, minA, maxA, minB, maxB float32) (minC, maxC float32) {
	level := float32(mklLevel(ta, minA, maxA) * mklLevel(tb, minB, maxB))
	return float32(level * float32(tc.Lowest())), float32(level * float32(tc.Highest()))
}

func mklLevel(t Type, minRange, maxRange float32) float32 {
	lowest := t.Lowest()
	if lowest < -t.Highest() {
		lowest++
	}
	return (maxRange - minRange) / float32(t.Highest()-lowest)
}

// RequantizationRange is TF's RequantizationRange on qint32 data whose float
// range is [inMin, inMax]: the float values (QuantizedToFloat) of the
// smallest and largest codes present, the smaller one raised to at most 0:
// outMin = min(0, float(min code)), outMax = float(max code). An empty
// tensor gives the values of the codes TF starts from (highest for the
// minimum, lowest for the maximum).
func RequantizationRange(data []int32, inMin, inMax float32) (outMin, outMax float32) {
	lo, hi := int32(math.MaxInt32), int32(math.MinInt32)
	for _, v := range data {
		lo = min(lo, v)
		hi = max(hi, v)
	}
	outMin = QuantizedToFloat(QInt32, int64(lo), inMin, inMax)
	if !(outMin < 0) {
		outMin = 0
	}
	return outMin, QuantizedToFloat(QInt32, int64(hi), inMin, inMax)
}

// Requantize is TF's Requantize (qint32 → quint8) on the CPU: codes of src
// in the float range [inMin, inMax] are mapped to quint8 codes of the
// requested range [outMin, outMax] into dst (same length), with TF's
// fixed-point specialisation of RequantizeManyInNewRange (fp_shift 16):
//
//	input_range  = inMax - inMin, output_range = outMax - outMin   (float32)
//	recip        = float32(255.0/output_range)                       (0 if output_range is 0)
//	rezero       = float32((inMin + inMax)/2)
//	scale_fp     = int64(255.0·65536·input_range/output_range)      (float64)
//	in_offset    = int64(rezero·recip·65536)                         (float32)
//	out_offset   = int64(65536·(outMin·255.0)/output_range)          (float64)
//	code         = clamp((((v·scale_fp) >> 32) + in_offset - out_offset + 32768) >> 16, 0, 255)
//
// (conversions truncate toward zero, shifts are arithmetic; a product
// that overflows int64 wraps). Rounding is half up, not TF's QuantizeV2
// rounding. The output range is the requested one. As TF, it fails unless
// outMin <= 0 <= outMax.
func Requantize(dst []uint8, src []int32, inMin, inMax, outMin, outMax float32) error {
	if len(dst) != len(src) {
		panic("quant: Requantize: len(dst) != len(src)")
	}
	if !(outMin <= 0) {
		return fmt.Errorf("requantize: requested_output_min must be <= 0, got %g", outMin)
	}
	if !(outMax >= 0) {
		return fmt.Errorf("requantize: requested_output_max must be >= 0, got %g", outMax)
	}
	if !finite(inMin) || !finite(inMax) || !finite(outMax) || !finite(outMin) {
		return errors.New("requantize: ranges must be finite")
	}
	const fpShift = 16
	inputRange := inMax - inMin
	outputRange := outMax - outMin
	var recip float32
	if outputRange != 0 {
		recip = float32(255.0 / float64(outputRange))
	}
	rezero := float32(float64(inMin+inMax) / 2.0)
	var scaleFP, outOffsetFP int64
	if outputRange != 0 {
		scaleFP = truncInt64(255.0 * (1 << fpShift) * float64(inputRange) / float64(outputRange))
		outOffsetFP = truncInt64((1 << fpShift) * (float64(outMin) * 255.0) / float64(outputRange))
	}
	inOffsetFP := truncInt64(float64(float32(float32(rezero*recip) * (1 << fpShift))))
	const roundingDelta = 1 << (fpShift - 1)
	add := inOffsetFP - outOffsetFP + roundingDelta
	for i, v := range src {
		q := (((int64(v) * scaleFP) >> 32) + add) >> fpShift
		dst[i] = uint8(min(max(q, 0), 255))
	}
	return nil
}

// truncInt64 converts like C++'s static_cast<int64>, saturating where C++
// is undefined.
func truncInt64(x float64) int64 {
	switch {
	case x != x:
		return 0
	case x >= math.MaxInt64:
		return math.MaxInt64
	case x <= math.MinInt64:
		return math.MinInt64
	}
	return int64(x)
}

// RequantizeInNewRange is TF's RequantizeInNewRange<T1, T2>, the reference
// path of Requantize: FloatToQuantized(to, QuantizedToFloat(from, code,
// inMin, inMax), outMin, outMax).
func RequantizeInNewRange(from, to Type, code int64, inMin, inMax, outMin, outMax float32) int64 {
	return FloatToQuantized(to, QuantizedToFloat(from, code, inMin, inMax), outMin, outMax)
}
