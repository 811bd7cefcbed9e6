package stats

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func near(a, b, tol float64) bool {
	if math.IsInf(a, 0) || math.IsInf(b, 0) {
		return a == b
	}
	return math.Abs(a-b) <= tol
}

func TestDescribe(t *testing.T) {
	tests := []struct {
		name string
		x    []float32
		want Spread
		why  string
	}{
		{"five", []float32{4, 1, 10, 3, 2}, Spread{N: 5, Min: 1, Q1: 2, Median: 3, Q3: 4, Max: 10, IQR: 2, RelIQR: 2.0 / 3, MAD: 1},
			"sorted 1 2 3 4 10; type 7: h = 4q → x[1], x[2], x[3]; |x-3| = 2 1 0 1 7 → median 1"},
		{"interpolated", []float32{1, 2, 3, 4}, Spread{N: 4, Min: 1, Q1: 1.75, Median: 2.5, Q3: 3.25, Max: 4, IQR: 1.5, RelIQR: 0.6, MAD: 1},
			"h = 3q: 0.75 → 1+0.75, 1.5 → 2.5, 2.25 → 3.25; |x-2.5| = 1.5 .5 .5 1.5 → 1"},
		{"constant", []float32{7, 7, 7}, Spread{N: 3, Min: 7, Q1: 7, Median: 7, Q3: 7, Max: 7}, "IQR 0 → RelIQR 0"},
		{"zero median", []float32{-1, 0, 0, 5}, Spread{N: 4, Min: -1, Q1: -0.25, Median: 0, Q3: 1.25, Max: 5, IQR: 1.5, RelIQR: math.Inf(1), MAD: 0.5},
			"median 0 with IQR > 0 → +Inf; |x| = 1 0 0 5 → median 0.5"},
		{"empty", nil, Spread{}, "zero Spread"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Describe(tc.x)
			w := tc.want
			if got.N != w.N || !near(got.Min, w.Min, 1e-12) || !near(got.Q1, w.Q1, 1e-12) || !near(got.Median, w.Median, 1e-12) ||
				!near(got.Q3, w.Q3, 1e-12) || !near(got.Max, w.Max, 1e-12) || !near(got.IQR, w.IQR, 1e-12) ||
				!near(got.RelIQR, w.RelIQR, 1e-12) || !near(got.MAD, w.MAD, 1e-12) {
				t.Errorf("Describe = %+v\nwant       %+v (%s)", got, w, tc.why)
			}
		})
	}
}

func TestRobustZ(t *testing.T) {
	tests := []struct {
		name string
		x    []float32
		want []float64
		why  string
	}{
		{"mad", []float32{1, 2, 3, 4, 10}, []float64{-2 / 1.4826, -1 / 1.4826, 0, 1 / 1.4826, 7 / 1.4826},
			"median 3, MAD 1: z = (x-3)/1.4826; 10 → 4.72 > 3.5"},
		{"mad zero", []float32{5, 5, 5, 5, 5, 5, 5, 100}, []float64{0, 0, 0, 0, 0, 0, 0, 95 / (1.253314 * 95.0 / 8)},
			"seven equal values: MAD 0 → MeanAD = 95/8, z(100) = 95/(1.253314·11.875) = 6.38"},
		{"all equal", []float32{2, 2, 2}, []float64{0, 0, 0}, "no spread at all: every score 0"},
		{"one", []float32{3}, []float64{0}, "a single value is no outlier"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := RobustZ(tc.x)
			for i := range tc.want {
				if !near(got[i], tc.want[i], 1e-9) {
					t.Errorf("RobustZ = %v, want %v (%s)", got, tc.want, tc.why)
					break
				}
			}
		})
	}
}

func TestWidth(t *testing.T) {
	for _, tc := range []struct {
		r    Range
		want float64
	}{
		{Range{Side: Both, Min: -2, Max: 3}, 5},
		{Range{Side: MinOnly, Min: -4}, 4},
		{Range{Side: MaxOnly, Max: 6}, 6},
		{Range{Side: Both, Min: 1, Max: 1}, 0},
	} {
		if got := Width(tc.r); got != tc.want {
			t.Errorf("Width(%+v) = %g, want %g", tc.r, got, tc.want)
		}
	}
}

func TestSubset(t *testing.T) {
	a := NewAccumulator()
	for i := range 3000 { // three blocks
		if err := a.Add("x", Both, -float32(i), float32(i), "log", int64(i+1)); err != nil {
			t.Fatal(err)
		}
	}
	n := a.Node("x")
	s := n.Subset([]int{2999, 0, 1024, 1024})
	if got, want := s.Maxs(), []float32{2999, 0, 1024, 1024}; !slices.Equal(got, want) {
		t.Errorf("Subset maxs = %v, want %v", got, want)
	}
	if got, want := s.Mins(), []float32{-2999, 0, -1024, -1024}; !slices.Equal(got, want) {
		t.Errorf("Subset mins = %v, want %v", got, want)
	}
	if s.Count() != 4 || s.Name != "x" || s.Positions() != nil {
		t.Errorf("Subset: count %d, name %q, positions %v", s.Count(), s.Name, s.Positions())
	}
	// Refilling a scratch node with fewer values drops the extra blocks.
	scratch := &Node{Side: Both}
	fillSubset(scratch, n, []int{5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25}[:3])
	big := make([]int, 2500)
	fillSubset(scratch, n, big)
	fillSubset(scratch, n, []int{7})
	if scratch.Count() != 1 || scratch.Maxs()[0] != 7 || len(scratch.maxs.blocks) != 1 {
		t.Errorf("refilled scratch: count %d, maxs %v, blocks %d", scratch.Count(), scratch.Maxs(), len(scratch.maxs.blocks))
	}
}

func TestKeepLines(t *testing.T) {
	type rec struct {
		node string
		side Side
		file string
		line int64
	}
	var recs []rec
	// x: 2500 records (three blocks), two on one line (joined), a jump of
	// more than 2³² lines, then a second file starting again at line 1.
	line := int64(100)
	for i := range 2500 {
		switch i {
		case 7:
			// same line as record 6
		case 1500:
			line += 5_000_000_000
		default:
			line += int64(i%5 + 1)
		}
		recs = append(recs, rec{"x", Both, "a.log", line})
	}
	for i := range 40 {
		recs = append(recs, rec{"x", Both, "b.log", int64(i*3 + 1)})
	}
	for i := range 10 {
		recs = append(recs, rec{"m", MinOnly, "a.log", int64(i + 1)})
	}
	want := map[string][]Position{}
	for _, r := range recs {
		want[r.node] = append(want[r.node], Position{r.file, r.line})
	}
	fill := func(a *Accumulator, rs []rec) {
		for _, r := range rs {
			if err := a.Add(r.node, r.side, -1, 1, r.file, r.line); err != nil {
				t.Fatal(err)
			}
		}
	}

	a := NewAccumulator()
	a.KeepLines = true
	fill(a, recs)
	for _, name := range []string{"x", "m"} {
		if got := a.Node(name).Positions(); !slices.Equal(got, want[name]) {
			t.Errorf("%s: Positions differ from the records' (got %d, want %d)", name, len(got), len(want[name]))
		}
	}
	if j := len(a.Node("x").lines.jumps); j != 3 {
		t.Errorf("x: %d records stored in full, want 3 (first record, 2³²-line jump, new file)", j)
	}

	// Off by default: no positions and no line blocks.
	off := NewAccumulator()
	fill(off, recs)
	if off.Node("x").Positions() != nil || off.Node("x").lines != nil {
		t.Error("without KeepLines the accumulator kept lines")
	}

	// Merging two accumulators that keep lines equals reading both.
	first, second := NewAccumulator(), NewAccumulator()
	first.KeepLines, second.KeepLines = true, true
	fill(first, recs[:1800])
	fill(second, recs[1800:])
	if err := first.Merge(second); err != nil {
		t.Fatal(err)
	}
	if got := first.Node("x").Positions(); !slices.Equal(got, want["x"]) {
		t.Error("merged positions differ from the records'")
	}
	// Merging one that kept no lines leaves the positions incomplete: nil.
	partial := NewAccumulator()
	partial.KeepLines = true
	fill(partial, recs[:1800])
	if err := partial.Merge(off); err != nil {
		t.Fatal(err)
	}
	if partial.Node("x").Positions() != nil {
		t.Error("positions of a node merged from an accumulator without lines should be nil")
	}
}

// fillNode returns a node with the given per-batch maxima and minima -max/2.
func fillNode(t testing.TB, name string, maxs []float32) *Node {
	t.Helper()
	a := NewAccumulator()
	a.KeepLines = true
	for i, v := range maxs {
		if err := a.Add(name, Both, -v/2, v, "log", int64(10*i+1)); err != nil {
			t.Fatal(err)
		}
	}
	return a.Node(name)
}

func TestConvergeStationary(t *testing.T) {
	// Maxima spread evenly over [10, 11): every range is near [-5.5, 11].
	maxs := make([]float32, 200)
	for i := range maxs {
		maxs[i] = 10 + float32((i*7919)%100)/100
	}
	n := fillNode(t, "steady", maxs)
	c := Converge(n, TF{5, 5}, ConvergenceOptions{Seed: 1})
	if !c.Converged || c.StableAfter > 100 {
		t.Errorf("stationary node: converged %v, stable after %d of 200; want converged by batch 100", c.Converged, c.StableAfter)
	}
	if c.HalfShift > 0.05 {
		t.Errorf("half shift %g, want ≤ 0.05 (halves of the same uniform spread)", c.HalfShift)
	}
	// The bootstrap interval holds the range and is narrow: the 95th
	// percentile of 200 uniform values moves by a few hundredths.
	if c.MaxLo > float64(c.Range.Max) || c.MaxHi < float64(c.Range.Max) || c.CIWidth > 0.05 {
		t.Errorf("max interval [%g, %g] around %g, relative width %g", c.MaxLo, c.MaxHi, c.Range.Max, c.CIWidth)
	}
}

func TestConvergeDrifting(t *testing.T) {
	// Maxima growing batch after batch: every prefix's range is narrower
	// than the full one, so the range never settles.
	maxs := make([]float32, 60)
	for i := range maxs {
		maxs[i] = 1 + float32(i)
	}
	n := fillNode(t, "drift", maxs)
	c := Converge(n, TF{5, 5}, ConvergenceOptions{})
	// Full range: maxs 1..60, index round(57) = 57 → 58; mins -30..-0.5,
	// index round(3) = 3 → -28.5; width 86.5. The prefix of 57 batches
	// gives max 55 (index round(54.15) = 54): 3/86.5 = 3.5% off, within 5%;
	// the prefix of 54 gives 52 (index round(51.3) = 51): 6.9% off.
	if c.Converged || c.StableAfter != 57 {
		t.Errorf("drifting node: converged %v, stable after %d; want not converged, stable only from 57", c.Converged, c.StableAfter)
	}
	// Halves: TF on batches 1..30 → maxs[round(28.5) = 29] = 30; on 31..60
	// → the largest, 60.
	w := Width(c.Range)
	if want := math.Max(math.Abs(float64(c.First.Max-c.Second.Max)), math.Abs(float64(c.First.Min-c.Second.Min))) / w; !near(c.HalfShift, want, 1e-12) {
		t.Errorf("half shift %g, want %g", c.HalfShift, want)
	}
	if c.First.Max != 30 || c.Second.Max != 60 {
		t.Errorf("half ranges %v and %v; want maxima 30 and 60", c.First, c.Second)
	}
}

func TestConvergeFewBatches(t *testing.T) {
	for _, k := range []int{1, 2, 4, 9} {
		maxs := make([]float32, k)
		for i := range maxs {
			maxs[i] = 5
		}
		c := Converge(fillNode(t, "few", maxs), TF{5, 5}, ConvergenceOptions{})
		if c.Converged {
			t.Errorf("%d batches: converged, want not (fewer than %d)", k, DefaultMinBatches)
		}
		if c.CIWidth != 0 || c.HalfShift != 0 {
			t.Errorf("%d equal batches: CI width %g, half shift %g; want 0", k, c.CIWidth, c.HalfShift)
		}
	}
}

func TestConvergeDeterministic(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	maxs := make([]float32, 300)
	for i := range maxs {
		maxs[i] = float32(math.Exp(rng.NormFloat64() * 0.3))
	}
	n := fillNode(t, "x", maxs)
	a := Converge(n, TF{5, 5}, ConvergenceOptions{Seed: 7})
	b := Converge(n, TF{5, 5}, ConvergenceOptions{Seed: 7})
	c := Converge(n, TF{5, 5}, ConvergenceOptions{Seed: 8})
	if a != b {
		t.Errorf("same seed, different results:\n%+v\n%+v", a, b)
	}
	if a.MaxLo == c.MaxLo && a.MaxHi == c.MaxHi && a.MinLo == c.MinLo && a.MinHi == c.MinHi {
		t.Error("different seeds gave the same bootstrap interval")
	}
	// The node's name seeds the bootstrap too: the same data under another
	// name resamples differently, and a node's result does not depend on
	// which nodes were audited before it.
	d := Converge(fillNode(t, "y", maxs), TF{5, 5}, ConvergenceOptions{Seed: 7})
	if d.MaxLo == a.MaxLo && d.MaxHi == a.MaxHi && d.MinLo == a.MinLo {
		t.Error("another name gave the same bootstrap interval")
	}
}

// TestOrderBootstrapMatchesGeneric checks the fast bootstrap of
// order-statistic strategies against resampling through Strategy.Range:
// the same draws must give the same intervals exactly.
func TestOrderBootstrapMatchesGeneric(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	strategies := []Strategy{TF{5, 5}, TF{0.1, 0.1}, TF{0, 0}, MinMax{}, Percentile{99}, Percentile{50}, Percentile{100}, Median{}}
	for _, n := range []int{1, 2, 3, 7, 40, 1500} {
		for _, side := range []Side{Both, MinOnly, MaxOnly} {
			a := NewAccumulator()
			for i := range n {
				lo := float32(-rng.IntN(6)) // duplicates and zeros
				if rng.IntN(4) == 0 {
					lo = float32(math.Copysign(0, -1))
				}
				hi := float32(rng.NormFloat64())
				if err := a.Add("x", side, lo, hi, "log", int64(i+1)); err != nil {
					t.Fatal(err)
				}
			}
			for _, s := range strategies {
				opt := ConvergenceOptions{Seed: 9, Resamples: 50}
				fast := Converge(a.Node("x"), s, opt)
				forceGenericBootstrap = true
				slow := Converge(a.Node("x"), s, opt)
				forceGenericBootstrap = false
				if fast != slow {
					t.Errorf("n=%d %s %s: fast bootstrap %+v\ngeneric %+v", n, side, s.Name(), fast, slow)
				}
			}
		}
	}
	if _, _, ok := orderPicks(Mean{}, 10); ok {
		t.Error("Mean is not an order statistic")
	}
}

func TestShortNamesOfStrategiesInConvergence(t *testing.T) {
	// EMA has no fast path; Converge must still work through Range.
	maxs := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	c := Converge(fillNode(t, "ema", maxs), EMA{0.5}, ConvergenceOptions{Resamples: 20})
	if c.Batches != 12 || c.Range.Max == 0 {
		t.Errorf("EMA convergence: %+v", c)
	}
}

func BenchmarkConverge(b *testing.B) {
	// A 1 GiB log spreads about 7M records over 250 nodes: 28000 batches a node.
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{400, 28000} {
		maxs := make([]float32, n)
		for i := range maxs {
			maxs[i] = float32(math.Exp(rng.NormFloat64() * 0.15))
		}
		node := fillNode(b, "x", maxs)
		for _, s := range []Strategy{TF{5, 5}, Mean{}} {
			b.Run(fmt.Sprintf("%s/batches=%d", s.Name(), n), func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(8 * int64(n))
				for b.Loop() {
					Converge(node, s, ConvergenceOptions{Seed: 1})
				}
			})
		}
	}
}

func BenchmarkRobustZ(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, 28000)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	b.ReportAllocs()
	b.SetBytes(4 * int64(len(x)))
	for b.Loop() {
		RobustZ(x)
	}
}
