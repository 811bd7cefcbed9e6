package stats

import (
	"math"
	"testing"
)

func TestWilson(t *testing.T) {
	tests := []struct {
		k, n   int64
		lo, hi float64
		tol    float64
		source string
	}{
		// The brief's hand-worked value, rounded to four places.
		{80, 100, 0.7112, 0.8666, 5e-5, "p=0.8, n=100, z=1.96 by hand"},
		// Edge cases follow from the formula: p=0 gives [0, z²/(n+z²)].
		{0, 10, 0, 1.959963984540054 * 1.959963984540054 / (10 + 1.959963984540054*1.959963984540054), 1e-12, "p=0"},
		{10, 10, 10 / (10 + 1.959963984540054*1.959963984540054), 1, 1e-12, "p=1"},
		{0, 0, 0, 1, 0, "n=0"},
	}
	for _, tc := range tests {
		got := Wilson(tc.k, tc.n, Z95)
		if !near(got.Lo, tc.lo, tc.tol) || !near(got.Hi, tc.hi, tc.tol) {
			t.Errorf("Wilson(%d, %d) = [%.6f, %.6f], want [%.6f, %.6f] (%s)", tc.k, tc.n, got.Lo, got.Hi, tc.lo, tc.hi, tc.source)
		}
	}
}

func TestMcNemarExact(t *testing.T) {
	tests := []struct {
		b, c   int64
		want   float64
		source string
	}{
		// 2·Σ_{k≤5} C(20,k)/2²⁰ = 2·21700/1048576 = 0.0413894653.
		{15, 5, 0.0413894653, "b=15, c=5 by hand"},
		{5, 15, 0.0413894653, "symmetric"},
		{0, 0, 1, "no discordant pairs"},
		{3, 3, 1, "2·P(X≤3) for Bin(6,½) = 2·42/64 > 1, capped"},
		// 2·P(X ≤ 0) for Bin(10, ½) = 2/1024.
		{10, 0, 2.0 / 1024, "all discordant pairs one way"},
		// 2·(1 + 12 + 66)/4096 = 0.03857421875.
		{10, 2, 0.03857421875, "b=10, c=2 by hand"},
	}
	for _, tc := range tests {
		got := McNemarExact(tc.b, tc.c)
		if !near(got, tc.want, 1e-9) {
			t.Errorf("McNemarExact(%d, %d) = %.10f, want %.10f (%s)", tc.b, tc.c, got, tc.want, tc.source)
		}
	}
	// Large counts: compare gonum's CDF with an exact sum in log space.
	for _, bc := range [][2]int64{{1000, 800}, {52000, 51000}, {120, 80}} {
		b, c := bc[0], bc[1]
		n := b + c
		lg := func(x int64) float64 { v, _ := math.Lgamma(float64(x) + 1); return v }
		var sum float64
		for k := int64(0); k <= min(b, c); k++ {
			sum += math.Exp(lg(n) - lg(k) - lg(n-k) - float64(n)*math.Ln2)
		}
		want := math.Min(1, 2*sum)
		if got := McNemarExact(b, c); math.Abs(got-want) > 1e-9*want+1e-300 {
			t.Errorf("McNemarExact(%d, %d) = %g, want %g (log-space sum)", b, c, got, want)
		}
	}
}

func TestNewcombeDiff(t *testing.T) {
	// a=70, b=15, c=5, d=10 (n=100): p1=0.85, p2=0.75; Wilson(85,100) =
	// [0.767164, 0.906940], Wilson(75,100) = [0.656955, 0.824548];
	// φ = (700−75)/√(85·15·75·25) = 0.404226. By hand:
	// L = 0.10 − √(0.082836² − 2φ·0.082836·0.074548 + 0.074548²) = 0.013821
	// U = 0.10 + √(0.093045² − 2φ·0.093045·0.056940 + 0.056940²) = 0.187272
	got := NewcombeDiff(PairedCounts{Both: 70, FP32Only: 15, Int8Only: 5, Neither: 10}, Z95)
	if !near(got.Lo, 0.013821, 5e-6) || !near(got.Hi, 0.187272, 5e-6) {
		t.Errorf("NewcombeDiff = [%.6f, %.6f], want [0.013821, 0.187272]", got.Lo, got.Hi)
	}
	// Perfect agreement: the interval straddles 0.
	got = NewcombeDiff(PairedCounts{Both: 80, Neither: 20}, Z95)
	if got.Lo > 0 || got.Hi < 0 || got.Hi-got.Lo > 0.05 {
		t.Errorf("perfect agreement: [%.6f, %.6f]", got.Lo, got.Hi)
	}
	// An empty margin (everything right on both sides) has φ = 0.
	got = NewcombeDiff(PairedCounts{Both: 50}, Z95)
	if math.IsNaN(got.Lo) || math.IsNaN(got.Hi) || got.Lo > 0 || got.Hi < 0 {
		t.Errorf("all right: [%v, %v]", got.Lo, got.Hi)
	}
	if got := NewcombeDiff(PairedCounts{}, Z95); got != (Interval{-1, 1}) {
		t.Errorf("empty table: %v", got)
	}
}

func TestZ95(t *testing.T) {
	if !near(Z95, 1.959963984540054, 1e-12) {
		t.Errorf("Z95 = %.15f", Z95)
	}
}
