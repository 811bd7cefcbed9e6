package accuracy

import (
	"fmt"
	"strings"
	"testing"
)

// The tuning logs below are written in the shape of the lines Intel Neural
// Compressor prints (issue 15); the numbers are invented.

// INC 1.x (lpot) prints its tuning lines in lower case.
const inc1Log = `2021-06-01 10:00:00 [INFO] Accuracy: 0.7613
2021-06-01 10:00:00 [INFO] FP32 baseline is: [accuracy: 0.7613, duration (seconds): 47.3588]
2021-06-01 10:05:00 [INFO] Accuracy: 0.7012
2021-06-01 10:05:00 [INFO] Tune 1 result is: [accuracy: 0.7012, duration (seconds): 31.1567], Best tune result is: [accuracy: 0.7012, duration (seconds): 31.1567]
2021-06-01 10:05:01 [INFO] Save tuning history to /tmp/history.snapshot
`

// INC 2.x: tune lines carry both sides, then the "Tune Result
// Statistics" table.
const inc2Log = `2023-03-01 10:00:00 [INFO] FP32 baseline is: [Accuracy: 0.7613, Duration (seconds): 47.3588]
2023-03-01 10:02:00 [INFO] Tune 1 result is: [Accuracy (int8|fp32): 0.7498|0.7613, Duration (seconds) (int8|fp32): 31.2001|47.3588], Best tune result is: n/a
2023-03-01 10:04:00 [INFO] Tune 2 result is: [Accuracy (int8|fp32): 0.7590|0.7613, Duration (seconds) (int8|fp32): 30.9876|47.3588], Best tune result is: [Accuracy: 0.7590, Duration (seconds): 30.9876]
2023-03-01 10:04:00 [INFO] |**********************Tune Result Statistics**********************|
2023-03-01 10:04:00 [INFO] +--------------------+----------+---------------+------------------+
2023-03-01 10:04:00 [INFO] |     Info Type      | Baseline | Tune 2 result | Best tune result |
2023-03-01 10:04:00 [INFO] +--------------------+----------+---------------+------------------+
2023-03-01 10:04:00 [INFO] |      Accuracy      | 0.7613   |    0.7590     |     0.7590       |
2023-03-01 10:04:00 [INFO] | Duration (seconds) | 47.3588  |   30.9876     |     30.9876      |
2023-03-01 10:04:00 [INFO] +--------------------+----------+---------------+------------------+
`

func TestINCTuningLogs(t *testing.T) {
	for _, tc := range []struct {
		name, log      string
		fp32, int8     float64
		line           int
		trials         []Trial
		note           string
		verdict, trial Verdict
	}{
		// The false PASS of issue 15: the lower-case lines were not read,
		// so the last "Accuracy:" line (0.7012) was both sides.
		{name: "inc 1.x lower case", log: inc1Log, fp32: 76.13, int8: 70.12, line: 4, verdict: Fail},
		{name: "inc 2.x trials and table", log: inc2Log, fp32: 76.13, int8: 75.90, line: 3,
			trials: []Trial{{1, 74.98, 2}, {2, 75.90, 3}}, verdict: Pass},
		{name: "inc 2.x no trial meets the criterion",
			log: "[INFO] FP32 baseline is: [Accuracy: 0.7613, Duration (seconds): 47.3]\n" +
				"[INFO] Tune 1 result is: [Accuracy (int8|fp32): 0.7420|0.7613, Duration (seconds) (int8|fp32): 31.2|47.3], Best tune result is: n/a\n" +
				"[INFO] Tune 2 result is: [Accuracy (int8|fp32): 0.7501|0.7613, Duration (seconds) (int8|fp32): 31.2|47.3], Best tune result is: n/a\n",
			fp32: 76.13, int8: 75.01, line: 3, trials: []Trial{{1, 74.20, 2}, {2, 75.01, 3}},
			note: "INC found no trial meeting its accuracy criterion (Best tune result is: n/a); judged on the best of its 2 trials, trial 2 (line 3)", verdict: Fail},
		{name: "inc 3.x", log: "2024-05-01 10:00:00 [INFO][autotune.py:110] Fp32 baseline is 0.7613\n" +
			"2024-05-01 10:03:00 [INFO] Tune 1 result is: [Accuracy: 0.7588]\n", fp32: 76.13, int8: 75.88, line: 2, verdict: Pass},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Compare(src("fp32", "tune.log", tc.log), []Source{src("int8", "tune.log", tc.log)}, Options{Target: DefaultTarget})
			if err != nil {
				t.Fatal(err)
			}
			best := c.best()
			if !near(c.Baseline.Value, tc.fp32, 1e-9) || !near(best.Value, tc.int8, 1e-9) || best.Accuracy.Line != tc.line {
				t.Errorf("fp32 %v int8 %v (line %d), want %v %v (line %d)", c.Baseline.Value, best.Value, best.Accuracy.Line, tc.fp32, tc.int8, tc.line)
			}
			if c.Verdict() != tc.verdict {
				t.Errorf("verdict %s, want %s: %s", c.Verdict(), tc.verdict, c.Summary())
			}
			if fmt.Sprint(best.Accuracy.Trials) != fmt.Sprint(tc.trials) {
				t.Errorf("trials %v, want %v", best.Accuracy.Trials, tc.trials)
			}
			// Every trial is a row of the table, but only the best tune
			// result makes the verdict.
			if got := len(c.Candidates) - 1; got != len(tc.trials) {
				t.Errorf("%d trial rows, want %d", got, len(tc.trials))
			}
			if tc.note != "" && (len(best.Notes) != 1 || best.Notes[0] != tc.note) {
				t.Errorf("notes %q, want %q", best.Notes, tc.note)
			}
		})
	}
}

// TestINCTrialRows checks the trial rows of the 2.x log: trial 1 (74.98)
// drops 76.13 − 74.98 = 1.15 points and fails, yet the verdict is the best
// tune result's (75.90, drop 0.23, PASS).
func TestINCTrialRows(t *testing.T) {
	c, err := Compare(src("fp32", "tune.log", inc2Log), []Source{src("q", "tune.log", inc2Log)}, Options{Target: DefaultTarget})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range c.Candidates {
		got = append(got, fmt.Sprintf("%d %s %.2f %s %q", m.Rank, m.Name, m.Drop, m.Verdict, m.TrialOf))
	}
	want := `1 q 0.23 pass ""; 2 q trial 2 0.23 pass "q"; 3 q trial 1 1.15 fail "q"`
	if strings.Join(got, "; ") != want {
		t.Errorf("rows %s, want %s", strings.Join(got, "; "), want)
	}
	if c.Verdict() != Pass {
		t.Errorf("verdict %s", c.Verdict())
	}
	// Each trial row carries its own value and line (trial 1: 74.98 on
	// line 2), not the best tune result's.
	t1 := c.Candidates[2].Accuracy
	if t1.Value() != c.Candidates[2].Value || t1.Line != 2 || len(t1.Trials) != 0 {
		t.Errorf("trial 1 accuracy %v line %d trials %v", t1.Value(), t1.Line, t1.Trials)
	}
}

func TestCoverageOfLogs(t *testing.T) {
	const fp32 = "Processed 50000 images. (Top1 accuracy, Top5 accuracy) = (0.7612, 0.9290)\n"
	for _, tc := range []struct {
		name, int8 string
		verdict    Verdict
		headline   string
	}{
		// Issue 15: a run killed after 20,000 of 50,000 images looked
		// 0.62 points better. 20000/50000 = 40% < 99%.
		{"killed run", "Processed 20000 images. (Top1 accuracy, Top5 accuracy) = (0.7674, 0.9301)\n", Fail,
			"VERDICT: FAIL int8: top1 76.74 vs FP32 76.12 on 20000 int8 vs 50000 FP32 samples, int8 is 0.62 points better; " +
				"unfair: int8 covers 40.00% of the FP32 samples, below the 99.00% required"},
		// 49800/50000 = 99.6% ≥ 99%: the drop passes but the counts differ.
		{"nearly all", "Processed 49800 images. (Top1 accuracy, Top5 accuracy) = (0.7600, 0.9288)\n", Warn,
			"VERDICT: WARN int8: top1 76.00 vs FP32 76.12 on 49800 int8 vs 50000 FP32 samples, drop 0.12 points ≤ 0.50; " +
				"at best WARN: the two sides were not measured on the same samples (coverage 99.60%)"},
		{"same count", "Processed 50000 images. (Top1 accuracy, Top5 accuracy) = (0.7600, 0.9288)\n", Pass,
			"VERDICT: PASS int8: top1 76.00 vs FP32 76.12, drop 0.12 points ≤ 0.50"},
		// A log without a count cannot be checked, and is not capped.
		{"unknown count", "Accuracy: 0.7600\n", Pass,
			"VERDICT: PASS int8: accuracy 76.00 vs FP32 76.12, drop 0.12 points ≤ 0.50"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Compare(src("fp32", "fp32.log", fp32), []Source{src("int8", "int8.log", tc.int8)}, Options{Target: DefaultTarget})
			if err != nil {
				t.Fatal(err)
			}
			if c.Verdict() != tc.verdict || c.Summary() != tc.headline {
				t.Errorf("got %s\n%s\nwant %s\n%s", c.Verdict(), c.Summary(), tc.verdict, tc.headline)
			}
		})
	}
}

func TestCoverageOfPredictions(t *testing.T) {
	var fp, one strings.Builder
	fp.WriteString("id,label,prediction,top5,score\n")
	one.WriteString("id,label,prediction,top5,score\n")
	for i := range 1000 {
		fmt.Fprintf(&fp, "t10k-images-idx3-ubyte.gz:%d,%d,%d,%d|1|2|3|4,0.9\n", i, i%10, i%10, i%10)
	}
	one.WriteString("t10k-images-idx3-ubyte.gz:0,0,0,0|1|2|3|4,0.9\n")
	// Issue 15: a prediction file with 1 of 1,000 ids passed with drop
	// 0.00. Coverage 1/1000 = 0.10% < 99%.
	c, err := Compare(src("fp32", "fp32.csv", fp.String()), []Source{src("int8", "int8.csv", one.String())}, Options{Target: DefaultTarget})
	if err != nil {
		t.Fatal(err)
	}
	want := "VERDICT: FAIL int8: top1 100.00 vs FP32 100.00 on 1 matched ids (FP32 has 1000, int8 1), drop 0.00 points ≤ 0.50; " +
		"unfair: int8 covers 0.10% of the FP32 ids, below the 99.00% required; not distinguishable from zero (McNemar exact p = 1)"
	if c.Verdict() != Fail || c.Summary() != want {
		t.Errorf("got %s\n%s\nwant\n%s", c.Verdict(), c.Summary(), want)
	}
	// With -min-coverage 0.0005 (0.05%) the same pair is only capped at WARN.
	c, err = Compare(src("fp32", "fp32.csv", fp.String()), []Source{src("int8", "int8.csv", one.String())}, Options{Target: DefaultTarget, MinCoverage: 0.0005})
	if err != nil {
		t.Fatal(err)
	}
	if c.Verdict() != Warn {
		t.Errorf("min coverage 0.05%%: %s", c.Summary())
	}
}

// TestINCScale: INC prints its evaluation function's value. A language
// model tuned on its loss prints numbers above 1 (shape of an INC 2.x
// GPT-2 log); with -lower-better they stay raw and the best trial is the
// lowest: drop 45.0290 − 44.8773 = 0.1517.
func TestINCScale(t *testing.T) {
	log := "[INFO] FP32 baseline is: [Accuracy: 44.8773, Duration (seconds): 20.0922]\n" +
		"[INFO] Tune 1 result is: [Accuracy (int8|fp32): 46.1000|44.8773, Duration (seconds) (int8|fp32): 9.9|20.1], Best tune result is: n/a\n" +
		"[INFO] Tune 2 result is: [Accuracy (int8|fp32): 45.0290|44.8773, Duration (seconds) (int8|fp32): 9.7832|20.0922], Best tune result is: [Accuracy: 45.0290, Duration (seconds): 9.7832]\n"
	c, err := Compare(src("fp32", "tune.log", log), []Source{src("int8", "tune.log", log)}, Options{Target: DefaultTarget, LowerBetter: true})
	if err != nil {
		t.Fatal(err)
	}
	if m := c.best(); !near(m.Drop, 0.1517, 1e-9) || m.Verdict != Pass || len(m.Notes) != 0 {
		t.Errorf("drop %v %s notes %q, want 0.1517 pass", m.Drop, m.Verdict, m.Notes)
	}
	// Without the flag the values are percentages (> 1 cannot be a
	// fraction), and the reader is told.
	acc, err := Extract(strings.NewReader(log), "tune.log", ExtractOptions{Role: RoleFP32})
	if err != nil {
		t.Fatal(err)
	}
	if !near(acc.Value(), 44.8773, 1e-9) || len(acc.Notes) != 1 || !strings.Contains(acc.Notes[0], "read as 44.88% by its size") {
		t.Errorf("value %v notes %q", acc.Value(), acc.Notes)
	}
}
