package calib

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"qcal/logparse"

	"qcal/stats"
)

func rec(node, lo, hi string) string {
	return ";" + node + "__print__;__requant_min_max:[" + lo + "][" + hi + "]\n"
}

func TestParseMethods(t *testing.T) {
	ms, err := ParseMethods(" tf, kl ,percentile:99", 5, 5)
	if err != nil {
		t.Fatal(err)
	}
	// tf reads extremes only, kl values only, percentile:P both (ParseHistStrategy's doc).
	want := []struct {
		name          string
		batch, values bool
	}{{"tf", true, false}, {"kl", false, true}, {"percentile:99", true, true}}
	for i, w := range want {
		m := ms[i]
		if m.Name() != w.name || (m.Batch != nil) != w.batch || (m.Values != nil) != w.values {
			t.Errorf("method %d = %s batch %v values %v; want %+v", i, m.Name(), m.Batch != nil, m.Values != nil, w)
		}
	}
	if !WantsValues(ms) || WantsValues(ms[:1]) {
		t.Error("WantsValues")
	}

	bad := []struct {
		list, msg string
		unknown   bool
	}{
		{"tf,klx", `unknown strategy "klx" (known: tf, minmax, percentile:P, mean, median, ema:A; for logged tensor values: kl, entropy, mse, vpercentile:P (or percentile:P))`, true},
		{"percentile", `strategy "percentile" needs a parameter: percentile:P`, false},
		{"kl:3", `strategy "kl" takes no parameter`, false},
		{"vpercentile:0", `strategy "vpercentile": P must be a number in (0, 100], got "0"`, false},
		{"vpercentilex", `unknown histogram strategy "vpercentilex"`, true},
	}
	for _, tc := range bad {
		_, err := ParseMethods(tc.list, 5, 5)
		var se *StrategyError
		if !errors.As(err, &se) || !strings.HasPrefix(err.Error(), tc.msg) {
			t.Errorf("ParseMethods(%q) = %v; want a *StrategyError %q", tc.list, err, tc.msg)
			continue
		}
		var u *stats.UnknownStrategyError
		if errors.As(err, &u) != tc.unknown {
			t.Errorf("ParseMethods(%q): errors.As(*stats.UnknownStrategyError) = %v, want %v", tc.list, !tc.unknown, tc.unknown)
		}
	}
}

// badLog has three good records, an inverted one (line 4), a malformed one
// (line 5) and a NaN one (line 6).
const badLog = "" +
	";a__print__;__requant_min_max:[-1][1]\n" +
	";b__print__;__requant_min_max:[-2][2]\n" +
	";a__print__;__requant_min_max:[-3][3]\n" +
	";b__print__;__requant_min_max:[5][2]\n" +
	";a__print__;__requant_min_max:[1][x]\n" +
	";a__print__;__requant_min_max:[nan][3]\n"

func TestReadBadPolicies(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bad.log")
	if err := os.WriteFile(path, []byte(badLog), 0o644); err != nil {
		t.Fatal(err)
	}
	tf, _ := ParseMethods("tf", 5, 5)
	read := func(bad BadPolicy) (*Calibration, []string, error) {
		var notes []string
		cal, err := Read([]string{path}, Options{Methods: tf, Bad: bad, Note: func(s string) { notes = append(notes, s) }})
		return cal, notes, err
	}
	syntax := "warning: " + path + `:5: bad max value "x" in __requant_min_max record for node "a" (skipped)` // logparse's words

	_, notes, err := read(FailBad)
	var be *BadRecordsError
	if !errors.As(err, &be) || be.Count != 2 || !strings.Contains(err.Error(), path+`:4: node "b": min 5 > max 2`) ||
		!strings.Contains(err.Error(), path+`:6: node "a": non-finite value`) {
		t.Errorf("FailBad: %v", err)
	}
	if len(notes) != 1 || notes[0] != syntax {
		t.Errorf("FailBad notes %q, want the malformed record before the error: %q", notes, syntax)
	}

	cal, notes, err := read(DropBad)
	if err != nil {
		t.Fatal(err)
	}
	if cal.Dropped != 2 || cal.Bad != nil || cal.Acc.Node("a").Count() != 2 || cal.Acc.Node("b").Count() != 1 {
		t.Errorf("DropBad: dropped %d, bad %v, a %d b %d records; want 2, nil, 2, 1", cal.Dropped, cal.Bad, cal.Acc.Node("a").Count(), cal.Acc.Node("b").Count())
	}
	if want := []string{syntax, "warning: 2 record(s) with NaN/Inf values or min > max skipped (-drop-bad)"}; !reflect.DeepEqual(notes, want) {
		t.Errorf("DropBad notes %q, want %q", notes, want)
	}

	cal, notes, err = read(CountBad)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]*BadRecords{
		"a": {NonFinite: 1, File: path, Line: 6},
		"b": {Inverted: 1, File: path, Line: 4},
	}
	if !reflect.DeepEqual(cal.Bad, want) || cal.Dropped != 0 || len(notes) != 1 {
		t.Errorf("CountBad: bad %v dropped %d notes %q; want %v, 0, one note", cal.Bad, cal.Dropped, notes, want)
	}

	// Every record bad: no usable records, unless the audit counts them.
	allBad := filepath.Join(dir, "allbad.log")
	if err := os.WriteFile(allBad, []byte(rec("b", "5", "2")), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Read([]string{allBad}, Options{Methods: tf, Bad: DropBad}); err == nil || err.Error() != "no usable records left in "+allBad {
		t.Errorf("all dropped: %v", err)
	}
	if cal, err := Read([]string{allBad}, Options{Methods: tf, Bad: CountBad}); err != nil || cal.Bad["b"].Inverted != 1 {
		t.Errorf("all counted: %v", err)
	}
}

func TestReadErrors(t *testing.T) {
	tf, _ := ParseMethods("tf", 5, 5)
	kl, _ := ParseMethods("kl", 5, 5)
	if _, err := Read(nil, Options{Methods: tf}); err != ErrNoLogs {
		t.Errorf("no logs: %v", err)
	}
	if _, err := Read([]string{"x"}, Options{Methods: kl, TFCompat: true}); err != ErrTFCompatValues {
		t.Errorf("-tf-compat with kl: %v", err)
	}
	if _, err := Read([]string{"-"}, Options{Methods: tf, Stdin: strings.NewReader("no records\nat all\n")}); err == nil ||
		!strings.HasPrefix(err.Error(), "<stdin>: No min/max range logs were found in the log file (2 lines read)") {
		t.Errorf("no records: %v", err)
	}
	if _, err := Read([]string{filepath.Join(t.TempDir(), "missing.log")}, Options{Methods: tf}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

// TestReadSplit reads one log whole and split between two parsers: the
// accumulated records, their positions and the counted bad records must be
// the same, line numbers included.
func TestReadSplit(t *testing.T) {
	var b strings.Builder
	for i := 0; i < 3000; i++ {
		b.WriteString(rec("a", fmt.Sprint(-1-i%7), fmt.Sprint(1+i%5)))
		b.WriteString(rec("b", "-2", fmt.Sprint(2+i%3)))
		if i == 10 {
			b.WriteString(rec("b", "4", "3")) // inverted, in the first half
		}
		if i == 2500 {
			b.WriteString(rec("b", "5", "2"))   // inverted, in the second half
			b.WriteString(rec("c", "nan", "1")) // non-finite, only in the second half
		}
	}
	path := filepath.Join(t.TempDir(), "split.log")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	tf, _ := ParseMethods("tf", 5, 5)
	read := func(splitMin int64) *Calibration {
		cal, err := Read([]string{path}, Options{Methods: tf, Bad: CountBad, KeepLines: true, SplitMin: splitMin})
		if err != nil {
			t.Fatal(err)
		}
		return cal
	}
	whole, split := read(1<<40), read(1<<10)
	if sp, _ := splitPoint(path, 1<<10); sp == 0 || sp > int64(b.Len())/2+100 {
		t.Fatalf("split point %d: the test needs two CPUs and a split near the middle of %d bytes", sp, b.Len())
	}
	// Two lines a round: b's first bad record follows rounds 0-10 (line
	// 23, two in all); c's follows rounds 0-2500 and b's (line 5005).
	if !reflect.DeepEqual(whole.Bad, split.Bad) || *whole.Bad["b"] != (BadRecords{Inverted: 2, File: path, Line: 23}) ||
		*whole.Bad["c"] != (BadRecords{NonFinite: 1, File: path, Line: 5005}) {
		t.Errorf("bad records: whole %+v %+v, split %+v %+v; want b: 2 from line 23, c: 1 at line 5005",
			*whole.Bad["b"], *whole.Bad["c"], *split.Bad["b"], *split.Bad["c"])
	}
	if whole.Counts != split.Counts {
		t.Errorf("counts: whole %+v, split %+v", whole.Counts, split.Counts)
	}
	for _, name := range []string{"a", "b"} {
		w, s := whole.Acc.Node(name), split.Acc.Node(name)
		if !reflect.DeepEqual(w.Positions(), s.Positions()) || w.Count() != s.Count() {
			t.Errorf("node %s: whole and split differ", name)
		}
		if !reflect.DeepEqual(whole.Ranges(whole.Methods[0]), split.Ranges(split.Methods[0])) {
			t.Errorf("ranges differ")
		}
	}
}

// TestNodeStrategy gives the audit a value strategy: a node that logged
// values gets the value rule, the others the batch rule or an error.
func TestNodeStrategy(t *testing.T) {
	// Node a logged extremes under its RequantizationRange name and values
	// under its Conv2D name (MapName joins them); node b only extremes.
	log := rec("a_eightbit_requant_range", "-1", "1") + rec("a_eightbit_requant_range", "-3", "3") +
		rec("b_eightbit_requant_range", "-2", "2") +
		";a__print__;__KL:[0 1 2 3 4 5 6 7 8 9]\n"
	ms, err := ParseMethods("tf,vpercentile:100,percentile:100", 5, 5)
	if err != nil {
		t.Fatal(err)
	}
	cal, err := Read([]string{"-"}, Options{Methods: ms, Stdin: strings.NewReader(log)})
	if err != nil {
		t.Fatal(err)
	}
	a, b := cal.Acc.Node("a_eightbit_requant_range"), cal.Acc.Node("b_eightbit_requant_range")
	if _, err := cal.NodeStrategy(ms[1]); err == nil || !strings.Contains(err.Error(), `node "b_eightbit_requant_range" logged none`) {
		t.Errorf("vpercentile with b lacking values: %v", err)
	}
	s, err := cal.NodeStrategy(ms[2])
	if err != nil {
		t.Fatal(err)
	}
	// vpercentile:100 is the exact extremes of the values: [0, 9]
	// (ValuePercentile's doc); b has no values: percentile:100 of its one
	// batch is [-2, 2].
	if r := s.Range(a); r.Min != 0 || r.Max != 9 || s.Name() != "percentile:100" {
		t.Errorf("a: %+v (%s), want [0, 9]", r, s.Name())
	}
	if r := s.Range(b); r.Min != -2 || r.Max != 2 {
		t.Errorf("b: %+v, want [-2, 2]", r)
	}
	if s, _ := cal.NodeStrategy(ms[0]); s.Range(a).Max != 3 {
		t.Errorf("tf on a = %+v, want max 3 (the batch rule)", s.Range(a))
	}
	if !cal.FromValues(ms[1], "a_eightbit_requant_range") || cal.FromValues(ms[2], "a_eightbit_requant_range") || cal.FromValues(ms[0], "a_eightbit_requant_range") {
		t.Error("FromValues")
	}
	if cal.Nodes() != 2 || cal.MethodNames() != "tf,vpercentile:100,percentile:100" {
		t.Errorf("Nodes %d, MethodNames %q", cal.Nodes(), cal.MethodNames())
	}
}

// TestReadFloatThenIntDump reads a log whose first tensor is floats and
// whose second is a quantized dump (integer codes, then [min][max]), in one
// scan batch: the integer codes are kept beside the float values, not
// sliced out of an empty buffer. qcal calibrate writes such logs when it
// logs values of FP32 and quantized nodes together. Worked by hand:
// vpercentile:100 of a is 2.5; b's codes 10…40 as qint32 over [-1, 1] are
// 40 · (2/2^32) ≈ 1.8626e-08 at most (TF's QuantizedToFloat; the bin rule
// of the value histogram keeps it within a bin).
func TestReadFloatThenIntDump(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mixed.log")
	log := ";a__print__;__KL:[0.5 1.5 2.5]\n;b__print__;__KL:[10 20 30 40][-1][1]\n"
	if err := os.WriteFile(path, []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	ms, err := ParseMethods("vpercentile:100", 5, 5)
	if err != nil {
		t.Fatal(err)
	}
	cal, err := Read([]string{path}, Options{Methods: ms})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]stats.Range{}
	for _, r := range cal.Ranges(ms[0]) {
		got[r.Node] = r
	}
	a, b := got["a_eightbit_requant_range"], got["b_eightbit_requant_range"]
	if a.Max != 2.5 || a.Min != 0.5 {
		t.Errorf("a: [%g, %g], want [0.5, 2.5]", a.Min, a.Max)
	}
	if b.Max < 1.8e-8 || b.Max > 1.9e-8 || b.Min <= 0 {
		t.Errorf("b: [%g, %g], want positive values up to ≈1.86e-08", b.Min, b.Max)
	}
}

// TestReadPerChannelDump: a per-channel convolution's dump has one min and
// one max per output channel (channels last). Worked by hand, two
// channels with ranges [-4, 4] and [-8, 8], code · max(|min_c|, |max_c|)/2³¹:
// 2³⁰ (c0) → 2, −2³⁰ (c1) → −4, 2²⁹ (c0) → 1, 2²⁹ (c1) → 2; so
// vpercentile:100 is [−4, 2] (within the value histogram's bin).
// Before, such a dump was binned as raw codes (a range of ±1e9).
func TestReadPerChannelDump(t *testing.T) {
	log := ";b__print__;__KL:[1073741824 -1073741824 536870912 536870912][-4 -8][4 8]\n"
	r := vpercentile100(t, log)
	if len(r) != 1 || math.Abs(float64(r[0].Min)+4) > 0.04 || math.Abs(float64(r[0].Max)-2) > 0.02 {
		t.Errorf("ranges %+v, want [-4, 2]", r)
	}
}

// TestReadPerChannelDumpChunked: a per-channel dump with more channels
// than logparse.MaxChunk (4096) gets its min and max vectors in several
// chunks. 4100 channels, every code 2³⁰ and every range [-2, 2]:
// 2³⁰ · 2/2³¹ = 1 for each value, so vpercentile:100 is [1, 1] (within
// the value histogram's bin). Taking only one-chunk ranges binned the raw
// codes: a max of 1.07e9.
func TestReadPerChannelDumpChunked(t *testing.T) {
	const ch = logparse.MaxChunk + 4
	vec := func(v string) string { return "[" + strings.TrimSpace(strings.Repeat(v+" ", ch)) + "]" }
	log := ";b__print__;__KL:" + vec("1073741824") + vec("-2") + vec("2") + "\n"
	r := vpercentile100(t, log)
	if len(r) != 1 || math.Abs(float64(r[0].Max)-1) > 0.01 || math.Abs(float64(r[0].Min)-1) > 0.01 {
		t.Errorf("ranges %+v, want [1, 1]", r)
	}
}

// TestReadBrokenDump: integer codes followed by a min and a max that fit
// no range of them (3 codes, 2 channels) are left out with a warning naming
// the node, not binned as raw codes; the good dump beside them is used.
// Worked by hand: a's codes 2^30 over [-2, 2] → 2^30·(4/2^32) ≈ 1.
func TestReadBrokenDump(t *testing.T) {
	log := ";b__print__;__KL:[10 20 30][-1 -2][1 2]\n;a__print__;__KL:[1073741824][-2][2]\n"
	ms, err := ParseMethods("vpercentile:100", 5, 5)
	if err != nil {
		t.Fatal(err)
	}
	var notes []string
	cal, err := Read([]string{"-"}, Options{Methods: ms, Stdin: strings.NewReader(log), Note: func(s string) { notes = append(notes, s) }})
	if err != nil {
		t.Fatal(err)
	}
	r := cal.Ranges(ms[0])
	if len(r) != 1 || r[0].Node != "a_eightbit_requant_range" || math.Abs(float64(r[0].Max)-1) > 0.01 {
		t.Errorf("ranges %+v, want a's alone, max ≈ 1", r)
	}
	want := `warning: 1 quantized dump(s) left out, their min and max fitting no range of their codes (one value, or one per channel dividing the codes' count); the first: node "b"`
	if !slices.Contains(notes, want) {
		t.Errorf("notes %q lack %q", notes, want)
	}
}

// vpercentile100 reads log from stdin and returns its vpercentile:100
// ranges (the exact extremes of the logged values).
func vpercentile100(t *testing.T, log string) []stats.Range {
	t.Helper()
	ms, err := ParseMethods("vpercentile:100", 5, 5)
	if err != nil {
		t.Fatal(err)
	}
	cal, err := Read([]string{"-"}, Options{Methods: ms, Stdin: strings.NewReader(log)})
	if err != nil {
		t.Fatal(err)
	}
	return cal.Ranges(ms[0])
}
