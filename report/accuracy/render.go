package accuracy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"

	"qcal/report"
	"qcal/stats"
)

// maxClassRows is how many classes the per-class table shows (the ones
// with the largest drop); the JSON output has them all.
const maxClassRows = 10

// Titles of the comparison's tables, shared by every format.
const (
	titleCandidates = "Candidates"
	titleMetrics    = "All metrics"
	titlePaired     = "Paired statistics"
	titleClasses    = "Per class"
)

// section is one titled table of a comparison.
type section struct {
	id, title, caption string
	table              *report.Table
}

// sections returns the comparison's tables in order: candidates, all
// metrics (when there is more than one), paired statistics and per-class
// accuracy (when candidates were paired).
func (c *Comparison) sections() []section {
	ss := []section{{id: "candidates", title: titleCandidates,
		caption: fmt.Sprintf("Accuracy (%s) %s, best first; target: %s", c.Metric, c.inUnit(), c.TargetText()),
		table:   c.CandidatesTable()}}
	if t := c.MetricsTable(); t != nil {
		ss = append(ss, section{id: "metrics", title: titleMetrics, caption: "Every metric found, in percent", table: t})
	}
	if t := c.PairedTable(); t != nil {
		ss = append(ss, section{id: "paired", title: titlePaired,
			caption: fmt.Sprintf("Accuracy (%s) over the rows matched by id; b = FP32 right and int8 wrong, c = FP32 wrong and int8 right; "+
				"95%% Wilson intervals; drop interval by Newcombe's method 10, in points", c.Metric),
			table: t})
	}
	if t, shown, total := c.ClassTable(maxClassRows); t != nil {
		caption := fmt.Sprintf("Accuracy (%s) per label, in percent, largest drop first", c.Metric)
		if shown < total {
			caption = fmt.Sprintf("Accuracy (%s) per label, in percent: the %d classes with the largest drop, of %d (all in -format json)", c.Metric, shown, total)
		}
		ss = append(ss, section{id: "classes", title: titleClasses, caption: caption, table: t})
	}
	return ss
}

// CandidatesTable returns the main table: the baseline, then each
// candidate with its value, interval, drop and verdict.
func (c *Comparison) CandidatesTable() *report.Table {
	paired := false
	for _, m := range c.Candidates {
		paired = paired || m.Paired != nil
	}
	t := &report.Table{
		Header: []string{"rank", "model", c.Metric, "95% CI", "drop (" + c.Target.Unit() + ")", "verdict"},
		Right:  []bool{true, false, true, true, true, false},
	}
	if paired {
		t.Header = append(t.Header, "McNemar p")
		t.Right = append(t.Right, true)
	}
	t.Header = append(t.Header, "file")
	t.Right = append(t.Right, false)
	b := c.Baseline
	row := []string{"-", b.Name, fmtPct(b.Value), fmtCI(b.CI), "-", "baseline"}
	if paired {
		row = append(row, "-")
	}
	t.Rows = append(t.Rows, append(row, b.Accuracy.File))
	for _, m := range c.Candidates {
		row := []string{strconv.Itoa(m.Rank), m.Name, fmtPct(m.Value), fmtCI(m.CI), fmtPct(m.Drop), strings.ToUpper(string(m.Verdict))}
		if paired {
			p := "-"
			if m.Paired != nil {
				p = fmtP(m.Paired.McNemarP)
			}
			row = append(row, p)
		}
		t.Rows = append(t.Rows, append(row, m.Accuracy.File))
	}
	return t
}

func fmtCI(ci *stats.Interval) string {
	if ci == nil {
		return "-"
	}
	return fmtInterval(*ci)
}

func fmtInterval(ci stats.Interval) string {
	return fmt.Sprintf("[%s, %s]", fmtPct(ci.Lo), fmtPct(ci.Hi))
}

// models returns the baseline and the candidates.
func (c *Comparison) models() []*Model {
	return append([]*Model{c.Baseline}, c.Candidates...)
}

// MetricsTable returns every metric of every model, or nil when no model
// has more than the compared one.
func (c *Comparison) MetricsTable() *report.Table {
	names := map[string]bool{}
	more := false
	for _, m := range c.models() {
		for k := range m.Accuracy.Metrics {
			names[k] = true
		}
		more = more || len(m.Accuracy.Metrics) > 1
	}
	if !more {
		return nil
	}
	t := &report.Table{Header: []string{"metric"}, Right: []bool{false}}
	for _, m := range c.models() {
		t.Header = append(t.Header, m.Name)
		t.Right = append(t.Right, true)
	}
	for _, k := range sortedKeys(names) {
		row := []string{k}
		for _, m := range c.models() {
			if v, ok := m.Accuracy.Metrics[k]; ok {
				row = append(row, fmtPct(v))
			} else {
				row = append(row, "-")
			}
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

// PairedTable returns the paired statistics of the paired candidates, or
// nil when there are none.
func (c *Comparison) PairedTable() *report.Table {
	t := &report.Table{
		Header: []string{"model", "matched", "same top1", "b", "c", "McNemar p", "FP32", "FP32 95% CI", "int8", "int8 95% CI", "drop 95% CI"},
		Right:  []bool{false, true, true, true, true, true, true, true, true, true, true},
	}
	for _, m := range c.Candidates {
		ps := m.Paired
		if ps == nil {
			continue
		}
		t.Rows = append(t.Rows, []string{m.Name, strconv.FormatInt(ps.Counts.N(), 10), fmtPct(ps.Agreement) + "%",
			strconv.FormatInt(ps.Counts.FP32Only, 10), strconv.FormatInt(ps.Counts.Int8Only, 10), fmtP(ps.McNemarP),
			fmtPct(ps.FP32), fmtInterval(ps.FP32CI), fmtPct(ps.Int8), fmtInterval(ps.Int8CI), fmtInterval(ps.DropCI)})
	}
	if len(t.Rows) == 0 {
		return nil
	}
	return t
}

// classRow is one class across the paired candidates.
type classRow struct {
	class   string
	n       int64
	fp32    float64
	values  []float64 // per paired candidate; NaN when the candidate lacks the class
	drops   []float64 // per paired candidate, against FP32 on the rows matched with it
	maxDrop float64
}

// classRows returns the per-class rows of the paired candidates, largest
// drop first, and the paired candidates.
func (c *Comparison) classRows() ([]classRow, []*Model) {
	var paired []*Model
	for _, m := range c.Candidates {
		if m.Paired != nil {
			paired = append(paired, m)
		}
	}
	if len(paired) == 0 {
		return nil, nil
	}
	byClass := map[string]*classRow{}
	var order []string
	for j, m := range paired {
		for _, cc := range m.Paired.Classes {
			r := byClass[cc.Class]
			if r == nil {
				r = &classRow{class: cc.Class, n: cc.N, fp32: pct(cc.FP32, cc.N), values: make([]float64, len(paired)),
					drops: make([]float64, len(paired)), maxDrop: math.Inf(-1)}
				for i := range r.values {
					r.values[i] = math.NaN()
				}
				byClass[cc.Class] = r
				order = append(order, cc.Class)
			}
			r.values[j] = pct(cc.Int8, cc.N)
			r.drops[j] = pct(cc.FP32, cc.N) - r.values[j]
			r.maxDrop = math.Max(r.maxDrop, r.drops[j])
		}
	}
	rows := make([]classRow, 0, len(order))
	for _, k := range order {
		rows = append(rows, *byClass[k])
	}
	sort.SliceStable(rows, func(i, j int) bool {
		if rows[i].maxDrop != rows[j].maxDrop {
			return rows[i].maxDrop > rows[j].maxDrop
		}
		return classLess(rows[i].class, rows[j].class)
	})
	return rows, paired
}

// ClassTable returns up to max classes with the largest drop (max ≤ 0:
// all), how many it shows and how many there are; nil when no candidate
// was paired.
func (c *Comparison) ClassTable(max int) (t *report.Table, shown, total int) {
	rows, paired := c.classRows()
	if rows == nil {
		return nil, 0, 0
	}
	t = &report.Table{Header: []string{"class", "n", "fp32"}, Right: []bool{false, true, true}}
	for _, m := range paired {
		t.Header = append(t.Header, m.Name, m.Name+" drop")
		t.Right = append(t.Right, true, true)
	}
	total = len(rows)
	if max > 0 && len(rows) > max {
		rows = rows[:max]
	}
	for _, r := range rows {
		row := []string{r.class, strconv.FormatInt(r.n, 10), fmtPct(r.fp32)}
		for j, v := range r.values {
			if math.IsNaN(v) {
				row = append(row, "-", "-")
				continue
			}
			row = append(row, fmtPct(v), fmtPct(r.drops[j]))
		}
		t.Rows = append(t.Rows, row)
	}
	return t, len(rows), total
}

// Notes returns the notes of every candidate, prefixed by its name.
func (c *Comparison) Notes() []string {
	var ns []string
	for _, n := range c.Baseline.Notes {
		ns = append(ns, c.Baseline.Name+": "+n)
	}
	for _, m := range c.Candidates {
		for _, n := range m.Notes {
			ns = append(ns, m.Name+": "+n)
		}
	}
	return ns
}

// inUnit says how values are given: "in percent", or for a metric that
// is better when lower "as printed".
func (c *Comparison) inUnit() string {
	if c.Target.LowerBetter {
		return "as printed (lower is better)"
	}
	return "in percent"
}

// heading is the first line of text and Markdown output.
func (c *Comparison) heading() string {
	return fmt.Sprintf("FP32 vs int8 accuracy: %s %s; target: %s", c.Metric, c.inUnit(), c.TargetText())
}

// WriteText renders the comparison as plain text: the heading, the
// verdict, the tables and the notes.
func (c *Comparison) WriteText(w io.Writer) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s\n\n%s\n", c.heading(), c.Summary())
	for _, m := range c.Candidates[1:] {
		fmt.Fprintf(&b, "  %s\n", c.Line(m))
	}
	for _, s := range c.sections() {
		fmt.Fprintf(&b, "\n%s: %s\n", s.title, strings.ToLower(s.caption[:1])+s.caption[1:])
		if err := s.table.WriteText(&b); err != nil {
			return err
		}
	}
	if ns := c.Notes(); len(ns) > 0 {
		b.WriteString("\nNotes:\n")
		for _, n := range ns {
			fmt.Fprintf(&b, "- %s\n", n)
		}
	}
	_, err := w.Write(b.Bytes())
	return err
}

// WriteMarkdown renders the comparison as Markdown.
func (c *Comparison) WriteMarkdown(w io.Writer) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# FP32 vs int8 accuracy\n\n%s %s; target: %s.\n\n**%s**\n", c.Metric, c.inUnit(), c.TargetText(), c.Summary())
	if len(c.Candidates) > 1 {
		b.WriteString("\n")
		for _, m := range c.Candidates[1:] {
			fmt.Fprintf(&b, "- %s\n", c.Line(m))
		}
	}
	for _, s := range c.sections() {
		fmt.Fprintf(&b, "\n## %s\n\n%s.\n\n", s.title, s.caption)
		if err := s.table.WriteMarkdown(&b); err != nil {
			return err
		}
	}
	if ns := c.Notes(); len(ns) > 0 {
		b.WriteString("\n## Notes\n\n")
		for _, n := range ns {
			fmt.Fprintf(&b, "- %s\n", n)
		}
	}
	_, err := w.Write(b.Bytes())
	return err
}

// num is a float64 written to JSON with at most ten significant digits,
// so that float noise (0.5000000000000142) does not reach the output.
type num float64

func (n num) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return []byte(strconv.FormatFloat(f, 'g', 10, 64)), nil
}

type jsonInterval struct {
	Lo num `json:"lo"`
	Hi num `json:"hi"`
}

func jsonCI(ci *stats.Interval) *jsonInterval {
	if ci == nil {
		return nil
	}
	return &jsonInterval{num(ci.Lo), num(ci.Hi)}
}

// jsonModel is a model in the JSON output.
type jsonModel struct {
	Name    string         `json:"name"`
	File    string         `json:"file"`
	Format  InputFormat    `json:"format"`
	Line    int            `json:"line,omitempty"`
	Metric  string         `json:"metric"`
	Value   num            `json:"value"`
	CI      *jsonInterval  `json:"ci95,omitempty"`
	Samples int64          `json:"samples,omitempty"`
	Metrics map[string]num `json:"metrics"`
	Rank    int            `json:"rank,omitempty"`
	Drop    *num           `json:"drop,omitempty"`
	Verdict Verdict        `json:"verdict,omitempty"`
	Line1   string         `json:"summary,omitempty"`
	Paired  *jsonPaired    `json:"stats,omitempty"`
	Notes   []string       `json:"notes,omitempty"`
	// Coverage compares the samples of both sides when they differ;
	// TrialOf names the candidate an INC trial row belongs to.
	Coverage *jsonCoverage `json:"coverage,omitempty"`
	TrialOf  string        `json:"trial_of,omitempty"`
}

type jsonCoverage struct {
	FP32     int64 `json:"fp32_samples"`
	Int8     int64 `json:"int8_samples"`
	Matched  int64 `json:"matched"`
	Fraction num   `json:"fraction"`
	ByID     bool  `json:"by_id"`
}

type jsonPaired struct {
	Matched      int64              `json:"matched"`
	Counts       stats.PairedCounts `json:"counts"`
	Agreement    num                `json:"same_top1_percent"`
	McNemarP     num                `json:"mcnemar_exact_p"`
	Significant  bool               `json:"significant"`
	FP32         num                `json:"fp32"`
	FP32CI       jsonInterval       `json:"fp32_ci95"`
	Int8         num                `json:"int8"`
	Int8CI       jsonInterval       `json:"int8_ci95"`
	DropCI       jsonInterval       `json:"drop_ci95"`
	DropCIMethod string             `json:"drop_ci_method"`
	Missing      int64              `json:"fp32_ids_missing"`
	FirstMissing []string           `json:"first_missing,omitempty"`
	Extra        int64              `json:"int8_ids_extra"`
	FirstExtra   []string           `json:"first_extra,omitempty"`
	Classes      []ClassCount       `json:"classes"`
}

func (c *Comparison) jsonModel(m *Model, candidate bool) jsonModel {
	j := jsonModel{Name: m.Name, File: m.Accuracy.File, Format: m.Accuracy.Format, Line: m.Accuracy.Line,
		Metric: m.Metric, Value: num(m.Value), CI: jsonCI(m.CI), Samples: m.Accuracy.Samples,
		Metrics: map[string]num{}, Notes: m.Notes}
	for k, v := range m.Accuracy.Metrics {
		j.Metrics[k] = num(v)
	}
	if !candidate {
		return j
	}
	d := num(m.Drop)
	j.Rank, j.Drop, j.Verdict, j.Line1, j.TrialOf = m.Rank, &d, m.Verdict, c.Line(m), m.TrialOf
	if v := m.Coverage; v != nil && !v.Equal() {
		j.Coverage = &jsonCoverage{FP32: v.FP32, Int8: v.Int8, Matched: v.Matched, Fraction: num(v.Fraction), ByID: v.Paired}
	}
	if ps := m.Paired; ps != nil {
		j.Paired = &jsonPaired{Matched: ps.Counts.N(), Counts: ps.Counts, Agreement: num(ps.Agreement),
			McNemarP: num(ps.McNemarP), Significant: ps.Significant,
			FP32: num(ps.FP32), FP32CI: *jsonCI(&ps.FP32CI), Int8: num(ps.Int8), Int8CI: *jsonCI(&ps.Int8CI),
			DropCI: *jsonCI(&ps.DropCI), DropCIMethod: "Newcombe (1998) method 10, square-and-add Wilson, in points",
			Missing: ps.Missing, FirstMissing: ps.FirstMissing, Extra: ps.Extra, FirstExtra: ps.FirstExtra, Classes: ps.Classes}
		if j.Paired.Classes == nil {
			j.Paired.Classes = []ClassCount{}
		}
	}
	return j
}

// WriteJSON renders the comparison as indented JSON, keys sorted.
func (c *Comparison) WriteJSON(w io.Writer) error {
	doc := struct {
		Metric     string      `json:"metric"`
		Unit       string      `json:"unit"`
		Target     any         `json:"target"`
		Verdict    Verdict     `json:"verdict"`
		Summary    string      `json:"summary"`
		Baseline   jsonModel   `json:"baseline"`
		Candidates []jsonModel `json:"candidates"`
	}{
		Metric: c.Metric, Unit: "percent",
		Target: struct {
			MaxDrop  num    `json:"max_drop"`
			WarnDrop num    `json:"warn_drop"`
			Relative bool   `json:"relative"`
			DropUnit string `json:"drop_unit"`
		}{num(c.Target.MaxDrop), num(c.Target.WarnDrop), c.Target.Relative, c.Target.Unit()},
		Verdict: c.Verdict(), Summary: c.Summary(), Baseline: c.jsonModel(c.Baseline, false),
	}
	for _, m := range c.Candidates {
		doc.Candidates = append(doc.Candidates, c.jsonModel(m, true))
	}
	return writeSortedJSON(w, doc)
}

// writeSortedJSON writes v as indented JSON with every object's keys
// sorted: v is marshalled, decoded into maps (numbers kept as written) and
// marshalled again, since encoding/json sorts map keys.
func writeSortedJSON(w io.Writer, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var generic any
	if err := d.Decode(&generic); err != nil {
		return err
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(generic); err != nil {
		return err
	}
	_, err = w.Write(b.Bytes())
	return err
}
