package main

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"qcal/internal/atomicfile"
	"qcal/internal/graphio"
	"qcal/internal/rewrite/quantize"
	"qcal/internal/tune"
	"qcal/report"
	"qcal/report/accuracy"
	"qcal/report/audit"
)

func runTune(e *env, args []string) error {
	fs := newFlags(e, "tune")
	var ef evalFlags
	ef.register(fs, true)
	calibData := fs.String("calib", "", "calibration data set (its first -batches batches are run; the evaluation set's preprocessing applies)")
	evalData := fs.String("eval", "", "evaluation data set (labels: -labels, or found beside IDX files)")
	batches := fs.Int("batches", 10, "calibration batches")
	evalLimit := fs.Int("eval-limit", 0, "evaluate on the first `N` examples of -eval only (0: as -limit, which applies to both sets)")
	strategies := fs.String("strategies", tune.DefaultStrategies, "comma-separated range strategies to try")
	maxDrop := fs.Float64("max-drop", accuracy.DefaultTarget.MaxDrop, "largest top-1 drop (points) a candidate may have")
	warnDrop := fs.Float64("warn-drop", accuracy.DefaultTarget.WarnDrop, "largest drop that warns")
	out := fs.String("o", "", "write the best int8 graph here (.pbtxt for text)")
	reportOut := fs.String("report", "", "write the comparison as HTML here")
	format := fs.String("format", "text", "comparison on stdout: text, markdown or json (qcal report's)")
	var perChannel autoBool
	fs.Var(&perChannel, "per-channel", "quantize convolution weights per output channel: true, false, or auto, the default (per channel when the per-tensor path would lose Relu6 clamps); being a boolean flag, it takes auto as -per-channel=auto")
	roundWeights := fs.Bool("round-weights", true, weightRoundingHelp+"; tune rounds unless -round-weights=false")
	cacheDir := fs.String("cache", defaultTuneCache(), "keep FP32 predictions and calibration logs here for reruns (empty: none)")
	noCache := fs.Bool("no-cache", false, "neither reuse nor keep anything (as -cache \"\")")
	evalMemory := int64(tune.DefaultEvalMemory)
	fs.Func("eval-memory", "keep the decoded evaluation set in memory, read once for every evaluation, when it takes at most this `size` (0: never); same units as -cache-max (default 1GiB)", sizeFlag(&evalMemory, -1))
	cacheMax := int64(tune.DefaultCacheMax)
	fs.Func("cache-max", "largest total `size` of the cache's files: a calibration log that does not fit is not kept, and after each run the least recently used files go until the rest fit; bytes, or a number with KiB, MiB, GiB, KB, MB or GB (default 1GiB)", sizeFlag(&cacheMax, 0))
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *noCache {
		*cacheDir = ""
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments %q", fs.Args())
	}
	if ef.data != "" {
		return usagef("tune reads -calib and -eval, not -data")
	}
	if ef.graph == "" || *calibData == "" || *evalData == "" {
		return usagef("-graph, -calib and -eval are required")
	}
	if math.IsNaN(*maxDrop) || *maxDrop < 0 || *warnDrop < *maxDrop {
		return usagef("want 0 ≤ -max-drop ≤ -warn-drop, got %g and %g", *maxDrop, *warnDrop)
	}
	f, err := pickFormat(*format, "", (*accuracy.Comparison)(nil))
	if err != nil {
		return err
	}
	inputs := []string{ef.graph, *calibData, *evalData, ef.data0.Labels}
	var graphOut, htmlOut *atomicfile.File
	if *out != "" {
		if graphOut, err = atomicfile.Create(*out, inputs...); err != nil {
			return err
		}
		defer graphOut.Abort()
	}
	if *reportOut != "" {
		if htmlOut, err = atomicfile.Create(*reportOut, append(inputs, *out)...); err != nil {
			return err
		}
		defer htmlOut.Abort()
	}
	g, err := loadGraphArg(e, ef.graph)
	if err != nil {
		return err
	}
	evalOpt := ef.data0
	calibOpt := ef.data0
	if *evalLimit > 0 {
		evalOpt.Limit = *evalLimit
	}
	calibOpt.Labels = "" // calibration needs no labels
	defer ef.useKernels()()
	bar := (*countBar)(nil)
	stage := ""
	start := time.Now()
	res, err := tune.Run(tune.Options{
		Graph: g, Name: ef.graph, Input: ef.input, Output: ef.output, LabelOffset: ef.labelOffset,
		Calib:          tune.Data{Path: *calibData, Opt: calibOpt},
		Eval:           tune.Data{Path: *evalData, Opt: evalOpt},
		Batches:        *batches,
		Strategies:     *strategies,
		Target:         accuracy.Target{MaxDrop: *maxDrop, WarnDrop: *warnDrop},
		Quantize:       quantize.Options{Intel: true, PerChannel: perChannel.on, WeightRounding: weightRounding(*roundWeights)},
		PerChannelAuto: perChannel.auto(),
		CacheDir:       *cacheDir,
		CacheMax:       cacheMax,
		EvalMemory:     evalMemory,
		Workers:        ef.workers,
		KernelKey:      fmt.Sprintf("eigen=%v", ef.eigen),
		LayerError:     htmlOut != nil,
		Note: func(s string) {
			bar.done()
			fmt.Fprintf(e.stderr, "qcal tune: %s\n", s)
		},
		Progress: func(s string, n int) {
			if s != stage {
				bar.done()
				stage = s
				bar = newCountBar(e.stderr, "qcal tune: "+s, 0)
			}
			bar.set(n)
		},
	})
	bar.done()
	if err != nil {
		return err
	}
	c := res.Comparison
	var buf bytes.Buffer
	if err := report.Write(&buf, c, f); err != nil {
		return err
	}
	if _, err := e.stdout.Write(buf.Bytes()); err != nil {
		return err
	}
	if htmlOut != nil {
		if res.Layers != nil {
			sec, err := tuneLayers(res, ef.graph, *calibData)
			if err != nil {
				return err
			}
			c.Sections = append(c.Sections, sec)
		}
		buf.Reset()
		if err := report.Write(&buf, c, report.HTML); err != nil {
			return err
		}
		if _, err := htmlOut.Write(buf.Bytes()); err != nil {
			return err
		}
		if err := htmlOut.Commit(); err != nil {
			return err
		}
	}
	if fb := res.Fallback; fb != nil {
		fmt.Fprintf(e.stderr, "qcal tune: per-layer fallback from %s; drop with each layer alone in FP32:\n", fb.Strategy)
		for _, l := range fb.Sensitivity {
			fmt.Fprintf(e.stderr, "  %-40s %6.2f\n", l.Node, l.Drop)
		}
		fmt.Fprintf(e.stderr, "qcal tune: layers left in FP32, most sensitive first, and the drop after each:\n")
		for i, l := range fb.Steps {
			fmt.Fprintf(e.stderr, "  %d. %-37s %6.2f\n", i+1, l.Node, l.Drop)
		}
	}
	if res.Best == nil {
		return &verdictError{"no strategy meets the target: " + c.Summary()}
	}
	if graphOut != nil {
		data, err := graphio.Encode(res.Best.Graph, graphio.FormatForPath(*out))
		if err != nil {
			return err
		}
		if _, err := graphOut.Write(data); err != nil {
			return err
		}
		if err := graphOut.Commit(); err != nil {
			return err
		}
	}
	where := ""
	if graphOut != nil {
		where = "; wrote " + *out
	}
	fmt.Fprintf(e.stderr, "qcal tune: best strategy %s (%d candidates, %.1f s)%s\n", res.Best.Strategy, len(res.Candidates), time.Since(start).Seconds(), where)
	return nil
}

// tuneLayers is the report's per-layer int8 error section: the table and
// the SQNR plot of the chosen candidate on the calibration data.
func tuneLayers(res *tune.Result, graph, calib string) (report.Section, error) {
	ls := audit.NewLayers(res.Layers, graph, "the int8 graph of "+res.LayersOf.Strategy, calib)
	p, err := ls.Plot()
	if err != nil {
		return report.Section{}, err
	}
	ls.PagePlot = p
	return ls.Section()
}

// defaultTuneCache is qcal's folder in the user's cache directory.
func defaultTuneCache() string {
	d, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(d, "qcal", "tune")
}

// sizeFlag is the Set function of a size flag writing to p (parseSize).
// "0" stores the value zero when zero is not 0 (a meaning such as "never");
// otherwise "0" is refused as parseSize refuses it.
func sizeFlag(p *int64, zero int64) func(string) error {
	return func(s string) error {
		if zero != 0 && s == "0" {
			*p = zero
			return nil
		}
		n, err := parseSize(s)
		*p = n
		return err
	}
}

// parseSize reads a size in bytes: a whole number, or a number followed by
// a unit, KiB, MiB, GiB, TiB (powers of 1024) or KB, MB, GB, TB (powers
// of 1000). It must be at least one byte.
func parseSize(s string) (int64, error) {
	units := []struct {
		suffix string
		mult   float64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"B", 1}}
	num, mult := strings.TrimSpace(s), 1.0
	for _, u := range units {
		if n, ok := strings.CutSuffix(num, u.suffix); ok {
			num, mult = strings.TrimSpace(n), u.mult
			break
		}
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsNaN(f) {
		return 0, fmt.Errorf("want a size such as 1GiB or 500MB, got %q", s)
	}
	n := math.Floor(f * mult)
	if n < 1 || n >= math.MaxInt64 {
		return 0, fmt.Errorf("size %q out of range: want at least 1 byte and below 8 EiB", s)
	}
	return int64(n), nil
}

// autoBool is a boolean flag that may also be "auto", its default:
// -name and -name=true set it, -name=false clears it.
type autoBool struct {
	set, on bool
}

func (a *autoBool) String() string {
	if a == nil || !a.set {
		return "auto"
	}
	return strconv.FormatBool(a.on)
}

func (a *autoBool) Set(s string) error {
	if s == "auto" {
		*a = autoBool{}
		return nil
	}
	v, err := strconv.ParseBool(s)
	if err != nil {
		return fmt.Errorf("want true, false or auto, not %q", s)
	}
	*a = autoBool{set: true, on: v}
	return nil
}

func (a *autoBool) IsBoolFlag() bool { return true }

func (a *autoBool) auto() bool { return !a.set }
