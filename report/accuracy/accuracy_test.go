package accuracy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"qcal/internal/testutil"
	"qcal/report"
	"qcal/stats"
)

// golden compares got with testdata/NAME, or rewrites it with
// -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	testutil.Golden(t, filepath.Join("testdata", name), got)
}

func src(name, file, text string) Source {
	return Source{Name: name, File: file, R: strings.NewReader(text)}
}

func TestTargetJudgeBoundaries(t *testing.T) {
	tgt := DefaultTarget
	tests := []struct {
		fp32, int8 float64
		want       Verdict
	}{
		{76.12, 75.62, Pass}, // 0.5000000000000142 in float64: exactly 0.5
		{76.12, 75.61, Warn},
		{76.12, 75.12, Warn}, // exactly 1.0
		{76.12, 75.11, Fail},
		{76.12, 76.50, Pass}, // int8 better
		{0.7612 * 100, 0.7562 * 100, Pass},
		{0.7612 * 100, 0.7512 * 100, Warn},
	}
	for _, tc := range tests {
		d := tgt.Drop(tc.fp32, tc.int8)
		if got := tgt.Judge(d); got != tc.want {
			t.Errorf("%v → %v: drop %.17g judged %s, want %s", tc.fp32, tc.int8, d, got, tc.want)
		}
	}
	rel := Target{MaxDrop: 0.5, WarnDrop: 1, Relative: true}
	// (80 − 79.6)/80 · 100 = 0.5 exactly; (80 − 79.2)/80 · 100 = 1.
	for _, tc := range []struct {
		int8 float64
		want Verdict
	}{{79.6, Pass}, {79.59, Warn}, {79.2, Warn}, {79.19, Fail}} {
		if got := rel.Judge(rel.Drop(80, tc.int8)); got != tc.want {
			t.Errorf("relative 80 → %v: %s, want %s", tc.int8, got, tc.want)
		}
	}
}

// TestCompareBoundariesFromLogs runs the boundary cases through the
// extractor, where fractions are scaled to percent.
func TestCompareBoundariesFromLogs(t *testing.T) {
	for _, tc := range []struct {
		fp32, int8 string
		want       Verdict
	}{
		{"Accuracy: 0.7612", "Accuracy: 0.7562", Pass},
		{"Accuracy: 76.12%", "Accuracy: 75.62%", Pass},
		{"Accuracy: 0.7612", "Accuracy: 0.7512", Warn},
		{"Accuracy: 76.12", "Accuracy: 75.12", Warn},
		{"Accuracy: 0.7612", "Accuracy: 0.7511", Fail},
	} {
		c, err := Compare(src("fp32", "fp32.log", tc.fp32), []Source{src("int8", "int8.log", tc.int8)}, Options{Target: DefaultTarget})
		if err != nil {
			t.Fatal(err)
		}
		if got := c.Verdict(); got != tc.want {
			t.Errorf("%s vs %s: %s (drop %.17g), want %s", tc.fp32, tc.int8, got, c.Candidates[0].Drop, tc.want)
		}
	}
}

const (
	fp32Log    = "Processed 50000 images. (Top1 accuracy, Top5 accuracy) = (0.7612, 0.9290)\n"
	tfLog      = "Processed 50000 images. (Top1 accuracy, Top5 accuracy) = (0.7540, 0.9251)\n"
	klLog      = "Processed 50000 images. (Top1 accuracy, Top5 accuracy) = (0.7590, 0.9277)\n"
	minmaxLog  = "Processed 50000 images. (Top1 accuracy, Top5 accuracy) = (0.7466, 0.9188)\n"
	incTuneLog = "[INFO] FP32 baseline is: [Accuracy: 0.7612, Duration (seconds): 103.4]\n" +
		"[INFO] Tune 1 result is: [Accuracy (int8|fp32): 0.7581|0.7612, Duration (seconds) (int8|fp32): 50.1|103.4], Best tune result is: [Accuracy: 0.7581, Duration (seconds): 50.1]\n"
)

func logComparison(t *testing.T) *Comparison {
	t.Helper()
	c, err := Compare(src("fp32", "fp32.log", fp32Log), []Source{
		src("tf", "int8_tf.log", tfLog),
		src("kl", "int8_kl.log", klLog),
		src("minmax", "int8_minmax.log", minmaxLog),
		src("inc", "inc_tune.log", incTuneLog),
	}, Options{Target: DefaultTarget})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCompareRanksCandidates(t *testing.T) {
	c := logComparison(t)
	var got []string
	for _, m := range c.Candidates {
		got = append(got, fmt.Sprintf("%d %s %.2f %s", m.Rank, m.Name, m.Drop, m.Verdict))
	}
	want := []string{"1 kl 0.22 pass", "2 inc 0.31 pass", "3 tf 0.72 warn", "4 minmax 1.46 fail"}
	if strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Errorf("ranking %q, want %q", got, want)
	}
	if c.Verdict() != Pass {
		t.Errorf("overall verdict %s, want the best candidate's (pass)", c.Verdict())
	}
	if n := c.Candidates[1].Notes; len(n) != 1 || !strings.Contains(n[0], "compares inc's accuracy with FP32's top1") {
		t.Errorf("inc notes %q", n)
	}
	// Wilson intervals come from the sample count of the IntelAI line.
	if ci := c.Baseline.CI; ci == nil || !near(ci.Lo, 75.74, 0.01) || !near(ci.Hi, 76.49, 0.01) {
		t.Errorf("baseline CI %v", c.Baseline.CI)
	}
}

func TestCompareErrors(t *testing.T) {
	tests := []struct {
		name  string
		fp32  Source
		cands []Source
		opts  Options
		want  string
	}{
		{"metric kinds differ", src("fp32", "coco.log", cocoSummary), []Source{src("int8", "int8.log", "Accuracy: 0.5")}, Options{},
			"coco.log reports AP@[.50:.95,all,100] but int8.log reports accuracy; choose one with -metric NAME"},
		{"empty candidate", src("fp32", "fp32.log", fp32Log), []Source{src("int8", "int8.log", "")}, Options{}, "int8.log: empty file"},
		{"empty baseline", src("fp32", "fp32.log", ""), []Source{src("int8", "int8.log", fp32Log)}, Options{}, "fp32.log: empty file"},
		{"no candidates", src("fp32", "fp32.log", fp32Log), nil, Options{}, "no int8 candidate"},
		{"relative from zero", src("fp32", "fp32.log", "Accuracy: 0"), []Source{src("int8", "int8.log", "Accuracy: 0")}, Options{Target: Target{Relative: true}},
			"fp32.log: the FP32 accuracy is 0, so a relative drop is undefined"},
		{"predictions metric", src("fp32", "fp32.csv", "id,label,pred\na,1,1\n"), []Source{src("int8", "int8.csv", "id,label,pred\na,1,1\n")}, Options{Metric: "f1"},
			`fp32.csv: a prediction file gives top1 and top5, not "f1"`},
		{"predictions top5 without lists", src("fp32", "fp32.csv", "id,label,pred\na,1,1\n"), []Source{src("int8", "int8.csv", "id,label,pred\na,1,1\n")}, Options{Metric: "top5"},
			"fp32.csv: -metric top5 needs ranked lists of at least 5 predictions in every row (the shortest has 1)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Compare(tc.fp32, tc.cands, tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}

// predFixture returns a pair of prediction files: 40 images of 4 classes;
// FP32 wrong on 4, int8 wrong on 9 (including 3 of FP32's); one FP32 id
// missing from int8 and one extra int8 id.
func predFixture() (fp32, int8 string) {
	var f, q strings.Builder
	f.WriteString("image,label,top5\n")
	q.WriteString("image\tlabel\ttop5\n")
	names := []string{"cat", "dog", "fox", "owl"}
	for i := range 40 {
		label := names[i%4]
		other := names[(i+1)%4]
		fpRight := i%10 != 3
		in8Right := i%10 != 3 && i%8 != 5 || i == 13
		list := func(right bool) string {
			if right {
				return label + "|" + other + "|x|y|z"
			}
			return other + "|" + label + "|x|y|z"
		}
		if i != 39 {
			fmt.Fprintf(&f, "img%02d.jpg,%s,%s\n", i, label, list(fpRight))
		}
		if i != 0 {
			fmt.Fprintf(&q, "img%02d.jpg\t%s\t%s\n", i, label, list(in8Right))
		}
	}
	fmt.Fprintf(&f, "img39.jpg,owl,owl|cat|x|y|z\n")
	fmt.Fprintf(&q, "img40.jpg\towl\towl|cat|x|y|z\n")
	return f.String(), q.String()
}

func predComparison(t *testing.T) *Comparison {
	t.Helper()
	fp, q := predFixture()
	c, err := Compare(src("fp32", "fp32_predictions.csv", fp), []Source{
		src("kl", "int8_kl.tsv", q),
		src("tf", "int8_tf.tsv", strings.ReplaceAll(fp, ",", "\t")),
	}, Options{Target: DefaultTarget})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestComparePredictions(t *testing.T) {
	c := predComparison(t)
	kl := c.Candidates[1]
	if kl.Name != "kl" || kl.Paired == nil {
		t.Fatalf("second candidate %+v", kl)
	}
	ps := kl.Paired
	// Matched: img01..img39 (39 rows). FP32 wrong on 3, 13, 23, 33 (4);
	// int8 wrong on 3, 5, 21, 23, 29, 33, 37 and right on 13 (i%8==5
	// gives 5, 13, 21, 29, 37; 13 is forced right).
	want := stats.PairedCounts{Both: 31, FP32Only: 4, Int8Only: 1, Neither: 3, Agree: 34}
	if ps.Counts != want {
		t.Errorf("counts %+v, want %+v", ps.Counts, want)
	}
	if ps.Missing != 1 || ps.Extra != 1 || ps.FirstMissing[0] != "img00.jpg" || ps.FirstExtra[0] != "img40.jpg" {
		t.Errorf("missing %d %v extra %d %v", ps.Missing, ps.FirstMissing, ps.Extra, ps.FirstExtra)
	}
	// Drop = (b − c)/n = 3/39 = 7.69 points; McNemar p = 2·P(X ≤ 1),
	// X ~ Bin(5, ½) = 2·6/32 = 0.375.
	if !near(kl.Drop, 300.0/39, 1e-9) || !near(ps.McNemarP, 0.375, 1e-12) || ps.Significant {
		t.Errorf("drop %v p %v significant %v", kl.Drop, ps.McNemarP, ps.Significant)
	}
	if kl.Verdict != Fail || c.Candidates[0].Name != "tf" || c.Candidates[0].Drop != 0 {
		t.Errorf("verdicts: %s %s %v", kl.Verdict, c.Candidates[0].Name, c.Candidates[0].Drop)
	}
	if len(kl.Notes) != 2 {
		t.Errorf("notes %q", kl.Notes)
	}
}

func TestComparisonGolden(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    func(*testing.T) *Comparison
	}{{"logs", logComparison}, {"predictions", predComparison}} {
		for _, format := range []report.Format{report.Text, report.Markdown, report.JSON} {
			ext := map[report.Format]string{report.Text: "txt", report.Markdown: "md", report.JSON: "json"}[format]
			t.Run(tc.name+"."+ext, func(t *testing.T) {
				var b bytes.Buffer
				if err := report.Write(&b, tc.c(t), format); err != nil {
					t.Fatal(err)
				}
				golden(t, tc.name+"."+ext+".golden", b.Bytes())
				// A second rendering of a fresh comparison gives the same bytes.
				var b2 bytes.Buffer
				if err := report.Write(&b2, tc.c(t), format); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(b.Bytes(), b2.Bytes()) {
					t.Error("two renderings differ")
				}
			})
		}
	}
}

// TestJSONShape checks the JSON document's contract: baseline, candidates
// with name, metrics, drop, verdict (and stats when paired), keys sorted.
func TestJSONShape(t *testing.T) {
	var b bytes.Buffer
	if err := report.Write(&b, predComparison(t), report.JSON); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Baseline   map[string]json.RawMessage   `json:"baseline"`
		Candidates []map[string]json.RawMessage `json:"candidates"`
		Verdict    string                       `json:"verdict"`
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Baseline["metrics"] == nil || len(doc.Candidates) != 2 || doc.Verdict != "pass" {
		t.Fatalf("document %s", b.String())
	}
	for _, c := range doc.Candidates {
		for _, k := range []string{"name", "metrics", "drop", "verdict", "stats"} {
			if c[k] == nil {
				t.Errorf("candidate lacks %q: %v", k, c)
			}
		}
	}
	// Keys sorted: "baseline" < "candidates" < "metric" < ... at the top.
	text := b.String()
	var top []string
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, `  "`) {
			top = append(top, strings.SplitN(l, `"`, 3)[1])
		}
	}
	if strings.Join(top, " ") != "baseline candidates metric summary target unit verdict" {
		t.Errorf("top-level keys %q", top)
	}
	if !(strings.Index(text, `"ci95"`) < strings.Index(text, `"file"`) && strings.Index(text, `"file"`) < strings.Index(text, `"metrics"`)) {
		t.Error("baseline keys not sorted")
	}
}

func TestUnknownFormat(t *testing.T) {
	if err := report.Write(&bytes.Buffer{}, logComparison(t), "yaml"); err == nil || !strings.Contains(err.Error(), `as "yaml" (want text, markdown, json or html)`) {
		t.Errorf("error %v", err)
	}
	// A comparison has no CSV form: report.Formats says so for usage text.
	if got := fmt.Sprint(report.Formats((*Comparison)(nil))); got != "[text markdown json html]" {
		t.Errorf("Formats(*Comparison) = %s", got)
	}
}

// TestClassTableLimit checks that the per-class table shows the classes
// with the largest drop first, ten of them, and says how many there are.
func TestClassTableLimit(t *testing.T) {
	var f, q strings.Builder
	f.WriteString("id,label,pred\n")
	q.WriteString("id,label,pred\n")
	for i := range 120 {
		class := i % 12
		fmt.Fprintf(&f, "%d,c%02d,c%02d\n", i, class, class)
		pred := class
		if i/12 < class%5 { // class c04 and c09 lose 4 of 10, c03 and c08 3, ...
			pred = (class + 1) % 12
		}
		fmt.Fprintf(&q, "%d,c%02d,c%02d\n", i, class, pred)
	}
	c, err := Compare(src("fp32", "fp32.csv", f.String()), []Source{src("int8", "int8.csv", q.String())}, Options{Target: DefaultTarget})
	if err != nil {
		t.Fatal(err)
	}
	tb, shown, total := c.ClassTable(maxClassRows)
	if shown != 10 || total != 12 || len(tb.Rows) != 10 {
		t.Fatalf("shown %d of %d, %d rows", shown, total, len(tb.Rows))
	}
	var first []string
	for _, r := range tb.Rows[:4] {
		first = append(first, r[0]+" "+r[4])
	}
	if got := strings.Join(first, ", "); got != "c04 40.00, c09 40.00, c03 30.00, c08 30.00" {
		t.Errorf("largest drops first: %s", got)
	}
	var b bytes.Buffer
	if err := report.Write(&b, c, report.Text); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "the 10 classes with the largest drop, of 12 (all in -format json)") {
		t.Errorf("text output does not say the table is cut:\n%s", b.String())
	}
}
