package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"time"

	"qcal/internal/atomicfile"
	"qcal/internal/dataset"
	"qcal/internal/evaluate"
	"qcal/internal/exec"
	"qcal/internal/kernels"
)

// evalFlags are the flags of every command that runs a graph over a data
// set (eval, calibrate): the data set, its preprocessing, the tensors.
type evalFlags struct {
	graph, data, input, output string
	labelOffset, workers       int
	data0                      dataset.Options
	// sampleBatches, when > 0, draws that many batches' worth of examples
	// at random (seeded by seed) instead of reading the data set in order.
	sampleBatches int
	seed          uint64
	// eigen selects TensorFlow's reference int8 kernels (-int8-kernels).
	eigen bool
}

// useKernels sets the int8 kernels the flags chose for this command and
// returns the function that restores the default (the options are
// package-wide in internal/kernels).
func (f *evalFlags) useKernels() func() {
	if !f.eigen {
		return func() {}
	}
	kernels.SetInt8Options(kernels.Int8Options{EigenQuantizeV2: true, EigenAvgPool: true})
	return func() { kernels.SetInt8Options(kernels.Int8Options{}) }
}

// register defines the flags on fs: the graph, the data set and its
// preprocessing; with scores, also those that read class scores.
func (f *evalFlags) register(fs *flag.FlagSet, scores bool) {
	fs.StringVar(&f.graph, "graph", "", "frozen GraphDef to run (binary or text)")
	fs.StringVar(&f.data, "data", "", "data set: IDX file, NPY file, folder of images, TFRecord file or glob of shards")
	fs.StringVar(&f.input, "input", "", "Placeholder fed with the data (default: the graph's only Placeholder)")
	if scores {
		fs.StringVar(&f.output, "output", "", "tensor read as class scores [n, classes] (default: the graph's only output)")
		fs.IntVar(&f.labelOffset, "label-offset", 0, "subtract from each predicted index before comparing with the label (1 for a background class at output 0)")
		fs.IntVar(&f.workers, "workers", 0, "batches run at once (default: one a core)")
	}
	fs.Func("int8-kernels", "int8 arithmetic: mkl (Intel's kernels, what the workflow's graphs run on; default) or eigen (TensorFlow's reference kernels: QuantizeV2 SCALED and QuantizedAvgPool differ)", func(s string) error {
		if s != "mkl" && s != "eigen" {
			return fmt.Errorf("want mkl or eigen, got %q", s)
		}
		f.eigen = s == "eigen"
		return nil
	})
	f.data0.RegisterFlags(fs)
}

// open loads the graph and the data set, the data laid out to the input's
// shape unless -input-shape says otherwise.
func (f *evalFlags) open() (*exec.Graph, exec.Input, *dataset.Stream, error) {
	if f.graph == "" {
		return nil, exec.Input{}, nil, usagef("-graph is required")
	}
	if f.data == "" {
		return nil, exec.Input{}, nil, usagef("-data is required")
	}
	gr, err := exec.Load(f.graph)
	if err != nil {
		return nil, exec.Input{}, nil, err
	}
	in, err := evaluate.PickInput(gr, f.input)
	if err != nil {
		return nil, exec.Input{}, nil, err
	}
	opt := evaluate.DataOptions(in, f.data0)
	if f.sampleBatches > 0 {
		bs := opt.BatchSize
		if bs == 0 {
			bs = opt.Shape[0]
		}
		opt.Sample, opt.Seed = f.sampleBatches*bs, f.seed
	}
	src, err := dataset.Open(f.data, opt)
	if err != nil {
		return nil, exec.Input{}, nil, err
	}
	return gr, in, src, nil
}

func runEval(e *env, args []string) error {
	fs := newFlags(e, "eval")
	var ef evalFlags
	ef.register(fs, true)
	out := fs.String("o", "", "write per-example predictions here (CSV: id,label,prediction,top5,score), for qcal report")
	format := fs.String("format", "text", "summary on stdout: text (the IntelAI line qcal report reads) or json")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments %q", fs.Args())
	}
	if *format != "text" && *format != "json" {
		return usagef("-format %q: want text or json", *format)
	}
	if *out == "-" || *out == "/dev/stdout" {
		return usagef("-o names the predictions file; the accuracy goes to standard output")
	}
	var pred *atomicfile.File
	if *out != "" {
		var err error
		if pred, err = atomicfile.Create(*out, ef.graph, ef.data, ef.data0.Labels); err != nil {
			return err
		}
		defer pred.Abort()
	}
	gr, _, src, err := ef.open()
	if err != nil {
		return err
	}
	defer src.Close()
	defer ef.useKernels()()
	bar := newCountBar(e.stderr, "qcal eval:", ef.data0.Limit)
	opt := evaluate.Options{Input: ef.input, Output: ef.output, LabelOffset: ef.labelOffset, Workers: ef.workers, Progress: bar.set}
	if pred != nil {
		opt.Predictions = pred
	}
	start := time.Now()
	res, err := evaluate.Run(gr, src, opt)
	bar.done()
	if err != nil {
		return err
	}
	if res.N == 0 {
		return fmt.Errorf("%s: the data set gave no example", ef.data)
	}
	if pred != nil {
		if err := pred.Commit(); err != nil {
			return err
		}
	}
	took := time.Since(start)
	if err := writeEvalResult(e.stdout, *format, ef.graph, res); err != nil {
		return err
	}
	where := ""
	if pred != nil {
		where = "; predictions in " + pred.Name()
	}
	fmt.Fprintf(e.stderr, "qcal eval: %d examples (%d labelled) through %s → %s in %.1f s, %.0f examples/s%s\n",
		res.N, res.Labeled, res.Input, res.Output, took.Seconds(), float64(res.N)/took.Seconds(), where)
	return nil
}

// writeEvalResult prints the accuracy: the IntelAI line qcal report reads
// (top-5 only with at least five classes), or a JSON object.
func writeEvalResult(w io.Writer, format, graph string, res *evaluate.Result) error {
	top5 := res.Classes >= 5
	if format == "json" {
		doc := struct {
			Graph   string   `json:"graph"`
			Input   string   `json:"input"`
			Output  string   `json:"output"`
			N       int      `json:"n"`
			Labeled int      `json:"labeled"`
			Classes int      `json:"classes"`
			Top1    *float64 `json:"top1"`
			Top5    *float64 `json:"top5,omitempty"`
		}{Graph: graph, Input: res.Input, Output: res.Output, N: res.N, Labeled: res.Labeled, Classes: res.Classes}
		if res.Labeled > 0 {
			t1 := res.Top1Accuracy()
			doc.Top1 = &t1
			if top5 {
				t5 := res.Top5Accuracy()
				doc.Top5 = &t5
			}
		}
		b, err := json.MarshalIndent(doc, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	}
	if res.Labeled == 0 {
		_, err := fmt.Fprintf(w, "Processed %d images (no labels: no accuracy).\n", res.N)
		return err
	}
	var err error
	if top5 {
		_, err = fmt.Fprintf(w, "Processed %d images. (Top1 accuracy, Top5 accuracy) = (%.4f, %.4f)\n", res.Labeled, res.Top1Accuracy(), res.Top5Accuracy())
	} else {
		_, err = fmt.Fprintf(w, "Processed %d images. (Top1 accuracy) = (%.4f)\n", res.Labeled, res.Top1Accuracy())
	}
	return err
}
