package main

import (
	"flag"
	"fmt"
	"slices"
	"strings"

	"qcal/internal/atomicfile"
	"qcal/internal/graphinfo"
	"qcal/internal/graphio"
	"qcal/internal/rewrite/insertlogging"
	"qcal/internal/tfname"
)

func runInsertLogging(e *env, args []string) error {
	fs := newFlags(e, "insert-logging")
	graph := fs.String("graph", "", "GraphDef to instrument (binary or text; - for stdin)")
	out := fs.String("o", "", "output GraphDef (.pbtxt for text; - for stdout)")
	format := fs.String("format", "", "output format: binary or text (default: from -o's name)")
	var ops, prefixes listFlag
	fs.Var(&ops, "op", "log nodes of this op (repeatable; default RequantizationRange and RequantizationRangePerChannel)")
	fs.Var(&prefixes, "prefix", "log only nodes whose name starts with this (repeatable)")
	def := insertlogging.DefaultOptions()
	message := fs.String("message", def.Message, "text ending each Print node's message; when logging ops other than RequantizationRange it defaults to none, as in TF")
	showName := fs.Bool("show-name", def.ShowName, "start the message with ;NAME__print__;")
	showOp := fs.Bool("show-op", def.ShowOp, "start the message with ;OP;")
	firstN := fs.Int("first-n", int(def.FirstN), "runs that log (-1: all)")
	summarize := fs.Int("summarize", int(def.Summarize), "elements printed per tensor (negative: all)")
	preset := fs.String("preset", "", "minmax: log Min ops with __min: and Max ops with __max: (two passes, as Intel's flow does)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q (give the graph with -graph)", fs.Arg(0))
	}
	if *graph == "" {
		return usagef("-graph is required")
	}
	if *out == "" {
		return usagef("-o is required")
	}
	if *firstN != int(int32(*firstN)) || *summarize != int(int32(*summarize)) {
		return usagef("-first-n and -summarize must fit in 32 bits")
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	base := insertlogging.Options{
		Ops: ops, Prefixes: prefixes, Message: *message, ShowName: *showName, ShowOp: *showOp,
		FirstN: int32(*firstN), Summarize: int32(*summarize),
	}
	if len(base.Ops) == 0 {
		base.Ops = def.Ops
	}
	if !set["message"] && slices.ContainsFunc(base.Ops, func(op string) bool { return !tfname.IsRequantizationRange(op) }) {
		// Records of other ops must not look like range records.
		base.Message = ""
	}
	passes := []insertlogging.Options{base}
	switch *preset {
	case "":
	case "minmax":
		if set["op"] || set["message"] {
			return usagef("-preset minmax sets the ops and messages; it cannot be combined with -op or -message")
		}
		passes = nil
		for _, p := range insertlogging.MinMaxOptions() {
			o := base
			o.Ops, o.Message = p.Ops, p.Message
			passes = append(passes, o)
		}
	default:
		return usagef("unknown -preset %q (want minmax)", *preset)
	}
	f, err := outputFormat(*format, *out)
	if err != nil {
		return err
	}
	if err := graphio.CheckNotInput(*out, []string{*graph}); err != nil {
		return err
	}
	g, err := loadGraphArg(e, *graph)
	if err != nil {
		return err
	}
	if err := checkGraph(e, *graph, g, true); err != nil {
		return err
	}
	logged, res, err := insertlogging.InsertPasses(g, passes)
	if err != nil {
		return fmt.Errorf("%s: %w", *graph, err)
	}
	warnProblems(e, *out, graphinfo.Check(logged))
	if atomicfile.IsStdout(*out) {
		err = graphio.Write(e.stdout, logged, f)
	} else {
		err = graphio.Save(*out, logged, f, *graph)
	}
	if err != nil {
		return err
	}
	var what []string
	for _, p := range passes {
		what = append(what, strings.Join(p.Ops, " or "))
	}
	if len(res.AlreadyLogged) > 0 {
		fmt.Fprintf(e.stderr, "qcal: %d node%s already logged (their __print__ node exists), left as they are: %s\n",
			len(res.AlreadyLogged), plural(len(res.AlreadyLogged)), tfname.List(res.AlreadyLogged, 5))
	}
	if len(res.Unconsumed) > 0 {
		fmt.Fprintf(e.stderr, "qcal: %d matching node%s skipped because nothing consumes their outputs: %s\n",
			len(res.Unconsumed), plural(len(res.Unconsumed)), tfname.List(res.Unconsumed, 5))
	}
	switch {
	case len(res.Logged) > 0 || len(res.AlreadyLogged) > 0:
	case len(res.Unconsumed) == 0:
		fmt.Fprintf(e.stderr, "qcal: warning: no node matched (op %s); the graph is written unchanged\n", strings.Join(what, "; "))
	default:
		fmt.Fprintf(e.stderr, "qcal: warning: nothing to log; the graph is written unchanged\n")
	}
	fmt.Fprintf(e.stderr, "qcal: logged %d node%s (op %s) into %s\n", len(res.Logged), plural(len(res.Logged)), strings.Join(what, "; "), *out)
	return nil
}
