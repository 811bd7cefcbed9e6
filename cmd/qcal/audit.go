package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"qcal/internal/graphio"
	"qcal/logparse"
	"qcal/report"
	"qcal/stats"
)

// auditFlags are the settings of one `qcal audit` run.
type auditFlags struct {
	graph      string
	strategies string
	minPct     float64
	maxPct     float64
	tfCompat   bool
	format     string
	out        string
	against    listFlag
	drift      float64
	plots      string
	tol        float64
	resamples  int
	seed       uint64
	page       int
	hist       int
}

func runAudit(e *env, args []string) error {
	fs := newFlags(e, "audit")
	var f auditFlags
	fs.StringVar(&f.graph, "graph", "", "quantized graph the log was recorded from: adds graph checks, graph order and depth")
	fs.StringVar(&f.strategies, "strategy", "tf", "range strategies to compare, comma-separated; the first is judged ("+stats.Strategies+")")
	fs.Float64Var(&f.minPct, "min-percentile", 5, "tf strategy: percentile of the per-batch mins to take (TF's min_percentile)")
	fs.Float64Var(&f.maxPct, "max-percentile", 5, "tf strategy: percentile taken off the top of the per-batch maxes (TF's max_percentile)")
	fs.BoolVar(&f.tfCompat, "tf-compat", false, "parse logs exactly as TensorFlow does: of a line holding several records only the last counts")
	fs.StringVar(&f.format, "format", "", "output format: text, markdown, csv, json or html (default: from -o's extension, else text)")
	fs.StringVar(&f.out, "o", "-", "output file (- for stdout); written atomically. An .html file is the self-contained report with plots")
	fs.Var(&f.against, "against", "an earlier calibration log to compare with (repeatable: its logs are read as one)")
	fs.Float64Var(&f.drift, "drift", report.DefaultDrift, "with -against: flag ranges that moved by more than this fraction of their width")
	fs.StringVar(&f.plots, "plots", "", "directory to write the plots to, as PNG and SVG")
	fs.Float64Var(&f.tol, "tol", stats.DefaultTolerance, "convergence tolerance: a fraction of the range's width")
	fs.IntVar(&f.resamples, "bootstrap", stats.DefaultResamples, "bootstrap resamples for the range's confidence interval")
	fs.Uint64Var(&f.seed, "seed", 1, "bootstrap seed (same seed, same report)")
	fs.IntVar(&f.page, "page", report.DefaultPlotPage, "nodes per box-plot page")
	fs.IntVar(&f.hist, "hist", report.DefaultPlotHistograms, "histograms for the riskiest nodes")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	logs := fs.Args()
	if len(logs) == 0 {
		return usagef("no calibration log given")
	}
	format := f.format
	if format == "" {
		format = formatFromName(f.out)
	}
	switch format {
	case report.FormatText, report.FormatMarkdown, report.FormatCSV, report.FormatJSON, report.FormatHTML:
	default:
		return usagef("unknown -format %q (want text, markdown, csv, json or html)", format)
	}
	if f.drift <= 0 || f.tol <= 0 || f.tol >= 1 {
		return usagef("-drift must be positive and -tol in (0, 1)")
	}
	if f.resamples < 1 || f.resamples > 100000 {
		return usagef("-bootstrap must be in [1, 100000]")
	}
	if f.page < 1 || f.hist < 0 {
		return usagef("-page must be at least 1 and -hist at least 0")
	}
	var strategies []stats.Strategy
	for _, spec := range strings.Split(f.strategies, ",") {
		s, err := stats.ParseStrategy(strings.TrimSpace(spec), float32(f.minPct), float32(f.maxPct))
		if err != nil {
			return &usageError{err.Error()}
		}
		strategies = append(strategies, s)
	}
	inputs := append(append(slices.Clone(logs), f.against...), f.graph)
	if err := graphio.CheckNotInput(f.out, inputs); err != nil {
		return err
	}

	opt := report.AuditOptions{
		Strategies:  strategies,
		Convergence: stats.ConvergenceOptions{Tolerance: f.tol, Resamples: f.resamples, Seed: f.seed},
		Drift:       f.drift,
		Logs:        logs,
	}
	if f.graph != "" {
		g, _, err := graphio.Load(f.graph)
		if err != nil {
			return err
		}
		opt.Graph = report.NewAuditGraph(g, f.graph)
	}
	cur, err := readAudit(e, logs, f.tfCompat)
	if err != nil {
		return err
	}
	opt.Bad, opt.Records = cur.bad, cur.counts.Records
	if len(f.against) > 0 {
		old, err := readAudit(e, f.against, f.tfCompat)
		if err != nil {
			return err
		}
		opt.Against, opt.AgainstName = old.acc, strings.Join(f.against, ", ")
	}
	tty := isTerminal(e.stderr)
	if tty {
		fmt.Fprintf(e.stderr, "\r\033[Kqcal audit: judging %d nodes (%d bootstrap resamples each)...", cur.acc.Len(), f.resamples)
	}
	a, err := report.NewAudit(cur.acc, opt)
	if tty {
		fmt.Fprint(e.stderr, "\r\033[K")
	}
	if err != nil {
		return err
	}

	var plots []*report.AuditPlot
	if f.plots != "" || format == report.FormatHTML {
		hist := f.hist
		if hist == 0 {
			hist = -1 // PlotOptions reads 0 as the default
		}
		plots, err = a.Plots(report.PlotOptions{PageSize: f.page, Histograms: hist})
		if err != nil {
			return err
		}
	}
	if f.plots != "" {
		if err := writePlots(f.plots, plots); err != nil {
			return err
		}
	}
	var out bytes.Buffer
	if format == report.FormatHTML {
		err = a.WriteHTML(&out, plots)
	} else {
		err = a.Write(&out, format)
	}
	if err != nil {
		return err
	}
	if f.out == "-" {
		if _, err := e.stdout.Write(out.Bytes()); err != nil {
			return err
		}
	} else if err := graphio.WriteFile(f.out, out.Bytes()); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "qcal: %s\n", a.Heading())
	if a.Changes != nil {
		fmt.Fprintf(e.stderr, "qcal: %s\n", a.ChangesHeading())
	}
	if f.out != "-" {
		fmt.Fprintf(e.stderr, "qcal: wrote %s\n", f.out)
	}
	if f.plots != "" {
		fmt.Fprintf(e.stderr, "qcal: wrote %d plots (PNG and SVG) to %s\n", len(plots), f.plots)
	}
	return nil
}

// formatFromName picks an output format from a file name's extension.
func formatFromName(path string) string {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".html", ".htm":
		return report.FormatHTML
	case ".json":
		return report.FormatJSON
	case ".md", ".markdown":
		return report.FormatMarkdown
	case ".csv":
		return report.FormatCSV
	}
	return report.FormatText
}

// writePlots writes each plot as NAME.png and NAME.svg into dir.
func writePlots(dir string, plots []*report.AuditPlot) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, p := range plots {
		svg, err := p.SVG()
		if err != nil {
			return err
		}
		png, err := p.PNG()
		if err != nil {
			return err
		}
		if err := graphio.WriteFile(filepath.Join(dir, p.Name+".svg"), svg); err != nil {
			return err
		}
		if err := graphio.WriteFile(filepath.Join(dir, p.Name+".png"), png); err != nil {
			return err
		}
	}
	return nil
}

// auditInput is what the logs of an audit held.
type auditInput struct {
	acc    *stats.Accumulator
	bad    map[string]*report.BadRecords
	counts logparse.Counts
}

// readAudit streams the logs into one accumulator that keeps every
// record's line (for the audit's outlier and convergence lines: 4 bytes a
// record more than `qcal ranges` needs). Unlike readLogs it does not stop
// at NaN/Inf values or min > max: it counts them per node, as findings.
// Malformed fragments are warnings.
func readAudit(e *env, logs []string, tfCompat bool) (*auditInput, error) {
	in := &auditInput{acc: stats.NewAccumulator(), bad: map[string]*report.BadRecords{}}
	in.acc.KeepLines = true
	var syntax []string
	nSyntax := 0
	for _, path := range logs {
		var r *logparse.Reader
		name := path
		var size int64 = -1
		if path == "-" {
			name = "<stdin>"
			r = logparse.NewReader(e.stdin, name)
		} else {
			var err error
			if r, err = logparse.Open(path); err != nil {
				return nil, err
			}
			if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() {
				size = fi.Size()
			}
		}
		r.TFCompat = tfCompat
		p := newProgress(e.stderr, name, size)
		for r.Scan() {
			if se := r.SyntaxError(); se != nil {
				nSyntax++
				if len(syntax) < maxShown {
					syntax = append(syntax, se.Error())
				}
				continue
			}
			rec := r.Record()
			if p != nil {
				p.tick(r)
			}
			if msg := checkRecord(rec.Kind, rec.Min, rec.Max); msg != "" {
				b := in.bad[rec.Node]
				if b == nil {
					b = &report.BadRecords{File: rec.File, Line: rec.Line}
					in.bad[rec.Node] = b
				}
				if rec.Finite() {
					b.Inverted++
				} else {
					b.NonFinite++
				}
				continue
			}
			if err := in.acc.Add(rec.Node, side(rec.Kind), rec.Min, rec.Max, rec.File, rec.Line); err != nil {
				r.Close()
				return nil, err
			}
		}
		if p != nil {
			p.done()
		}
		err := r.Err()
		r.Close()
		if err != nil {
			return nil, err
		}
		n := r.Counts()
		if n.Records == 0 {
			return nil, fmt.Errorf("%s: No min/max range logs were found in the log file (%d lines read); "+
				"a record looks like `;NODE__print__;__requant_min_max:[-1.5][2.25]`", name, n.Lines)
		}
		addCounts(&in.counts, n)
	}
	for _, s := range syntax {
		fmt.Fprintf(e.stderr, "qcal: warning: %s (skipped)\n", s)
	}
	if nSyntax > len(syntax) {
		fmt.Fprintf(e.stderr, "qcal: warning: (and %d more malformed records skipped)\n", nSyntax-len(syntax))
	}
	return in, nil
}

// progress draws a one-line progress bar on a terminal: bytes read and
// records a second. It is nil (silent) unless w is a character device, so
// pipes, files and CI logs never see it.
type progress struct {
	w       io.Writer
	name    string
	size    int64 // -1: unknown (stdin, gzip: the reader counts decompressed bytes)
	start   time.Time
	last    time.Time
	records int64
	drawn   bool
}

func newProgress(w io.Writer, name string, size int64) *progress {
	if !isTerminal(w) {
		return nil
	}
	now := time.Now()
	return &progress{w: w, name: name, size: size, start: now, last: now}
}

// tick counts a record and redraws at most five times a second.
func (p *progress) tick(r *logparse.Reader) {
	p.records++
	if p.records&1023 != 0 {
		return
	}
	now := time.Now()
	if now.Sub(p.last) < 200*time.Millisecond {
		return
	}
	p.last = now
	c := r.Counts()
	rate := float64(p.records) / now.Sub(p.start).Seconds()
	const width = 24
	bar := ""
	if p.size > 0 {
		frac := min(1, float64(c.Bytes)/float64(p.size))
		full := int(frac * width)
		bar = fmt.Sprintf("[%s%s] %3.0f%% ", strings.Repeat("#", full), strings.Repeat(".", width-full), 100*frac)
	}
	fmt.Fprintf(p.w, "\r\033[Kqcal audit: %s %s%s read, %s records/s", p.name, bar, mib(c.Bytes), rateText(rate))
	p.drawn = true
}

// done clears the bar.
func (p *progress) done() {
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

func rateText(r float64) string {
	switch {
	case r >= 1e6:
		return fmt.Sprintf("%.2fM", r/1e6)
	case r >= 1e3:
		return fmt.Sprintf("%.1fk", r/1e3)
	}
	return fmt.Sprintf("%.0f", r)
}

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func mib(n int64) string {
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}
