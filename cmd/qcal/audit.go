package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"qcal/internal/atomicfile"
	"qcal/internal/calib"
	"qcal/internal/dataset"
	"qcal/internal/evaluate"
	"qcal/internal/exec"
	"qcal/internal/graphio"
	"qcal/internal/layererr"
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
	layers    layerFlags
}

// layerFlags are the flags of the per-layer int8 error: the two graphs,
// the data set and its preprocessing (dataset.Options' flags, as qcal eval
// has them), the input and how many batches to run.
type layerFlags struct {
	fp32, int8, data, input string
	batches                 int
	data0                   dataset.Options
}

func (f *layerFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.fp32, "fp32", "", "with -int8 and -data: the FP32 graph, for the per-layer int8 error (table and SQNR plot)")
	fs.StringVar(&f.int8, "int8", "", "with -fp32 and -data: the int8 graph made from it (quantized, frozen, fused)")
	fs.StringVar(&f.data, "data", "", "with -fp32 and -int8: the data set both graphs run on (the calibration data)")
	fs.StringVar(&f.input, "input", "", "Placeholder fed with the data (default: the FP32 graph's only Placeholder)")
	fs.IntVar(&f.batches, "batches", 10, "per-layer error: batches of -data to run (0: all)")
	f.data0.RegisterFlags(fs)
}

// set reports whether any of the graphs or the data set is named; it is a
// usage error to name some but not all three.
func (f *layerFlags) set() (bool, error) {
	n := 0
	for _, v := range []string{f.fp32, f.int8, f.data} {
		if v != "" {
			n++
		}
	}
	if n > 0 && n < 3 {
		return false, usagef("the per-layer error needs -fp32, -int8 and -data together")
	}
	if f.batches < 0 {
		return false, usagef("-batches must be at least 0")
	}
	return n == 3, nil
}

// measure runs both graphs on the data set and returns the per-layer
// error.
func (f *layerFlags) measure(e *env) (*audit.Layers, error) {
	fp, err := exec.Load(f.fp32)
	if err != nil {
		return nil, err
	}
	q, err := exec.Load(f.int8)
	if err != nil {
		return nil, err
	}
	in, err := evaluate.PickInput(fp, f.input)
	if err != nil {
		return nil, err
	}
	opt := f.data0
	if opt.Shape == nil {
		opt.Shape = evaluate.InputShape(in)
	}
	if opt.BatchSize == 0 && (len(opt.Shape) == 0 || opt.Shape[0] <= 0) {
		opt.BatchSize = 64
	}
	src, err := dataset.Open(f.data, opt)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	bar := newCountBar(e.stderr, "qcal audit: per-layer error:", 0)
	res, err := layererr.Measure(fp, q, src, layererr.Options{Input: in.Name, Batches: f.batches, Progress: bar.set})
	bar.done()
	if err != nil {
		return nil, err
	}
	return audit.NewLayers(res, f.fp32, f.int8, f.data), nil
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
	f.layers.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	withLayers, err := f.layers.set()
	if err != nil {
		return err
	}
	logs := fs.Args()
	if len(logs) == 0 && !withLayers {
		return usagef("no calibration log given")
	}
	format, err := pickFormat(f.format, f.out, (*audit.Report)(nil))
	if err != nil {
		return err
	}
	if len(logs) == 0 {
		// The per-layer error alone: the flags that judge a log have
		// nothing to judge.
		if f.graph != "" || len(f.against) > 0 {
			return usagef("-graph and -against judge a calibration log; none is given")
		}
		return auditLayers(e, &f, format)
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
	inputs := append(append(slices.Clone(logs), f.against...), f.graph, f.calib.mapFile, f.layers.fp32, f.layers.int8, f.layers.data)
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
	if withLayers {
		if a.Layers, err = f.layers.measure(e); err != nil {
			return err
		}
		if err := layerPlot(a.Layers, f.plots, format, inputs); err != nil {
			return err
		}
	}
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
		n := len(plots)
		if a.Layers != nil && a.Layers.PagePlot != nil {
			n++
		}
		fmt.Fprintf(e.stderr, "qcal: wrote %d plots (PNG and SVG) to %s\n", n, f.plots)
	}
	return nil
}

// auditLayers writes the per-layer error alone: qcal audit with -fp32,
// -int8 and -data but no log.
func auditLayers(e *env, f *auditFlags, format report.Format) error {
	inputs := []string{f.layers.fp32, f.layers.int8, f.layers.data}
	if err := graphio.CheckNotInput(f.out, inputs); err != nil {
		return err
	}
	ls, err := f.layers.measure(e)
	if err != nil {
		return err
	}
	if err := layerPlot(ls, f.plots, format, inputs); err != nil {
		return err
	}
	var out bytes.Buffer
	if err := report.Write(&out, ls, format); err != nil {
		return err
	}
	if f.out == "-" {
		if _, err := e.stdout.Write(out.Bytes()); err != nil {
			return err
		}
	} else if err := graphio.WriteFile(f.out, out.Bytes()); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "qcal: %s\n", ls.Heading())
	if f.out != "-" {
		fmt.Fprintf(e.stderr, "qcal: wrote %s\n", f.out)
	}
	if f.plots != "" && ls.PagePlot != nil {
		fmt.Fprintf(e.stderr, "qcal: wrote 1 plot (PNG and SVG) to %s\n", f.plots)
	}
	return nil
}

// layerPlot draws the SQNR bar plot for the HTML page and the -plots
// directory (layer-sqnr.png and .svg).
func layerPlot(ls *audit.Layers, dir string, format report.Format, inputs []string) error {
	if dir == "" && format != report.HTML {
		return nil
	}
	p, err := ls.Plot()
	if err != nil || p == nil {
		return err
	}
	ls.PagePlot = p
	if dir != "" {
		return writePlots(dir, []*audit.Plot{p}, inputs)
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
