package stats

import (
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// Z95 is the standard normal quantile for a two-sided 95% interval,
// Φ⁻¹(0.975) = 1.959963984540054.
var Z95 = distuv.UnitNormal.Quantile(0.975)

// Interval is a closed interval [Lo, Hi].
type Interval struct {
	Lo, Hi float64
}

// Wilson returns the Wilson score interval for k successes in n trials at
// the confidence level of the normal quantile z (Z95 for 95%), as
// fractions in [0, 1]:
//
//	centre    = (p + z²/2n) / (1 + z²/n)
//	halfwidth = z/(1 + z²/n) · √(p(1−p)/n + z²/4n²)
//
// with p = k/n (Wilson, JASA 22 (1927) 209–212; Newcombe, Stat Med 17
// (1998) 857–872, method 3). For 80 of 100 at 95% it is [0.7112, 0.8666].
// n = 0 gives [0, 1].
func Wilson(k, n int64, z float64) Interval {
	if n <= 0 {
		return Interval{0, 1}
	}
	nf := float64(n)
	p := float64(k) / nf
	z2 := z * z
	den := 1 + z2/nf
	centre := (p + z2/(2*nf)) / den
	half := z / den * math.Sqrt(p*(1-p)/nf+z2/(4*nf*nf))
	return Interval{math.Max(0, centre-half), math.Min(1, centre+half)}
}

// McNemarExact returns the two-sided p-value of McNemar's exact test for b
// and c discordant pairs: p = min(1, 2·P(X ≤ min(b, c))) with
// X ~ Binomial(b+c, ½) (McNemar, Psychometrika 12 (1947) 153–157; the exact
// conditional form as in R's exact2x2/binom.test). b = 15, c = 5 gives
// 0.04139; no discordant pairs give 1.
func McNemarExact(b, c int64) float64 {
	n := b + c
	if n == 0 {
		return 1
	}
	k := min(b, c)
	p := 2 * distuv.Binomial{N: float64(n), P: 0.5}.CDF(float64(k))
	return math.Min(1, p)
}

// PairedCounts is the 2×2 table of a paired comparison: for every sample,
// whether the baseline (FP32) and the candidate (int8) were right.
type PairedCounts struct {
	Both     int64 `json:"both_right"`    // a: both right
	FP32Only int64 `json:"fp32_only"`     // b: FP32 right, int8 wrong
	Int8Only int64 `json:"int8_only"`     // c: FP32 wrong, int8 right
	Neither  int64 `json:"neither_right"` // d: both wrong
	Agree    int64 `json:"same_top1"`     // samples whose top-1 predictions are equal
}

// N returns the number of paired samples.
func (p PairedCounts) N() int64 { return p.Both + p.FP32Only + p.Int8Only + p.Neither }

// NewcombeDiff returns the 95% (for z = Z95) interval of the paired
// difference of proportions p1 − p2 = (b − c)/n, as fractions, by Newcombe's
// method 10, the square-and-add (hybrid score) interval for paired data
// (Newcombe, Stat Med 17 (1998) 2635–2650):
//
//	L = Δ − √((p1 − l1)² − 2φ(p1 − l1)(u2 − p2) + (u2 − p2)²)
//	U = Δ + √((p2 − l2)² − 2φ(p2 − l2)(u1 − p1) + (u1 − p1)²)
//
// where (l1, u1), (l2, u2) are the Wilson intervals of p1 = (a+b)/n and
// p2 = (a+c)/n, and φ = (ad − bc)/√((a+b)(c+d)(a+c)(b+d)) is the
// correlation of the pairs, taken as 0 when a margin is empty. It is the
// method statsmodels calls "newcomb" (confint_proportions_paired).
func NewcombeDiff(t PairedCounts, z float64) Interval {
	n := t.N()
	if n == 0 {
		return Interval{-1, 1}
	}
	a, b, c, d := float64(t.Both), float64(t.FP32Only), float64(t.Int8Only), float64(t.Neither)
	nf := float64(n)
	p1, p2 := (a+b)/nf, (a+c)/nf
	w1 := Wilson(t.Both+t.FP32Only, n, z)
	w2 := Wilson(t.Both+t.Int8Only, n, z)
	var phi float64
	if den := (a + b) * (c + d) * (a + c) * (b + d); den > 0 {
		phi = (a*d - b*c) / math.Sqrt(den)
	}
	delta := p1 - p2
	dl1, du2 := p1-w1.Lo, w2.Hi-p2
	dl2, du1 := p2-w2.Lo, w1.Hi-p1
	lo := delta - math.Sqrt(math.Max(0, dl1*dl1-2*phi*dl1*du2+du2*du2))
	hi := delta + math.Sqrt(math.Max(0, dl2*dl2-2*phi*dl2*du1+du1*du1))
	return Interval{math.Max(-1, lo), math.Min(1, hi)}
}
