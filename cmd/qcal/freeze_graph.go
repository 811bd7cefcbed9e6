package main

import (
	"fmt"
	"strings"

	"qcal/internal/atomicfile"
	"qcal/internal/graphio"
	"qcal/internal/rewrite/freezegraph"
)

// runFreezeGraph is TensorFlow's freeze_graph.py: checkpoint variables
// become Consts, and the graph is pruned to the output nodes. The flags keep
// freeze_graph.py's names, so `--input_graph=g.pb --input_binary=true ...`
// command lines work unchanged.
func runFreezeGraph(e *env, args []string) error {
	fs := newFlags(e, "freeze-graph")
	inGraph := fs.String("input_graph", "", "GraphDef to freeze, binary or text (the format is detected)")
	fs.Bool("input_binary", false, "accepted for freeze_graph.py compatibility; the input format is detected from the bytes")
	inCkpt := fs.String("input_checkpoint", "", "V2 checkpoint: prefix, .index file, or directory with a checkpoint state file")
	inMeta := fs.String("input_meta_graph", "", "MetaGraphDef (.meta) whose graph to freeze, instead of -input_graph")
	inSaved := fs.String("input_saved_model_dir", "", "SavedModel directory whose graph and variables/ to freeze, instead of -input_graph")
	tags := fs.String("saved_model_tags", "", "comma-separated tags of the SavedModel meta graph (default: the only one, or \"serve\")")
	outputs := fs.String("output_node_names", "", "comma-separated names of the nodes the frozen graph must compute")
	out := fs.String("output_graph", "", "frozen GraphDef to write (.pbtxt for text; - for stdout)")
	format := fs.String("format", "", "output format: binary or text (default: from -output_graph's name)")
	clear := fs.Bool("clear_devices", true, "clear the device field of every node")
	white := fs.String("variable_names_whitelist", "", "comma-separated variable names to convert (default: all)")
	black := fs.String("variable_names_blacklist", "", "comma-separated variable names to leave as variables")
	initNodes := fs.String("initializer_nodes", "", "not supported: qcal runs no initializers; must be empty")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments %q; every input is a flag", fs.Args())
	}
	given := 0
	for _, s := range []string{*inGraph, *inMeta, *inSaved} {
		if s != "" {
			given++
		}
	}
	switch {
	case given == 0:
		return usagef("give the graph with -input_graph, -input_meta_graph or -input_saved_model_dir")
	case given > 1:
		return usagef("give only one of -input_graph, -input_meta_graph and -input_saved_model_dir")
	case *inSaved == "" && *inCkpt == "":
		return usagef("-input_checkpoint is required with -input_graph and -input_meta_graph")
	case splitList(*outputs) == nil:
		return usagef("you need to supply the name of a node to -output_node_names")
	case *out == "":
		return usagef("-output_graph is required")
	case *initNodes != "":
		return usagef("-initializer_nodes is not supported: qcal takes every value from the checkpoint")
	}
	f, err := outputFormat(*format, *out)
	if err != nil {
		return err
	}
	if err := graphio.CheckNotInput(*out, []string{*inGraph, *inMeta}); err != nil {
		return err
	}

	src, err := freezegraph.Open(freezegraph.Input{
		Graph: *inGraph, MetaGraph: *inMeta, SavedModelDir: *inSaved, Tags: splitList(*tags), Checkpoint: *inCkpt,
	})
	if err != nil {
		return err
	}
	defer src.Close()
	// The checkpoint's files are known now; refuse before freezing.
	if err := graphio.CheckNotInput(*out, src.Files); err != nil {
		return err
	}
	res, err := freezegraph.Freeze(src.Graph, src.Checkpoint, freezegraph.Options{
		Outputs:      splitList(*outputs),
		ClearDevices: *clear,
		Whitelist:    splitList(*white),
		Blacklist:    splitList(*black),
	})
	if err != nil {
		return fmt.Errorf("%s: %w", src.Files[0], err)
	}
	if err := checkGraph(e, "frozen graph", res.Graph, true); err != nil {
		return fmt.Errorf("%s: %w", src.Files[0], err)
	}
	if atomicfile.IsStdout(*out) {
		err = graphio.Write(e.stdout, res.Graph, f)
	} else {
		err = graphio.Save(*out, res.Graph, f, src.Files...)
	}
	if err != nil {
		return err
	}
	// freeze_graph.py's two closing lines.
	fmt.Fprintf(e.stderr, "qcal: Converted %d variables to const ops.\n", len(res.Converted))
	fmt.Fprintf(e.stderr, "qcal: %d ops in the final graph.\n", len(res.Graph.GetNode()))
	return nil
}

// splitList splits a comma-separated flag value, dropping spaces and empty
// items as freeze_graph.py does; "" gives nil.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(strings.ReplaceAll(s, " ", ""), ",") {
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}
