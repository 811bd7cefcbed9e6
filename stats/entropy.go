package stats

import "math"

// Entropy is the entropy (KL-divergence) calibration of TensorRT as
// pytorch-quantization implements it (_compute_amax_entropy): the amax
// whose 128-level (signed) or 256-level (unsigned) quantization of the
// histogram of |v| diverges least from it; the range is [0, amax] or
// [-amax, amax]. The rule step by step and where qcal differs:
// docs/STRATEGIES.md#entropy.
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
