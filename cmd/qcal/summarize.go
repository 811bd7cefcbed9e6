package main

import (
	"fmt"

	"qcal/internal/graphinfo"
	"qcal/report"
)

func runSummarize(e *env, args []string) error {
	fs := newFlags(e, "summarize")
	format := fs.String("format", "text", "output format: text, json, or tf (exactly what TF's summarize_graph prints, up to its op types line)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("want one graph file (- for stdin), got %d argument(s)", fs.NArg())
	}
	f, err := pickFormat(*format, "", report.SummaryDoc{})
	if err != nil {
		return err
	}
	path := fs.Arg(0)
	g, err := loadGraphArg(e, path)
	if err != nil {
		return err
	}
	s := graphinfo.Summarize(g)
	warnProblems(e, path, &s.Checks.Problems)
	if err := report.Write(e.stdout, report.SummaryDoc{Summary: s}, f); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
