package mnistcnn

import (
	"math"
	"math/rand/v2"
	"testing"
)

// tiny is a network small enough for a finite-difference check of every
// parameter: 8×8 input, 2 and 3 filters, 4 classes, 48 features.
var tiny = Config{Height: 8, Width: 8, Conv1: 2, Conv2: 3, Classes: 4}

// tinyBatch returns random weights (biases too, so some Relus are off) and
// a batch of n random images and labels.
func tinyBatch(n int) (*Params, []float32, []uint8) {
	p := NewParams(tiny, 7)
	r := rand.NewPCG(7, 9)
	for _, b := range [][]float32{p.Conv1B, p.Conv2B, p.DenseB} {
		for i := range b {
			b[i] = float32(uniform(r) - 0.5)
		}
	}
	x := make([]float32, n*tiny.Height*tiny.Width)
	for i := range x {
		x[i] = float32(uniform(r))
	}
	labels := make([]uint8, n)
	for i := range labels {
		labels[i] = uint8(r.Uint64() % uint64(tiny.Classes))
	}
	return p, x, labels
}

// TestGradient checks backward against central finite differences of the
// loss for every parameter of a tiny network. In float32 with h = 1e-2 the
// truncation error is O(h²) and the rounding error about 1e-7/h, so the
// two agree to about 1e-3 unless a Relu kink or a pool's arg-max lies
// within h of the point; the test allows 2e-3 + 2% and fails on more than
// 1% of such outliers. A wrong backward (a missing transpose, a dropped
// term, a pool routed to the wrong input) is off by O(1) on most entries.
func TestGradient(t *testing.T) {
	const n, h = 3, 1e-2
	p, x, labels := tinyBatch(n)
	w := newWork(tiny, n)
	p.forward(x, w)
	w.loss(labels, tiny.Classes)
	p.backward(w)
	grads := w.grad.tensors()
	loss := func() float64 {
		w2 := newWork(tiny, n)
		p.forward(x, w2)
		l, _ := w2.loss(labels, tiny.Classes)
		return l
	}
	names := []string{"conv1/kernel", "conv1/bias", "conv2/kernel", "conv2/bias", "logits/kernel", "logits/bias"}
	total, bad := 0, 0
	for k, tns := range p.tensors() {
		nonzero := 0
		for i := range tns {
			old := tns[i]
			tns[i] = old + h
			up := loss()
			tns[i] = old - h
			down := loss()
			tns[i] = old
			num := (up - down) / (2 * h)
			ana := float64(grads[k][i])
			total++
			if math.Abs(num-ana) > 2e-3+0.02*math.Max(math.Abs(num), math.Abs(ana)) {
				bad++
				t.Logf("%s[%d]: backward %.6g, finite difference %.6g", names[k], i, ana, num)
			}
			if math.Abs(ana) > 1e-4 {
				nonzero++
			}
		}
		// A check against all-zero gradients would pass a backward that
		// does nothing: each tensor must carry signal.
		if nonzero < len(tns)/2 {
			t.Errorf("%s: only %d of %d gradients are above 1e-4", names[k], nonzero, len(tns))
		}
	}
	if bad*100 > total {
		t.Errorf("%d of %d gradients disagree with finite differences", bad, total)
	}
	t.Logf("%d gradients checked, %d outliers", total, bad)
}

// TestExp compares exp with math.Exp over the range a softmax sees: the
// two agree to within 2 ulps (4e-16; math.Exp is itself within 1 ulp) for
// normal results, to 2 units of 2⁻¹⁰⁷⁴ for subnormal ones, and the
// values that have exact answers come out exact.
func TestExp(t *testing.T) {
	for _, tc := range []struct{ x, want float64 }{
		{0, 1},                     // k = 0, r = 0: the series' constant term
		{-1000, 0},                 // underflows
		{-math.Inf(1), 0},          // a logit of −Inf
		{-745.2, math.Exp(-745.2)}, // the smallest subnormal region
	} {
		if got := exp(tc.x); got != tc.want {
			t.Errorf("exp(%v) = %v, want %v", tc.x, got, tc.want)
		}
	}
	worst := 0.0
	for i := range 200001 {
		x := -float64(i) * 1e-3 * 3.7 // 0 … −740
		got, want := exp(x), math.Exp(x)
		if x < -708 { // subnormal results: a few units of 2⁻¹⁰⁷⁴ apart at most
			if math.Abs(got-want) > 2*math.SmallestNonzeroFloat64 {
				t.Fatalf("exp(%v) = %v, math.Exp %v", x, got, want)
			}
			continue
		}
		rel := math.Abs(got-want) / want
		worst = max(worst, rel)
		if rel > 4e-16 {
			t.Fatalf("exp(%v) = %v, math.Exp %v: relative error %.3g", x, got, want, rel)
		}
	}
	t.Logf("largest relative difference from math.Exp on [−708, 0]: %.3g", worst)
}
