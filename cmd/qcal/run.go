package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"

	"qcal/report"
)

// env is what a command gets from the process: its standard streams.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

// command is one qcal subcommand.
type command struct {
	name, args, short string
	run               func(e *env, args []string) error
}

var commands []*command

func init() {
	commands = []*command{
		{"demo", "[-dir DIR]", "run the calibration workflow on a built-in example and print the ranges", runDemo},
		{"freeze-graph", "-input_graph G.pb|-input_meta_graph M.meta|-input_saved_model_dir DIR [-input_checkpoint CKPT] -output_node_names A,B -output_graph OUT.pb", "turn checkpoint variables into Consts and prune to the outputs (TF's freeze_graph.py)", runFreezeGraph},
		{"freeze", "-graph G.pb -log LOG [-log LOG2] -o OUT.pb", "freeze logged ranges into a quantized graph (TF's freeze_requantization_ranges)", runFreeze},
		{"ranges", "[-strategy S] [-format text|csv|json|markdown] LOG...", "print per-node ranges computed from calibration logs", runRanges},
		{"audit", "[-graph G.pb] [-strategy S[,S2...]] [-against OLD.log] [-plots DIR] [-fp32 G.pb -int8 G.pb -data D] [-format text|markdown|csv|json|html] [-o FILE] [LOG...]", "judge per-node ranges: spread, outliers, convergence, graph checks, drift; per-layer int8 error; tables, plots, HTML", runAudit},
		{"convert", "[-format binary|text] [-sort] IN OUT", "convert a GraphDef between binary and text format, optionally in execution order", runConvert},
		{"summarize", "[-format text|json|tf] [-graph] GRAPH", "describe a graph: inputs, outputs, op counts (TF's summarize_graph), quantization, checks", runSummarize},
		{"insert-logging", "-graph G.pb -o OUT.pb [-op OP]... [-prefix P]... [-message M] [-preset minmax]", "add Print nodes that log RequantizationRange outputs (TF's insert_logging)", runInsertLogging},
		{"eval", "-graph G.pb -data DATA [-labels L] [-input X] [-output Y] [-batch 64] [-limit N] [-shard K/N] [-scale 1/255] [-mean M] [-resize HxW] [-o predictions.csv]", "run a graph over a data set: top-1/top-5 and per-example predictions for qcal report", runEval},
		{"calibrate", "-graph LOGGED.pb -data DATA [-batches 10] [-batch 64] [-scale 1/255] [-mean M] ... -o min_max_log.txt", "run a graph with Print nodes on a calibration subset and write the log TF would print", runCalibrate},
		{"tune", "-graph G.pb -calib DATA -eval DATA [-labels L] [-max-drop 0.5] [-strategies S,...] [-batches 10] [-o best.pb] [-report tune.html] [-per-channel=auto|true|false] [-round-weights=true] [-eval-memory 1GiB] [-cache DIR] [-cache-max 1GiB] [-no-cache] [eval's preprocessing flags]", "quantize, calibrate once, and keep the strategy whose int8 graph measurably loses least accuracy", runTune},
		{"transform", "-in_graph G.pb -out_graph OUT.pb -transforms 'T1 T2(arg=v)' [-inputs A,B] [-outputs Y] [-list]", "run TensorFlow graph transforms by name (TF's transform_graph)", runTransform},
		{"quantize", "-graph G.pb -outputs NAMES -o OUT.pb [-intel=false] [-per-channel] [-round-weights] [-model-name M] [-fallback-min A -fallback-max B]", "quantize an FP32 graph (quantize_graph.py --mode=eightbit, Intel or plain path)", runQuantize},
		{"report", "-fp32 FILE[,FILE|GLOB]... -int8 [NAME=]FILE[,FILE|GLOB]... [-metric NAME] [-lower-better] [-relative] [-max-drop 0.5] [-warn-drop 1] [-min-coverage 99] [-format text|markdown|json|html] [-o FILE]", "compare FP32 and int8 accuracy with the 0.5-1% target; exit status 1 when int8 fails", runReport},
	}
}

// usageError is a mistake in the command line: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return &usageError{fmt.Sprintf(format, a...)} }

// run executes qcal with the given arguments and returns the exit status:
// 0 ok, 1 failure, 2 usage error.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" {
		if len(args) > 1 {
			if c := lookup(args[1]); c != nil {
				c.run(e, []string{"-h"})
				return 0
			}
		}
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	c := lookup(args[0])
	if c == nil {
		fmt.Fprintf(stderr, "qcal: unknown command %q\n", args[0])
		usage(stderr)
		return 2
	}
	err := c.run(e, args[1:])
	var ue *usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "qcal %s: %v\nusage: qcal %s %s\n", c.name, err, c.name, c.args)
		return 2
	default:
		fmt.Fprintf(stderr, "qcal %s: %v\n", c.name, err)
		return 1
	}
}

func lookup(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "qcal calibrates int8 TensorFlow graphs from calibration logs.\n\nusage: qcal COMMAND [flags] [files]\n\ncommands:\n")
	cs := append([]*command(nil), commands...)
	sort.Slice(cs, func(i, j int) bool { return cs[i].name < cs[j].name })
	width := 0
	for _, c := range cs {
		width = max(width, len(c.name))
	}
	for _, c := range cs {
		fmt.Fprintf(w, "  %-*s  %s\n", width, c.name, c.short)
	}
	fmt.Fprintf(w, "\nRun 'qcal help COMMAND' for a command's flags.\n")
}

// newFlags returns a fresh FlagSet for a command whose errors and usage go
// to the command's stderr.
func newFlags(e *env, c string) *flag.FlagSet {
	fs := flag.NewFlagSet(c, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	cmd := lookup(c)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "usage: qcal %s %s\n\n%s.\n\nflags:\n", c, cmd.args, strings.ToUpper(cmd.short[:1])+cmd.short[1:])
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args; a bad flag is a usage error (already printed).
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &usageError{err.Error()}
	}
	return nil
}

// pickFormat picks a command's output format from -format or the output
// file's name among the formats doc renders (report.PickFormat); a bad
// -format is a usage error.
func pickFormat(flagValue, out string, doc any) (report.Format, error) {
	f, err := report.PickFormat(flagValue, out, report.Formats(doc))
	if err != nil {
		return "", &usageError{err.Error()}
	}
	return f, nil
}

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }
