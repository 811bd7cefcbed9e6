package quant

import (
	"errors"
	"fmt"
	"math"
)

// This file holds the weight rules of quantize_graph.py's eightbit mode
// (IntelAI/tools tensorflow_quantization/quantization/quantize_graph.py:
// quantize_weight_eightbit and intel_cpu_quantize_weight_eightbit), facts
// re-implemented.

// WeightRange is the range quantize_graph gives a weight tensor before it
// calls QuantizeV2 on it: the minimum and maximum of w, with the minimum
// raised to at most 0, and, when they are then equal (all values equal and
// ≤ 0), the maximum moved off the minimum: to min+1 if |min| < 1e-6, else
// to min/2 (numpy float64 arithmetic, stored as float32). It fails for an
// empty w (numpy's min of nothing) and for NaN or infinite values, where
// TF's QuantizeV2 fails or produces garbage.
func WeightRange(w []float32) (lo, hi float32, err error) {
	if len(w) == 0 {
		return 0, 0, errors.New("weight has no elements")
	}
	lo, hi = w[0], w[0]
	for _, v := range w {
		if !finite(v) {
			return 0, 0, fmt.Errorf("weight holds %g", v)
		}
		lo, hi = min(lo, v), max(hi, v)
	}
	if lo > 0 {
		lo = 0
	}
	if lo == hi {
		switch {
		case math.Abs(float64(lo)) < 0.000001:
			hi = float32(float64(lo) + 1.0)
		case lo > 0: // unreachable after the clamp above; kept as the tool has it
			hi = float32(2 * float64(lo))
		default:
			hi = float32(float64(lo) / 2.0)
		}
	}
	return lo, hi, nil
}

// PerChannelEpsilon is the smallest channel range of Intel's per-channel
// weights (intel_cpu_quantize_weight_eightbit's epsilon).
const PerChannelEpsilon = 1e-4

// WeightRounding is how per-channel weight codes are made from
// w·127/r.
type WeightRounding int

const (
	// Truncate rounds toward zero, as Intel's script does (numpy's
	// astype(int8)): every code loses 0.5 steps of magnitude on average.
	Truncate WeightRounding = iota
	// RoundHalfEven rounds to the nearest code, ties to even (what
	// QuantizeV2 SCALED with HALF_TO_EVEN does for per-tensor weights).
	RoundHalfEven
)

// PerChannelQInt8 quantizes w, whose innermost axis has the given number
// of channels (element i belongs to channel i mod channels), as Intel's
// per-channel and depthwise weights are: r[c] = max |w| over the channel,
// raised to at least PerChannelEpsilon, then
//
//	code = int8(trunc(float32(float32(w·127)/r[c])))
//
// in float32 (numpy: the array times 127.0, then divided by the ranges),
// truncated toward zero by astype(int8); with RoundHalfEven the quotient
// is rounded to the nearest integer instead (|quotient| ≤ 127, so no code
// saturates). The channel ranges are [-r, r]. It panics if channels does
// not divide len(w) or is not positive.
func PerChannelQInt8(w []float32, channels int, rounding WeightRounding) (codes []int8, ranges []float32) {
	if channels <= 0 || len(w)%channels != 0 {
		panic("quant: PerChannelQInt8: channels does not divide len(w)")
	}
	ranges = make([]float32, channels)
	for i, v := range w {
		c := i % channels
		ranges[c] = max(ranges[c], float32(math.Abs(float64(v))))
	}
	for c, r := range ranges {
		if r < PerChannelEpsilon {
			ranges[c] = PerChannelEpsilon
		}
	}
	codes = make([]int8, len(w))
	for i, v := range w {
		q := float32(float32(v*127.0) / ranges[i%channels])
		if rounding == RoundHalfEven {
			q = float32(math.RoundToEven(float64(q)))
		}
		codes[i] = int8(q)
	}
	return codes, ranges
}
