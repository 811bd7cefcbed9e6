package main

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"qcal/internal/graphio"
	"qcal/report"
	"qcal/report/accuracy"
)

// verdictError is returned by runReport when the best int8 candidate
// fails the target: the report has been written, and run's default branch
// turns the error (whose message is the verdict line) into exit status 1.
type verdictError struct{ verdict string }

func (e *verdictError) Error() string { return e.verdict }

func runReport(e *env, args []string) error {
	fs := newFlags(e, "report")
	fp32 := fs.String("fp32", "", "FP32 inference log or prediction file (- for stdin; gzip is detected)")
	var int8s listFlag
	fs.Var(&int8s, "int8", "int8 inference log or prediction file as [NAME=]FILE (repeatable: candidates are ranked)")
	metric := fs.String("metric", "", "metric to compare (default: the input's own: top1, accuracy, COCO AP@[.50:.95,all,100]); "+
		"for other logs the NAME of \"NAME: value\" lines (a summary line wins over per-batch progress lines); "+
		"bbox or segm picks one of several COCO summaries")
	lowerBetter := fs.Bool("lower-better", false, "the metric is better when lower (recognised without this flag by name: perplexity, ppl, WER, CER, loss, latency, err, MSE, MAE): the drop is int8 - FP32")
	relative := fs.Bool("relative", false, "measure the drop relative to FP32, (fp32 - int8)/fp32 in percent (Intel Neural Compressor's criterion), not in absolute points")
	maxDrop := fs.Float64("max-drop", accuracy.DefaultTarget.MaxDrop, "largest drop that passes")
	warnDrop := fs.Float64("warn-drop", accuracy.DefaultTarget.WarnDrop, "largest drop that warns; a larger one fails (exit status 1)")
	minCov := fs.Float64("min-coverage", accuracy.DefaultMinCoverage*100, "percentage of the FP32 samples (prediction ids, or a log's image count) int8 must cover; "+
		"below it the verdict is FAIL, and any difference in the samples caps it at WARN")
	format := fs.String("format", "", "output format: text, markdown, json or html (default: from -o's extension, else text)")
	out := fs.String("o", "-", "output file (- for stdout); written atomically")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q (give inputs with -fp32 and -int8)", fs.Arg(0))
	}
	if *fp32 == "" {
		return usagef("-fp32 is required")
	}
	if len(int8s) == 0 {
		return usagef("-int8 is required")
	}
	if math.IsNaN(*maxDrop) || math.IsNaN(*warnDrop) || *maxDrop < 0 || *warnDrop < *maxDrop {
		return usagef("want 0 ≤ -max-drop ≤ -warn-drop, got %g and %g", *maxDrop, *warnDrop)
	}
	if math.IsNaN(*minCov) || *minCov <= 0 || *minCov > 100 {
		return usagef("want 0 < -min-coverage ≤ 100, got %g", *minCov)
	}
	f, err := pickFormat(*format, *out, (*accuracy.Comparison)(nil))
	if err != nil {
		return err
	}
	names, files, err := candidateNames(int8s)
	if err != nil {
		return err
	}
	inputs := append([]string{*fp32}, files...)
	stdin := 0
	for _, in := range inputs {
		if in == "-" {
			stdin++
		}
	}
	if stdin > 1 {
		return usagef("only one input can be - (stdin)")
	}
	if err := graphio.CheckNotInput(*out, inputs); err != nil {
		return err
	}

	var closers []io.Closer
	defer func() {
		for _, c := range closers {
			c.Close()
		}
	}()
	open := func(name, path string) (accuracy.Source, error) {
		if path == "-" {
			return accuracy.Source{Name: name, File: "<stdin>", R: e.stdin}, nil
		}
		fh, err := os.Open(path)
		if err != nil {
			return accuracy.Source{}, err
		}
		closers = append(closers, fh)
		return accuracy.Source{Name: name, File: path, R: fh}, nil
	}
	base, err := open("fp32", *fp32)
	if err != nil {
		return err
	}
	var cands []accuracy.Source
	for i, path := range files {
		s, err := open(names[i], path)
		if err != nil {
			return err
		}
		cands = append(cands, s)
	}
	c, err := accuracy.Compare(base, cands, accuracy.Options{Metric: *metric, LowerBetter: *lowerBetter,
		Target: accuracy.Target{MaxDrop: *maxDrop, WarnDrop: *warnDrop, Relative: *relative}, MinCoverage: *minCov / 100})
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := report.Write(&buf, c, f); err != nil {
		return err
	}
	if *out == "-" {
		if _, err := e.stdout.Write(buf.Bytes()); err != nil {
			return err
		}
	} else {
		if err := graphio.WriteFile(*out, buf.Bytes()); err != nil {
			return err
		}
	}
	if c.Verdict() == accuracy.Fail {
		if *out != "-" {
			fmt.Fprintf(e.stderr, "qcal: wrote %s\n", *out)
		}
		return &verdictError{c.Summary()}
	}
	if *out != "-" {
		fmt.Fprintf(e.stderr, "qcal: wrote %s: %s\n", *out, c.Summary())
	}
	return nil
}

// candidateNames splits each -int8 value into a name and a file. A value
// that names an existing file is a file; otherwise NAME=FILE is split at
// the first "=". Unnamed candidates are called "int8" when alone, and by
// their file's base name without extension otherwise.
func candidateNames(values []string) (names, files []string, err error) {
	seen := map[string]bool{}
	for _, v := range values {
		name, file := "", v
		if _, statErr := os.Stat(v); statErr != nil {
			if n, f, ok := strings.Cut(v, "="); ok && n != "" && !strings.ContainsAny(n, `/\`) {
				name, file = n, f
			}
		}
		if file == "" {
			return nil, nil, usagef("-int8 %q names no file", v)
		}
		if name == "" {
			name = "int8"
			if len(values) > 1 {
				name = strings.TrimSuffix(filepath.Base(file), ".gz")
				name = strings.TrimSuffix(name, filepath.Ext(name))
			}
		}
		if name == "fp32" || seen[name] {
			return nil, nil, usagef("candidate name %q used twice (name them with -int8 NAME=FILE)", name)
		}
		seen[name] = true
		names, files = append(names, name), append(files, file)
	}
	return names, files, nil
}
