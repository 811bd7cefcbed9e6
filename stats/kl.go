package stats

import "math"

// KL is Intel's KL-divergence calibration: the threshold whose 255-level
// quantization of the histogram loses the least information.
//
// Source of the rule (facts, re-implemented): get_optimal_scaling_factor in
// intel/neural-compressor ilit/adaptor/tf_utils/transform_graph/freeze_max_min.py
// (the TensorFlow flow that reads `__KL:` lines) and
// KL_Divergence.get_threshold in intel/neural-compressor
// neural_compressor/utils/kl_divergence.py (the same search). There the
// histogram has 2048 bins over [-th, th], th = max|v|.
//
// qcal applies the rule to the symmetric part of its histogram that holds
// the values: the L bins from -(H-1023)·w to (H-1023)·w, where H is the bin
// of max|v| (1024 ≤ L ≤ 2048; Intel's L is 2048). With p the L counts
// (index 0 at the left) and N their sum:
//
//  1. Search bounds. If the values are non-negative (min ≥ 0):
//     end = L-1, start = int(0.7·end). Otherwise, if |max| > |min|:
//     start = the first nonzero bin, then start += int(0.6·(end - start))
//     with end = L-1; else end = the last nonzero bin and
//     start = int(0.6·end). (int truncates, as Python's int().)
//  2. For each i in [start, end] with p[i-1] ≠ 0 (others are skipped):
//     P = p[0:i] with the outliers Σp[i:] added to P[i-1]; the 255
//     quantized bins are sums of p[0:i] over groups of m = i div 255 bins,
//     [g·m, (g+1)·m) for g < 254 and [254·m, i) for the last (which takes
//     the remainder; with i < 255 it is the only nonempty group); Q spreads
//     each group's sum evenly over the group's nonzero bins of P and is 0
//     on its zero bins; KL(i) = Σ_{P_j≠0} (P_j/ΣP)·ln((P_j/ΣP)/(Q_j/ΣQ))
//     (Intel's safe_entropy; Q_j is never 0 where P_j is not).
//  3. m = the i of least KL, the first one on ties. If no i was evaluated,
//     m = start moved down past empty bins (Intel's fallback).
//  4. The threshold is the center of bin m: t = (m + 0.5 - L/2)·w
//     (Intel's (m + 0.5)·bin_width, measured from -th).
//  5. The range is [0, t] for non-negative values, else [-t, t]. A t ≤ 0
//     (all values negative, where the search, which clips only the upper
//     tail, has nothing to do) falls back to max|v|.
//
// Where qcal differs from Intel's code, on purpose:
//   - Intel's TF tool adds min_val, not -th, to (m + 0.5)·bin_width when
//     the values are non-negative, so its threshold is th too large there;
//     and its freeze step writes [0, t] for every node. qcal measures from
//     the histogram's left edge and returns [-t, t] for signed values.
//   - Intel's get_tensor_histogram returns (hist, edges, max, min, th) while
//     combine_histogram unpacks (hist, edges, min, max, th), so after the
//     first batch min and max trade places in its search; qcal uses the
//     true extremes.
//   - Intel counts outliers as sum(hist[i:2048]) and ends the search at bin
//     2047 even after combine_histogram grew the histogram past 2048 bins;
//     qcal's histogram always has 2048 bins.
//
// The search costs O(L + candidates × 255): prefix sums give each group's
// sum and nonzero count in O(1), and KL(i) is evaluated as
// [Σ P ln P - Σ_groups G ln(G/nz) - outliers·ln(G_last/nz_last)]/N
// + ln ΣQ - ln N, which equals the bin-by-bin sum.
type KL struct{}

// Name implements HistStrategy.
func (KL) Name() string { return "kl" }

// Range implements HistStrategy.
func (KL) Range(h *Histogram) (lo, hi float32) {
	if h.Count() == 0 {
		return 0, 0
	}
	a := float64(h.AbsMax())
	if a == 0 {
		return 0, 0
	}
	s := scratchPool.Get().(*histScratch)
	defer scratchPool.Put(s)
	top := min(halfBins+int(math.Floor(a*h.scale)), HistogramBins-1)
	s.sub = grow64(s.sub, 0)
	for _, c := range h.counts[HistogramBins-1-top : top+1] {
		s.sub = append(s.sub, float64(c))
	}
	mn, mx := h.Min(), h.Max()
	absMin, absMax := math.Abs(float64(mn)), math.Abs(float64(mx))
	m := intelKLIndex(s, h.NonNegative(), absMax > absMin)
	t := (float64(m) + 0.5 - float64(len(s.sub)/2)) * h.BinWidth()
	if !(t > 0) {
		t = a
	}
	return symmetricRange(h, t)
}

// intelKLIndex runs Intel's search (steps 1-3 of KL) over s.sub and returns
// the bin index m.
func intelKLIndex(s *histScratch, nonNegative, maxAbove bool) int {
	p := s.sub
	n := len(p)
	var start, end int
	switch {
	case nonNegative:
		end = n - 1
		start = int(float64(end) * 0.7)
	case maxAbove:
		end = n - 1
		for start < end && p[start] == 0 {
			start++
		}
		start += int(float64(end-start) * 0.6)
	default:
		end = n - 1
		for end > 0 && p[end] == 0 {
			end--
		}
		start = int(0.6 * float64(end))
	}
	s.prefix()
	c, z, pl := s.c, s.z, s.pl
	total := c[n]
	logTotal := math.Log(total)
	best, bestI := math.Inf(1), 0
	const levels = 255
	for i := max(start, 1); i <= end; i++ {
		if p[i-1] == 0 {
			continue
		}
		outliers := total - c[i]
		last := p[i-1] + outliers
		sumPlnP := pl[i-1] + last*math.Log(last)
		m := i / levels
		var sumPlnQ float64
		for g := range levels {
			a, b := g*m, (g+1)*m
			if g == levels-1 {
				b = i
			}
			grp := c[b] - c[a]
			if grp == 0 {
				continue
			}
			lq := math.Log(grp) - logSmall[z[b]-z[a]]
			sumPlnQ += grp * lq
			if g == levels-1 {
				sumPlnQ += outliers * lq
			}
		}
		kl := (sumPlnP-sumPlnQ)/total + math.Log(c[i]) - logTotal
		if kl < best {
			best, bestI = kl, i
		}
	}
	if bestI == 0 {
		bestI = start
		for bestI > 0 && p[bestI] == 0 {
			bestI--
		}
	}
	return bestI
}
