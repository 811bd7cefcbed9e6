package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"qcal/internal/atomicfile"
	"qcal/internal/calib"
	"qcal/internal/graphio"
	"qcal/report"
	"qcal/report/audit"
	"qcal/stats"
)

// auditFlags are the settings of one `qcal audit` run.
type auditFlags struct {
	calib     calibFlags
	graph     string
	format    string
	out       string
	against   listFlag
	drift     float64
	plots     string
	tol       float64
	resamples int
	seed      uint64
	page      int
	hist      int
}

func runAudit(e *env, args []string) error {
	fs := newFlags(e, "audit")
	var f auditFlags
	fs.StringVar(&f.graph, "graph", "", "quantized graph the log was recorded from: adds graph checks, graph order and depth")
	f.calib.register(fs, "range strategies to compare, comma-separated; the first is judged and reads per-batch extremes ("+stats.Strategies+
		"), the others may read logged tensor values ("+stats.HistStrategies+")")
	fs.StringVar(&f.format, "format", "", "output format: text, markdown, csv, json or html (default: from -o's extension, else text)")
	fs.StringVar(&f.out, "o", "-", "output file (- for stdout); written atomically. An .html file is the self-contained report with plots")
	fs.Var(&f.against, "against", "an earlier calibration log to compare with (repeatable: its logs are read as one)")
	fs.Float64Var(&f.drift, "drift", audit.DefaultDrift, "with -against: flag ranges that moved by more than this fraction of their width")
	fs.StringVar(&f.plots, "plots", "", "directory to write the plots to, as PNG and SVG")
	fs.Float64Var(&f.tol, "tol", stats.DefaultTolerance, "convergence tolerance: a fraction of the range's width")
	fs.IntVar(&f.resamples, "bootstrap", stats.DefaultResamples, "bootstrap resamples for the range's confidence interval")
	fs.Uint64Var(&f.seed, "seed", 1, "bootstrap seed (same seed, same report)")
	fs.IntVar(&f.page, "page", audit.DefaultPlotPage, "nodes per box-plot page")
	fs.IntVar(&f.hist, "hist", audit.DefaultPlotHistograms, "histograms for the riskiest nodes")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	logs := fs.Args()
	if len(logs) == 0 {
		return usagef("no calibration log given")
	}
	format, err := pickFormat(f.format, f.out, (*audit.Report)(nil))
	if err != nil {
		return err
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
	readOpt, err := f.calib.options(e, logs, calib.CountBad, true)
	if err != nil {
		return err
	}
	if err := audit.CheckMethods(readOpt.Methods); err != nil {
		return &usageError{err.Error()}
	}
	inputs := append(append(slices.Clone(logs), f.against...), f.graph, f.calib.mapFile)
	if err := checkDistinct(inputs...); err != nil {
		return err
	}
	if err := graphio.CheckNotInput(f.out, inputs); err != nil {
		return err
	}

	opt := audit.Options{
		Convergence: stats.ConvergenceOptions{Tolerance: f.tol, Resamples: f.resamples, Seed: f.seed},
		Drift:       f.drift,
		Logs:        logs,
	}
	if f.graph != "" {
		g, err := loadGraphArg(e, f.graph)
		if err != nil {
			return err
		}
		opt.Graph = audit.NewGraph(g, f.graph)
	}
	cur, err := readCalib(logs, readOpt)
	if err != nil {
		return err
	}
	if opt.Strategies, err = audit.Strategies(cur); err != nil {
		return err
	}
	opt.Bad, opt.Records = cur.Bad, cur.Counts.Records
	if len(f.against) > 0 {
		old, err := readCalib(f.against, readOpt)
		if err != nil {
			return err
		}
		opt.Against, opt.AgainstName = old.Acc, strings.Join(f.against, ", ")
	}
	tty := isTerminal(e.stderr)
	if tty {
		fmt.Fprintf(e.stderr, "\r\033[Kqcal audit: judging %d nodes (%d bootstrap resamples each)...", cur.Acc.Len(), f.resamples)
	}
	a, err := audit.New(cur.Acc, opt)
	if tty {
		fmt.Fprint(e.stderr, "\r\033[K")
	}
	if err != nil {
		return err
	}

	var plots []*audit.Plot
	if f.plots != "" || format == report.HTML {
		hist := f.hist
		if hist == 0 {
			hist = -1 // PlotOptions reads 0 as the default
		}
		plots, err = a.Plots(audit.PlotOptions{PageSize: f.page, Histograms: hist})
		if err != nil {
			return err
		}
	}
	if f.plots != "" {
		if err := writePlots(f.plots, plots, inputs); err != nil {
			return err
		}
	}
	a.PagePlots = plots
	var out bytes.Buffer
	if err := report.Write(&out, a, format); err != nil {
		return err
	}
	if atomicfile.IsStdout(f.out) {
		if _, err := e.stdout.Write(out.Bytes()); err != nil {
			return err
		}
	} else if err := graphio.WriteFile(f.out, out.Bytes(), inputs...); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "qcal: %s\n", a.Heading())
	if a.Changes != nil {
		fmt.Fprintf(e.stderr, "qcal: %s\n", a.ChangesHeading())
	}
	if !atomicfile.IsStdout(f.out) {
		fmt.Fprintf(e.stderr, "qcal: wrote %s\n", f.out)
	}
	if f.plots != "" {
		fmt.Fprintf(e.stderr, "qcal: wrote %d plots (PNG and SVG) to %s\n", len(plots), f.plots)
	}
	return nil
}

// writePlots writes each plot as NAME.png and NAME.svg into dir.
func writePlots(dir string, plots []*audit.Plot, inputs []string) error {
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
		if err := graphio.WriteFile(filepath.Join(dir, p.Name+".svg"), svg, inputs...); err != nil {
			return err
		}
		if err := graphio.WriteFile(filepath.Join(dir, p.Name+".png"), png, inputs...); err != nil {
			return err
		}
	}
	return nil
}
