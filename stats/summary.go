package stats

import (
	"hash/fnv"
	"math"
	"math/bits"
	"math/rand/v2"
	"slices"
)

// This file holds the statistics an audit reports about a node's per-batch
// extremes: their spread, robust outlier scores, and how well a strategy's
// range has converged. They describe samples; they pick no range.

// Spread describes a sample: order statistics by the type-7 quantile rule
// (see Percentile), the interquartile range, and the median absolute
// deviation.
type Spread struct {
	N                        int
	Min, Q1, Median, Q3, Max float64
	// IQR is Q3 - Q1.
	IQR float64
	// RelIQR is IQR / |Median|: how wide the middle half is relative to a
	// typical value. It is 0 when IQR is 0 and +Inf when only the median is.
	RelIQR float64
	// MAD is the median of |x - Median| (unscaled).
	MAD float64
}

// Describe returns the spread of x. It returns the zero Spread for an empty
// sample.
func Describe(x []float32) Spread {
	if len(x) == 0 {
		return Spread{}
	}
	v := make([]float64, len(x))
	for i, f := range x {
		v[i] = float64(f)
	}
	slices.Sort(v)
	s := Spread{
		N:      len(v),
		Min:    v[0],
		Q1:     quantile7(v, 0.25),
		Median: quantile7(v, 0.5),
		Q3:     quantile7(v, 0.75),
		Max:    v[len(v)-1],
	}
	s.IQR = s.Q3 - s.Q1
	switch {
	case s.IQR == 0:
	case s.Median == 0:
		s.RelIQR = math.Inf(1)
	default:
		s.RelIQR = s.IQR / math.Abs(s.Median)
	}
	for i := range v {
		v[i] = math.Abs(v[i] - s.Median)
	}
	slices.Sort(v)
	s.MAD = quantile7(v, 0.5)
	return s
}

const (
	// OutlierZ is the modified z-score beyond which a value is called an
	// outlier (Iglewicz & Hoaglin 1993, "How to Detect and Handle
	// Outliers", ASQC: |Mᵢ| > 3.5).
	OutlierZ = 3.5
	// MADScale turns a MAD into an estimate of the standard deviation of
	// normal data: 1/Φ⁻¹(3/4) = 1.4826 (so Mᵢ = 0.6745·(xᵢ − median)/MAD).
	MADScale = 1.4826
	// MeanADScale does the same for the mean absolute deviation from the
	// median: √(π/2) = 1.253314.
	MeanADScale = 1.253314
)

// RobustZ returns the modified z-score of each value of x (Iglewicz &
// Hoaglin 1993):
//
//	zᵢ = (xᵢ − median) / (MADScale · MAD)
//
// When more than half the values are equal the MAD is 0; then the mean
// absolute deviation from the median is used instead, zᵢ = (xᵢ − median) /
// (MeanADScale · MeanAD), as IBM's statistics products do. When that is 0
// too (all values equal) every score is 0.
func RobustZ(x []float32) []float64 {
	z := make([]float64, len(x))
	if len(x) == 0 {
		return z
	}
	s := Describe(x)
	scale := MADScale * s.MAD
	if scale == 0 {
		var sum float64
		for _, v := range x {
			sum += math.Abs(float64(v) - s.Median)
		}
		scale = MeanADScale * sum / float64(len(x))
	}
	if scale == 0 || math.IsInf(scale, 0) || math.IsNaN(scale) {
		return z
	}
	for i, v := range x {
		z[i] = (float64(v) - s.Median) / scale
	}
	return z
}

// Width returns the width of a range: Max − Min for a min/max node, |Min|
// for a min-only node and |Max| for a max-only node (whose other bound
// comes from another node).
func Width(r Range) float64 {
	switch r.Side {
	case MinOnly:
		return math.Abs(float64(r.Min))
	case MaxOnly:
		return math.Abs(float64(r.Max))
	}
	return float64(r.Max) - float64(r.Min)
}

// Subset returns a node holding the given batches of n (indices in log
// order, in the order given; repeats allowed). It has n's name, side, file
// and first line but no positions.
func (n *Node) Subset(batches []int) *Node {
	out := &Node{Name: n.Name, Side: n.Side, File: n.File, FirstLine: n.FirstLine, LastLine: n.LastLine}
	fillSubset(out, n, batches)
	return out
}

// fillSubset makes dst hold the given batches of src, reusing dst's blocks.
func fillSubset(dst, src *Node, batches []int) {
	if src.Side != MaxOnly {
		dst.mins.refill(len(batches), func(i int) float32 { return src.mins.at(batches[i]) })
	}
	if src.Side != MinOnly {
		dst.maxs.refill(len(batches), func(i int) float32 { return src.maxs.at(batches[i]) })
	}
}

// ConvergenceOptions tune Converge. Zero fields take the defaults.
type ConvergenceOptions struct {
	// Tolerance is how far, as a fraction of the full range's width, a
	// range computed from fewer batches may lie from the full one and
	// still count as the same (default 0.05).
	Tolerance float64
	// Resamples is the number of bootstrap resamples (default 200).
	Resamples int
	// Seed seeds the bootstrap; the node's name is mixed in, so that each
	// node's result depends only on its own data.
	Seed uint64
	// Checkpoints is the number of prefixes examined (default 20).
	Checkpoints int
	// MinBatches is the fewest batches a converged node may have
	// (default 10).
	MinBatches int
}

// Default convergence options.
const (
	DefaultTolerance   = 0.05
	DefaultResamples   = 200
	DefaultCheckpoints = 20
	DefaultMinBatches  = 10
)

func (o *ConvergenceOptions) defaults() {
	if o.Tolerance <= 0 {
		o.Tolerance = DefaultTolerance
	}
	if o.Resamples <= 0 {
		o.Resamples = DefaultResamples
	}
	if o.Checkpoints <= 0 {
		o.Checkpoints = DefaultCheckpoints
	}
	if o.MinBatches <= 0 {
		o.MinBatches = DefaultMinBatches
	}
}

// Convergence says whether a node's range under a strategy has stopped
// moving as batches were added. Distances are fractions of the width W of
// the range over all batches (see Width); when W is 0 they are 0 if the
// bounds agree exactly and +Inf otherwise.
type Convergence struct {
	Batches int
	Range   Range // over all batches
	// First and Second are the ranges over the first ⌊n/2⌋ batches and over
	// the others; HalfShift = max(|ΔMin|, |ΔMax|)/W between them.
	First, Second Range
	HalfShift     float64
	// MinLo..MaxHi are 95% bootstrap percentile intervals of the range's
	// bounds: the 2.5% and 97.5% type-7 quantiles of the bound over
	// Resamples resamples of the n batches drawn with replacement (a
	// batch's min and max stay together). CIWidth is the wider of the two
	// intervals over W.
	MinLo, MinHi, MaxLo, MaxHi float64
	CIWidth                    float64
	// StableAfter is the number of batches after which the range stayed
	// put: the smallest checkpoint k such that the range over the first k'
	// batches lies within Tolerance·W of the full range on both bounds for
	// every checkpoint k' ≥ k. Checkpoints are the prefix lengths
	// ⌈j·n/K⌉, j = 1..K, K = min(Checkpoints, n); the last is n itself.
	StableAfter int
	// Converged reports whether n ≥ MinBatches and StableAfter ≤ ⌈n/2⌉:
	// the second half of the log did not move the range by more than the
	// tolerance.
	Converged bool
}

// Converge measures how the range s gives node n settles as batches are
// added. The result depends only on n's values, s, the options and n's
// name (for the bootstrap's seed). n must have at least one batch.
func Converge(n *Node, s Strategy, opt ConvergenceOptions) Convergence {
	opt.defaults()
	count := n.Count()
	c := Convergence{Batches: count, Range: s.Range(n)}
	w := Width(c.Range)
	rel := func(a, b float32) float64 {
		d := math.Abs(float64(a) - float64(b))
		if w == 0 {
			if d == 0 {
				return 0
			}
			return math.Inf(1)
		}
		return d / w
	}
	dist := func(a, b Range) float64 {
		var d float64
		if n.Side != MaxOnly {
			d = rel(a.Min, b.Min)
		}
		if n.Side != MinOnly {
			d = max(d, rel(a.Max, b.Max))
		}
		return d
	}
	idx := make([]int, count)
	for i := range idx {
		idx[i] = i
	}
	scratch := &Node{Name: n.Name, Side: n.Side}
	rangeOf := func(batches []int) Range {
		fillSubset(scratch, n, batches)
		return s.Range(scratch)
	}

	// Halves.
	if half := count / 2; half > 0 {
		c.First = rangeOf(idx[:half])
		c.Second = rangeOf(idx[half:])
		c.HalfShift = dist(c.First, c.Second)
	} else {
		c.First, c.Second = c.Range, c.Range
	}

	// Prefix stability, from the longest prefix down.
	k := min(opt.Checkpoints, count)
	c.StableAfter = count
	for j := k; j >= 1; j-- {
		p := (j*count + k - 1) / k
		if dist(rangeOf(idx[:p]), c.Range) > opt.Tolerance {
			break
		}
		c.StableAfter = p
	}

	// Bootstrap.
	h := fnv.New64a()
	h.Write([]byte(n.Name))
	rng := rand.New(rand.NewPCG(opt.Seed, h.Sum64()))
	var mins, maxs []float64
	if ob := newOrderBootstrap(n, s); ob != nil && !forceGenericBootstrap {
		mins, maxs = ob.run(rng, opt.Resamples)
	} else {
		mins = make([]float64, 0, opt.Resamples)
		maxs = make([]float64, 0, opt.Resamples)
		pick := make([]int, count)
		for range opt.Resamples {
			for i := range pick {
				pick[i] = draw(rng, count)
			}
			r := rangeOf(pick)
			mins = append(mins, float64(r.Min))
			maxs = append(maxs, float64(r.Max))
		}
	}
	slices.Sort(mins)
	slices.Sort(maxs)
	c.MinLo, c.MinHi = quantile7(mins, 0.025), quantile7(mins, 0.975)
	c.MaxLo, c.MaxHi = quantile7(maxs, 0.025), quantile7(maxs, 0.975)
	var ci float64
	if n.Side != MaxOnly {
		ci = c.MinHi - c.MinLo
	}
	if n.Side != MinOnly {
		ci = max(ci, c.MaxHi-c.MaxLo)
	}
	switch {
	case w > 0:
		c.CIWidth = ci / w
	case ci > 0:
		c.CIWidth = math.Inf(1)
	}
	c.Converged = count >= opt.MinBatches && c.StableAfter <= (count+1)/2
	return c
}

// forceGenericBootstrap makes Converge resample through Strategy.Range
// even for order-statistic strategies (tests compare the two paths).
var forceGenericBootstrap = false

// orderPick is a bound that is an order statistic of the n per-batch
// values, or the type-7 interpolation between two: x[lo] + frac·(x[lo+1] −
// x[lo]) over the sorted values (frac 0: x[lo] alone).
type orderPick struct {
	lo   int
	frac float64
	// interp: the strategy interpolates in float64 (Percentile, Median);
	// else it returns the float32 order statistic itself (TF, MinMax).
	interp bool
}

func typeSevenPick(n int, q float64) orderPick {
	h := float64(n-1) * q
	lo := math.Floor(h)
	p := orderPick{lo: int(lo), frac: h - lo, interp: true}
	if p.lo >= n-1 {
		p = orderPick{lo: n - 1, interp: true}
	}
	return p
}

// orderPicks returns the picks of the strategies whose bounds are order
// statistics of n values; ok is false for the others.
func orderPicks(s Strategy, n int) (minPick, maxPick orderPick, ok bool) {
	switch t := s.(type) {
	case TF:
		mi, ma := TFIndices(n, t.MinPercentile, t.MaxPercentile)
		return orderPick{lo: mi}, orderPick{lo: ma}, true
	case MinMax:
		return orderPick{lo: 0}, orderPick{lo: n - 1}, true
	case Percentile:
		return typeSevenPick(n, 1-t.P/100), typeSevenPick(n, t.P/100), true
	case Median:
		return typeSevenPick(n, 0.5), typeSevenPick(n, 0.5), true
	}
	return orderPick{}, orderPick{}, false
}

// orderBootstrap resamples a node for a strategy whose bounds are order
// statistics, without building resampled nodes: the batches are sorted
// once by min and by max, a resample is a count of draws per batch, and the
// k-th smallest value of the resample is found by walking the sorted
// batches until the counts pass k (from the nearer end). A resample costs
// n random draws and short walks, instead of copying and selecting n
// values; the draws are those of the generic path, so the results agree.
type orderBootstrap struct {
	n                int
	node             *Node
	minPick, maxPick orderPick
	byMin, byMax     []int32 // batches sorted by min, by max
	minVals, maxVals []float32
	counts           []int32
}

func newOrderBootstrap(nd *Node, s Strategy) *orderBootstrap {
	n := nd.Count()
	mp, xp, ok := orderPicks(s, n)
	if !ok {
		return nil
	}
	b := &orderBootstrap{n: n, minPick: mp, maxPick: xp, counts: make([]int32, n)}
	sorted := func(vals []float32) []int32 {
		// Sort (key, batch) pairs packed in a uint64: ties stay in batch
		// order, so the order is deterministic.
		packed := make([]uint64, len(vals))
		for i, v := range vals {
			packed[i] = uint64(orderKey(v))<<32 | uint64(i)
		}
		slices.Sort(packed)
		idx := make([]int32, len(vals))
		for i, p := range packed {
			idx[i] = int32(uint32(p))
		}
		return idx
	}
	if nd.Side != MaxOnly {
		b.minVals = nd.Mins()
		b.byMin = sorted(b.minVals)
	}
	if nd.Side != MinOnly {
		b.maxVals = nd.Maxs()
		b.byMax = sorted(b.maxVals)
	}
	return b
}

// kth returns the k-th smallest (0-based) resampled value, walking from
// the nearer end of the sorted batches.
func (b *orderBootstrap) kth(order []int32, vals []float32, k int) float32 {
	if k < b.n/2 {
		cum := 0
		for _, i := range order {
			cum += int(b.counts[i])
			if cum > k {
				return fromKey(orderKey(vals[i]))
			}
		}
	} else {
		above := b.n - 1 - k // resampled values above the k-th
		cum := 0
		for j := len(order) - 1; j >= 0; j-- {
			i := order[j]
			cum += int(b.counts[i])
			if cum > above {
				return fromKey(orderKey(vals[i]))
			}
		}
	}
	panic("stats: resample counts do not add up")
}

func (b *orderBootstrap) bound(order []int32, vals []float32, p orderPick) float64 {
	v := b.kth(order, vals, p.lo)
	if !p.interp {
		return float64(v)
	}
	if p.lo >= b.n-1 {
		return float64(float32(float64(v)))
	}
	x0, x1 := float64(v), float64(b.kth(order, vals, p.lo+1))
	return float64(float32(x0 + p.frac*(x1-x0)))
}

// run draws the resamples and returns the bounds of each.
func (b *orderBootstrap) run(rng *rand.Rand, resamples int) (mins, maxs []float64) {
	mins = make([]float64, 0, resamples)
	maxs = make([]float64, 0, resamples)
	for range resamples {
		clear(b.counts)
		for range b.n {
			b.counts[draw(rng, b.n)]++
		}
		var lo, hi float64
		if b.byMin != nil {
			lo = b.bound(b.byMin, b.minVals, b.minPick)
		}
		if b.byMax != nil {
			hi = b.bound(b.byMax, b.maxVals, b.maxPick)
		}
		mins = append(mins, lo)
		maxs = append(maxs, hi)
	}
	return mins, maxs
}

// draw returns a random batch index in [0, n): the high word of a 64-bit
// random number times n (Lemire's multiply-shift without the rejection
// step; its bias, below n/2⁶⁴, is far beneath the bootstrap's own error).
func draw(rng *rand.Rand, n int) int {
	hi, _ := bits.Mul64(rng.Uint64(), uint64(n))
	return int(hi)
}
