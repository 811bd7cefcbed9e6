package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"qcal/internal/calib"
	"qcal/internal/tfname"
	"qcal/stats"
)

// calibFlags are the flags of every command that reads calibration logs
// (ranges, freeze, audit).
type calibFlags struct {
	strategy       string
	minPct, maxPct float64
	tfCompat       bool
	dropBad        bool
	mapFile        string
}

func (c *calibFlags) register(fs *flag.FlagSet, strategyUsage string) {
	fs.StringVar(&c.strategy, "strategy", "tf", strategyUsage)
	fs.StringVar(&c.mapFile, "map", "", "file mapping value-logged node names to RequantizationRange names (`logged graph` per line); "+
		"default: NAME → NAME"+tfname.RequantRangeSuffix)
	fs.Float64Var(&c.minPct, "min-percentile", 5, "tf strategy: percentile of the per-batch mins to take (TF's min_percentile)")
	fs.Float64Var(&c.maxPct, "max-percentile", 5, "tf strategy: percentile taken off the top of the per-batch maxes (TF's max_percentile)")
	fs.BoolVar(&c.tfCompat, "tf-compat", false, "parse logs exactly as TensorFlow does: of a line holding several records only the last counts")
	fs.BoolVar(&c.dropBad, "drop-bad", false, "skip records with NaN/Inf values or min > max instead of failing")
}

// strategyUsage is the -strategy flag's text for ranges and freeze.
const strategyUsage = "range strategy: per-batch extremes (" + stats.Strategies +
	") or logged tensor values (" + stats.HistStrategies + "); ranges takes a comma-separated list"

// splitMin is calib.Options.SplitMin (0: the default), for tests.
var splitMin int64

// options turns the flags into the pipeline's options for reading logs:
// the strategy list parsed, the request checked, the -map file read. bad is
// the policy for unusable records without -drop-bad; keepLines keeps every
// record's line (the audit's positions, shown with a progress bar on a
// terminal).
func (c *calibFlags) options(e *env, logs []string, bad calib.BadPolicy, keepLines bool) (calib.Options, error) {
	methods, err := calib.ParseMethods(c.strategy, float32(c.minPct), float32(c.maxPct))
	if err != nil {
		return calib.Options{}, &usageError{err.Error()}
	}
	opt := calib.Options{Methods: methods, TFCompat: c.tfCompat, Bad: bad, KeepLines: keepLines, Stdin: e.stdin, SplitMin: splitMin,
		Note: func(s string) { fmt.Fprintf(e.stderr, "qcal: %s\n", s) }}
	if c.dropBad {
		opt.Bad = calib.DropBad
	}
	if err := opt.Check(logs); err != nil {
		return calib.Options{}, &usageError{err.Error()}
	}
	if c.mapFile != "" {
		if opt.NameMap, err = readNameMap(c.mapFile); err != nil {
			return calib.Options{}, err
		}
	}
	if keepLines {
		opt.Progress = newProgress(e.stderr)
	}
	return opt, nil
}

// readCalibFlags reads logs with the flags' settings.
func readCalibFlags(e *env, logs []string, c *calibFlags, bad calib.BadPolicy) (*calib.Calibration, error) {
	opt, err := c.options(e, logs, bad, false)
	if err != nil {
		return nil, err
	}
	return readCalib(logs, opt)
}

// readCalib is calib.Read with a strategy asked of logs that lack its data
// turned into a usage error.
func readCalib(logs []string, opt calib.Options) (*calib.Calibration, error) {
	cal, err := calib.Read(logs, opt)
	var nv *calib.NoValuesError
	if errors.As(err, &nv) {
		return nil, &usageError{err.Error()}
	}
	return cal, err
}

// readNameMap reads a -map file.
func readNameMap(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return calib.ParseNameMap(f, path)
}

// printSummary prints the one-line summary of a calibration to stderr.
func printSummary(e *env, cal *calib.Calibration, tfCompat bool, start time.Time) {
	n := cal.Counts
	joined := fmt.Sprintf("%d joined lines split", n.JoinedLines)
	if tfCompat {
		joined = fmt.Sprintf("tf-compat: %d records on joined lines ignored", n.Ignored)
	}
	logs := "1 log"
	if len(cal.Logs) != 1 {
		logs = fmt.Sprintf("%d logs", len(cal.Logs))
	}
	values := ""
	if n.ValueRecords > 0 {
		values = fmt.Sprintf(", %d values in %d tensors of %d nodes", n.Values, n.ValueRecords, cal.Hist.Len())
	}
	fmt.Fprintf(e.stderr, "qcal: %d records from %s (%d lines, %s)%s, %d nodes, strategy %s, %s\n",
		n.Records, logs, n.Lines, joined, values, cal.Nodes(), cal.MethodNames(),
		time.Since(start).Round(time.Millisecond))
}
