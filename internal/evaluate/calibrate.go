package evaluate

import (
	"fmt"
	"io"

	"qcal/internal/dataset"
	"qcal/internal/exec"
	"qcal/internal/kernels"
	"qcal/internal/tensor"
	"qcal/internal/tfpb"
)

// CalibrateOptions say how a calibration run feeds the graph.
type CalibrateOptions struct {
	// Input names the Placeholder fed with the data; empty takes the
	// graph's only Placeholder.
	Input string
	// Batches stops after this many batches; 0 runs the whole data set.
	Batches int
	// Log receives what the graph's Print nodes write: the calibration log.
	Log io.Writer
	// Progress, when set, is called after each batch with the examples
	// done so far.
	Progress func(done int)
}

// Calibrate runs the batches of src through gr one at a time, fetching
// every output of the graph so that each Print node on the way runs and
// writes its line to opt.Log, in batch order. It returns the number of
// examples and batches run.
func Calibrate(gr *exec.Graph, src *dataset.Stream, opt CalibrateOptions) (examples, batches int, err error) {
	in, err := PickInput(gr, opt.Input)
	if err != nil {
		return 0, 0, err
	}
	if in.DType != tfpb.DataType_DT_FLOAT {
		return 0, 0, fmt.Errorf("%s: input %s: qcal feeds float data", gr.Name, in)
	}
	if len(gr.Outputs) == 0 {
		return 0, 0, fmt.Errorf("%s: the graph has no output to run", gr.Name)
	}
	// One PrintLog for the whole run: first_n counts a node's lines across
	// batches, as it counts across session runs in TensorFlow.
	log, ok := opt.Log.(*kernels.PrintLog)
	if !ok && opt.Log != nil {
		log = kernels.NewPrintLog(opt.Log)
	}
	if log != nil {
		gr.Log = log
	}
	defer func() { gr.Log = nil }()
	var b dataset.Batch
	for opt.Batches == 0 || batches < opt.Batches {
		n, err := src.Next(&b)
		if err == io.EOF || (err == nil && n == 0) {
			break
		}
		if err != nil {
			return examples, batches, err
		}
		if _, err := gr.Run(map[string]*tensor.Tensor{in.Name: feed(in, &b)}, gr.Outputs); err != nil {
			return examples, batches, fmt.Errorf("batch from %s: %w", firstID(&b), err)
		}
		examples += n
		batches++
		if opt.Progress != nil {
			opt.Progress(examples)
		}
	}
	return examples, batches, nil
}
