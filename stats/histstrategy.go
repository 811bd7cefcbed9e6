package stats

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
)

// HistStrategy turns a node's histogram of tensor values (the `__KL:` data
// lines of TF-FORMATS §2) into a range. Strategies are safe for concurrent
// use: each call takes its scratch buffers from a pool.
type HistStrategy interface {
	// Name returns the strategy as ParseHistStrategy reads it, e.g. "kl"
	// or "vpercentile:99.99".
	Name() string
	// Range returns the node's range. An empty histogram (no finite value)
	// gives (0, 0).
	Range(h *Histogram) (lo, hi float32)
}

// HistStrategies lists the spellings ParseHistStrategy accepts, for usage
// text.
const HistStrategies = "kl, entropy, mse, vpercentile:P (or percentile:P)"

// ParseHistStrategy reads a histogram strategy name:
//
//	kl             Intel's KL-divergence threshold search (KL)
//	entropy        TensorRT / pytorch-quantization entropy calibration (Entropy)
//	mse            the threshold of least int8 squared error (MSE)
//	vpercentile:P  P-th and (100-P)-th percentiles of the values, 0 < P <= 100 (ValuePercentile)
//	percentile:P   the same as vpercentile:P
//
// "percentile:P" is ambiguous: ParseStrategy reads it as the percentile of
// the per-batch extremes. A caller holding a log of tensor values (not only
// per-batch min/max) may pass it here to mean the value percentile;
// IsHistStrategy reports false for it so that a caller routing on the spec
// alone keeps TensorFlow-compatible per-batch semantics. The strategy
// parsed from either spelling is named "vpercentile:P".
func ParseHistStrategy(spec string) (HistStrategy, error) {
	name, arg, hasArg := strings.Cut(spec, ":")
	noArg := func(st HistStrategy) (HistStrategy, error) {
		if hasArg {
			return nil, fmt.Errorf("strategy %q takes no parameter", name)
		}
		return st, nil
	}
	switch name {
	case "kl":
		return noArg(KL{})
	case "entropy":
		return noArg(Entropy{})
	case "mse":
		return noArg(MSE{})
	case "vpercentile", "percentile":
		if !hasArg || arg == "" {
			return nil, fmt.Errorf("strategy %q needs a parameter: %s:P", name, name)
		}
		p, err := strconv.ParseFloat(arg, 64)
		if err != nil || math.IsNaN(p) || p <= 0 || p > 100 {
			return nil, fmt.Errorf("strategy %q: P must be a number in (0, 100], got %q", name, arg)
		}
		return ValuePercentile{P: p}, nil
	}
	return nil, &UnknownStrategyError{Spec: spec, Values: true}
}

// IsHistStrategy reports whether spec names a strategy that needs the
// tensor values (a histogram) rather than the per-batch extremes: kl,
// entropy, mse and vpercentile, with or without a parameter. It reports
// false for "percentile:P", which ParseStrategy reads as the per-batch
// percentile (see ParseHistStrategy).
func IsHistStrategy(spec string) bool {
	name, _, _ := strings.Cut(spec, ":")
	switch name {
	case "kl", "entropy", "mse", "vpercentile":
		return true
	}
	return false
}

// ValuePercentile is the percentile of the values themselves: the range is
// (Quantile(1 - P/100), Quantile(P/100)) of the histogram, each interpolated
// linearly inside the bin that holds its rank and clamped to the exact
// extremes (see Histogram.Quantile): exact to within one bin width, and
// P = 100 gives the exact maximum and minimum. The range is not widened to
// include zero.
type ValuePercentile struct{ P float64 }

// Name implements HistStrategy.
func (p ValuePercentile) Name() string {
	return "vpercentile:" + strconv.FormatFloat(p.P, 'g', -1, 64)
}

// Range implements HistStrategy.
func (p ValuePercentile) Range(h *Histogram) (lo, hi float32) {
	if h.Count() == 0 {
		return 0, 0
	}
	q := p.P / 100
	return float32(h.Quantile(1 - q)), float32(h.Quantile(q))
}

// histScratch holds the buffers of one search; searches take one from
// scratchPool so that repeated calls allocate nothing.
type histScratch struct {
	sub []float64 // the counts searched
	c   []float64 // c[j] = Σ sub[:j]
	z   []int32   // z[j] = number of nonzero bins in sub[:j]
	pl  []float64 // pl[j] = Σ sub[k]·ln(sub[k]) over nonzero k < j
	s1  []float64 // mse: suffix sums
	s2  []float64
	nzU []float64 // mse: centers (bin units) of the nonzero bins
	nzN []float64 // mse: their counts
}

var scratchPool = sync.Pool{New: func() any { return new(histScratch) }}

func grow64(s []float64, n int) []float64 {
	if cap(s) < n {
		return make([]float64, n, n+n/4)
	}
	return s[:n]
}

// prefix fills c, z and pl for s.sub.
func (s *histScratch) prefix() {
	n := len(s.sub)
	s.c = grow64(s.c, n+1)
	s.pl = grow64(s.pl, n+1)
	if cap(s.z) < n+1 {
		s.z = make([]int32, n+1, n+1+n/4)
	}
	s.z = s.z[:n+1]
	var c, pl float64
	var z int32
	for j, v := range s.sub {
		s.c[j], s.z[j], s.pl[j] = c, z, pl
		if v != 0 {
			c += v
			z++
			pl += v * math.Log(v)
		}
	}
	s.c[n], s.z[n], s.pl[n] = c, z, pl
}

// xlogx returns x·ln(x), with 0·ln(0) = 0.
func xlogx(x float64) float64 {
	if x == 0 {
		return 0
	}
	return x * math.Log(x)
}

// logSmall[k] = ln(k) for the bin counts of a group (at most HistogramBins).
var logSmall = func() (t [HistogramBins + 1]float64) {
	for k := range t {
		t[k] = math.Log(float64(k))
	}
	return t
}()

// foldedTop fills s.sub with the histogram of |v| (see Histogram.folded)
// cut after its last nonzero bin, and returns its length. It returns 0 when
// there is no finite value or every one is zero: callers return (0, 0).
func (s *histScratch) foldedTop(h *Histogram) int {
	s.sub = h.folded(grow64(s.sub, halfBins))
	n := len(s.sub)
	for n > 0 && s.sub[n-1] == 0 {
		n--
	}
	s.sub = s.sub[:n]
	if n == 1 && h.AbsMax() == 0 {
		return 0
	}
	return n
}

// symmetricRange returns [0, t] for a non-negative histogram, else [-t, t].
func symmetricRange(h *Histogram, t float64) (lo, hi float32) {
	if h.NonNegative() {
		return 0, float32(t)
	}
	return -float32(t), float32(t)
}
