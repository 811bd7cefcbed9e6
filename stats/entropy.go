package stats

import "math"

// Entropy is the entropy (KL-divergence) calibration of TensorRT as
// pytorch-quantization implements it: the amax whose 128-level (signed) or
// 256-level (unsigned) quantization of the histogram of |v| diverges least
// from it.
//
// Source of the rule (facts, re-implemented): _compute_amax_entropy in
// NVIDIA/TensorRT tools/pytorch-quantization/pytorch_quantization/calib/histogram.py
// (HistogramCalibrator: histogram of |x| over [0, amax], 2048 bins,
// stride 1, start_bin 128), after the algorithm of NVIDIA's "8-bit
// Inference with TensorRT" (GTC 2017): histogram of |x|, candidate
// thresholds from bin 128 on, 128 quantized levels, KL(P‖Q).
//
// qcal runs it on the histogram of |v| folded from its own (bin k spans
// [k·w, (k+1)·w), see Histogram), cut after the bin holding max|v|: L bins,
// 512 ≤ L ≤ 1024 (pytorch-quantization's has 2048). With b those L counts:
//
//  1. b[0] = b[1]: the first bin (where the zeros of a ReLU pile up) is
//     replaced by its neighbour's count. No other smoothing: empty bins
//     stay empty.
//  2. levels = 256 if the values are non-negative (min ≥ 0, pytorch's
//     unsigned), else 128 (num_bits 8: 1 << (8 - 1 + unsigned)).
//  3. For each i from 128 to L: bin j < i belongs to level
//     floor(j·levels/i) (numpy's digitize over linspace(0, i, levels+1),
//     whose points k·i/levels are exact); Q_j is the level's sum over its
//     nonzero bins divided by their number, and 0 on empty bins; the
//     outliers Σb[i:] are added to P[i-1] = b[i-1] but not to Q; the
//     divergence is scipy.stats.entropy(P, Q) = Σ p·ln(p/q) over p > 0 after
//     normalising P and Q to sum 1, +Inf when some p > 0 has q = 0 (an
//     empty b[i-1] with outliers beyond it).
//  4. The i of least divergence wins, the largest i on ties (pytorch's
//     last argmin); amax is the right edge of bin i-1: i·w.
//  5. The range is [0, amax] for non-negative values, else [-amax, amax].
//
// Differences: pytorch-quantization's divergence is NaN when b[0:i] are all
// zero (ΣQ = 0) and np.argmin then picks such an i; qcal skips it. When
// every candidate is skipped the amax is L·w, the top of the histogram.
// Cost: O(L + candidates × levels) with prefix sums, as KL.
type Entropy struct{}

// Name implements HistStrategy.
func (Entropy) Name() string { return "entropy" }

// entropyStartBin is pytorch-quantization's default start_bin.
const entropyStartBin = 128

// Range implements HistStrategy.
func (Entropy) Range(h *Histogram) (lo, hi float32) {
	s := scratchPool.Get().(*histScratch)
	defer scratchPool.Put(s)
	n := s.foldedTop(h)
	if n == 0 {
		return 0, 0
	}
	if n > 1 {
		s.sub[0] = s.sub[1]
	}
	levels := 128
	if h.NonNegative() {
		levels = 256
	}
	i := entropyIndex(s, levels, entropyStartBin)
	return symmetricRange(h, float64(i)*h.BinWidth())
}

// entropyIndex runs steps 3-4 of Entropy over s.sub and returns i.
func entropyIndex(s *histScratch, levels, start int) int {
	b := s.sub
	n := len(b)
	s.prefix()
	c, z, pl := s.c, s.z, s.pl
	total := c[n]
	logTotal := math.Log(total)
	best, bestI := math.Inf(1), -1
	for i := start; i <= n; i++ {
		outliers := total - c[i]
		last := b[i-1]
		if last == 0 && outliers > 0 {
			continue // q = 0 where p > 0: divergence +Inf
		}
		sumQ := c[i]
		if sumQ == 0 {
			continue
		}
		sumPlnP := pl[i-1] + xlogx(last+outliers)
		lastLevel := (i - 1) * levels / i
		var sumPlnQ float64
		for k := range levels {
			lo := (k*i + levels - 1) / levels // ceil(k·i/levels)
			hi := ((k+1)*i + levels - 1) / levels
			grp := c[hi] - c[lo]
			if grp == 0 {
				continue
			}
			lq := math.Log(grp) - logSmall[z[hi]-z[lo]]
			sumPlnQ += grp * lq
			if k == lastLevel {
				sumPlnQ += outliers * lq
			}
		}
		d := (sumPlnP-sumPlnQ)/total + math.Log(sumQ) - logTotal
		if d <= best {
			best, bestI = d, i
		}
	}
	if bestI < 0 {
		return n
	}
	return bestI
}
