package stats

import "math"

// KL is Intel's KL-divergence calibration: the threshold whose 255-level
// quantization of the histogram loses the least information
// (get_optimal_scaling_factor in intel/neural-compressor), searched on
// Intel's histogram: the FixedHistogram attached to h (2048 bins over
// [-max|v|, max|v|]; calib.Read attaches it when kl is asked for). The
// range is [0, t] for non-negative values, else [-t, t]. Without an
// attached FixedHistogram, KL searches the symmetric part of h's own
// power-of-two bins that holds the values (1024 to 2048 bins, so its
// threshold may differ from Intel's by up to a few tens of percent). The
// rule step by step, where qcal differs from Intel's code on purpose, and
// the O(L + candidates × 255) evaluation: docs/STRATEGIES.md#kl.
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
	mn, mx := h.Min(), h.Max()
	absMin, absMax := math.Abs(float64(mn)), math.Abs(float64(mx))
	if f := h.Fixed(); f != nil {
		s.sub = grow64(s.sub, 0)
		for _, c := range f.counts {
			s.sub = append(s.sub, float64(c))
		}
		m := intelKLIndex(s, h.NonNegative(), absMax > absMin)
		t := (float64(m) + 0.5 - halfBins) * f.BinWidth()
		if !(t > 0) {
			t = a
		}
		return symmetricRange(h, t)
	}
	top := min(halfBins+int(math.Floor(a*h.scale)), HistogramBins-1)
	s.sub = grow64(s.sub, 0)
	for _, c := range h.counts[HistogramBins-1-top : top+1] {
		s.sub = append(s.sub, float64(c))
	}
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
