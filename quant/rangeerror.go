package quant

import (
	"math"

	"qcal/stats"
)

// RangeError is the quantization error of a range over a histogram of
// values.
type RangeError struct {
	// MSE is the mean squared error (v - Dequantize(Quantize(v)))² over the
	// finite values, in squared float units.
	MSE float64
	// SQNR is the signal-to-quantization-noise ratio in dB:
	// 10·log10(mean v² / MSE); +Inf when MSE is 0 (and the signal is not).
	SQNR float64
	// Clipped is the fraction of the finite values outside the codec's
	// range.
	Clipped float64
	// Step is the float value of one code (Quantization.Step), 0 for other
	// codecs.
	Step float64
}

// errorSamples is the number of points a bin is sampled at.
const errorSamples = 16

// HistogramError measures codec c over histogram h. A histogram keeps no
// individual values, so the values of a bin are taken as spread evenly over
// the part of the bin between h.Min() and h.Max(): each bin is sampled at
// 16 evenly spaced points (the midpoints of 16 equal sub-intervals), each
// carrying 1/16 of the bin's count, for MSE, signal power and clipping
// alike. (Taking each bin at its center instead biases the error where the
// quantization step is a multiple of the bin width; see stats.MSE.) NaN
// and ±Inf values are not counted. An empty histogram gives a zero
// RangeError.
func HistogramError(h *stats.Histogram, c Codec) RangeError {
	var re RangeError
	if z, ok := c.(Quantization); ok {
		re.Step = float64(z.Step())
	}
	if h.Count() == 0 {
		return re
	}
	lo, hi := c.Range()
	vmin, vmax := float64(h.Min()), float64(h.Max())
	edges := h.Edges()
	var sq, sig, clipped, n float64
	for j, count := range h.Counts() {
		if count == 0 {
			continue
		}
		a, b := max(edges[j], vmin), min(edges[j+1], vmax) // a <= b: the bin holds a value
		wgt := float64(count) / errorSamples
		for s := range errorSamples {
			x := float32(a + (b-a)*(float64(s)+0.5)/errorSamples)
			d := float64(x) - float64(c.Dequantize(c.Quantize(x)))
			sq += wgt * d * d
			sig += wgt * float64(x) * float64(x)
			if x < lo || x > hi {
				clipped += wgt
			}
		}
		n += float64(count)
	}
	re.MSE = sq / n
	re.Clipped = clipped / n
	switch {
	case re.MSE > 0:
		re.SQNR = 10 * math.Log10(sig/n/re.MSE)
	case sig > 0:
		re.SQNR = math.Inf(1)
	}
	return re
}
