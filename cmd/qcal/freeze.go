package main

import (
	"fmt"
	"strings"
	"time"

	"qcal/freeze"
	"qcal/internal/atomicfile"
	"qcal/internal/calib"
	"qcal/internal/graphinfo"
	"qcal/internal/graphio"
	"qcal/internal/tfname"
)

func runFreeze(e *env, args []string) error {
	fs := newFlags(e, "freeze")
	var cf calibFlags
	cf.register(fs, strategyUsage)
	graph := fs.String("graph", "", "quantized GraphDef to freeze (binary or text)")
	var logs listFlag
	fs.Var(&logs, "log", "calibration log (repeatable; - for stdin; gzip is detected)")
	out := fs.String("o", "", "output GraphDef (.pbtxt for text; - for stdout)")
	format := fs.String("format", "", "output format: binary or text (default: from -o's name)")
	allowMissing := fs.Bool("allow-missing", false, "skip logged nodes that the graph lacks, with a warning")
	strict := fs.Bool("strict", false, "fail when a RequantizationRange node of the graph has no logged range")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	logs = append(logs, fs.Args()...)
	if *graph == "" {
		return usagef("-graph is required")
	}
	if len(logs) == 0 {
		return usagef("-log is required (TF: You must pass a file name to min_max_log_file)")
	}
	if *out == "" {
		return usagef("-o is required")
	}
	if strings.Contains(cf.strategy, ",") {
		return usagef("freeze takes one -strategy, got %q", cf.strategy)
	}
	f, err := outputFormat(*format, *out)
	if err != nil {
		return err
	}
	inputs := append([]string{*graph, cf.mapFile}, logs...)
	if err := checkDistinct(inputs...); err != nil {
		return err
	}
	if err := graphio.CheckNotInput(*out, inputs); err != nil {
		return err
	}
	g, err := loadGraphArg(e, *graph)
	if err != nil {
		return err
	}
	if err := checkGraph(e, *graph, g, true); err != nil {
		return err
	}
	start := time.Now()
	cal, err := readCalibFlags(e, logs, &cf, calib.FailBad)
	if err != nil {
		return err
	}
	res, err := freeze.Graph(g, cal.Ranges(cal.Methods[0]), freeze.Options{AllowMissing: *allowMissing, Strict: *strict})
	if err != nil {
		return fmt.Errorf("%s: %w", *graph, err)
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(e.stderr, "qcal: warning: %s\n", w)
	}
	if len(res.Frozen) == 0 && len(res.Missing) > 0 {
		return fmt.Errorf("%s: none of the %d logged node(s) is in the graph (-allow-missing skipped them all: %s); "+
			"is this the graph the log was recorded from?", *graph, len(res.Missing), tfname.List(res.Missing, 5))
	}
	// The input passed the checks, so a problem now would be qcal's own bug:
	// refuse to write such a graph.
	if err := graphinfo.Check(res.Graph).Err(); err != nil {
		return fmt.Errorf("%s: internal error: the frozen graph is invalid: %w", *graph, err)
	}
	if atomicfile.IsStdout(*out) {
		err = graphio.Write(e.stdout, res.Graph, f)
	} else {
		err = graphio.Save(*out, res.Graph, f, inputs...)
	}
	if err != nil {
		return err
	}
	printSummary(e, cal, cf.tfCompat, start)
	if len(res.Clipped) > 0 {
		fmt.Fprintf(e.stderr, "qcal: %d range(s) narrowed to their RequantizationRangePerChannel's clip_value_max (the Relu6 clamp), as the op itself clips: %s\n",
			len(res.Clipped), tfname.List(res.Clipped, 5))
	}
	fmt.Fprintf(e.stderr, "qcal: froze %d of %d logged nodes into %s\n", len(res.Frozen), cal.Acc.Len(), *out)
	return nil
}
