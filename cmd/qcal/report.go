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
	var fp32s, int8s listFlag
	fs.Var(&fp32s, "fp32", "FP32 inference log or prediction file (- for stdin; gzip is detected); several -fp32, FILE,FILE or a glob "+
		"give the shards of a sharded run (qcal eval -shard K/N), merged by id (docs/SHARDING.md)")
	fs.Var(&int8s, "int8", "int8 inference log or prediction file as [NAME=]FILE (repeatable: candidates are ranked); "+
		"NAME=FILE,FILE, a glob, or NAME= repeated give the shards of one candidate")
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
	if len(fp32s) == 0 {
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
	var fp32Files []string
	for _, v := range fp32s {
		fs, err := expandInputs(v)
		if err != nil {
			return err
		}
		fp32Files = append(fp32Files, fs...)
	}
	if err := checkTwice(fp32Files, "fp32"); err != nil {
		return err
	}
	cands, err := candidateNames(int8s)
	if err != nil {
		return err
	}
	inputs := append([]string(nil), fp32Files...)
	for _, c := range cands {
		inputs = append(inputs, c.files...)
	}
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
	openSide := func(name string, paths []string) (accuracy.Source, error) {
		s, err := open(name, paths[0])
		if err != nil {
			return s, err
		}
		for _, p := range paths[1:] {
			more, err := open(name, p)
			if err != nil {
				return s, err
			}
			s.Shards = append(s.Shards, accuracy.Shard{File: more.File, R: more.R})
		}
		return s, nil
	}
	base, err := openSide("fp32", fp32Files)
	if err != nil {
		return err
	}
	var srcs []accuracy.Source
	for _, cd := range cands {
		s, err := openSide(cd.name, cd.files)
		if err != nil {
			return err
		}
		srcs = append(srcs, s)
	}
	c, err := accuracy.Compare(base, srcs, accuracy.Options{Metric: *metric, LowerBetter: *lowerBetter,
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

// candidate is one -int8 candidate: its name and files (several for the
// shards of a sharded run).
type candidate struct {
	name  string
	files []string
}

// candidateNames splits each -int8 value into a name and files. A value
// that names an existing file is a file; otherwise NAME=FILES is split at
// the first "=". FILES is a file, a comma-separated list or a glob (see
// expandInputs); a NAME given again adds shards to that candidate.
// Unnamed candidates are called "int8" when alone, and by their (first)
// file's base name without extension otherwise.
func candidateNames(values []string) ([]candidate, error) {
	var cands []candidate
	index := map[string]int{}
	for _, v := range values {
		name, spec := "", v
		if _, statErr := os.Stat(v); statErr != nil {
			if n, f, ok := strings.Cut(v, "="); ok && n != "" && !strings.ContainsAny(n, `/\*?[`) {
				name, spec = n, f
			}
		}
		if spec == "" {
			return nil, usagef("-int8 %q names no file", v)
		}
		files, err := expandInputs(spec)
		if err != nil {
			return nil, err
		}
		if name == "" {
			name = "int8"
			if len(values) > 1 {
				name = strings.TrimSuffix(filepath.Base(files[0]), ".gz")
				name = strings.TrimSuffix(name, filepath.Ext(name))
			}
			if _, seen := index[name]; name == "fp32" || seen {
				return nil, usagef("candidate name %q used twice (name them with -int8 NAME=FILE; NAME=FILE repeated adds shards)", name)
			}
		} else if name == "fp32" {
			return nil, usagef("candidate name \"fp32\" is the baseline's")
		}
		if i, seen := index[name]; seen {
			cands[i].files = append(cands[i].files, files...)
		} else {
			index[name] = len(cands)
			cands = append(cands, candidate{name: name, files: files})
		}
	}
	for _, c := range cands {
		if err := checkTwice(c.files, c.name); err != nil {
			return nil, err
		}
	}
	return cands, nil
}

// expandInputs returns the files of one -fp32 or -int8 value: the value
// itself when it names a file (or is - for stdin), else its
// comma-separated parts, each a file or a glob (sorted; one that matches
// nothing is an error).
func expandInputs(v string) ([]string, error) {
	if v == "-" {
		return []string{v}, nil
	}
	if _, err := os.Stat(v); err == nil {
		return []string{v}, nil
	}
	var files []string
	for _, part := range strings.Split(v, ",") {
		if part == "" {
			return nil, usagef("empty file name in %q", v)
		}
		if _, err := os.Stat(part); err == nil || !strings.ContainsAny(part, "*?[") {
			files = append(files, part)
			continue
		}
		m, err := filepath.Glob(part)
		if err != nil {
			return nil, usagef("bad pattern %q: %v", part, err)
		}
		if len(m) == 0 {
			return nil, fmt.Errorf("%s: no file matches", part)
		}
		files = append(files, m...)
	}
	return files, nil
}

// checkTwice refuses a file given twice for one side: its ids would all be
// duplicates.
func checkTwice(files []string, side string) error {
	seen := map[string]bool{}
	for _, f := range files {
		key := filepath.Clean(f)
		if seen[key] {
			return usagef("%s given twice for %s", f, side)
		}
		seen[key] = true
	}
	return nil
}
