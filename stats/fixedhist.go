package stats

import (
	"math"
	"slices"
)

// FixedHistogram is the histogram Intel's KL calibration searches:
// HistogramBins bins of equal width over [-Th, Th], Th fixed when it is made
// (Intel's get_tensor_histogram: numpy.histogram(values, bins=2048,
// range=(-th, th)) with th = max|v|). Bin j holds the v with
// floor((v + Th)·1024/Th) = j, and v = Th goes to the last bin, as numpy's
// last bin is closed. Values outside [-Th, Th], NaN and ±Inf are not
// counted (numpy drops values outside the range). Unlike Histogram, its
// bins depend on Th, so Th must be known before the first value: calib
// reads the logs twice for it (the first pass finds max|v| per node).
//
// Each bin index is computed in float64 from the float32 value; numpy may
// compute in float32 for a float32 array, so a value within a rounding
// error of a bin edge can land one bin away from numpy's choice: the
// threshold KL picks is within one bin of Intel's on the same values.
type FixedHistogram struct {
	th     float64
	scale  float64 // 1024/Th
	counts [HistogramBins]uint64
}

// NewFixedHistogram returns an empty histogram over [-th, th]. A th that is
// not positive and finite (a node whose values are all zero) makes every
// value 0 go to bin 1024, the bin numpy gives 0 for range (-0.5, 0.5)
// (numpy widens a zero range to ±0.5).
func NewFixedHistogram(th float32) *FixedHistogram {
	t := float64(th)
	if !(t > 0) || math.IsInf(t, 0) {
		t = 0.5
	}
	return &FixedHistogram{th: t, scale: halfBins / t}
}

// Th returns the half-width of the range.
func (f *FixedHistogram) Th() float64 { return f.th }

// BinWidth returns 2·Th/2048.
func (f *FixedHistogram) BinWidth() float64 { return f.th / halfBins }

// AddSlice counts the values of vs that lie in [-Th, Th].
func (f *FixedHistogram) AddSlice(vs []float32) {
	th, scale := f.th, f.scale
	for _, v := range vs {
		x := float64(v)
		if !(x >= -th && x <= th) { // also NaN
			continue
		}
		j := int((x + th) * scale)
		if j >= HistogramBins {
			j = HistogramBins - 1
		}
		f.counts[j]++
	}
}

// Merge adds o's counts; both must have the same Th (the programmer's
// mistake otherwise: it panics).
func (f *FixedHistogram) Merge(o *FixedHistogram) {
	if f.th != o.th {
		panic("stats: FixedHistogram.Merge of different ranges")
	}
	for j, c := range o.counts {
		f.counts[j] += c
	}
}

// Counts returns a copy of the bin counts.
func (f *FixedHistogram) Counts() []uint64 { return slices.Clone(f.counts[:]) }
