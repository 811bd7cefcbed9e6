package main

import (
	"fmt"

	"qcal/internal/graphinfo"
	"qcal/report"
)

func runSummarize(e *env, args []string) error {
	fs := newFlags(e, "summarize")
	format := fs.String("format", "text", "output format: text, json, or tf (exactly what TF's summarize_graph prints, up to its op types line)")
	graph := fs.String("graph", "", "the graph (TF's --in_graph; the other commands' -graph): also accepted as the argument")
	fs.StringVar(graph, "in_graph", "", "same as -graph")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case *graph != "" && fs.NArg() == 0:
	case *graph == "" && fs.NArg() == 1:
		*graph = fs.Arg(0)
	default:
		return usagef("want one graph file (- for stdin), as -graph or an argument; got %d argument(s)", fs.NArg()+min(len(*graph), 1))
	}
	f, err := pickFormat(*format, "", report.SummaryDoc{})
	if err != nil {
		return err
	}
	path := *graph
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
