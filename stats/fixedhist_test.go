package stats

import (
	"math"
	"math/rand/v2"
	"testing"
)

// refIntelHistogram builds Intel's histogram the slow, obvious way:
// th = max|v| over all values (in float64), the 2049 edges -th + k·(2th/2048)
// as numpy.linspace spaces them, and each value put in the bin whose edges
// enclose it, found by bisection, the last bin closed (numpy.histogram).
// A zero th is widened to ±0.5 as numpy does.
func refIntelHistogram(vs []float32) (hist []float64, th float64) {
	for _, v := range vs {
		th = math.Max(th, math.Abs(float64(v)))
	}
	lo, hi := -th, th
	if th == 0 {
		lo, hi = -0.5, 0.5
	}
	edges := make([]float64, 2049)
	step := (hi - lo) / 2048
	for k := range edges {
		edges[k] = lo + float64(k)*step
	}
	edges[2048] = hi
	hist = make([]float64, 2048)
	for _, v := range vs {
		x := float64(v)
		a, b := 0, 2048 // edges[a] <= x < edges[b]
		for b-a > 1 {
			m := (a + b) / 2
			if x >= edges[m] {
				a = m
			} else {
				b = m
			}
		}
		hist[a]++
	}
	return hist, th
}

// refKLThreshold is qcal's kl threshold by the slow route: Intel's
// histogram, Intel's search (refIntelKL), then the bin center measured from
// -th, falling back to th when that is not positive (STRATEGIES.md#kl,
// steps 4-5).
func refKLThreshold(vs []float32) (t, binWidth float64) {
	hist, th := refIntelHistogram(vs)
	mn, mx := math.Inf(1), math.Inf(-1)
	for _, v := range vs {
		mn, mx = math.Min(mn, float64(v)), math.Max(mx, float64(v))
	}
	m := refIntelKL(hist, mn, mx)
	w := 2 * th / 2048
	t = -th + (float64(m)+0.5)*w
	if !(t > 0) {
		t = th
	}
	return t, w
}

// klOnValues runs the fast path as calib does: a first pass for the
// Histogram (and so max|v|), a second pass into the FixedHistogram over
// [-max|v|, max|v|] in chunks of 1000, attached, then KL.
func klOnValues(vs []float32) (lo, hi float32) {
	h := NewHistogram()
	h.AddSlice(vs)
	f := NewFixedHistogram(h.AbsMax())
	for i := 0; i < len(vs); i += 1000 {
		f.AddSlice(vs[i:min(i+1000, len(vs))])
	}
	h.SetFixed(f)
	return KL{}.Range(h)
}

func TestKLOnIntelHistogramMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	gen := func(n int, g func() float64) []float32 {
		vs := make([]float32, n)
		for i := range vs {
			vs[i] = float32(g())
		}
		return vs
	}
	cases := map[string][]float32{
		"relu":      gen(50000, func() float64 { return math.Max(0, r.NormFloat64()) }),
		"laplace":   gen(50000, func() float64 { return r.ExpFloat64() * float64(1-2*r.IntN(2)) }),
		"uniform":   gen(50000, func() float64 { return r.Float64()*6 - 3 }),
		"negative":  gen(20000, func() float64 { return -r.ExpFloat64() - 0.1 }),
		"constant":  gen(1000, func() float64 { return 2.5 }),
		"single":    {0.75},
		"outliers":  gen(50000, func() float64 { return r.NormFloat64() + 50*float64(r.IntN(5000)/4999) }),
		"relu-wide": gen(50000, func() float64 { return math.Max(0, r.NormFloat64()*3) + float64(r.IntN(20000)/19999)*40 }),
	}
	for _, d := range dists {
		cases["dists/"+d.name] = gen(20000, func() float64 { return d.gen(r) })
	}
	for name, vs := range cases {
		want, w := refKLThreshold(vs)
		lo, hi := klOnValues(vs)
		// Within one Intel bin: bins of the float64 rule and numpy's may
		// differ for a value on an edge, moving a near tie by one bin.
		if math.Abs(float64(hi)-want) > w*1.0001 {
			t.Errorf("%s: kl threshold %g, reference %g (Intel bin %g)", name, hi, want, w)
		}
		nonNeg := true
		for _, v := range vs {
			nonNeg = nonNeg && v >= 0
		}
		if (nonNeg && lo != 0) || (!nonNeg && lo != -hi) {
			t.Errorf("%s: range [%g, %g], want [0, t] for non-negative values, else [-t, t]", name, lo, hi)
		}
	}
	// Worked by hand: constant 2.5 fills bin 2047; the search from
	// int(0.7·2047) = 1432 finds P[i-1] = 0 for every i ≤ 2047, so Intel's
	// fallback moves start down past the empty bins to 0: t = -2.5 + 0.5·w
	// < 0, and qcal falls back to th: [0, 2.5].
	if lo, hi := klOnValues(cases["constant"]); lo != 0 || hi != 2.5 {
		t.Errorf("constant 2.5: range [%g, %g], want [0, 2.5]", lo, hi)
	}
}

// TestFixedHistogramBins pins the bin rule on hand-worked values: th = 1,
// w = 1/1024: -1 → bin 0; 0 → bin 1024; 1 (the closed end) → 2047;
// 0.5 - 2^-24 → floor(1.5·1024 - 2^-14) = 1535; values beyond th and NaN
// are not counted.
func TestFixedHistogramBins(t *testing.T) {
	f := NewFixedHistogram(1)
	f.AddSlice([]float32{-1, 0, 1, 0.5 - 1.0/(1<<24), 1.5, float32(math.NaN())})
	c := f.Counts()
	for j, want := range map[int]uint64{0: 1, 1024: 1, 2047: 1, 1535: 1} {
		if c[j] != want {
			t.Errorf("bin %d holds %d, want %d", j, c[j], want)
		}
	}
	var n uint64
	for _, x := range c {
		n += x
	}
	if n != 4 {
		t.Errorf("%d values counted, want 4 (1.5 and NaN dropped)", n)
	}
}

// BenchmarkFixedHistogramAddSlice: the second pass of a kl reading bins
// every value again, into Intel's histogram.
func BenchmarkFixedHistogramAddSlice(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	vs := make([]float32, 1<<16)
	for i := range vs {
		vs[i] = float32(r.NormFloat64())
		if i%2 == 0 {
			vs[i] = max(vs[i], 0)
		}
	}
	h := NewHistogram()
	h.AddSlice(vs)
	f := NewFixedHistogram(h.AbsMax())
	b.SetBytes(int64(4 * len(vs)))
	b.ReportAllocs()
	for b.Loop() {
		f.AddSlice(vs)
	}
	b.ReportMetric(float64(len(vs))*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mvalues/s")
}

// BenchmarkKLFixedSearch250Nodes is BenchmarkKLSearch250Nodes on Intel's
// 2048-bin histograms (the search kl runs after calib's second pass).
func BenchmarkKLFixedSearch250Nodes(b *testing.B) {
	hs := make([]*Histogram, 250)
	r := rand.New(rand.NewPCG(5, 5))
	for i := range hs {
		vs := make([]float32, 1<<16)
		for j := range vs {
			vs[j] = float32(dists[i%len(dists)].gen(r))
		}
		h2 := NewHistogram()
		h2.AddSlice(vs)
		f := NewFixedHistogram(h2.AbsMax())
		f.AddSlice(vs)
		h2.SetFixed(f)
		hs[i] = h2
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, h := range hs {
			KL{}.Range(h)
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/250nodes")
}
