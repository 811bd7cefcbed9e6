package stats

import (
	"math"
	"math/big"
	"slices"
)

// HistogramBins is the number of bins of a Histogram: 2048, the number
// Intel's calibration tools use (get_tensor_histogram in
// intel/neural-compressor ilit/adaptor/tf_utils/transform_graph/freeze_max_min.py
// and neural_compressor/adaptor/tf_utils/util.py: np.histogram(data,
// bins=2048, range=(-th, th))).
const HistogramBins = 2048

const (
	halfBins = HistogramBins / 2
	// minExp and maxExp bound the exponent of T = 2^exp: every finite
	// float32 v satisfies -2^128 < v < 2^128, and 2^-149 is the smallest
	// positive float32, so T = 2^-149 is the range of a histogram of zeros.
	minExp = -149
	maxExp = 128
)

// Histogram is a mergeable histogram of float32 values: HistogramBins bins
// of equal width over the symmetric range [-T, T), plus the exact count,
// sum, minimum and maximum of the finite values and the counts of NaN and
// ±Inf values (which are never binned).
//
// # Range and re-binning
//
// T is always a power of two: the smallest 2^e (e ≥ -149) such that every
// finite value added so far lies in [-2^e, 2^e). Bin j (0 ≤ j < 2048) holds
// the values v with floor(v·1024/T) = j - 1024, that is
// [-T + j·w, -T + (j+1)·w) with w = T/1024. A value outside [-T, T) makes T
// grow to the smallest power of two that holds it, by a factor 2^m; the
// existing counts are then re-binned exactly: old bin j goes to new bin
// 1024 + ((j-1024) >> m) (arithmetic shift, i.e. floor((j-1024)/2^m)).
// Because floor(floor(x)/2^m) = floor(x/2^m), this is the bin the value
// would have had had T been the larger one from the start: re-binning
// merges old bins by pairs (m times), with no interpolation and no loss.
//
// Consequently T is a function of the multiset of values alone, and the bin
// of a value at a given T does not depend on when it came: merging the
// histograms of any partition of a stream (Merge) gives exactly, bin for
// bin, the histogram of the whole stream, in any order. The sum is kept
// exactly too (see Sum), so every field of a merged histogram equals that
// of the concatenated stream.
//
// Intel's tools grow their histogram differently: combine_histogram
// (intel/neural-compressor neural_compressor/adaptor/tf_utils/util.py)
// adds whole bins of the old width on both sides, so the number of bins
// grows past 2048 and the bin edges depend on the first batch. qcal's
// doubling keeps 2048 bins and makes merges exact. The price is resolution: the values fill between half and all of
// [-T, T), so the bins over [-max|v|, max|v|] number between 1024 and 2048
// (Intel's fill 2048 at the first batch). KL therefore searches a
// FixedHistogram, Intel's own bins, which calib fills in a second pass.
//
// The zero value is not ready; use NewHistogram.
type Histogram struct {
	counts [HistogramBins]uint64
	exp    int     // T = 2^exp
	scale  float64 // halfBins / T = 2^(10-exp): bin = floor(v·scale) + 1024
	n      uint64  // finite values
	nan    uint64
	posInf uint64
	negInf uint64
	min    float32 // +Inf while n == 0; never -0
	max    float32 // -Inf while n == 0; never -0
	sum    exactSum
	fixed  *FixedHistogram // Intel's histogram of the same values, for KL (SetFixed)
}

// NewHistogram returns an empty histogram (T = 2^-149).
func NewHistogram() *Histogram {
	h := &Histogram{}
	h.reset()
	return h
}

func (h *Histogram) reset() {
	*h = Histogram{}
	h.exp = minExp
	h.scale = math.Ldexp(1, 10-minExp)
	h.min = float32(math.Inf(1))
	h.max = float32(math.Inf(-1))
}

// Add adds one value.
func (h *Histogram) Add(v float32) {
	h.AddSlice([]float32{v})
}

// AddSlice adds the values of vs. It does not keep vs and allocates
// nothing: callers may feed a long tensor in chunks of any size, reusing
// one buffer. The common case (a finite value inside [-T, T)) costs a
// multiply, a floor, an int conversion, one well-predicted range check and
// the count, minimum, maximum and sum updates.
func (h *Histogram) AddSlice(vs []float32) {
	for len(vs) > 0 {
		// The exact sum holds at most sumFlushEvery additions between
		// flushes; real chunks are far smaller than that.
		if h.sum.pending >= sumFlushEvery {
			h.sum.flush()
		}
		k := len(vs)
		if room := sumFlushEvery - h.sum.pending; uint64(k) > room {
			k = int(room)
		}
		h.addChunk(vs[:k])
		vs = vs[k:]
	}
}

// addChunk adds vs; len(vs) must not take the exact sum past
// sumFlushEvery pending additions.
func (h *Histogram) addChunk(vs []float32) {
	c := &h.counts
	acc := &h.sum.acc
	scale := h.scale
	mn, mx := h.min, h.max
	var n uint64
	for _, v := range vs {
		// floor(v*scale) without math.Floor (a call or a CPU feature
		// test here): int rounds toward zero, one too high for negative
		// non-integers. v*scale is exact: scale is a power of two.
		y := float64(v) * scale
		t := int(y)
		var below int
		if float64(t) > y {
			below = 1
		}
		i := t - below + halfBins
		if uint(i) >= HistogramBins || y != y {
			// A value outside [-T, T), ±Inf (an out-of-range int), or
			// NaN (which some ports convert to 0).
			h.n += n
			n = 0
			h.min, h.max = mn, mx
			h.addSlow(v)
			scale = h.scale
			mn, mx = h.min, h.max
			continue
		}
		c[i]++
		n++
		if v < mn {
			mn = v + 0 // +0 for -0: the extremes never hold -0
		}
		if v > mx {
			mx = v + 0
		}
		b := math.Float32bits(v)
		e := b >> 23 & 0xff
		m := int64(b & 0x7fffff)
		if e != 0 {
			m |= 1 << 23
		}
		s := int64(int32(b) >> 31) // 0 or -1
		acc[e] += (m ^ s) - s
	}
	h.n += n
	h.min, h.max = mn, mx
	h.sum.pending += uint64(len(vs))
}

// addSlow handles a value the fast path could not bin.
func (h *Histogram) addSlow(v float32) {
	switch {
	case v != v:
		h.nan++
		return
	case math.IsInf(float64(v), 1):
		h.posInf++
		return
	case math.IsInf(float64(v), -1):
		h.negInf++
		return
	}
	h.grow(expFor(v))
	i := int(math.Floor(float64(v)*h.scale)) + halfBins
	h.counts[i]++
	h.n++
	if v < h.min {
		h.min = v + 0
	}
	if v > h.max {
		h.max = v + 0
	}
	h.sum.addOne(v)
}

// expFor returns the smallest e ≥ minExp such that v lies in [-2^e, 2^e).
func expFor(v float32) int {
	if v == 0 {
		return minExp
	}
	frac, e := math.Frexp(math.Abs(float64(v))) // |v| = frac·2^e, frac in [0.5, 1)
	if v < 0 && frac == 0.5 {
		e-- // -2^(e-1) is the lower end of [-2^(e-1), 2^(e-1))
	}
	return max(e, minExp)
}

// grow widens the range to T = 2^exp (if that is wider), re-binning the
// counts exactly.
func (h *Histogram) grow(exp int) {
	if exp <= h.exp {
		return
	}
	shift := uint(min(exp-h.exp, 62))
	var old [HistogramBins]uint64
	old, h.counts = h.counts, old
	for j, c := range old {
		if c != 0 {
			h.counts[halfBins+((j-halfBins)>>shift)] += c
		}
	}
	h.exp = exp
	h.scale = math.Ldexp(1, 10-exp)
}

// Merge adds every value of o to h. The result equals, bin for bin and
// field for field, the histogram of h's values followed by o's (in either
// order); o is unchanged.
func (h *Histogram) Merge(o *Histogram) {
	if o == h {
		o = o.Clone()
	}
	h.grow(o.exp)
	shift := uint(min(h.exp-o.exp, 62))
	for j, c := range o.counts {
		if c != 0 {
			h.counts[halfBins+((j-halfBins)>>shift)] += c
		}
	}
	h.n += o.n
	h.nan += o.nan
	h.posInf += o.posInf
	h.negInf += o.negInf
	if o.min < h.min {
		h.min = o.min
	}
	if o.max > h.max {
		h.max = o.max
	}
	h.sum.merge(&o.sum)
}

// Clone returns a copy of h (and of its FixedHistogram).
func (h *Histogram) Clone() *Histogram {
	c := *h
	if h.sum.big != nil {
		c.sum.big = new(big.Int).Set(h.sum.big)
	}
	if h.fixed != nil {
		f := *h.fixed
		c.fixed = &f
	}
	return &c
}

// SetFixed attaches f, Intel's fixed-range histogram of the same values
// (over [-AbsMax, AbsMax]), which KL searches instead of h's own bins.
// Merge and Add leave it as it is: attach it once every value is in.
func (h *Histogram) SetFixed(f *FixedHistogram) { h.fixed = f }

// Fixed returns the attached FixedHistogram, or nil.
func (h *Histogram) Fixed() *FixedHistogram { return h.fixed }

// Counts returns a copy of the HistogramBins bin counts; bin j spans
// [Edges()[j], Edges()[j+1]).
func (h *Histogram) Counts() []uint64 { return slices.Clone(h.counts[:]) }

// Edges returns the HistogramBins+1 bin edges, -T + j·T/1024 for j = 0..2048.
// They are exact in float64.
func (h *Histogram) Edges() []float64 {
	e := make([]float64, HistogramBins+1)
	w := h.BinWidth()
	t := h.T()
	for j := range e {
		e[j] = -t + float64(j)*w
	}
	return e
}

// T returns the half-width of the range [-T, T): a power of two.
func (h *Histogram) T() float64 { return math.Ldexp(1, h.exp) }

// BinWidth returns the width of a bin, T/1024.
func (h *Histogram) BinWidth() float64 { return math.Ldexp(1, h.exp-10) }

// Count returns the number of finite values (the binned ones).
func (h *Histogram) Count() uint64 { return h.n }

// NaN returns the number of NaN values seen (never binned).
func (h *Histogram) NaN() uint64 { return h.nan }

// PosInf returns the number of +Inf values seen (never binned).
func (h *Histogram) PosInf() uint64 { return h.posInf }

// NegInf returns the number of -Inf values seen (never binned).
func (h *Histogram) NegInf() uint64 { return h.negInf }

// Min returns the smallest finite value, or 0 when there is none. A -0 is
// reported as 0.
func (h *Histogram) Min() float32 {
	if h.n == 0 {
		return 0
	}
	return h.min
}

// Max returns the largest finite value, or 0 when there is none. A -0 is
// reported as 0.
func (h *Histogram) Max() float32 {
	if h.n == 0 {
		return 0
	}
	return h.max
}

// AbsMax returns max(|Min()|, |Max()|).
func (h *Histogram) AbsMax() float32 {
	return max(float32(math.Abs(float64(h.Min()))), float32(math.Abs(float64(h.Max()))))
}

// NonNegative reports whether the histogram holds at least one finite value
// and no negative one (Min() >= 0): the condition under which the
// histogram strategies return a range [0, t] rather than [-t, t].
func (h *Histogram) NonNegative() bool { return h.n > 0 && h.min >= 0 }

// Sum returns the sum of the finite values, computed exactly and rounded
// once to the nearest float64 (ties to even). It is therefore independent
// of the order of the values and of how they were split among merged
// histograms.
func (h *Histogram) Sum() float64 { return h.sum.value() }

// Mean returns Sum()/Count(), or 0 when there are no finite values.
func (h *Histogram) Mean() float64 {
	if h.n == 0 {
		return 0
	}
	return h.Sum() / float64(h.n)
}

// Quantile returns the q-quantile (0 ≤ q ≤ 1) of the finite values,
// interpolated linearly inside the bin that holds the rank: with n values,
// rank r = q·n and c(j) the number of values in bins before j, the bin j
// with c(j) < r ≤ c(j+1) is found and the result is
// edge(j) + (r - c(j))/count(j) · w, clamped to [Min(), Max()]. This
// treats the values of a bin as spread evenly over it, so the result is
// within one bin width of the exact order statistic. q ≤ 0 gives Min(),
// q ≥ 1 gives Max(); an empty histogram gives 0.
func (h *Histogram) Quantile(q float64) float64 {
	if h.n == 0 {
		return 0
	}
	lo, hi := float64(h.min), float64(h.max)
	r := q * float64(h.n)
	if !(r > 0) {
		return lo
	}
	if r >= float64(h.n) {
		return hi
	}
	w := h.BinWidth()
	var cum float64
	for j, c := range h.counts {
		if c == 0 {
			continue
		}
		next := cum + float64(c)
		if r <= next {
			v := -h.T() + float64(j)*w + (r-cum)/float64(c)*w
			return min(max(v, lo), hi)
		}
		cum = next
	}
	return hi
}

// folded returns the histogram of |v| over [0, T): bin k (0 ≤ k < 1024)
// spans [k·w, (k+1)·w) and holds bins 1024+k and 1023-k. (A negative value
// exactly on a bin edge, -k·w, is counted in folded bin k-1 rather than k:
// folding keeps the bins' half-open ends.)
func (h *Histogram) folded(dst []float64) []float64 {
	dst = dst[:0]
	for k := range halfBins {
		dst = append(dst, float64(h.counts[halfBins+k])+float64(h.counts[halfBins-1-k]))
	}
	return dst
}

// sumFlushEvery bounds the additions an exactSum takes between flushes: each
// adds less than 2^24 in magnitude to one int64, so 2^37 of them (doubled by
// a merge) stay below 2^62.
const sumFlushEvery = 1 << 37

// exactSum is an exact accumulator of float32 values. A finite float32 with
// biased exponent e and significand m (with its implicit bit) is
// ±m·2^(max(e,1)-150); acc[e] sums the signed significands of the values
// with exponent e, so no addition rounds. flush moves acc into big, an
// integer in units of 2^-149.
type exactSum struct {
	acc     [256]int64
	pending uint64 // additions since the last flush
	big     *big.Int
}

func (s *exactSum) addOne(v float32) {
	if s.pending >= sumFlushEvery {
		s.flush()
	}
	b := math.Float32bits(v)
	e := b >> 23 & 0xff
	m := int64(b & 0x7fffff)
	if e != 0 {
		m |= 1 << 23
	}
	if int32(b) < 0 {
		m = -m
	}
	s.acc[e] += m
	s.pending++
}

// total returns the exact sum in units of 2^-149.
func (s *exactSum) total() *big.Int {
	t := new(big.Int)
	if s.big != nil {
		t.Set(s.big)
	}
	var x big.Int
	for e, a := range s.acc {
		if a == 0 {
			continue
		}
		x.SetInt64(a)
		x.Lsh(&x, uint(max(e, 1)-1))
		t.Add(t, &x)
	}
	return t
}

func (s *exactSum) flush() {
	s.big = s.total()
	s.acc = [256]int64{}
	s.pending = 0
}

func (s *exactSum) merge(o *exactSum) {
	if s.pending+o.pending > sumFlushEvery {
		s.flush()
	}
	for e, a := range o.acc {
		s.acc[e] += a
	}
	s.pending += o.pending
	if o.big != nil {
		if s.big == nil {
			s.big = new(big.Int)
		}
		s.big.Add(s.big, o.big)
	}
	if s.pending > sumFlushEvery {
		s.flush()
	}
}

func (s *exactSum) value() float64 {
	t := s.total()
	if t.Sign() == 0 {
		return 0
	}
	f := new(big.Float).SetInt(t) // exact: precision is t's bit length
	f.SetMantExp(f, -149)
	v, _ := f.Float64() // nearest, ties to even
	return v
}

// HistogramSet holds one Histogram per node name, in first-seen order.
// The zero value is not ready; use NewHistogramSet.
type HistogramSet struct {
	m     map[string]*Histogram
	order []string
}

// NewHistogramSet returns an empty set.
func NewHistogramSet() *HistogramSet {
	return &HistogramSet{m: make(map[string]*Histogram)}
}

// Histogram returns the node's histogram, creating an empty one the first
// time a node is named. Streaming callers keep the result while they feed
// one record's values in chunks with AddSlice.
func (s *HistogramSet) Histogram(node string) *Histogram {
	h := s.m[node]
	if h == nil {
		h = NewHistogram()
		s.m[node] = h
		s.order = append(s.order, node)
	}
	return h
}

// Add adds vs to the node's histogram (see Histogram.AddSlice). Adding an
// empty slice still registers the node.
func (s *HistogramSet) Add(node string, vs []float32) {
	s.Histogram(node).AddSlice(vs)
}

// Node returns the node's histogram, or nil.
func (s *HistogramSet) Node(name string) *Histogram { return s.m[name] }

// Nodes returns the node names in the order they were first added.
func (s *HistogramSet) Nodes() []string { return slices.Clone(s.order) }

// Len returns the number of nodes.
func (s *HistogramSet) Len() int { return len(s.order) }

// Merge merges every histogram of o into s, node by node; nodes new to s
// come after s's own, in o's order. o is unchanged.
func (s *HistogramSet) Merge(o *HistogramSet) {
	for _, name := range o.order {
		s.Histogram(name).Merge(o.m[name])
	}
}
