package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"qcal/internal/calib"
	"qcal/internal/graphio"
	"qcal/internal/synth"
	"qcal/internal/tfname"
	"qcal/report"
)

// runDemo runs qcal's main job on a built-in example: it writes a small
// quantized graph with TensorFlow's eightbit node names and the log a
// calibration run of it would print, freezes the logged ranges into the
// graph, and prints the ranges table.
func runDemo(e *env, args []string) error {
	fs := newFlags(e, "demo")
	dir := fs.String("dir", "", "directory for the example's files (default: a new temporary directory)")
	batches := fs.Int("batches", 40, "calibration batches in the generated log")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("unexpected arguments: %v", fs.Args())
	}
	if *batches < 1 {
		return usagef("-batches must be at least 1")
	}
	if *dir == "" {
		d, err := os.MkdirTemp("", "qcal-demo-")
		if err != nil {
			return err
		}
		*dir = d
	} else if err := os.MkdirAll(*dir, 0o755); err != nil {
		return err
	}
	layers := synth.DemoLayers()
	graphPath := filepath.Join(*dir, "quantized_dynamic_range_graph.pb")
	logPath := filepath.Join(*dir, "min_max_log.txt")
	outPath := filepath.Join(*dir, "freezed_range_graph.pb")

	if err := graphio.Save(graphPath, synth.Graph(layers), graphio.Binary); err != nil {
		return err
	}
	var log bytes.Buffer
	if _, err := synth.Log(&log, layers, synth.LogOptions{Batches: *batches, Seed: 1, JoinEvery: 97, Noise: true, Outliers: true}); err != nil {
		return err
	}
	if err := graphio.WriteFile(logPath, log.Bytes()); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Built-in example in %s:\n  %s  (%d RequantizationRange nodes)\n  %s  (%d batches, as inference with insert-logging prints it)\n\n",
		*dir, filepath.Base(graphPath), len(layers), filepath.Base(logPath), *batches)
	fmt.Fprintf(e.stdout, "$ qcal freeze -graph %s -log %s -o %s\n", graphPath, logPath, outPath)
	if err := runFreeze(e, []string{"-graph", graphPath, "-log", logPath, "-o", outPath}); err != nil {
		return err
	}
	// Show the ranges that were frozen, as `qcal ranges` prints them.
	cal, err := readCalibFlags(&env{stdin: e.stdin, stdout: e.stdout, stderr: discard{}}, []string{logPath}, &calibFlags{strategy: "tf", minPct: 5, maxPct: 5}, calib.FailBad)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "\n$ qcal ranges %s\n", logPath)
	doc := report.NewRangesDoc(cal.MethodNames(), cal.Logs, cal.Counts.Records, cal.Ranges(cal.Methods[0]))
	if err := report.Write(e.stdout, doc, report.Text); err != nil {
		return err
	}
	g, _, err := graphio.Load(outPath)
	if err != nil {
		return err
	}
	consts := 0
	for _, n := range g.GetNode() {
		if n.GetOp() == "Const" && len(n.GetName()) > len("/frozen_min") {
			if filepath.Base(n.GetName()) == "frozen_min" || filepath.Base(n.GetName()) == "frozen_max" {
				consts++
			}
		}
	}
	left := 0
	for _, n := range g.GetNode() {
		if n.GetOp() == tfname.OpRequantizationRange {
			left++
		}
	}
	fmt.Fprintf(e.stdout, "\n%s: %d RequantizationRange nodes replaced by %d frozen Consts, %d left dynamic.\n",
		filepath.Base(outPath), len(layers)-left, consts, left)

	// The audit of the same log and graph: findings, plots, one HTML file.
	auditPath := filepath.Join(*dir, "audit.html")
	fmt.Fprintf(e.stdout, "\n$ qcal audit -graph %s -o %s %s\n", graphPath, auditPath, logPath)
	if err := runAudit(e, []string{"-graph", graphPath, "-o", auditPath, logPath}); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Audit report (open it in a browser): %s\n", auditPath)
	return nil
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
