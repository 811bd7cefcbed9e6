package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"time"

	"qcal/internal/atomicfile"
	"qcal/internal/evaluate"
)

func runCalibrate(e *env, args []string) error {
	fs := newFlags(e, "calibrate")
	var ef evalFlags
	ef.register(fs, false)
	batches := fs.Int("batches", 10, "run the first `N` batches of the data set (0: all of it)")
	out := fs.String("o", "", "write the calibration log (what the Print nodes print) here; - for stdout")
	seed := fs.Uint64("seed", 0, "draw the -batches batches' examples at random from the whole data set with this `seed`, instead of taking the first ones")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	seeded := false
	fs.Visit(func(f *flag.Flag) { seeded = seeded || f.Name == "seed" })
	if seeded {
		if *batches == 0 {
			return usagef("-seed draws -batches batches at random: give -batches too")
		}
		ef.sampleBatches, ef.seed = *batches, *seed
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments %q", fs.Args())
	}
	if *out == "" {
		return usagef("-o is required (the calibration log; - for stdout)")
	}
	if *batches < 0 {
		return usagef("-batches %d: want 0 (all) or more", *batches)
	}
	var w io.Writer = e.stdout
	var log *atomicfile.File
	if !atomicfile.IsStdout(*out) {
		var err error
		if log, err = atomicfile.Create(*out, ef.graph, ef.data, ef.data0.Labels); err != nil {
			return err
		}
		defer log.Abort()
		w = log
	}
	gr, _, src, err := ef.open()
	if err != nil {
		return err
	}
	defer src.Close()
	defer ef.useKernels()()
	if gr.CountOps("Print") == 0 {
		return fmt.Errorf("%s: the graph has no Print node, so a run would log nothing; add them with qcal insert-logging", ef.graph)
	}
	total := 0
	if *batches > 0 && ef.data0.BatchSize > 0 {
		total = *batches * ef.data0.BatchSize
	}
	bar := newCountBar(e.stderr, "qcal calibrate:", total)
	bw := bufio.NewWriterSize(w, 1<<16)
	lines := &lineCounter{w: bw}
	start := time.Now()
	n, nb, err := evaluate.Calibrate(gr, src, evaluate.CalibrateOptions{Input: ef.input, Batches: *batches, Log: lines, Progress: bar.set})
	bar.done()
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("%s: the data set gave no example", ef.data)
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if log != nil {
		if err := log.Commit(); err != nil {
			return err
		}
	}
	fmt.Fprintf(e.stderr, "qcal calibrate: %d examples in %d batches through %d Print nodes → %d log lines in %s (%.1f s)\n",
		n, nb, gr.CountOps("Print"), lines.n, *out, time.Since(start).Seconds())
	return nil
}

// lineCounter counts the lines written through it.
type lineCounter struct {
	w io.Writer
	n int
}

func (c *lineCounter) Write(p []byte) (int, error) {
	c.n += bytes.Count(p, []byte{'\n'})
	return c.w.Write(p)
}
