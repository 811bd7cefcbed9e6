package evaluate

import (
	"bufio"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strconv"
	"sync"

	"qcal/internal/dataset"
	"qcal/internal/exec"
	"qcal/internal/tensor"
	"qcal/internal/tfpb"
)

// MaxTopK is the largest k a prediction lists (top-5, as qcal report scores).
const MaxTopK = 5

// Options say which tensors to feed and fetch, and what to do with the
// results.
type Options struct {
	// Input names the Placeholder fed with the data; empty takes the
	// graph's only Placeholder.
	Input string
	// Output names the tensor ("node" or "node:1") read as class scores,
	// shape [n, classes]; empty takes the graph's only output.
	Output string
	// LabelOffset is subtracted from each predicted index before it is
	// compared with the label: 1 for graphs whose output 0 is a
	// "background" class (Google's MobileNets: 1001 outputs for 1000
	// ImageNet classes).
	LabelOffset int
	// Workers is the number of batches run at once; 0 means GOMAXPROCS.
	Workers int
	// Predictions, when set, receives one CSV row per example, in data set
	// order: id,label,prediction,top5,score (top5 best first, "|"
	// separated; score is the output value of the prediction), the rows
	// qcal report pairs between FP32 and int8.
	Predictions io.Writer
	// Progress, when set, is called after each batch with the number of
	// examples done so far, from one goroutine at a time.
	Progress func(done int)
	// Log receives the text of the graph's Print nodes (a calibration
	// run); nil discards it.
	Log io.Writer
}

// Result counts what an evaluation saw.
type Result struct {
	// N is the number of examples run; Labeled those with a label (≥ 0).
	N, Labeled int
	// Top1 and Top5 count the labelled examples whose label is the
	// prediction, or among the five best.
	Top1, Top5 int
	// Classes is the size of the output's last dimension.
	Classes int
	// Input and Output are the names that were fed and fetched.
	Input, Output string
}

// Top1Accuracy returns the fraction of labelled examples predicted right
// (0 when none is labelled).
func (r *Result) Top1Accuracy() float64 { return frac(r.Top1, r.Labeled) }

// Top5Accuracy returns the fraction of labelled examples whose label is
// among the five best predictions.
func (r *Result) Top5Accuracy() float64 { return frac(r.Top5, r.Labeled) }

func frac(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// PickInput returns the Placeholder that name names, or the graph's only
// one when name is empty.
func PickInput(gr *exec.Graph, name string) (exec.Input, error) {
	if name == "" {
		switch len(gr.Inputs) {
		case 1:
			return gr.Inputs[0], nil
		case 0:
			return exec.Input{}, fmt.Errorf("%s: the graph has no Placeholder to feed", gr.Name)
		default:
			return exec.Input{}, fmt.Errorf("%s: the graph has %d Placeholders (%s); say which with -input", gr.Name, len(gr.Inputs), inputNames(gr.Inputs))
		}
	}
	for _, in := range gr.Inputs {
		if in.Name == name {
			return in, nil
		}
	}
	return exec.Input{}, fmt.Errorf("%s: no Placeholder named %q (the graph has: %s)", gr.Name, name, inputNames(gr.Inputs))
}

// PickOutput returns name, or the graph's only output when name is empty.
func PickOutput(gr *exec.Graph, name string) (string, error) {
	if name != "" {
		return name, nil
	}
	if len(gr.Outputs) == 1 {
		return gr.Outputs[0], nil
	}
	if len(gr.Outputs) == 0 {
		return "", fmt.Errorf("%s: the graph has no output node; say which with -output", gr.Name)
	}
	return "", fmt.Errorf("%s: the graph has %d possible outputs (%v); say which with -output", gr.Name, len(gr.Outputs), gr.Outputs)
}

func inputNames(ins []exec.Input) string {
	s := ""
	for i, in := range ins {
		if i > 0 {
			s += ", "
		}
		s += in.String()
	}
	return s
}

// job is one batch in flight: read by the reader, run by a worker,
// scored by the collector in data set order.
type job struct {
	seq   int
	batch dataset.Batch
	out   []float32 // [n, classes] scores
	cls   int
	err   error
}

// Run feeds src through gr batch by batch and scores the outputs against
// the labels. Batches run on opt.Workers goroutines; results are collected
// in data set order, so the predictions written are the same whatever the
// number of workers. On error no further batch is started and the error
// names the batch's first example.
func Run(gr *exec.Graph, src *dataset.Stream, opt Options) (*Result, error) {
	in, err := PickInput(gr, opt.Input)
	if err != nil {
		return nil, err
	}
	if in.DType != tfpb.DataType_DT_FLOAT {
		return nil, fmt.Errorf("%s: input %s: qcal feeds float data", gr.Name, in)
	}
	out, err := PickOutput(gr, opt.Output)
	if err != nil {
		return nil, err
	}
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	gr.Log = opt.Log
	res := &Result{Input: in.Name, Output: out}

	free := make(chan *job, workers+1)
	for range workers + 1 {
		free <- &job{}
	}
	todo := make(chan *job)
	done := make(chan *job, workers+1)
	stop := make(chan struct{})
	var readErr error

	// The reader: the only goroutine touching src.
	go func() {
		defer close(todo)
		for seq := 0; ; seq++ {
			var j *job
			select {
			case j = <-free:
			case <-stop:
				return
			}
			n, err := src.Next(&j.batch)
			if err == io.EOF || (err == nil && n == 0) {
				return
			}
			if err != nil {
				readErr = err
				return
			}
			j.seq, j.err = seq, nil
			select {
			case todo <- j:
			case <-stop:
				return
			}
		}
	}()

	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range todo {
				j.out, j.cls, j.err = runBatch(gr, in, out, &j.batch)
				done <- j
			}
		}()
	}
	go func() { wg.Wait(); close(done) }()

	var pw *bufio.Writer
	if opt.Predictions != nil {
		pw = bufio.NewWriter(opt.Predictions)
		pw.WriteString("id,label,prediction,top5,score\n")
	}
	pending := map[int]*job{}
	next := 0
	var firstErr error
	for j := range done {
		pending[j.seq] = j
		for {
			j, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			next++
			if firstErr == nil {
				if j.err != nil {
					firstErr = fmt.Errorf("batch from %s: %w", firstID(&j.batch), j.err)
					close(stop)
				} else if err := res.score(j, opt, pw); err != nil {
					firstErr = err
					close(stop)
				} else if opt.Progress != nil {
					opt.Progress(res.N)
				}
			}
			free <- j
		}
	}
	if firstErr == nil && readErr != nil {
		firstErr = readErr
	}
	if firstErr != nil {
		return nil, firstErr
	}
	if pw != nil {
		if err := pw.Flush(); err != nil {
			return nil, err
		}
	}
	return res, nil
}

func firstID(b *dataset.Batch) string {
	if len(b.IDs) > 0 {
		return b.IDs[0]
	}
	return "?"
}

// runBatch runs one batch and returns its scores as [n, classes].
func runBatch(gr *exec.Graph, in exec.Input, out string, b *dataset.Batch) ([]float32, int, error) {
	outs, err := gr.Run(map[string]*tensor.Tensor{in.Name: feed(in, b)}, []string{out})
	if err != nil {
		return nil, 0, err
	}
	y := outs[0]
	scores, err := y.Float32s()
	if err != nil {
		return nil, 0, fmt.Errorf("output %q: %w", out, err)
	}
	n, fed := b.Shape[0], b.Shape[0]
	if len(in.Shape) > 0 && in.Shape[0] > n {
		fed = in.Shape[0]
	}
	rank2 := len(y.Shape) >= 2
	for _, d := range y.Shape[min(len(y.Shape), 2):] {
		rank2 = rank2 && d == 1
	}
	if n == 0 || !rank2 || y.Shape[0] != fed {
		return nil, 0, fmt.Errorf("output %q is %s for a batch of %d: want [%d, classes]", out, y, fed, fed)
	}
	cls := len(scores) / fed
	return scores[:n*cls], cls, nil
}

// feed is the batch as the Placeholder's tensor. A graph with a fixed batch
// dimension gets a short last batch (or a -limit smaller than a batch)
// padded with copies of its last example; only the real rows are scored.
func feed(in exec.Input, b *dataset.Batch) *tensor.Tensor {
	shape := feedShape(in, b.Shape)
	n := b.Shape[0]
	if len(in.Shape) == 0 || in.Shape[0] <= n || n == 0 {
		return tensor.FromF32(shape, b.X)
	}
	per := len(b.X) / n
	x := make([]float32, in.Shape[0]*per)
	copy(x, b.X)
	for i := n; i < in.Shape[0]; i++ {
		copy(x[i*per:], b.X[(n-1)*per:n*per])
	}
	return tensor.FromF32(append([]int{in.Shape[0]}, shape[1:]...), x)
}

// score counts one batch's hits and writes its prediction rows.
func (r *Result) score(j *job, opt Options, pw *bufio.Writer) error {
	if r.Classes == 0 {
		r.Classes = j.cls
	} else if r.Classes != j.cls {
		return fmt.Errorf("batch from %s: output has %d classes, earlier batches %d", firstID(&j.batch), j.cls, r.Classes)
	}
	n := j.batch.Shape[0]
	var top [MaxTopK]int
	var line []byte
	for i := range n {
		row := j.out[i*j.cls : (i+1)*j.cls]
		k := TopK(row, top[:])
		label := j.batch.Labels[i]
		r.N++
		if label >= 0 {
			r.Labeled++
			if top[0]-opt.LabelOffset == label {
				r.Top1++
			}
			for _, t := range top[:k] {
				if t-opt.LabelOffset == label {
					r.Top5++
					break
				}
			}
		}
		if pw != nil {
			line = appendCSVField(line[:0], j.batch.IDs[i])
			line = append(line, ',')
			line = strconv.AppendInt(line, int64(label), 10)
			line = append(line, ',')
			line = strconv.AppendInt(line, int64(top[0]-opt.LabelOffset), 10)
			line = append(line, ',')
			for q, t := range top[:k] {
				if q > 0 {
					line = append(line, '|')
				}
				line = strconv.AppendInt(line, int64(t-opt.LabelOffset), 10)
			}
			line = append(line, ',')
			line = strconv.AppendFloat(line, float64(row[top[0]]), 'g', -1, 32)
			line = append(line, '\n')
			pw.Write(line)
		}
	}
	return nil
}

// appendCSVField appends s, quoted as encoding/csv would when it holds a
// comma, quote or line break.
func appendCSVField(dst []byte, s string) []byte {
	quote := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ',', '"', '\n', '\r':
			quote = true
		}
	}
	if !quote && (s == "" || (s[0] != ' ' && s[0] != '\t')) {
		return append(dst, s...)
	}
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			dst = append(dst, '"')
		}
		dst = append(dst, s[i])
	}
	return append(dst, '"')
}

// TopK writes the indices of the len(top) largest values of row into top,
// best first, and returns how many it wrote (fewer when row is shorter).
// Ties go to the lower index, as TensorFlow's ArgMax and top_k pick; a NaN
// never ranks above a number.
func TopK(row []float32, top []int) int {
	k := min(len(top), len(row))
	for q := range k {
		best := -1
		for i, v := range row {
			if taken(top[:q], i) {
				continue
			}
			if best < 0 || v > row[best] || (v == v && row[best] != row[best]) {
				best = i
			}
		}
		top[q] = best
	}
	return k
}

func taken(top []int, i int) bool {
	for _, t := range top {
		if t == i {
			return true
		}
	}
	return false
}

// feedShape returns the batch's shape in the layout the Placeholder
// declares when it holds the same number of values an example (rows of 784
// for [?,784], [n,28,28,1] for [?,28,28,1]), else the batch's own.
func feedShape(in exec.Input, shape []int) []int {
	if want := InputShape(in); want != nil && !slices.Equal(shape[1:], want[1:]) && tensor.NumElements(shape[1:]) == tensor.NumElements(want[1:]) {
		return append([]int{shape[0]}, want[1:]...)
	}
	return shape
}

// DefaultBatch is the batch size when neither the flags nor the graph's
// input fix one.
const DefaultBatch = 64

// DataOptions fills in what opt leaves open from the Placeholder in: the
// data laid out to its shape, and batches of its fixed batch dimension or
// of DefaultBatch.
func DataOptions(in exec.Input, opt dataset.Options) dataset.Options {
	if opt.Shape == nil {
		opt.Shape = InputShape(in)
	}
	if opt.BatchSize == 0 && (len(opt.Shape) == 0 || opt.Shape[0] <= 0) {
		opt.BatchSize = DefaultBatch
	}
	return opt
}

// InputShape returns the data layout for in: its shape with an unknown
// batch dimension, or nil when any other dimension is unknown (the data
// set's own layout is fed then, and the executor checks it).
func InputShape(in exec.Input) []int {
	if len(in.Shape) < 2 {
		return nil
	}
	for _, d := range in.Shape[1:] {
		if d <= 0 {
			return nil
		}
	}
	return append([]int(nil), in.Shape...)
}
