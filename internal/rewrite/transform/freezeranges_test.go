package transform

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"qcal/stats"
)

type fakeRanges struct {
	ranges   []stats.Range
	err      error
	path     string
	min, max float32
}

func (f *fakeRanges) ReadRanges(path string, minPct, maxPct float32) ([]stats.Range, error) {
	f.path, f.min, f.max = path, minPct, maxPct
	return f.ranges, f.err
}

func TestFreezeRequantizationRanges(t *testing.T) {
	g := graph(
		placeholder("acc"), placeholder("mn"), placeholder("mx"),
		node("rr", "RequantizationRange", "acc", "mn", "mx"),
		node("rq", "Requantize", "acc", "mn", "mx", "rr", "rr:1"),
	)
	fr := &fakeRanges{ranges: []stats.Range{{Node: "rr", Side: stats.Both, Min: -1.5, Max: 2.25, Count: 3}}}
	out, res := run(t, g, "freeze_requantization_ranges(min_max_log_file=/tmp/x.log, min_percentile=1, max_percentile=2.5)", Options{Ranges: fr})
	// The arguments reach the reader; TF's defaults are 5 and 5.
	if fr.path != "/tmp/x.log" || fr.min != 1 || fr.max != 2.5 {
		t.Errorf("reader got %q %v %v", fr.path, fr.min, fr.max)
	}
	// freeze's rewrite (TF-FORMATS §3): rr → rr/frozen_min, rr/frozen_max.
	if got := find(out, "rq").GetInput(); !slices.Equal(got, []string{"acc", "mn", "mx", "rr/frozen_min:0", "rr/frozen_max:0"}) {
		t.Errorf("rq inputs = %v", got)
	}
	if got := constValues(t, out, "rr/frozen_max"); !slices.Equal(got, []float32{2.25}) {
		t.Errorf("frozen max = %v", got)
	}
	if !slices.Contains(res[0].Notes, "froze 1 of 1 logged nodes") {
		t.Errorf("notes %q", res[0].Notes)
	}
	_, _ = run(t, g, "freeze_requantization_ranges(min_max_log_file=a)", Options{Ranges: fr})
	if fr.min != 5 || fr.max != 5 {
		t.Errorf("defaults %v %v, want 5 5", fr.min, fr.max)
	}
	for _, tt := range []struct {
		spec string
		opt  Options
		want string
	}{
		{"freeze_requantization_ranges", Options{Ranges: fr}, "you must pass a file name to min_max_log_file"},
		{"freeze_requantization_ranges(min_max_log_file=a)", Options{}, "no log reader"},
		{"freeze_requantization_ranges(min_max_log_file=a)", Options{Ranges: &fakeRanges{err: errors.New("a:3: bad")}}, "a:3: bad"},
		{"freeze_requantization_ranges(min_max_log_file=a)", Options{Ranges: &fakeRanges{}}, "no min/max range logs were found"},
		{"freeze_requantization_ranges(min_max_log_file=a)", Options{Ranges: &fakeRanges{ranges: []stats.Range{{Node: "nope", Side: stats.Both}}}}, "not found in the graph"},
		{"freeze_requantization_ranges(min_max_log_file=a, min_percentile=x)", Options{Ranges: fr}, `could not read min_percentile="x" as a number`},
	} {
		steps, _ := Parse(tt.spec)
		if _, _, err := Apply(g, steps, tt.opt); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want %q", tt.spec, err, tt.want)
		}
	}
}
