package main

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"qcal/internal/atomicfile"
	"qcal/internal/calib"
	"qcal/internal/exec"
	"qcal/internal/graphinfo"
	"qcal/internal/graphio"
	"qcal/internal/rewrite/transform"
	"qcal/stats"
)

// transformEvaluator computes constants for fold_constants with qcal's
// executor.
var transformEvaluator transform.ConstEvaluator = exec.ConstFolder{}

func runTransform(e *env, args []string) error {
	fs := newFlags(e, "transform")
	in := fs.String("in_graph", "", "GraphDef to transform (binary or text; - for stdin)")
	out := fs.String("out_graph", "", "output GraphDef (.pbtxt for text; - for stdout)")
	inputs := fs.String("inputs", "", "comma-separated input nodes (fed; strip_unused_nodes turns them into Placeholders)")
	outputs := fs.String("outputs", "", "comma-separated output nodes (what strip_unused_nodes and fold_constants keep)")
	spec := fs.String("transforms", "", "transforms to run in order, in transform_graph's syntax: 'strip_unused_nodes(type=float, shape=\"1,28,28,1\") fold_constants fold_batch_norms'")
	asText := fs.Bool("output_as_text", false, "write the graph in text format (TF's flag; same as -format text)")
	format := fs.String("format", "", "output format: binary or text (default: from -out_graph's name)")
	list := fs.Bool("list", false, "list the transforms and their arguments, and exit")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *list {
		for _, t := range transform.Transforms() {
			fmt.Fprintf(e.stdout, "%s(%s)\n    %s\n", t.Name, strings.Join(slices.Concat(t.Args, []string{"ignore_errors"}), ", "), t.Summary)
		}
		return nil
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q (give the graph with -in_graph)", fs.Arg(0))
	}
	switch {
	case *in == "":
		return usagef("-in_graph is required")
	case *out == "":
		return usagef("-out_graph is required")
	case strings.TrimSpace(*spec) == "":
		return usagef("-transforms is required: at least one transform (qcal transform -list shows them)")
	}
	steps, err := transform.Parse(*spec)
	if err != nil {
		return &usageError{err.Error()}
	}
	if len(steps) == 0 {
		return usagef("-transforms is required: at least one transform")
	}
	if err := transform.Check(steps); err != nil {
		return &usageError{err.Error()}
	}
	var logs []string
	for _, s := range steps {
		logs = append(logs, s.Values("min_max_log_file")...)
	}
	if *asText {
		if *format != "" && *format != "text" && *format != "pbtxt" {
			return usagef("-output_as_text contradicts -format %s", *format)
		}
		*format = "text"
	}
	f, err := outputFormat(*format, *out)
	if err != nil {
		return err
	}
	if err := checkDistinct(append([]string{*in}, logs...)...); err != nil {
		return err
	}
	if err := graphio.CheckNotInput(*out, append([]string{*in}, logs...)); err != nil {
		return err
	}
	g, err := loadGraphArg(e, *in)
	if err != nil {
		return err
	}
	if err := checkGraph(e, *in, g, true); err != nil {
		return err
	}
	opt := transform.Options{
		Inputs:    splitNames(*inputs),
		Outputs:   splitNames(*outputs),
		Evaluator: transformEvaluator,
		Ranges:    logRanges{e},
	}
	result, steps2, err := transform.Apply(g, steps, opt)
	if err != nil {
		return fmt.Errorf("%s: %w", *in, err)
	}
	for _, r := range steps2 {
		if r.Ignored != nil {
			fmt.Fprintf(e.stderr, "qcal: warning: %s: error ignored (ignore_errors=true), graph passed on unchanged: %v\n", r.Step.Name, r.Ignored)
		}
		for i, n := range r.Notes {
			if i == maxNotes {
				fmt.Fprintf(e.stderr, "qcal: %s: (and %d more notes)\n", r.Step.Name, len(r.Notes)-i)
				break
			}
			fmt.Fprintf(e.stderr, "qcal: %s: %s\n", r.Step.Name, n)
		}
	}
	warnProblems(e, *out, graphinfo.Check(result))
	if atomicfile.IsStdout(*out) {
		err = graphio.Write(e.stdout, result, f)
	} else {
		err = graphio.Save(*out, result, f, append([]string{*in}, logs...)...)
	}
	if err != nil {
		return err
	}
	var parts []string
	for _, r := range steps2 {
		parts = append(parts, fmt.Sprintf("%s %d", r.Step.Name, r.Changed))
	}
	fmt.Fprintf(e.stderr, "qcal: transform: nodes changed: %s; %d nodes (from %d) written to %s\n",
		strings.Join(parts, ", "), len(result.GetNode()), len(g.GetNode()), *out)
	return nil
}

// splitNames splits a comma-separated flag, as TensorFlow's str_util::Split
// does but without empty names.
func splitNames(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// logRanges reads freeze_requantization_ranges' min_max_log_file with the
// calibration pipeline of `qcal freeze` (TF's percentile strategy).
type logRanges struct{ e *env }

func (r logRanges) ReadRanges(path string, minPct, maxPct float32) ([]stats.Range, error) {
	start := time.Now()
	cf := calibFlags{strategy: "tf", minPct: float64(minPct), maxPct: float64(maxPct)}
	cal, err := readCalibFlags(r.e, []string{path}, &cf, calib.FailBad)
	if err != nil {
		return nil, err
	}
	printSummary(r.e, cal, false, start)
	return cal.Ranges(cal.Methods[0]), nil
}

// maxNotes is how many notes of one transform are printed before the rest
// are counted.
const maxNotes = 5
