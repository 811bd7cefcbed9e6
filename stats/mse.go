package stats

import "math"

// MSE is the threshold t that minimises the mean squared error of int8
// quantization over the histogram, the values of each bin taken as spread
// evenly over it, with TF's SCALED levels (k·t/127 for signed values, k·t/255
// for non-negative ones); candidates are the bin edges, the smallest t wins
// ties, and the range is [0, t] or [-t, t]. The error's closed form, the
// differences from pytorch-quantization's _compute_amax_mse and the cost:
// docs/STRATEGIES.md#mse.
type MSE struct{}

// Name implements HistStrategy.
func (MSE) Name() string { return "mse" }

// Range implements HistStrategy.
func (MSE) Range(h *Histogram) (lo, hi float32) {
	s := scratchPool.Get().(*histScratch)
	defer scratchPool.Put(s)
	n := s.foldedTop(h)
	if n == 0 {
		return 0, 0
	}
	qmax := 127.0
	if h.NonNegative() {
		qmax = 255
	}
	k := mseIndex(s, qmax)
	return symmetricRange(h, float64(k)*h.BinWidth())
}

// mseIndex returns the k of least error over s.sub (folded counts); the
// arithmetic is in bin units (w = 1).
func mseIndex(s *histScratch, qmax float64) int {
	f := s.sub
	n := len(f)
	// Suffix sums of n_j, n_j·u_j and n_j·(u_j² + 1/12), u_j = j + ½: the
	// clipping error of edge k is Σ_{j≥k} n_j((u_j - k)² + 1/12).
	s.c = grow64(s.c, n+1)
	s.s1 = grow64(s.s1, n+1)
	s.s2 = grow64(s.s2, n+1)
	s.nzU, s.nzN = s.nzU[:0], s.nzN[:0]
	s.c[n], s.s1[n], s.s2[n] = 0, 0, 0
	for j := n - 1; j >= 0; j-- {
		u := float64(j) + 0.5
		s.c[j] = s.c[j+1] + f[j]
		s.s1[j] = s.s1[j+1] + f[j]*u
		s.s2[j] = s.s2[j+1] + f[j]*(u*u+1.0/12)
	}
	for j, v := range f {
		if v != 0 {
			s.nzU = append(s.nzU, float64(j)) // the bin's lower edge
			s.nzN = append(s.nzN, v)
		}
	}
	best, bestK := math.Inf(1), n
	below := 0 // nonzero bins below edge k
	for k := 1; k <= n; k++ {
		for below < len(s.nzU) && s.nzU[below] < float64(k) {
			below++
		}
		t := float64(k)
		clip := s.s2[k] - 2*t*s.s1[k] + t*t*s.c[k]
		r := qmax / t // 1/Δ
		var round float64
		us, ns := s.nzU[:below], s.nzN[:below]
		for x, a := range us {
			round += ns[x] * (sawtooth(r*(a+1)) - sawtooth(r*a))
		}
		e := clip + round/(r*r*r) // F scales with Δ³
		if e < best {
			best, bestK = e, k
		}
	}
	return bestK
}

// sawtooth returns F(x)/Δ³ at s = x/Δ: ∫₀ˣ (y - Δ·round(y/Δ))² dy / Δ³.
func sawtooth(s float64) float64 {
	q := math.Floor(s + 0.5)
	d := s - q
	return q/12 + (d*d*d+0.125)/3
}
