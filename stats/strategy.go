package stats

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"

	"gonum.org/v1/gonum/stat"
)

// Range is the calibrated range of one node.
type Range struct {
	Node  string
	Side  Side
	Min   float32 // for MaxOnly nodes: 0
	Max   float32 // for MinOnly nodes: 0
	Count int     // batches (records) the range was computed from
}

// Strategy turns a node's per-batch extremes into one range.
type Strategy interface {
	// Name returns the strategy as ParseStrategy reads it, e.g. "tf" or
	// "percentile:99.9".
	Name() string
	// Range returns the node's range. It must not be called for a node with
	// no samples.
	Range(n *Node) Range
}

// Ranges applies s to every node of a, in the accumulator's node order.
func Ranges(a *Accumulator, s Strategy) []Range {
	out := make([]Range, 0, a.Len())
	for _, n := range a.order {
		out = append(out, s.Range(n))
	}
	return out
}

// Strategies lists the strategy spellings ParseStrategy accepts, for usage text.
const Strategies = "tf, minmax, percentile:P, mean, median, ema:A"

// ParseStrategy reads a strategy name:
//
//	tf            TensorFlow's rule with the given percentiles (TF's defaults are 5 and 5)
//	minmax        absolute extremes
//	percentile:P  P-th percentile of the maxes, (100-P)-th of the mins, 0 < P <= 100
//	mean          mean of the per-batch extremes
//	median        median of the per-batch extremes
//	ema:A         exponential moving average in log order, 0 < A <= 1
func ParseStrategy(s string, minPercentile, maxPercentile float32) (Strategy, error) {
	name, arg, hasArg := strings.Cut(s, ":")
	param := func(lo, hi float64, what string) (float64, error) {
		if !hasArg || arg == "" {
			return 0, fmt.Errorf("strategy %q needs a parameter: %s:%s", name, name, what)
		}
		v, err := strconv.ParseFloat(arg, 64)
		if err != nil || math.IsNaN(v) || v <= lo || v > hi {
			return 0, fmt.Errorf("strategy %q: %s must be a number in (%g, %g], got %q", name, what, lo, hi, arg)
		}
		return v, nil
	}
	noArg := func(st Strategy) (Strategy, error) {
		if hasArg {
			return nil, fmt.Errorf("strategy %q takes no parameter", name)
		}
		return st, nil
	}
	switch name {
	case "tf":
		if minPercentile < 0 || minPercentile > 100 || maxPercentile < 0 || maxPercentile > 100 ||
			minPercentile != minPercentile || maxPercentile != maxPercentile {
			return nil, fmt.Errorf("strategy tf: percentiles must be in [0, 100], got min %g, max %g", minPercentile, maxPercentile)
		}
		return noArg(TF{MinPercentile: minPercentile, MaxPercentile: maxPercentile})
	case "minmax":
		return noArg(MinMax{})
	case "mean":
		return noArg(Mean{})
	case "median":
		return noArg(Median{})
	case "percentile":
		p, err := param(0, 100, "P")
		if err != nil {
			return nil, err
		}
		return Percentile{P: p}, nil
	case "ema":
		a, err := param(0, 1, "A")
		if err != nil {
			return nil, err
		}
		return EMA{Alpha: a}, nil
	}
	return nil, &UnknownStrategyError{Spec: s}
}

// UnknownStrategyError is ParseStrategy's or ParseHistStrategy's error for
// a name neither knows (a bad parameter is another error).
type UnknownStrategyError struct {
	Spec string
	// Values reports whether ParseHistStrategy (strategies on tensor
	// values) returned the error.
	Values bool
}

func (e *UnknownStrategyError) Error() string {
	if e.Values {
		return fmt.Sprintf("unknown histogram strategy %q (known: %s)", e.Spec, HistStrategies)
	}
	return fmt.Sprintf("unknown strategy %q (known: %s)", e.Spec, Strategies)
}

// TF is TensorFlow's freeze_requantization_ranges rule, bit for bit.
//
// The mins and the maxes of a node are sorted separately (n values each) and
//
//	min_index = round(float32(n) * (MinPercentile / 100)), at least 0
//	max_index = round(float32(n) * (1 - MaxPercentile / 100)), at most n-1
//
// with every operation in float32 and round half away from zero; the range
// is (mins[min_index], maxs[max_index]). With MinPercentile = 100 TF would
// read past the end of the slice; qcal clamps that index to n-1 as well.
type TF struct {
	MinPercentile, MaxPercentile float32
}

// Name implements Strategy.
func (t TF) Name() string {
	if t.MinPercentile == 5 && t.MaxPercentile == 5 {
		return "tf"
	}
	return fmt.Sprintf("tf(min %g%%, max %g%%)", t.MinPercentile, t.MaxPercentile)
}

// TFIndices returns the indices TF's rule picks in the sorted mins and maxes
// of n values.
func TFIndices(n int, minPercentile, maxPercentile float32) (minIndex, maxIndex int) {
	fn := float32(n)
	minIndex = int(math.Round(float64(float32(fn * float32(minPercentile/100)))))
	if minIndex < 0 {
		minIndex = 0
	}
	if minIndex > n-1 {
		minIndex = n - 1
	}
	maxIndex = int(math.Round(float64(float32(fn * float32(1-float32(maxPercentile/100))))))
	if maxIndex > n-1 {
		maxIndex = n - 1
	}
	if maxIndex < 0 {
		maxIndex = 0
	}
	return minIndex, maxIndex
}

// Range implements Strategy.
func (t TF) Range(n *Node) Range {
	r := Range{Node: n.Name, Side: n.Side, Count: n.Count()}
	mi, ma := TFIndices(r.Count, t.MinPercentile, t.MaxPercentile)
	if n.Side != MaxOnly {
		r.Min = nth(n.mins, mi)
	}
	if n.Side != MinOnly {
		r.Max = nth(n.maxs, ma)
	}
	return r
}

// nth returns the k-th smallest value of s (0-based), by selection rather
// than a full sort; -0 counts as smaller than +0 (see orderKey).
func nth(s series, k int) float32 {
	buf := keyPool.Get().(*[]uint32)
	keys := (*buf)[:0]
	s.each(func(v float32) { keys = append(keys, orderKey(v)) })
	v := fromKey(selectKth(keys, k))
	*buf = keys
	keyPool.Put(buf)
	return v
}

// keyPool recycles selection scratch space between nodes, so that ranging
// every node of a large log allocates one node's worth, not the log's.
var keyPool = sync.Pool{New: func() any { return new([]uint32) }}

// MinMax is the absolute range: the smallest min and the largest max.
type MinMax struct{}

// Name implements Strategy.
func (MinMax) Name() string { return "minmax" }

// Range implements Strategy.
func (MinMax) Range(n *Node) Range {
	return reduce(n, func(s series, isMin bool) float32 {
		best := s.at(0)
		s.each(func(v float32) {
			if isMin && v < best || !isMin && v > best {
				best = v
			}
		})
		return best
	})
}

// Percentile takes the P-th percentile of the per-batch maxes and the
// (100-P)-th percentile of the per-batch mins, with linear interpolation
// between order statistics (numpy's default "linear" method, Hyndman & Fan
// type 7): for sorted x of n values and fraction q, h = (n-1)q,
// value = x[⌊h⌋] + (h-⌊h⌋)(x[⌊h⌋+1]-x[⌊h⌋]), computed in float64.
type Percentile struct{ P float64 }

// Name implements Strategy.
func (p Percentile) Name() string { return "percentile:" + strconv.FormatFloat(p.P, 'g', -1, 64) }

// Range implements Strategy.
func (p Percentile) Range(n *Node) Range {
	return reduce(n, func(s series, isMin bool) float32 {
		q := p.P / 100
		if isMin {
			q = 1 - q
		}
		return float32(withSorted64(s, func(x []float64) float64 { return quantile7(x, q) }))
	})
}

// Mean is the arithmetic mean of the per-batch mins and of the maxes
// (float64 sums, gonum stat.Mean).
type Mean struct{}

// Name implements Strategy.
func (Mean) Name() string { return "mean" }

// Range implements Strategy.
func (Mean) Range(n *Node) Range {
	return reduce(n, func(s series, _ bool) float32 {
		return float32(withValues64(s, func(x []float64) float64 { return stat.Mean(x, nil) }))
	})
}

// Median is the median of the per-batch mins and of the maxes: the middle
// value, or the mean of the two middle values when n is even.
type Median struct{}

// Name implements Strategy.
func (Median) Name() string { return "median" }

// Range implements Strategy.
func (Median) Range(n *Node) Range {
	return reduce(n, func(s series, _ bool) float32 {
		return float32(withSorted64(s, func(x []float64) float64 { return quantile7(x, 0.5) }))
	})
}

// EMA is the exponential moving average of the per-batch extremes in log
// order: e₁ = x₁, eᵢ = Alpha·xᵢ + (1-Alpha)·eᵢ₋₁, in float64.
type EMA struct{ Alpha float64 }

// Name implements Strategy.
func (e EMA) Name() string { return "ema:" + strconv.FormatFloat(e.Alpha, 'g', -1, 64) }

// Range implements Strategy.
func (e EMA) Range(n *Node) Range {
	return reduce(n, func(s series, _ bool) float32 {
		first := true
		var avg float64
		s.each(func(v float32) {
			if first {
				avg, first = float64(v), false
				return
			}
			avg = e.Alpha*float64(v) + (1-e.Alpha)*avg
		})
		return float32(avg)
	})
}

// reduce applies f to the node's mins and maxes as its side requires.
func reduce(n *Node, f func(s series, isMin bool) float32) Range {
	r := Range{Node: n.Name, Side: n.Side, Count: n.Count()}
	if n.Side != MaxOnly {
		r.Min = f(n.mins, true)
	}
	if n.Side != MinOnly {
		r.Max = f(n.maxs, false)
	}
	return r
}

// withValues64 calls f with the series' values as float64, in log order,
// in scratch space that is reused after f returns.
func withValues64(s series, f func([]float64) float64) float64 {
	buf := f64Pool.Get().(*[]float64)
	vals := (*buf)[:0]
	s.each(func(v float32) { vals = append(vals, float64(v)) })
	r := f(vals)
	*buf = vals
	f64Pool.Put(buf)
	return r
}

// withSorted64 is withValues64 with the values sorted.
func withSorted64(s series, f func([]float64) float64) float64 {
	return withValues64(s, func(v []float64) float64 {
		slices.Sort(v)
		return f(v)
	})
}

var f64Pool = sync.Pool{New: func() any { return new([]float64) }}

// quantile7 is the type-7 quantile of sorted x at fraction q in [0, 1].
func quantile7(x []float64, q float64) float64 {
	h := float64(len(x)-1) * q
	lo := math.Floor(h)
	i := int(lo)
	if i >= len(x)-1 {
		return x[len(x)-1]
	}
	return x[i] + (h-lo)*(x[i+1]-x[i])
}
