package main

import (
	"fmt"
	"os"
	"path/filepath"

	"qcal/internal/graphinfo"
	"qcal/internal/graphio"
	"qcal/internal/tfpb"
)

// loadGraphArg reads the graph at path (a GraphDef, a .meta MetaGraphDef or
// a SavedModel folder), or from stdin when path is "-".
func loadGraphArg(e *env, path string) (*tfpb.GraphDef, error) {
	if path != "-" {
		g, _, err := graphio.LoadModel(path)
		return g, err
	}
	g, _, err := graphio.Read(e.stdin, "<stdin>")
	return g, err
}

// checkDistinct returns a usage error when two of a command's inputs are
// the same: standard input ("-") twice, or one file under two names (the
// same path, or the same file through a link). "" entries are unset flags.
func checkDistinct(inputs ...string) error {
	type seen struct {
		name string
		info os.FileInfo
		abs  string
	}
	var prev []seen
	for _, in := range inputs {
		if in == "" {
			continue
		}
		cur := seen{name: in}
		if in != "-" {
			cur.abs, _ = filepath.Abs(in)
			cur.info, _ = os.Stat(in)
		}
		for _, p := range prev {
			same := in == "-" && p.name == "-" ||
				in != "-" && p.name != "-" && (cur.abs == p.abs || cur.info != nil && p.info != nil && os.SameFile(cur.info, p.info))
			if same {
				what := "standard input (-)"
				if in != "-" {
					what = in
					if p.name != in {
						what = fmt.Sprintf("%s (the same file as %s)", in, p.name)
					}
				}
				return usagef("%s is given twice as an input", what)
			}
		}
		prev = append(prev, cur)
	}
	return nil
}

// checkGraph runs the graph checks every command applies to a graph it

// reads or writes: errors (missing input nodes, cycles, duplicate names...:

// graphs TF refuses to run) fail the command when fatal is set, and are

// warnings otherwise; warnings (TF still runs the graph) are printed.
func checkGraph(e *env, name string, g *tfpb.GraphDef, fatal bool) error {
	p := graphinfo.Check(g)
	if fatal {
		if err := p.Err(); err != nil {
			return fmt.Errorf("%s: invalid graph: %w", name, err)
		}
	}
	warnProblems(e, name, p)
	return nil
}

// warnProblems prints what graphinfo.Check found as warnings.
func warnProblems(e *env, name string, p *graphinfo.Problems) {
	for _, x := range p.Errors {
		fmt.Fprintf(e.stderr, "qcal: warning: %s: %s\n", name, x.Message)
	}
	for _, x := range p.Warnings {
		fmt.Fprintf(e.stderr, "qcal: warning: %s: %s\n", name, x.Message)
	}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// outputFormat picks the GraphDef format from -format or the output name.
func outputFormat(flagValue, out string) (graphio.Format, error) {
	switch flagValue {
	case "":
		return graphio.FormatForPath(out), nil
	case "binary", "pb":
		return graphio.Binary, nil
	case "text", "pbtxt":
		return graphio.Text, nil
	}
	return 0, usagef("unknown -format %q (want binary or text)", flagValue)
}
