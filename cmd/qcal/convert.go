package main

import (
	"fmt"

	"qcal/internal/atomicfile"
	"qcal/internal/graphinfo"
	"qcal/internal/graphio"
)

func runConvert(e *env, args []string) error {
	fs := newFlags(e, "convert")
	format := fs.String("format", "", "output format: binary or text (default: from OUT's name, .pbtxt is text)")
	sortNodes := fs.Bool("sort", false, "order the nodes as TF's graph transforms do (SortByExecutionOrder)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return usagef("want an input and an output file, got %d argument(s)", fs.NArg())
	}
	in, out := fs.Arg(0), fs.Arg(1)
	f, err := outputFormat(*format, out)
	if err != nil {
		return err
	}
	if err := graphio.CheckNotInput(out, []string{in}); err != nil {
		return err
	}
	g, err := loadGraphArg(e, in)
	if err != nil {
		return err
	}
	// A broken graph may still be converted (to text, to be mended by hand).
	if err := checkGraph(e, in, g, false); err != nil {
		return err
	}
	if *sortNodes {
		if g, err = graphinfo.SortByExecutionOrder(g); err != nil {
			return fmt.Errorf("%s: %w", in, err)
		}
	}
	if atomicfile.IsStdout(out) {
		return graphio.Write(e.stdout, g, f)
	}
	return graphio.Save(out, g, f, in)
}
