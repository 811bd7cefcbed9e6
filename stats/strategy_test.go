package stats

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// fill adds the values i = 0..n-1 as min = -(i+1)·scale, max = (i+1)·scale in
// the order given by perm, so that the sorted mins are -n..-1 and the sorted
// maxes are 1..n (times scale).
func fill(t *testing.T, a *Accumulator, name string, n int, scale float32) {
	t.Helper()
	for k := 0; k < n; k++ {
		i := (k*7919 + 13) % n // a permutation of 0..n-1 when gcd(7919, n) == 1
		if err := a.Add(name, Both, -float32(i+1)*scale, float32(i+1)*scale, "log", int64(k+1)); err != nil {
			t.Fatal(err)
		}
	}
}

func TestTFIndices(t *testing.T) {
	tests := []struct {
		n          int
		minP, maxP float32
		wantMin    int
		wantMax    int
		why        string
	}{
		{20, 5, 5, 1, 19, "20*0.05f = 1 → 1; 20*0.95f = 19 (float32) → 19"},
		{10, 5, 5, 1, 9, "10*0.05f = 0.5 → round half away = 1; 10*0.95f = 9.5 (float32) → 10 → clamped to n-1 = 9"},
		{1, 5, 5, 0, 0, "1*0.05f = 0.05 → 0; 0.95 → 1 → clamped to 0"},
		{9, 5, 5, 0, 9 - 1, "9*0.05f = 0.45 → 0; 9*0.95f = 8.55 → 9 → clamped to 8"},
		{100, 5, 5, 5, 95, "100*0.05f = 5; 100*0.95f = 95"},
		{30, 5, 5, 2, 29, "30*0.05f = 1.5 → 2; 30*0.95f = 28.5 → 29"},
		// float32 arithmetic matters: 1500*(1-0.001f) is 1498.5 in float32
		// (1498.49999997... in float64), so TF picks 1499, not 1498.
		{1500, 0.1, 0.1, 2, 1499, "1500*0.001f = 1.5 → 2; 1500*0.999f = 1498.5 (float32) → 1499"},
		{500, 0.1, 0.1, 1, 499, "500*0.001f = 0.5 → 1; 500*0.999f = 499.5 (float32) → 500 → clamped to 499"},
		{50, 0, 0, 0, 49, "0th/100th: the absolute extremes"},
		{50, 100, 100, 49, 0, "min index 50 would read past the end in TF; clamped to 49"},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("n=%d,%g/%g", tc.n, tc.minP, tc.maxP), func(t *testing.T) {
			mi, ma := TFIndices(tc.n, tc.minP, tc.maxP)
			if mi != tc.wantMin || ma != tc.wantMax {
				t.Errorf("TFIndices = %d, %d; want %d, %d (%s)", mi, ma, tc.wantMin, tc.wantMax, tc.why)
			}
		})
	}
}

func TestTFRange(t *testing.T) {
	a := NewAccumulator()
	fill(t, a, "n20", 20, 0.5)
	fill(t, a, "n1500", 1500, 1)
	// n=20: sorted mins -10.0, -9.5, ... ; index 1 → -9.5. sorted maxs 0.5..10; index 19 → 10.
	// n=1500 at 0.1/0.1: indices 2 and 1499 → mins[2] = -1498, maxs[1499] = 1500.
	tests := []struct {
		s        Strategy
		node     string
		min, max float32
	}{
		{TF{5, 5}, "n20", -9.5, 10},
		{TF{0.1, 0.1}, "n1500", -1498, 1500},
		// 1500*0.05f = 75 → mins[75] = -1425; 1500*0.95f = 1425 → maxs[1425] = 1426 (maxs are 1..1500).
		{TF{5, 5}, "n1500", -1425, 1426},
	}
	for _, tc := range tests {
		r := tc.s.Range(a.Node(tc.node))
		if r.Min != tc.min || r.Max != tc.max {
			t.Errorf("%s on %s = [%g, %g], want [%g, %g]", tc.s.Name(), tc.node, r.Min, r.Max, tc.min, tc.max)
		}
	}
}

func TestStrategies(t *testing.T) {
	a := NewAccumulator()
	// Log order matters only for ema: mins -1, -3, -2, -6; maxs 2, 8, 4, 6.
	mins := []float32{-1, -3, -2, -6}
	maxs := []float32{2, 8, 4, 6}
	for i := range mins {
		if err := a.Add("x", Both, mins[i], maxs[i], "log", int64(i+1)); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		spec     string
		min, max float32
		why      string
	}{
		{"minmax", -6, 8, "absolute extremes"},
		{"mean", -3, 5, "(-1-3-2-6)/4, (2+8+4+6)/4"},
		{"median", -2.5, 5, "sorted mins -6 -3 -2 -1 → (-3-2)/2; maxs 2 4 6 8 → (4+6)/2"},
		{"percentile:100", -6, 8, "q=1 on maxes, q=0 on mins"},
		{"percentile:50", -2.5, 5, "same as median"},
		{"percentile:75", -3.75, 6.5, "maxes: h=3*.75=2.25 → 6+.25*(8-6); mins q=.25: h=.75 → -6+.75*3"},
		{"ema:0.5", -4, 5.25, "mins: -1 → -2 → -2 → -4; maxs: 2 → 5 → 4.5 → 5.25"},
		{"ema:1", -6, 6, "alpha 1 keeps the last batch"},
		{"tf", -6, 8, "n=4: round(4*0.05f = 0.2) = 0 → mins[0]; round(4*0.95f = 3.8) = 4 → clamped to 3 → maxs[3]"},
	}
	for _, tc := range tests {
		s, err := ParseStrategy(tc.spec, 5, 5)
		if err != nil {
			t.Fatalf("%s: %v", tc.spec, err)
		}
		r := s.Range(a.Node("x"))
		if math.Abs(float64(r.Min-tc.min)) > 1e-6 || math.Abs(float64(r.Max-tc.max)) > 1e-6 {
			t.Errorf("%s = [%g, %g], want [%g, %g] (%s)", tc.spec, r.Min, r.Max, tc.min, tc.max, tc.why)
		}
		if r.Count != 4 {
			t.Errorf("%s: count %d, want 4", tc.spec, r.Count)
		}
	}
}

func TestParseStrategyErrors(t *testing.T) {
	for _, spec := range []string{"", "kl", "percentile", "percentile:", "percentile:0", "percentile:101", "percentile:x",
		"ema", "ema:0", "ema:1.5", "minmax:3", "tf:5"} {
		if _, err := ParseStrategy(spec, 5, 5); err == nil {
			t.Errorf("ParseStrategy(%q) = nil error, want an error", spec)
		}
	}
	if _, err := ParseStrategy("tf", -1, 5); err == nil {
		t.Error("tf with min percentile -1: want an error")
	}
	if _, err := ParseStrategy("tf", 5, 101); err == nil {
		t.Error("tf with max percentile 101: want an error")
	}
}

func TestSides(t *testing.T) {
	a := NewAccumulator()
	for i, v := range []float32{-3, -1, -2} {
		if err := a.Add("m", MinOnly, v, 0, "log", int64(i+1)); err != nil {
			t.Fatal(err)
		}
	}
	for i, v := range []float32{7, 9, 8} {
		if err := a.Add("M", MaxOnly, 0, v, "log", int64(i+10)); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Add("m", Both, 1, 2, "log", 20); err == nil {
		t.Error("a Both record for a MinOnly node: want an error")
	}
	rs := Ranges(a, MinMax{})
	want := []Range{{Node: "m", Side: MinOnly, Min: -3, Count: 3}, {Node: "M", Side: MaxOnly, Max: 9, Count: 3}}
	if len(rs) != 2 || rs[0] != want[0] || rs[1] != want[1] {
		t.Errorf("Ranges = %+v, want %+v", rs, want)
	}
}

func TestMergeEqualsConcatenation(t *testing.T) {
	whole, a, b := NewAccumulator(), NewAccumulator(), NewAccumulator()
	for i := 0; i < 3000; i++ { // crosses block boundaries
		name := fmt.Sprintf("n%d", i%3)
		lo, hi := -float32(i%17), float32(i%29)
		if err := whole.Add(name, Both, lo, hi, "log", int64(i)); err != nil {
			t.Fatal(err)
		}
		part := a
		if i >= 1700 {
			part = b
		}
		if err := part.Add(name, Both, lo, hi, "log", int64(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Merge(b); err != nil {
		t.Fatal(err)
	}
	for _, s := range []Strategy{TF{5, 5}, MinMax{}, Mean{}, Median{}, EMA{0.1}, Percentile{99}} {
		got, want := Ranges(a, s), Ranges(whole, s)
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("%s: merged %+v, concatenated %+v", s.Name(), got[i], want[i])
			}
		}
	}
}

func BenchmarkAccumulatorAdd(b *testing.B) {
	names := make([]string, 250)
	for i := range names {
		names[i] = fmt.Sprintf("v0/resnet_v1%d/conv%d/conv2d/Conv2D_eightbit_requant_range", i/3, i)
	}
	b.ReportAllocs()
	b.SetBytes(8) // one record: a float32 min and a float32 max
	a := NewAccumulator()
	i := 0
	for b.Loop() {
		// A new accumulator every 7M records (about a 1 GiB log), so that the
		// benchmark measures adding, not an ever-growing heap.
		if i == 7_000_000 {
			a, i = NewAccumulator(), 0
		}
		_ = a.Add(names[i%len(names)], Both, -1, 1, "log", int64(i))
		i++
	}
}

func BenchmarkTFRange(b *testing.B) {
	a := NewAccumulator()
	for i := 0; i < 28000; i++ { // a 1 GiB log spreads ~7M records over ~250 nodes
		_ = a.Add("x", Both, -float32(i%977), float32(i%1013), "log", int64(i))
	}
	n := a.Node("x")
	b.ReportAllocs()
	b.SetBytes(8 * 28000)
	for b.Loop() {
		TF{5, 5}.Range(n)
	}
}

func TestSelectKthMatchesSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 2, 3, 15, 16, 17, 100, 1000, 5000} {
		for trial := 0; trial < 5; trial++ {
			vals := make([]float32, n)
			for i := range vals {
				switch trial {
				case 0: // many duplicates, signed zeros
					vals[i] = float32(rng.IntN(5)-2) * 0
					if rng.IntN(2) == 0 {
						vals[i] = float32(rng.IntN(5) - 2)
					}
				case 1: // sorted
					vals[i] = float32(i)
				case 2: // reversed
					vals[i] = float32(n - i)
				default:
					vals[i] = float32(rng.NormFloat64())
				}
			}
			sorted := slices.Clone(vals)
			slices.SortFunc(sorted, func(a, b float32) int { return cmp.Compare(orderKey(a), orderKey(b)) })
			for _, k := range []int{0, n / 20, n / 2, n - 1 - n/20, n - 1} {
				keys := make([]uint32, n)
				for i, v := range vals {
					keys[i] = orderKey(v)
				}
				got := fromKey(selectKth(keys, k))
				if got != sorted[k] || math.Signbit(float64(got)) && got == 0 {
					t.Fatalf("n=%d trial %d k=%d: select %v, sort %v", n, trial, k, got, sorted[k])
				}
			}
		}
	}
}

func TestOrderKey(t *testing.T) {
	negZero := float32(math.Copysign(0, -1))
	in := []float32{float32(math.Inf(-1)), -2, -1e-30, 0, 1e-30, 3, float32(math.Inf(1))}
	for i := 1; i < len(in); i++ {
		if orderKey(in[i-1]) >= orderKey(in[i]) {
			t.Errorf("orderKey(%v) >= orderKey(%v)", in[i-1], in[i])
		}
	}
	if orderKey(negZero) != orderKey(0) || math.Float32bits(fromKey(orderKey(negZero))) != 0 {
		t.Error("-0 must map to +0")
	}
	for _, v := range in {
		if math.Float32bits(fromKey(orderKey(v))) != math.Float32bits(v) {
			t.Errorf("fromKey(orderKey(%v)) = %v", v, fromKey(orderKey(v)))
		}
	}
}

// TestUnknownStrategyError: an unknown name is a typed error, a bad
// parameter is not, so callers need not match the text.
func TestUnknownStrategyError(t *testing.T) {
	var u *UnknownStrategyError
	if _, err := ParseStrategy("klx", 5, 5); !errors.As(err, &u) || u.Spec != "klx" || u.Values ||
		err.Error() != `unknown strategy "klx" (known: `+Strategies+`)` {
		t.Errorf("ParseStrategy(klx) = %v", err)
	}
	if _, err := ParseHistStrategy("tf"); !errors.As(err, &u) || u.Spec != "tf" || !u.Values {
		t.Errorf("ParseHistStrategy(tf) = %v", err)
	}
	if _, err := ParseStrategy("ema:2", 5, 5); err == nil || errors.As(err, &u) {
		t.Errorf("ParseStrategy(ema:2) = %v, want a parameter error", err)
	}
}
