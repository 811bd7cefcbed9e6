package stats

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func TestParseHistStrategy(t *testing.T) {
	tests := []struct {
		spec, name, err string
		isHist          bool
	}{
		{spec: "kl", name: "kl", isHist: true},
		{spec: "entropy", name: "entropy", isHist: true},
		{spec: "mse", name: "mse", isHist: true},
		{spec: "vpercentile:99.99", name: "vpercentile:99.99", isHist: true},
		{spec: "percentile:99.999", name: "vpercentile:99.999", isHist: false},
		{spec: "vpercentile:100", name: "vpercentile:100", isHist: true},
		{spec: "kl:3", err: `strategy "kl" takes no parameter`, isHist: true},
		{spec: "mse:", err: `strategy "mse" takes no parameter`, isHist: true},
		{spec: "vpercentile", err: `strategy "vpercentile" needs a parameter: vpercentile:P`, isHist: true},
		{spec: "vpercentile:0", err: `P must be a number in (0, 100], got "0"`, isHist: true},
		{spec: "percentile:101", err: `P must be a number in (0, 100], got "101"`},
		{spec: "vpercentile:NaN", err: `got "NaN"`, isHist: true},
		{spec: "tf", err: `unknown histogram strategy "tf" (known: kl, entropy, mse, vpercentile:P (or percentile:P))`},
		{spec: "minmax", err: "unknown histogram strategy"},
		{spec: "", err: "unknown histogram strategy"},
	}
	for _, tc := range tests {
		t.Run(tc.spec, func(t *testing.T) {
			if got := IsHistStrategy(tc.spec); got != tc.isHist {
				t.Errorf("IsHistStrategy = %v, want %v", got, tc.isHist)
			}
			s, err := ParseHistStrategy(tc.spec)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.Name() != tc.name {
				t.Errorf("Name = %q, want %q", s.Name(), tc.name)
			}
			if again, err := ParseHistStrategy(s.Name()); err != nil || again.Name() != s.Name() {
				t.Errorf("Name does not parse back: %v, %v", again, err)
			}
		})
	}
	// The per-batch reading of percentile:P is unchanged.
	if s, err := ParseStrategy("percentile:99", 5, 5); err != nil || s.Name() != "percentile:99" {
		t.Errorf("ParseStrategy(percentile:99) = %v, %v", s, err)
	} else if _, ok := s.(Percentile); !ok {
		t.Errorf("ParseStrategy(percentile:99) is %T, want Percentile", s)
	}
}

// ---- Reference implementations: slow, literal transcriptions of each
// rule's description, sharing no code with the fast searches. ----

// pySum is Python's sum over the slice p[a:b] with Python's clamping.
func pySum(p []float64, a, b int) float64 {
	a, b = min(max(a, 0), len(p)), min(max(b, 0), len(p))
	var s float64
	for k := a; k < b; k++ {
		s += p[k]
	}
	return s
}

// refIntelKL follows Intel's get_threshold step by step on hist (the L bins),
// building P, the quantized bins, the expanded Q and safe_entropy as lists.
func refIntelKL(hist []float64, minVal, maxVal float64) int {
	numBins := len(hist)
	var start, end int
	if minVal >= 0 {
		end = numBins - 1
		start = int(float64(end) * 0.7)
	} else {
		start, end = 0, numBins-1
		if math.Abs(maxVal) > math.Abs(minVal) {
			for start < end && hist[start] == 0 {
				start++
			}
			start += int(float64(end-start) * 0.6)
		} else {
			for end > 0 && hist[end] == 0 {
				end--
			}
			start = int(0.6 * float64(end))
		}
	}
	const nq = 255
	minKL, minIdx, inited := 0.0, 0, false
	for i := start; i <= end; i++ {
		if i == 0 {
			continue // Python would index P[-1] of an empty list
		}
		P := slices.Clone(hist[:i])
		outliers := pySum(hist, i, len(hist))
		if P[i-1] == 0 {
			continue
		}
		P[i-1] += outliers
		refBins := slices.Clone(P)
		cand := slices.Clone(hist[:i])
		merged := i / nq
		quantized := make([]float64, nq)
		js, je := 0, merged
		for idx := range nq {
			quantized[idx] = pySum(cand, js, je)
			js += merged
			je += merged
			if idx+1 == nq-1 {
				je = i
			}
		}
		// expand_quantized_bins
		Q := make([]float64, len(refBins))
		merged = len(refBins) / nq
		js, je = 0, merged
		for idx := range nq {
			zeros := 0
			for k := js; k < je; k++ {
				if refBins[k] == 0 {
					zeros++
				}
			}
			merged = je - js
			avg := 0.0
			if zeros != merged {
				avg = quantized[idx] / float64(merged-zeros)
			}
			for k := js; k < je; k++ {
				if refBins[k] != 0 {
					Q[k] = avg
				}
			}
			js += merged
			je += merged
			if idx+1 == nq-1 {
				je = len(refBins)
			}
		}
		Psum, Qsum := pySum(P, 0, len(P)), pySum(Q, 0, len(Q))
		var t1, t2 float64
		for k := range P {
			if P[k] == 0 {
				continue
			}
			if Q[k] == 0 {
				panic("q = 0 where p != 0") // Intel: math domain error
			}
			t1 += P[k] * math.Log(Qsum*P[k])
			t2 += P[k] * math.Log(Psum*Q[k])
		}
		kl := (t1 - t2) / Psum
		if !inited || kl < minKL {
			minKL, minIdx, inited = kl, i, true
		}
	}
	if minIdx == 0 {
		for start > 0 && hist[start] == 0 {
			start--
		}
		minIdx = start
	}
	return minIdx
}

// refEntropy follows _compute_amax_entropy on the folded bins, with numpy's
// digitize over linspace done by searching the float64 points k·i/levels.
// It returns i (amax = i·w).
func refEntropy(folded []float64, unsigned bool) int {
	bins := slices.Clone(folded)
	bins[0] = bins[1]
	levels := 128
	if unsigned {
		levels = 256
	}
	totalData := pySum(bins, 0, len(bins))
	var divs []float64
	var args []int
	for i := 128; i <= len(bins); i++ {
		space := make([]float64, levels+1)
		for k := range space {
			space[k] = float64(k) * (float64(i) / float64(levels))
		}
		space[levels] = float64(i)
		dig := make([]int, i)
		for j := range dig {
			r := 0 // np.digitize: number of points <= j
			for r < len(space) && space[r] <= float64(j) {
				r++
			}
			dig[j] = r - 1
			if bins[j] == 0 {
				dig[j] = -1
			}
		}
		counts := make([]float64, levels)
		nnz := make([]int, levels)
		for j, d := range dig {
			if d != -1 {
				counts[d] += bins[j]
				nnz[d]++
			}
		}
		for k := range counts {
			if nnz[k] != 0 {
				counts[k] /= float64(nnz[k])
			}
		}
		newDensity := make([]float64, i)
		for j, d := range dig {
			if d != -1 {
				newDensity[j] = counts[d]
			}
		}
		ref := slices.Clone(bins[:i])
		ref[i-1] += pySum(bins, i, len(bins))
		if math.Abs(pySum(ref, 0, i)-totalData) > 0.5 {
			panic("count mismatch")
		}
		// scipy.stats.entropy(ref, newDensity)
		ps, qs := pySum(ref, 0, i), pySum(newDensity, 0, i)
		if qs == 0 {
			continue // NaN in scipy; qcal skips it (documented)
		}
		var d float64
		for j := range ref {
			p, q := ref[j]/ps, newDensity[j]/qs
			switch {
			case p == 0:
			case q == 0:
				d = math.Inf(1)
			default:
				d += p * math.Log(p/q)
			}
		}
		divs = append(divs, d)
		args = append(args, i)
	}
	if len(divs) == 0 {
		return len(bins)
	}
	best := 0
	for k, d := range divs {
		if d <= divs[best] {
			best = k // the last argmin
		}
	}
	return args[best]
}

// refMSE evaluates the error of every candidate edge k directly: each bin
// [j, j+1) (bin units) is cut at the quantizer's decision points (midways
// between levels) and at t, and (x - Q(x))² is integrated exactly on each
// piece, Q constant there: ∫_lo^hi (x - c)² dx = ((hi-c)³ - (lo-c)³)/3.
func refMSE(folded []float64, qmax float64) (k int, errs []float64) {
	errs = make([]float64, len(folded)+1)
	best := math.Inf(1)
	for cand := 1; cand <= len(folded); cand++ {
		t := float64(cand)
		delta := t / qmax
		var e float64
		for j, n := range folded {
			if n == 0 {
				continue
			}
			lo, hi := float64(j), float64(j+1)
			var integral float64
			for x := lo; x < hi; {
				var q, next float64
				if x >= t {
					q, next = t, hi // clipped: Q = t
				} else {
					lvl := math.Floor(x/delta + 0.5)
					if (lvl+0.5)*delta <= x { // x rounded onto a decision point
						lvl++
					}
					q = math.Min(lvl, qmax) * delta
					next = math.Min(math.Min((lvl+0.5)*delta, t), hi)
					if lvl >= qmax {
						next = math.Min(t, hi)
					}
				}
				integral += (math.Pow(next-q, 3) - math.Pow(x-q, 3)) / 3
				x = next
			}
			e += n * integral
		}
		errs[cand] = e
		if e < best {
			best, k = e, cand
		}
	}
	return k, errs
}

// ---- Synthetic distributions ----

type dist struct {
	name string
	gen  func(r *rand.Rand) float64
}

var dists = []dist{
	{"uniform", func(r *rand.Rand) float64 { return r.Float64()*2 - 1 }},
	{"gaussian", func(r *rand.Rand) float64 { return r.NormFloat64() }},
	{"laplacian", func(r *rand.Rand) float64 {
		if r.IntN(2) == 0 {
			return -r.ExpFloat64()
		}
		return r.ExpFloat64()
	}},
	{"relu", func(r *rand.Rand) float64 { return math.Max(0, r.NormFloat64()) }},
	{"relu6-like", func(r *rand.Rand) float64 { return math.Min(6, math.Max(0, 3*r.NormFloat64()+1)) }},
	{"skewed", func(r *rand.Rand) float64 { return r.ExpFloat64() - 0.5 }},
	{"gaussian+outliers", func(r *rand.Rand) float64 {
		if r.IntN(10000) == 0 {
			return 100 * float64(1-2*r.IntN(2))
		}
		return r.NormFloat64()
	}},
	{"gaussian+near-outliers", func(r *rand.Rand) float64 {
		if r.IntN(10000) == 0 {
			return 12 * float64(1-2*r.IntN(2))
		}
		return r.NormFloat64()
	}},
	{"relu+outliers", func(r *rand.Rand) float64 {
		if r.IntN(10000) == 0 {
			return 60
		}
		return math.Max(0, r.NormFloat64())
	}},
	{"negative-heavy", func(r *rand.Rand) float64 { return -3*r.ExpFloat64() + 0.5*r.NormFloat64() }},
}

func histOf(d dist, n int, seed uint64) *Histogram {
	r := rand.New(rand.NewPCG(seed, 42))
	vs := make([]float32, n)
	for i := range vs {
		vs[i] = float32(d.gen(r))
	}
	h := NewHistogram()
	h.AddSlice(vs)
	return h
}

// klSub returns the L bins KL searches, by the rule in KL's doc: from
// -(H-1023)·w to (H-1023)·w, H the bin of max|v|.
func klSub(h *Histogram) []float64 {
	a := float64(h.AbsMax())
	top := min(1024+int(math.Floor(a/h.BinWidth())), 2047)
	var sub []float64
	for _, c := range h.Counts()[2047-top : top+1] {
		sub = append(sub, float64(c))
	}
	return sub
}

// foldedTop returns the histogram of |v| cut after its last nonzero bin.
func foldedTopOf(h *Histogram) []float64 {
	c := h.Counts()
	f := make([]float64, 1024)
	for k := range f {
		f[k] = float64(c[1024+k] + c[1023-k])
	}
	n := len(f)
	for n > 0 && f[n-1] == 0 {
		n--
	}
	return f[:n]
}

func TestKLMatchesReference(t *testing.T) {
	for _, d := range dists {
		for seed := range uint64(2) {
			h := histOf(d, 20000, seed)
			sub := klSub(h)
			var total uint64
			for _, c := range sub {
				total += uint64(c)
			}
			if total != h.Count() || len(sub)%2 != 0 {
				t.Fatalf("%s: sub-histogram of %d bins holds %d of %d values", d.name, len(sub), total, h.Count())
			}
			want := refIntelKL(sub, float64(h.Min()), float64(h.Max()))
			s := &histScratch{sub: sub}
			got := intelKLIndex(s, h.NonNegative(), math.Abs(float64(h.Max())) > math.Abs(float64(h.Min())))
			if got != want {
				// Only a near tie, decided by rounding, may differ by a bin.
				if got-want > 1 || want-got > 1 {
					t.Errorf("%s seed %d: KL index %d, reference %d", d.name, seed, got, want)
				} else {
					t.Logf("%s seed %d: KL index %d, reference %d (near tie)", d.name, seed, got, want)
				}
			}
			// And the range is that index's bin center.
			lo, hi := KL{}.Range(h)
			tw := float32((float64(want) + 0.5 - float64(len(sub)/2)) * h.BinWidth())
			if math.Abs(float64(hi-tw)) > h.BinWidth()*1.01 || (h.NonNegative() && lo != 0) || (!h.NonNegative() && lo != -hi) {
				t.Errorf("%s seed %d: KL range [%g, %g], reference threshold %g", d.name, seed, lo, hi, tw)
			}
		}
	}
}

func TestEntropyMatchesReference(t *testing.T) {
	for _, d := range dists {
		h := histOf(d, 20000, 7)
		f := foldedTopOf(h)
		want := refEntropy(f, h.NonNegative())
		s := &histScratch{sub: slices.Clone(f)}
		s.sub[0] = s.sub[1]
		levels := 128
		if h.NonNegative() {
			levels = 256
		}
		got := entropyIndex(s, levels, 128)
		if got-want > 1 || want-got > 1 {
			t.Errorf("%s: entropy index %d, reference %d", d.name, got, want)
		}
		_, hi := Entropy{}.Range(h)
		if math.Abs(float64(hi)-float64(want)*h.BinWidth()) > h.BinWidth()*1.01 {
			t.Errorf("%s: entropy amax %g, reference %g", d.name, hi, float64(want)*h.BinWidth())
		}
	}
}

func TestMSEMatchesReference(t *testing.T) {
	for _, d := range dists {
		h := histOf(d, 20000, 11)
		f := foldedTopOf(h)
		qmax := 127.0
		if h.NonNegative() {
			qmax = 255
		}
		want, errs := refMSE(f, qmax)
		s := &histScratch{sub: slices.Clone(f)}
		got := mseIndex(s, qmax)
		// Equal errors up to rounding may pick a neighbour; the error at
		// the chosen edge must be the least one to 1e-9.
		if got != want && math.Abs(errs[got]-errs[want]) > 1e-9*errs[want] {
			t.Errorf("%s: mse edge %d (error %g), reference %d (error %g)", d.name, got, errs[got], want, errs[want])
		}
		if want == 0 || errs[want] <= 0 {
			t.Fatalf("%s: reference found no edge", d.name)
		}
	}
}

// TestHistStrategiesKnown checks each strategy against what the
// distribution says it must do.
func TestHistStrategiesKnown(t *testing.T) {
	const n = 200000
	type bound struct{ lo, hi float64 } // for the upper end of the range
	cases := []struct {
		dist string
		want map[string]bound
	}{
		// Uniform on [-1, 1): nothing to clip; every strategy keeps
		// (nearly) the whole range.
		{"uniform", map[string]bound{
			"kl": {0.95, 1.01}, "entropy": {0.95, 1.01}, "mse": {0.95, 1.01},
			"vpercentile:99.99": {0.999, 1}, "vpercentile:100": {0.9999, 1},
		}},
		// N(0, 1), 200k values: max ≈ 4.5σ. The entropy and MSE optima of
		// 8-bit quantization lie at a few σ.
		{"gaussian", map[string]bound{
			"kl": {2.5, 5}, "entropy": {2.5, 5}, "mse": {2.5, 5},
			"vpercentile:99.99": {3.6, 4.1}, // Φ⁻¹(0.9999) = 3.719
		}},
		// About 20 outliers at ±100 among N(0,1). KL clips them: its search
		// starts 60% of the way up and falls back below the empty bins.
		// Entropy cannot: its candidates start at bin 128 (about 16 at
		// w = 1/8), where the last bin is empty and outliers lie beyond
		// (divergence +Inf), so only the full range is finite, as in
		// pytorch-quantization. MSE keeps them too, rightly: clipping 20
		// values by about 95 costs 20·95² ≈ 180000, more than the rounding
		// error of a step of 100/127 over 200000 values (≈ 200000·0.79²/12
		// ≈ 10000).
		{"gaussian+outliers", map[string]bound{
			"kl": {2.5, 10}, "entropy": {99, 100.01}, "mse": {90, 100.01},
			"vpercentile:99.99": {3.5, 10}, "vpercentile:100": {100, 100},
		}},
		// About 20 outliers at ±12 among N(0,1): now candidate 128
		// (w = 1/64: 2.0) lies inside the bulk, and entropy clips them.
		{"gaussian+near-outliers", map[string]bound{
			"kl": {2.5, 8}, "entropy": {2.5, 8},
		}},
		{"relu+outliers", map[string]bound{
			"kl": {2, 10}, "entropy": {59, 60.1}, "mse": {50, 60.1},
		}},
		{"laplacian", map[string]bound{
			// Laplace(1): P(|x| > 9.2) = e^-9.2 ≈ 1e-4.
			"vpercentile:99.99": {8, 9.3},
		}},
	}
	for _, tc := range cases {
		i := slices.IndexFunc(dists, func(d dist) bool { return d.name == tc.dist })
		h := histOf(dists[i], n, 3)
		for spec, b := range tc.want {
			s, err := ParseHistStrategy(spec)
			if err != nil {
				t.Fatal(err)
			}
			lo, hi := s.Range(h)
			if float64(hi) < b.lo || float64(hi) > b.hi {
				t.Errorf("%s %s: hi = %g, want in [%g, %g] (max %g)", tc.dist, spec, hi, b.lo, b.hi, h.Max())
			}
			switch {
			case strings.HasPrefix(spec, "vpercentile"):
			case h.NonNegative() && lo != 0, !h.NonNegative() && lo != -hi:
				t.Errorf("%s %s: range [%g, %g] not [0, t] / [-t, t]", tc.dist, spec, lo, hi)
			}
		}
	}
}

// TestMSEOneOutlier: N(0,1) values plus exactly one at 20. With the
// classical model of rounding error (Δ²/12 a value, Δ = t/127), the error
// of t is (20 - t)² + N·t²/(12·127²), least at t = 20/(1 + N/(12·127²)):
// 9.84 for N = 200000. The strategy's bin-center arithmetic must land
// near it (the bulk itself ends near 4.5 and is never clipped).
func TestMSEOneOutlier(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 17))
	h := NewHistogram()
	for range 200000 - 1 {
		h.Add(float32(r.NormFloat64()))
	}
	h.Add(20)
	want := 20 / (1 + 200000/(12*127.0*127))
	if lo, hi := (MSE{}).Range(h); math.Abs(float64(hi)-want) > 1 || lo != -hi {
		t.Errorf("mse range [%g, %g], want ±%.2f within 1", lo, hi, want)
	}
	// KL drops the lone outlier: its bin is the only nonzero one above the
	// bulk, so no candidate has a nonzero last bin and Intel's fallback
	// walks down to the bulk's top.
	if _, hi := (KL{}).Range(h); hi < 3 || hi > 6 {
		t.Errorf("kl threshold %g, want the bulk's top (3..6)", hi)
	}
}

func TestHistStrategiesReLU(t *testing.T) {
	h := histOf(dists[slices.IndexFunc(dists, func(d dist) bool { return d.name == "relu" })], 100000, 5)
	for _, s := range []HistStrategy{KL{}, Entropy{}, MSE{}} {
		lo, hi := s.Range(h)
		if lo != 0 || hi <= 1 || hi > h.Max()*1.01 {
			t.Errorf("%s on ReLU values: [%g, %g], want [0, t] with 1 < t <= max %g", s.Name(), lo, hi, h.Max())
		}
	}
	// Half the values are 0: the 1st percentile is 0, found within one bin
	// (the zeros' bin [0, w) is taken as evenly filled).
	if lo, _ := (ValuePercentile{P: 99}).Range(h); lo < 0 || float64(lo) > h.BinWidth() {
		t.Errorf("vpercentile:99 lower end %g, want 0 within a bin (%g)", lo, h.BinWidth())
	}
}

func TestHistStrategiesDegenerate(t *testing.T) {
	all := []HistStrategy{KL{}, Entropy{}, MSE{}, ValuePercentile{P: 99.9}}
	empty := NewHistogram()
	empty.AddSlice([]float32{float32(math.NaN())})
	zeros := NewHistogram()
	zeros.AddSlice([]float32{0, 0, 0})
	constant := NewHistogram()
	constant.AddSlice([]float32{2.5, 2.5, 2.5})
	negConst := NewHistogram()
	negConst.AddSlice([]float32{-2.5, -2.5})
	for _, s := range all {
		if lo, hi := s.Range(empty); lo != 0 || hi != 0 {
			t.Errorf("%s on no values: [%g, %g], want [0, 0]", s.Name(), lo, hi)
		}
		if lo, hi := s.Range(zeros); lo != 0 || hi != 0 {
			t.Errorf("%s on zeros: [%g, %g], want [0, 0]", s.Name(), lo, hi)
		}
		// A constant c: the range must reach it, to within a bin
		// (w = 4/1024); all but the percentile start at 0.
		if lo, hi := s.Range(constant); hi < 2.5-4.0/1024 || hi > 2.5+4.0/1024 || (lo != 0 && s.Name() != "vpercentile:99.9") {
			t.Errorf("%s on 2.5s: [%g, %g], want [0, 2.5] within a bin", s.Name(), lo, hi)
		}
		if lo, hi := s.Range(negConst); lo > -2.5+4.0/1024 || lo < -2.5-4.0/1024 || hi < lo {
			t.Errorf("%s on -2.5s: [%g, %g], want lo = -2.5 within a bin", s.Name(), lo, hi)
		}
	}
}

// fleet returns 250 node histograms of 64k values each, of the shapes a
// network's RequantizationRange inputs take.
func fleet() []*Histogram {
	hs := make([]*Histogram, 250)
	for i := range hs {
		hs[i] = histOf(dists[i%len(dists)], 1<<16, uint64(i))
	}
	return hs
}

func benchmarkStrategy(b *testing.B, s HistStrategy) {
	hs := fleet()
	b.ReportAllocs()
	for b.Loop() {
		for _, h := range hs {
			s.Range(h)
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/250nodes")
}

func BenchmarkKLSearch250Nodes(b *testing.B)      { benchmarkStrategy(b, KL{}) }
func BenchmarkEntropySearch250Nodes(b *testing.B) { benchmarkStrategy(b, Entropy{}) }
func BenchmarkMSESearch250Nodes(b *testing.B)     { benchmarkStrategy(b, MSE{}) }

// TestHistStrategiesConcurrent: strategies share pooled scratch buffers;
// concurrent calls must give the sequential results.
func TestHistStrategiesConcurrent(t *testing.T) {
	hs := make([]*Histogram, len(dists))
	for i, d := range dists {
		hs[i] = histOf(d, 5000, uint64(i))
	}
	type res struct{ lo, hi float32 }
	for _, s := range []HistStrategy{KL{}, Entropy{}, MSE{}, ValuePercentile{P: 99}} {
		want := make([]res, len(hs))
		for i, h := range hs {
			want[i].lo, want[i].hi = s.Range(h)
		}
		errc := make(chan string, 4)
		for g := range 4 {
			go func() {
				for k := range 3 * len(hs) {
					i := (k + g) % len(hs)
					if lo, hi := s.Range(hs[i]); lo != want[i].lo || hi != want[i].hi {
						errc <- s.Name() + " on " + dists[i].name
						return
					}
				}
				errc <- ""
			}()
		}
		for range 4 {
			if e := <-errc; e != "" {
				t.Errorf("concurrent %s differs from sequential", e)
			}
		}
	}
}
