package stats

import (
	"encoding/binary"
	"math"
	"math/big"
	"math/rand/v2"
	"slices"
	"testing"
)

// sameHist reports how a and b differ ("" when every field is equal,
// the sum bit for bit).
func sameHist(a, b *Histogram) string {
	switch {
	case a.exp != b.exp:
		return "T differs"
	case a.counts != b.counts:
		return "counts differ"
	case a.n != b.n || a.nan != b.nan || a.posInf != b.posInf || a.negInf != b.negInf:
		return "counts of finite/NaN/Inf values differ"
	case math.Float32bits(a.Min()) != math.Float32bits(b.Min()) || math.Float32bits(a.Max()) != math.Float32bits(b.Max()):
		return "extremes differ"
	case math.Float64bits(a.Sum()) != math.Float64bits(b.Sum()):
		return "sums differ"
	}
	return ""
}

func TestHistogramBinning(t *testing.T) {
	h := NewHistogram()
	if h.T() != math.Ldexp(1, -149) || h.Count() != 0 || h.Min() != 0 || h.Max() != 0 {
		t.Fatalf("empty: T %g count %d min %g max %g", h.T(), h.Count(), h.Min(), h.Max())
	}
	bins := func() map[int]uint64 {
		m := map[int]uint64{}
		for j, c := range h.Counts() {
			if c != 0 {
				m[j] = c
			}
		}
		return m
	}
	check := func(step string, wantT float64, want map[int]uint64) {
		t.Helper()
		got := bins()
		if h.T() != wantT || len(got) != len(want) {
			t.Fatalf("%s: T %g bins %v, want T %g bins %v", step, h.T(), got, wantT, want)
		}
		for j, c := range want {
			if got[j] != c {
				t.Fatalf("%s: bins %v, want %v", step, got, want)
			}
		}
	}
	// 3 = 0.75·2², so the smallest power of two above it is 4: T = 4,
	// w = 4/1024; bin = floor(3·1024/4) + 1024 = 768 + 1024 = 1792.
	h.Add(3)
	check("add 3", 4, map[int]uint64{1792: 1})
	// -4 lies in [-4, 4): T stays 4; bin = floor(-4·256) + 1024 = 0.
	h.Add(-4)
	check("add -4", 4, map[int]uint64{1792: 1, 0: 1})
	// 4 needs [-8, 8): T = 8, one doubling: bin j → 1024 + (j-1024)>>1:
	// 1792 → 1024 + 384 = 1408, 0 → 1024 - 512 = 512; 4 → floor(4·128) +
	// 1024 = 1536. Direct binning at T = 8 agrees: floor(3·128) = 384,
	// floor(-4·128) = -512.
	h.Add(4)
	check("add 4", 8, map[int]uint64{1408: 1, 512: 1, 1536: 1})
	// A tiny negative value falls in the bin just below zero (1023), a
	// tiny positive one and ±0 in the bin at zero (1024).
	h.AddSlice([]float32{-1e-30, 1e-30, 0, float32(math.Copysign(0, -1))})
	check("add tiny", 8, map[int]uint64{1408: 1, 512: 1, 1536: 1, 1023: 1, 1024: 3})
	// 1000 = 0.9765625·2^10: T = 1024, a factor 2^7 = 128 from 8:
	// 1408 → 1024 + 384>>7 = 1027, 512 → 1024 + (-512>>7) = 1020,
	// 1536 → 1028, 1023 → 1024 + (-1>>7) = 1023, 1024 → 1024;
	// 1000 → floor(1000·1024/1024) + 1024 = 2024.
	h.Add(1000)
	check("add 1000", 1024, map[int]uint64{1027: 1, 1020: 1, 1028: 1, 1023: 1, 1024: 3, 2024: 1})
	if h.Count() != 8 || h.Min() != -4 || h.Max() != 1000 {
		t.Errorf("count %d min %g max %g; want 8, -4, 1000", h.Count(), h.Min(), h.Max())
	}
	e := h.Edges()
	if len(e) != HistogramBins+1 || e[0] != -1024 || e[1024] != 0 || e[2048] != 1024 || e[1] != -1023 {
		t.Errorf("edges: %g %g %g %g", e[0], e[1], e[1024], e[2048])
	}
	if h.BinWidth() != 1 {
		t.Errorf("bin width %g, want 1", h.BinWidth())
	}
}

func TestHistogramExtremeValues(t *testing.T) {
	h := NewHistogram()
	maxF := float32(math.MaxFloat32)
	tiny := math.Float32frombits(1) // 2^-149
	h.AddSlice([]float32{tiny, -tiny})
	// -2^-149 lies in [-2^-149, 2^-149) but 2^-149 does not: T = 2^-148.
	if h.T() != math.Ldexp(1, -148) {
		t.Errorf("T = %g, want 2^-148", h.T())
	}
	h.AddSlice([]float32{maxF, -maxF})
	if h.T() != math.Ldexp(1, 128) || h.Count() != 4 {
		t.Errorf("T = %g count %d, want 2^128, 4", h.T(), h.Count())
	}
	c := h.Counts()
	// ±tiny collapse into the bins around zero; ±MaxFloat32 = ±(1-2^-24)·2^128
	// land in the outermost bins.
	if c[0] != 1 || c[2047] != 1 || c[1023] != 1 || c[1024] != 1 {
		t.Errorf("bins 0, 1023, 1024, 2047 = %d %d %d %d", c[0], c[1023], c[1024], c[2047])
	}
	if h.Sum() != 0 {
		t.Errorf("sum %g, want 0", h.Sum())
	}
}

func TestHistogramNaNInf(t *testing.T) {
	h := NewHistogram()
	inf := float32(math.Inf(1))
	nan := float32(math.NaN())
	h.AddSlice([]float32{1, nan, inf, -inf, inf, 2, nan, nan})
	if h.NaN() != 3 || h.PosInf() != 2 || h.NegInf() != 1 || h.Count() != 2 {
		t.Fatalf("NaN %d +Inf %d -Inf %d finite %d; want 3 2 1 2", h.NaN(), h.PosInf(), h.NegInf(), h.Count())
	}
	var binned uint64
	for _, c := range h.Counts() {
		binned += c
	}
	if binned != 2 || h.T() != 4 || h.Sum() != 3 || h.Min() != 1 || h.Max() != 2 {
		t.Errorf("binned %d T %g sum %g min %g max %g; want 2 4 3 1 2", binned, h.T(), h.Sum(), h.Min(), h.Max())
	}
	only := NewHistogram()
	only.AddSlice([]float32{nan, inf})
	if only.Count() != 0 || only.T() != math.Ldexp(1, -149) || only.Min() != 0 || only.Max() != 0 {
		t.Errorf("NaN/Inf only: count %d T %g min %g max %g", only.Count(), only.T(), only.Min(), only.Max())
	}
}

func TestHistogramSumExact(t *testing.T) {
	h := NewHistogram()
	// Sequential float32 or float64 summation loses the 1s next to 2^60.
	big60 := float32(math.Ldexp(1, 60))
	h.AddSlice([]float32{big60, 1, 1, 1, -big60, math.Float32frombits(1)})
	want := 3 + math.Ldexp(1, -149) // rounds to 3 in float64
	if h.Sum() != want {
		t.Errorf("sum = %g, want %g", h.Sum(), want)
	}
	// Against math/big on random values of all magnitudes.
	r := rand.New(rand.NewPCG(1, 2))
	vs := randomValues(r, 5000, false)
	h = NewHistogram()
	h.AddSlice(vs)
	exact := new(big.Float).SetPrec(2000)
	for _, v := range vs {
		exact.Add(exact, new(big.Float).SetFloat64(float64(v)))
	}
	w, _ := exact.Float64()
	if h.Sum() != w {
		t.Errorf("sum = %v, want %v", h.Sum(), w)
	}
	if m := h.Mean(); m != w/float64(len(vs)) {
		t.Errorf("mean = %v, want %v", m, w/float64(len(vs)))
	}
}

// randomValues returns n values mixing scales from 2^-149 to 2^127; with
// special, NaN and ±Inf are mixed in.
func randomValues(r *rand.Rand, n int, special bool) []float32 {
	vs := make([]float32, n)
	for i := range vs {
		switch k := r.IntN(20); {
		case k == 0 && special:
			vs[i] = []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))}[r.IntN(3)]
		case k == 1:
			vs[i] = math.Float32frombits(r.Uint32()) // any bit pattern
			if vs[i] != vs[i] || math.IsInf(float64(vs[i]), 0) {
				vs[i] = 0
			}
		case k == 2:
			vs[i] = 0
		case k < 8:
			vs[i] = float32(r.NormFloat64() * math.Ldexp(1, r.IntN(40)-20))
		default:
			vs[i] = float32(r.NormFloat64())
		}
	}
	return vs
}

func TestHistogramAddSliceEqualsAdd(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	vs := randomValues(r, 20000, true)
	one := NewHistogram()
	for _, v := range vs {
		one.Add(v)
	}
	whole := NewHistogram()
	whole.AddSlice(vs)
	chunks := NewHistogram()
	for rest := vs; len(rest) > 0; {
		k := min(len(rest), 1+r.IntN(100))
		chunks.AddSlice(rest[:k])
		rest = rest[k:]
	}
	if d := sameHist(one, whole); d != "" {
		t.Errorf("Add one by one vs AddSlice: %s", d)
	}
	if d := sameHist(one, chunks); d != "" {
		t.Errorf("Add one by one vs AddSlice in chunks: %s", d)
	}
}

func TestHistogramMergeEqualsConcatenation(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for trial := range 40 {
		vs := randomValues(r, 1+r.IntN(5000), trial%2 == 0)
		if trial%4 == 1 {
			// Narrow data: every value close to one scale, so that merges
			// re-bin full histograms rather than empty ones.
			for i := range vs {
				vs[i] = float32(r.Float64()*8 - 3)
			}
		}
		whole := NewHistogram()
		whole.AddSlice(vs)

		workers := 1 + r.IntN(8)
		parts := make([]*Histogram, workers)
		for i := range parts {
			parts[i] = NewHistogram()
		}
		for _, v := range vs { // each value to a random worker
			parts[r.IntN(workers)].Add(v)
		}
		merged := NewHistogram()
		for _, i := range r.Perm(workers) {
			merged.Merge(parts[i])
		}
		if d := sameHist(whole, merged); d != "" {
			t.Fatalf("trial %d, %d workers: merged vs whole: %s", trial, workers, d)
		}
		// Merging in a tree gives the same too.
		for len(parts) > 1 {
			parts[0].Merge(parts[len(parts)-1])
			parts = parts[:len(parts)-1]
		}
		if d := sameHist(whole, parts[0]); d != "" {
			t.Fatalf("trial %d: tree merge vs whole: %s", trial, d)
		}
		// And the whole stream in another order.
		shuffled := slices.Clone(vs)
		r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		other := NewHistogram()
		other.AddSlice(shuffled)
		if d := sameHist(whole, other); d != "" {
			t.Fatalf("trial %d: shuffled vs whole: %s", trial, d)
		}
	}
}

func TestHistogramMergeSelfAndEmpty(t *testing.T) {
	h := NewHistogram()
	h.AddSlice([]float32{1, -2, 3})
	h.Merge(NewHistogram())
	if h.Count() != 3 || h.T() != 4 {
		t.Fatalf("merge with empty changed h: count %d T %g", h.Count(), h.T())
	}
	h.Merge(h)
	want := NewHistogram()
	want.AddSlice([]float32{1, -2, 3, 1, -2, 3})
	if d := sameHist(h, want); d != "" {
		t.Errorf("self merge: %s", d)
	}
}

func TestHistogramQuantile(t *testing.T) {
	// The integers 0..9999, shuffled: T = 16384, w = 16, 16 values a bin.
	h := NewHistogram()
	r := rand.New(rand.NewPCG(7, 8))
	for _, i := range r.Perm(10000) {
		h.Add(float32(i))
	}
	w := h.BinWidth()
	for _, q := range []float64{0.0001, 0.01, 0.25, 0.5, 0.9, 0.999, 0.9999} {
		got := h.Quantile(q)
		// The value of rank ⌈q·n⌉ (1-based) is ⌈q·n⌉ - 1.
		exact := math.Ceil(q*10000) - 1
		if math.Abs(got-exact) > w {
			t.Errorf("Quantile(%g) = %g, want %g within one bin (%g)", q, got, exact, w)
		}
	}
	// Bins are full and even here, so interpolation is exact: rank r = 5000
	// falls at the top of bin 1024+312 (values 4992..5007 hold ranks
	// 4993..5008): 4992 + (5000-4992)/16·16 = 5000.
	if got := h.Quantile(0.5); got != 5000 {
		t.Errorf("Quantile(0.5) = %g, want 5000", got)
	}
	if h.Quantile(0) != 0 || h.Quantile(1) != 9999 {
		t.Errorf("Quantile(0), Quantile(1) = %g, %g; want 0, 9999", h.Quantile(0), h.Quantile(1))
	}
	if NewHistogram().Quantile(0.5) != 0 {
		t.Error("empty histogram quantile not 0")
	}
}

func TestHistogramSet(t *testing.T) {
	a := NewHistogramSet()
	a.Add("b", []float32{1, 2})
	a.Add("a", []float32{-1})
	a.Histogram("b").AddSlice([]float32{3})
	b := NewHistogramSet()
	b.Add("c", []float32{5})
	b.Add("a", []float32{7})
	a.Merge(b)
	if got := a.Nodes(); !slices.Equal(got, []string{"b", "a", "c"}) || a.Len() != 3 {
		t.Fatalf("nodes %v, want [b a c]", got)
	}
	if a.Node("b").Count() != 3 || a.Node("a").Count() != 2 || a.Node("c").Max() != 5 || a.Node("zz") != nil {
		t.Errorf("counts b %d a %d, max c %g", a.Node("b").Count(), a.Node("a").Count(), a.Node("c").Max())
	}
	if b.Node("a").Count() != 1 {
		t.Error("Merge changed its argument")
	}
}

func TestHistogramAddSliceAllocs(t *testing.T) {
	h := NewHistogram()
	vs := randomValues(rand.New(rand.NewPCG(9, 9)), 4096, true)
	if n := testing.AllocsPerRun(20, func() { h.AddSlice(vs) }); n != 0 {
		t.Errorf("AddSlice allocates %g times a call", n)
	}
	if n := testing.AllocsPerRun(100, func() { h.Add(1.5) }); n != 0 {
		t.Errorf("Add allocates %g times a call", n)
	}
}

// FuzzHistogram feeds arbitrary float32 bit patterns: no panic, every
// finite value binned once, and the histogram of two halves merged equals
// the histogram of the whole.
func FuzzHistogram(f *testing.F) {
	f.Add([]byte{0, 0, 128, 63, 0, 0, 192, 127, 1, 0, 0, 0, 0, 0, 128, 255}, uint8(2))
	f.Add([]byte{255, 255, 127, 127, 255, 255, 127, 255, 0, 0, 0, 128}, uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, cut uint8) {
		vs := make([]float32, len(data)/4)
		for i := range vs {
			vs[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
		}
		k := int(cut) % (len(vs) + 1)
		whole := NewHistogram()
		whole.AddSlice(vs)
		a, b := NewHistogram(), NewHistogram()
		a.AddSlice(vs[:k])
		b.AddSlice(vs[k:])
		b.Merge(a)
		if d := sameHist(whole, b); d != "" {
			t.Fatalf("merge of halves at %d: %s", k, d)
		}
		var binned uint64
		for _, c := range whole.Counts() {
			binned += c
		}
		if binned != whole.Count() || whole.Count()+whole.NaN()+whole.PosInf()+whole.NegInf() != uint64(len(vs)) {
			t.Fatalf("binned %d, finite %d, total %d of %d", binned, whole.Count(),
				whole.Count()+whole.NaN()+whole.PosInf()+whole.NegInf(), len(vs))
		}
		for _, v := range vs {
			if v == v && (float64(v) < -whole.T() || float64(v) >= whole.T()) && !math.IsInf(float64(v), 0) {
				t.Fatalf("value %g outside [-T, T) with T = %g", v, whole.T())
			}
		}
		for _, s := range []HistStrategy{KL{}, Entropy{}, MSE{}, ValuePercentile{P: 99.9}} {
			lo, hi := s.Range(whole)
			if lo != lo || hi != hi || lo > hi {
				t.Fatalf("%s: range [%g, %g]", s.Name(), lo, hi)
			}
		}
	})
}

func BenchmarkHistogramAddSlice(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	vs := make([]float32, 1<<16) // 256 KiB: one Print line of a large tensor
	for i := range vs {
		vs[i] = float32(r.NormFloat64())
		if i%2 == 0 {
			vs[i] = max(vs[i], 0) // ReLU-like: many repeated zeros
		}
	}
	h := NewHistogram()
	h.AddSlice(vs)
	b.SetBytes(int64(4 * len(vs)))
	b.ReportAllocs()
	for b.Loop() {
		h.AddSlice(vs)
	}
	b.ReportMetric(float64(len(vs))*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mvalues/s")
}

// TestExactSumFlush forces the accumulator's flush (normally after 2^37
// additions) and checks the sum stays exact through AddSlice and Merge.
func TestExactSumFlush(t *testing.T) {
	vs := []float32{1e30, 3, -1e30, 0.5, float32(math.Ldexp(1, -140)), -7, 1e-3}
	want := NewHistogram()
	want.AddSlice(vs)
	want.AddSlice(vs)

	a := NewHistogram()
	a.AddSlice(vs[:2])
	a.sum.pending = sumFlushEvery - 3 // 3 more fit before a flush
	a.AddSlice(vs[2:])                // split in two chunks around a flush
	if a.sum.big == nil {
		t.Fatal("no flush happened")
	}
	b := NewHistogram()
	b.AddSlice(vs)
	b.sum.pending = sumFlushEvery - 1
	a.Merge(b) // pending sum too large: a flushes first
	a.sum.pending = sumFlushEvery
	a.Add(0) // AddSlice flushes before the chunk
	want.Add(0)
	if d := sameHist(a, want); d != "" {
		t.Errorf("after flushes: %s (sum %v, want %v)", d, a.Sum(), want.Sum())
	}
	c := NewHistogram()
	c.sum.pending = sumFlushEvery
	c.sum.addOne(1e38) // the slow path's own guard
	if c.Sum() != float64(float32(1e38)) || c.sum.big == nil {
		t.Errorf("addOne flush: sum %v", c.Sum())
	}
}
