package accuracy

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"qcal/report"
	"qcal/stats"
)

// Verdict is the judgement of one int8 candidate against the target.
type Verdict string

// Verdicts, from best to worst.
const (
	Pass Verdict = "pass" // drop ≤ MaxDrop
	Warn Verdict = "warn" // MaxDrop < drop ≤ WarnDrop
	Fail Verdict = "fail" // drop > WarnDrop
)

// dropTolerance absorbs floating-point error in a drop: 76.12 − 75.62 is
// 0.5000000000000142 in float64, and is a drop of exactly 0.5 points.
const dropTolerance = 1e-9

// Target is the accuracy target int8 is judged against: the usual 0.5–1%
// (MaxDrop 0.5, WarnDrop 1).
type Target struct {
	MaxDrop  float64 // pass when the drop is at most this
	WarnDrop float64 // warn when the drop is above MaxDrop and at most this; fail beyond
	// Relative measures the drop as a percentage of the FP32 accuracy,
	// (fp32 − int8)/fp32 · 100 (Intel Neural Compressor's relative
	// criterion) instead of in absolute points, fp32 − int8.
	Relative bool
	// LowerBetter is for metrics that are better when lower (perplexity,
	// WER, loss, latency): the drop is int8 − fp32 (relative: over fp32),
	// in the metric's own units. Compare sets it for such metric names.
	LowerBetter bool
}

// DefaultTarget is the target of `qcal report` without flags.
var DefaultTarget = Target{MaxDrop: 0.5, WarnDrop: 1}

// Judge returns the verdict for a drop. Both bounds are inclusive, to
// within 1e-9, so that a drop of exactly 0.5 passes a 0.5 target.
func (t Target) Judge(drop float64) Verdict {
	switch {
	case drop <= t.MaxDrop+dropTolerance:
		return Pass
	case drop <= t.WarnDrop+dropTolerance:
		return Warn
	}
	return Fail
}

// Drop returns the drop from fp32 to int8 (both in percent) under t.
func (t Target) Drop(fp32, int8 float64) float64 {
	d := fp32 - int8
	if t.LowerBetter {
		d = -d
	}
	if t.Relative {
		if fp32 == 0 {
			return 0
		}
		return d / math.Abs(fp32) * 100
	}
	return d
}

// Unit returns the unit of drops under t.
func (t Target) Unit() string {
	switch {
	case t.Relative:
		return "% of FP32"
	case t.LowerBetter:
		return "units"
	}
	return "points"
}

// Source is one input of a comparison: an inference log or a prediction
// file.
type Source struct {
	Name string // "fp32", or the candidate's name
	File string // the file's name, for messages
	R    io.Reader
	// Shards are further files of the same side, from a sharded
	// evaluation (qcal eval -shard K/N): prediction files are merged by
	// id (an id in two shards is an error naming both), logs by their
	// sample counts. All must be of one kind.
	Shards []Shard
}

// Shard is one more file of a Source.
type Shard struct {
	File string
	R    io.Reader
}

// Options control Compare.
type Options struct {
	// Metric names the metric to compare (see ExtractOptions.Metric); for
	// prediction files top1 (the default) or top5.
	Metric string
	// LowerBetter says the metric is better when lower (see
	// ExtractOptions.LowerBetter and Target.LowerBetter).
	LowerBetter bool
	Target      Target
	// MinCoverage is the fraction of the FP32 samples (prediction ids, or
	// a log's sample count) that an int8 candidate must cover for a
	// verdict better than FAIL; 0 means DefaultMinCoverage. Any
	// difference in the samples caps the verdict at WARN.
	MinCoverage float64
}

// DefaultMinCoverage is the coverage int8 must have of the FP32 samples:
// 99%.
const DefaultMinCoverage = 0.99

// Coverage compares the samples behind the two sides of a comparison.
type Coverage struct {
	// FP32 and Int8 are the sample counts (rows of prediction files, or
	// the counts logs print).
	FP32, Int8 int64
	// Matched is the number of ids in both prediction files; for logs,
	// which name no ids, the smaller count.
	Matched int64
	// Fraction is Matched/FP32 for prediction files and
	// min(FP32, Int8)/max(FP32, Int8) for logs.
	Fraction float64
	Paired   bool
}

// Equal reports whether both sides were measured on the same samples.
func (v *Coverage) Equal() bool {
	return v.FP32 == v.Int8 && v.Matched == v.FP32
}

// Comparison is the model of an accuracy report: the FP32 baseline and the
// int8 candidates judged against the target, best first. Every renderer
// (text, Markdown, JSON, HTML) draws from it.
type Comparison struct {
	Metric      string // the compared metric
	Target      Target
	Baseline    *Model
	Candidates  []*Model // ranked, best first
	lowerBetter bool     // ExtractOptions.LowerBetter for every input
	// minCoverage is the coverage a candidate needs (Options.MinCoverage).
	minCoverage float64
	// Sections, when set, are added to the HTML page after the tables
	// (qcal tune's per-layer int8 error); no other format shows them.
	Sections []report.Section `json:"-"`
}

// Model is one side of a comparison: the FP32 baseline or an int8
// candidate.
type Model struct {
	Name     string
	Accuracy *Accuracy
	// Metric is the name of the compared metric in Accuracy.Metrics (it
	// may differ from the comparison's: INC's "accuracy" against
	// IntelAI's "top1").
	Metric string
	// Value is the compared metric, in percent; for a paired candidate it
	// is measured over the rows matched with FP32.
	Value float64
	// CI is the 95% Wilson interval of Value in percent, when the sample
	// count is known.
	CI *stats.Interval
	// Candidates only:
	Rank    int
	Drop    float64 // in Target.Unit()
	Verdict Verdict
	// DropVerdict is the verdict of the drop alone; Verdict is worse when
	// the two sides were not measured on the same samples (Coverage).
	DropVerdict Verdict
	// Coverage compares the sample counts of both sides, when both are
	// known.
	Coverage *Coverage
	// TrialOf names the candidate whose Intel Neural Compressor tuning
	// log this trial is from; trials are shown but do not make the
	// overall verdict.
	TrialOf string
	Paired  *PairedStats // when both sides are prediction files
	Notes   []string
}

// PairedStats are the statistics of a candidate paired with FP32 row by
// row.
type PairedStats struct {
	*Paired
	// FP32 and Int8 are the accuracies over the matched rows, in percent;
	// FP32CI and Int8CI their 95% Wilson intervals.
	FP32, Int8     float64
	FP32CI, Int8CI stats.Interval
	// Agreement is the percentage of matched rows whose top-1 predictions
	// are equal.
	Agreement float64
	// McNemarP is the exact McNemar p-value of the discordant counts;
	// Significant reports whether it is below 0.05.
	McNemarP    float64
	Significant bool
	// DropCI is the 95% interval of the absolute drop in points, by
	// Newcombe's method 10 (NewcombeDiff).
	DropCI stats.Interval
}

// SignificanceLevel is the McNemar p-value below which a drop is called
// statistically distinguishable from zero.
const SignificanceLevel = 0.05

// Compare reads the FP32 baseline and every candidate and judges each
// candidate's drop against opts.Target. Each input is an inference log
// (see Extract) or a prediction file (see ReadPredictions); when
// the baseline and a candidate are both prediction files they are paired
// by id and the paired statistics are computed. Inputs are read once, in
// order, each as a stream; only the FP32 prediction rows are kept (see
// Predictions).
func Compare(fp32 Source, candidates []Source, opts Options) (*Comparison, error) {
	if len(candidates) == 0 {
		return nil, errors.New("no int8 candidate to compare")
	}
	c := &Comparison{Target: opts.Target}
	c.lowerBetter = opts.LowerBetter
	base, preds, err := c.readSource(fp32, RoleFP32, opts.Metric)
	if err != nil {
		return nil, err
	}
	c.Baseline = base
	c.Metric = base.Metric
	if opts.LowerBetter || base.Accuracy.LowerBetter {
		c.Target.LowerBetter = true
		c.lowerBetter = true
	}
	minCov := opts.MinCoverage
	if minCov == 0 {
		minCov = DefaultMinCoverage
	}
	if math.IsNaN(minCov) || minCov < 0 || minCov > 1 {
		return nil, fmt.Errorf("minimum coverage %g is not a fraction in [0, 1]", minCov)
	}
	c.minCoverage = minCov
	for _, src := range candidates {
		m, err := c.candidate(src, preds, opts.Metric)
		if err != nil {
			return nil, err
		}
		c.judge(m, minCov)
		c.Candidates = append(c.Candidates, m)
		c.Candidates = append(c.Candidates, c.trials(m, minCov)...)
	}
	sort.SliceStable(c.Candidates, func(i, j int) bool {
		a, b := c.Candidates[i], c.Candidates[j]
		if ra, rb := verdictRank[a.Verdict], verdictRank[b.Verdict]; ra != rb {
			return ra < rb
		}
		if a.Drop != b.Drop {
			return a.Drop < b.Drop
		}
		return a.Name < b.Name
	})
	for i, m := range c.Candidates {
		m.Rank = i + 1
	}
	return c, nil
}

var verdictRank = map[Verdict]int{Pass: 0, Warn: 1, Fail: 2}

func worse(a, b Verdict) Verdict {
	if verdictRank[b] > verdictRank[a] {
		return b
	}
	return a
}

// judge sets m's verdict from its drop and its coverage of the FP32
// samples: any difference caps it at WARN, coverage below minCov fails.
func (c *Comparison) judge(m *Model, minCov float64) {
	m.DropVerdict = c.Target.Judge(m.Drop)
	m.Verdict = m.DropVerdict
	if m.Coverage == nil {
		fp, in := c.Baseline.Accuracy.Samples, m.Accuracy.Samples
		if fp > 0 && in > 0 {
			m.Coverage = &Coverage{FP32: fp, Int8: in, Matched: min(fp, in), Fraction: float64(min(fp, in)) / float64(max(fp, in))}
		}
	}
	v := m.Coverage
	if v == nil || v.Equal() {
		return
	}
	if v.Fraction < minCov-1e-12 {
		m.Verdict = Fail
	} else {
		m.Verdict = worse(m.Verdict, Warn)
	}
}

// trials returns a row for each trial of m's INC tuning log, judged like
// m.
func (c *Comparison) trials(m *Model, minCov float64) []*Model {
	var ts []*Model
	for _, t := range m.Accuracy.Trials {
		acc := &Accuracy{File: m.Accuracy.File, Format: m.Accuracy.Format, Metric: m.Accuracy.Metric,
			Metrics: map[string]float64{m.Accuracy.Metric: t.Value}, Line: t.Line}
		tm := &Model{Name: fmt.Sprintf("%s trial %d", m.Name, t.N), Accuracy: acc, Metric: m.Metric, Value: t.Value, TrialOf: m.Name}
		tm.Drop = c.Target.Drop(c.Baseline.Value, t.Value)
		c.judge(tm, minCov)
		ts = append(ts, tm)
	}
	return ts
}

// readSource reads a baseline: a prediction file (returned too, for
// pairing) or a log.
func (c *Comparison) readSource(src Source, role Role, metric string) (*Model, *Predictions, error) {
	sd, err := openSide(src)
	if err != nil {
		return nil, nil, err
	}
	if sd.prs == nil {
		acc, err := c.extractShards(sd, role, metric)
		if err != nil {
			return nil, nil, err
		}
		return newModel(src.Name, acc), nil, nil
	}
	p, err := readShards(sd.prs)
	if err != nil {
		return nil, nil, err
	}
	acc, err := p.accuracy(metric)
	if err != nil {
		return nil, nil, err
	}
	m := newModel(src.Name, acc)
	m.CI = wilsonPct(p.count(acc.Metric), p.Rows)
	return m, p, nil
}

// side is the opened files of one side: prediction readers, or log
// readers when the files are not prediction files.
type side struct {
	prs   []*predReader
	logs  []*bufio.Reader
	files []string
}

// openSide opens the files of src (its shards too) and checks that they
// are all prediction files or all logs.
func openSide(src Source) (*side, error) {
	sd := &side{}
	parts := append([]Shard{{File: src.File, R: src.R}}, src.Shards...)
	for _, p := range parts {
		br, err := maybeGunzip(bufio.NewReaderSize(p.R, 64<<10), p.File)
		if err != nil {
			return nil, err
		}
		pr, err := newPredReader(br, p.File, false)
		if err != nil {
			return nil, err
		}
		if len(sd.files) > 0 && (pr == nil) != (sd.prs == nil) {
			kind := func(isPred bool) string {
				if isPred {
					return "a prediction file"
				}
				return "a log"
			}
			return nil, fmt.Errorf("%s is %s but %s is %s: the shards of one side must be alike", p.File, kind(pr != nil), sd.files[0], kind(sd.prs != nil))
		}
		sd.files = append(sd.files, p.File)
		if pr != nil {
			sd.prs = append(sd.prs, pr)
		} else {
			sd.logs = append(sd.logs, br)
		}
	}
	return sd, nil
}

// extractShards reads the logs of one side; the logs of several shards
// are merged by their sample counts.
func (c *Comparison) extractShards(sd *side, role Role, metric string) (*Accuracy, error) {
	var accs []*Accuracy
	for i, br := range sd.logs {
		acc, err := Extract(br, sd.files[i], ExtractOptions{Metric: metric, Role: role, LowerBetter: c.lowerBetter})
		if err != nil {
			return nil, err
		}
		accs = append(accs, acc)
	}
	if len(accs) == 1 {
		return accs[0], nil
	}
	return mergeLogs(accs)
}

// mergeLogs merges the accuracies of the shards of one evaluation: each
// metric that every shard has is the mean of the shards' values weighted
// by their sample counts (exact for accuracies: Σ kᵢ / Σ nᵢ).
func mergeLogs(accs []*Accuracy) (*Accuracy, error) {
	first := accs[0]
	m := &Accuracy{File: fmt.Sprintf("%s +%d shards", first.File, len(accs)-1), Format: first.Format, Metric: first.Metric,
		Metrics: make(map[string]float64), LowerBetter: first.LowerBetter}
	for _, a := range accs {
		if a.Samples <= 0 {
			return nil, fmt.Errorf("%s: the log gives no sample count, so it cannot be merged with the other shards "+
				"(qcal eval prints \"Processed N images\"; or merge prediction files, qcal eval -o)", a.File)
		}
		if a.Metric != first.Metric {
			return nil, fmt.Errorf("%s reports %s but %s reports %s: shards must report the same metric", first.File, first.Metric, a.File, a.Metric)
		}
		if len(a.Trials) > 0 {
			return nil, fmt.Errorf("%s: an Intel Neural Compressor tuning log cannot be a shard", a.File)
		}
		m.Samples += a.Samples
	}
	for name := range first.Metrics {
		sum, all := 0.0, true
		for _, a := range accs {
			v, ok := a.Metrics[name]
			all = all && ok
			sum += v * float64(a.Samples)
		}
		if all {
			m.Metrics[name] = sum / float64(m.Samples)
		}
	}
	var counts []string
	for _, a := range accs {
		counts = append(counts, fmt.Sprintf("%s (%d)", a.File, a.Samples))
		m.Notes = append(m.Notes, a.Notes...)
	}
	m.Notes = append(m.Notes, fmt.Sprintf("merged %d shard logs, %d samples, weighting each by its sample count: %s; "+
		"logs name no ids, so shards that overlap or miss examples go unnoticed (merge prediction files, qcal eval -o, to check)",
		len(accs), m.Samples, strings.Join(counts, ", ")))
	return m, nil
}

func newModel(name string, acc *Accuracy) *Model {
	m := &Model{Name: name, Accuracy: acc, Metric: acc.Metric, Value: acc.Value(), Notes: slices.Clone(acc.Notes)}
	if acc.Samples > 0 && !acc.LowerBetter {
		k := int64(math.Round(m.Value / 100 * float64(acc.Samples)))
		m.CI = wilsonPct(k, acc.Samples)
	}
	return m
}

func wilsonPct(k, n int64) *stats.Interval {
	w := stats.Wilson(k, n, stats.Z95)
	return &stats.Interval{Lo: w.Lo * 100, Hi: w.Hi * 100}
}

// accuracy returns the accuracy of the prediction file.
func (p *Predictions) accuracy(metric string) (*Accuracy, error) {
	k, err := predictionK(p.File, metric, p.K)
	if err != nil {
		return nil, err
	}
	acc := &Accuracy{File: p.File, Format: p.Format, Metric: MetricTop1, Samples: p.Rows,
		Metrics: map[string]float64{MetricTop1: pct(p.Top1, p.Rows)}}
	if p.K >= topK {
		acc.Metrics[MetricTop5] = pct(p.Top5, p.Rows)
	}
	if k == topK {
		acc.Metric = MetricTop5
	}
	return acc, nil
}

// count returns the rows right under the metric.
func (p *Predictions) count(metric string) int64 {
	if metric == MetricTop5 {
		return p.Top5
	}
	return p.Top1
}

// predictionK returns the k of the metric for a prediction file whose
// shortest ranked list has kAvail entries.
func predictionK(file, metric string, kAvail int) (int, error) {
	switch strings.ToLower(metric) {
	case "", MetricTop1, "accuracy":
		return 1, nil
	case MetricTop5:
		if kAvail < topK {
			return 0, fmt.Errorf("%s: -metric top5 needs ranked lists of at least 5 predictions in every row (the shortest has %d)", file, kAvail)
		}
		return topK, nil
	}
	return 0, fmt.Errorf("%s: a prediction file gives top1 and top5, not %q", file, metric)
}

func pct(k, n int64) float64 {
	if n == 0 {
		return 0
	}
	return float64(k) / float64(n) * 100
}

// candidate reads one int8 candidate and judges it.
func (c *Comparison) candidate(src Source, fp32 *Predictions, metric string) (*Model, error) {
	sd, err := openSide(src)
	if err != nil {
		return nil, err
	}
	var m *Model
	switch {
	case sd.prs == nil:
		acc, err := c.extractShards(sd, RoleInt8, metric)
		if err != nil {
			return nil, err
		}
		m = newModel(src.Name, acc)
	case fp32 != nil:
		m, err = c.paired(src.Name, fp32, sd.prs)
		if err != nil {
			return nil, err
		}
	default:
		p, err := readShards(sd.prs)
		if err != nil {
			return nil, err
		}
		acc, err := p.accuracy(metric)
		if err != nil {
			return nil, err
		}
		m = newModel(src.Name, acc)
		m.CI = wilsonPct(p.count(acc.Metric), p.Rows)
	}
	if err := c.matchMetric(m); err != nil {
		return nil, err
	}
	base := c.Baseline.Value
	if m.Paired != nil {
		base = m.Paired.FP32
	}
	if c.Target.Relative && base == 0 {
		return nil, fmt.Errorf("%s: the FP32 %s is 0, so a relative drop is undefined", c.Baseline.Accuracy.File, c.Metric)
	}
	m.Drop = c.Target.Drop(base, m.Value)
	if m.Paired != nil && !c.Target.Relative {
		m.Drop = float64(m.Paired.Counts.FP32Only-m.Paired.Counts.Int8Only) / float64(m.Paired.Counts.N()) * 100
	}
	return m, nil
}

// classification metrics that name the same thing in different tools.
var sameAccuracy = map[string]bool{MetricTop1: true, MetricAccuracy: true}

// matchMetric makes m compare the baseline's metric, or says why it cannot.
func (c *Comparison) matchMetric(m *Model) error {
	if strings.EqualFold(m.Metric, c.Metric) {
		return nil
	}
	if v, ok := m.Accuracy.Metrics[c.Metric]; ok {
		m.Metric, m.Value = c.Metric, v
		if m.Accuracy.Samples > 0 {
			m.CI = wilsonPct(int64(math.Round(v/100*float64(m.Accuracy.Samples))), m.Accuracy.Samples)
		}
		return nil
	}
	if sameAccuracy[strings.ToLower(m.Metric)] && sameAccuracy[strings.ToLower(c.Metric)] {
		m.Notes = append(m.Notes, fmt.Sprintf("compares %s's %s with FP32's %s", m.Name, m.Metric, c.Metric))
		return nil
	}
	return fmt.Errorf("%s reports %s but %s reports %s; choose one with -metric NAME", c.Baseline.Accuracy.File, c.Metric, m.Accuracy.File, m.Metric)
}

// paired pairs an int8 prediction file with the FP32 one.
func (c *Comparison) paired(name string, fp32 *Predictions, prs []*predReader) (*Model, error) {
	k := 1
	if c.Metric == MetricTop5 {
		k = topK
	}
	pd, err := fp32.pairShards(prs, k)
	if err != nil {
		return nil, err
	}
	if k == topK && pd.Int8K < topK {
		return nil, fmt.Errorf("%s: comparing top5 needs ranked lists of at least 5 predictions in every row (the shortest has %d)", pd.File, pd.Int8K)
	}
	t := pd.Counts
	n := t.N()
	ps := &PairedStats{
		Paired:    pd,
		FP32:      pct(t.Both+t.FP32Only, n),
		Int8:      pct(t.Both+t.Int8Only, n),
		FP32CI:    *wilsonPct(t.Both+t.FP32Only, n),
		Int8CI:    *wilsonPct(t.Both+t.Int8Only, n),
		Agreement: pct(t.Agree, n),
		McNemarP:  stats.McNemarExact(t.FP32Only, t.Int8Only),
	}
	ps.Significant = ps.McNemarP < SignificanceLevel
	d := stats.NewcombeDiff(t, stats.Z95)
	ps.DropCI = stats.Interval{Lo: d.Lo * 100, Hi: d.Hi * 100}
	acc := &Accuracy{File: pd.File, Format: pd.Format, Metric: c.Metric, Samples: n,
		Metrics: map[string]float64{MetricTop1: pct(pd.Int8Top1, n)}}
	if pd.Int8K >= topK {
		acc.Metrics[MetricTop5] = pct(pd.Int8Top5, n)
	}
	m := &Model{Name: name, Accuracy: acc, Metric: c.Metric, Value: ps.Int8, CI: &ps.Int8CI, Paired: ps,
		Coverage: &Coverage{FP32: fp32.Rows, Int8: pd.Int8Rows, Matched: n, Fraction: float64(n) / float64(fp32.Rows), Paired: true}}
	if pd.Missing > 0 {
		m.Notes = append(m.Notes, fmt.Sprintf("%d of %d FP32 ids are missing from %s (first: %s); statistics are over the %d matched rows, on which FP32 scores %s",
			pd.Missing, fp32.Rows, pd.File, quoteList(pd.FirstMissing), n, fmtPct(ps.FP32)))
	}
	if pd.Extra > 0 {
		m.Notes = append(m.Notes, fmt.Sprintf("%d of %d ids of %s are not in %s (first: %s) and were left out",
			pd.Extra, pd.Int8Rows, pd.File, fp32.File, quoteList(pd.FirstExtra)))
	}
	return m, nil
}

// Verdict returns the overall verdict: the best candidate's. (Several
// candidates are alternatives — calibration strategies, say — and the
// report says whether one of them meets the target.)
func (c *Comparison) Verdict() Verdict {
	if m := c.best(); m != nil {
		return m.Verdict
	}
	return Fail
}

// best returns the best candidate that is not a trial row, or nil.
func (c *Comparison) best() *Model {
	for _, m := range c.Candidates {
		if m.TrialOf == "" {
			return m
		}
	}
	return nil
}

// Line returns the one-line verdict of candidate m, such as
// "PASS kl: top1 75.82 vs FP32 76.12, drop 0.30 points ≤ 0.50; not
// distinguishable from zero (McNemar exact p = 0.32)".
func (c *Comparison) Line(m *Model) string {
	var b strings.Builder
	base := c.Baseline.Value
	if m.Paired != nil {
		base = m.Paired.FP32
	}
	fmt.Fprintf(&b, "%s %s: %s %s vs FP32 %s", strings.ToUpper(string(m.Verdict)), m.Name, m.Metric, fmtPct(m.Value), fmtPct(base))
	v := m.Coverage
	if v != nil && !v.Equal() {
		if v.Paired {
			fmt.Fprintf(&b, " on %d matched ids (FP32 has %d, int8 %d)", v.Matched, v.FP32, v.Int8)
		} else {
			fmt.Fprintf(&b, " on %d int8 vs %d FP32 samples", v.Int8, v.FP32)
		}
	}
	b.WriteString(", ")
	unit := c.Target.Unit()
	switch m.DropVerdict {
	case Pass:
		if m.Drop < -dropTolerance {
			fmt.Fprintf(&b, "int8 is %s %s better", fmtPct(-m.Drop), unit)
		} else {
			fmt.Fprintf(&b, "drop %s %s ≤ %s", fmtPct(m.Drop), unit, fmtPct(c.Target.MaxDrop))
		}
	case Warn:
		fmt.Fprintf(&b, "drop %s %s > %s target, ≤ %s limit", fmtPct(m.Drop), unit, fmtPct(c.Target.MaxDrop), fmtPct(c.Target.WarnDrop))
	case Fail:
		fmt.Fprintf(&b, "drop %s %s > %s limit", fmtPct(m.Drop), unit, fmtPct(c.Target.WarnDrop))
	}
	if v != nil && !v.Equal() {
		what := "samples"
		if v.Paired {
			what = "ids"
		}
		if v.Fraction < c.minCoverage-1e-12 {
			fmt.Fprintf(&b, "; unfair: int8 covers %s%% of the FP32 %s, below the %s%% required", fmtPct(v.Fraction*100), what, fmtPct(c.minCoverage*100))
		} else {
			fmt.Fprintf(&b, "; at best WARN: the two sides were not measured on the same %s (coverage %s%%)", what, fmtPct(v.Fraction*100))
		}
	}
	if ps := m.Paired; ps != nil {
		if ps.Significant {
			fmt.Fprintf(&b, "; the difference is statistically significant (McNemar exact p = %s)", fmtP(ps.McNemarP))
		} else {
			fmt.Fprintf(&b, "; not distinguishable from zero (McNemar exact p = %s)", fmtP(ps.McNemarP))
		}
	}
	return b.String()
}

// Summary returns the headline: the overall verdict and the best
// candidate's line.
func (c *Comparison) Summary() string {
	m := c.best()
	if m == nil {
		return "FAIL: no candidates"
	}
	return "VERDICT: " + c.Line(m)
}

// TargetText describes the target, as in "drop ≤ 0.50 points passes,
// ≤ 1.00 warns, more fails".
func (c *Comparison) TargetText() string {
	s := fmt.Sprintf("drop ≤ %s %s passes, ≤ %s warns, more fails", fmtPct(c.Target.MaxDrop), c.Target.Unit(), fmtPct(c.Target.WarnDrop))
	if c.Target.LowerBetter {
		s += " (lower is better: drop = int8 − FP32)"
	}
	return s
}

// fmtP formats a p-value with three significant digits.
func fmtP(p float64) string {
	if p >= 0.001 || p == 0 {
		return strconv.FormatFloat(p, 'g', 3, 64)
	}
	return strconv.FormatFloat(p, 'e', 2, 64)
}
