package layererr

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"google.golang.org/protobuf/proto"

	"qcal/internal/dataset"
	"qcal/internal/evaluate"
	"qcal/internal/exec"
	"qcal/internal/graphinfo"
	"qcal/internal/tensor"
	"qcal/internal/tfpb"
)

// Layer is the int8 error of one tensor over every batch compared: x is
// the FP32 graph's value, y the int8 graph's. The sums are float64 and
// kept so that results of several runs could be merged.
type Layer struct {
	// Name is the tensor compared: a node of the FP32 graph whose output
	// the int8 graph also computes under that name (the Dequantize ending
	// a quantized chain), or the graph's output.
	Name string
	// Op is the FP32 node's op; Output reports whether Name is an output
	// of the FP32 graph rather than a quantized layer's.
	Op     string
	Output bool
	// Int8 is the int8 graph's tensor compared with it: Name itself, or,
	// for a quantized layer whose output stays quantized (it feeds the
	// next quantized layer), a Dequantize Measure adds to read it.
	Int8 string
	// N is the number of elements compared.
	N int64
	// SumX, SumX2 and SumErr2 are Σx, Σx² and Σ(x−y)².
	SumX, SumX2, SumErr2 float64
	// MaxAbs is max |x−y|.
	MaxAbs float64
	// SignDiff counts the elements whose sign (−, 0, +) differs.
	SignDiff int64
}

// SQNR returns the signal-to-quantization-noise ratio in dB,
// 10·log10(Σx²/Σ(x−y)²): +Inf when the outputs are equal, −Inf when the
// FP32 output is all zeros and the int8 one is not, NaN when nothing was
// compared.
func (l *Layer) SQNR() float64 {
	if l.N == 0 {
		return math.NaN()
	}
	if l.SumErr2 == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(l.SumX2/l.SumErr2)
}

// RMSE returns √(Σ(x−y)²/N).
func (l *Layer) RMSE() float64 { return math.Sqrt(l.SumErr2 / float64(l.N)) }

// MeanX returns the FP32 output's mean, Σx/N.
func (l *Layer) MeanX() float64 { return l.SumX / float64(l.N) }

// SignShare returns the share of elements whose sign or zero-ness
// differs between the FP32 and the int8 output.
func (l *Layer) SignShare() float64 { return float64(l.SignDiff) / float64(l.N) }

// add accumulates one batch's values.
func (l *Layer) add(x, y []float32) {
	for i, xv := range x {
		a, b := float64(xv), float64(y[i])
		d := a - b
		l.SumX += a
		l.SumX2 += a * a
		l.SumErr2 += d * d
		if ad := math.Abs(d); ad > l.MaxAbs || math.IsNaN(ad) {
			l.MaxAbs = ad
		}
		if sign(a) != sign(b) {
			l.SignDiff++
		}
	}
	l.N += int64(len(x))
}

func sign(v float64) int {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}

// Options say how the graphs are fed.
type Options struct {
	// Input names the Placeholder fed with the data (in both graphs);
	// empty takes the FP32 graph's only Placeholder.
	Input string
	// Batches stops after this many batches; 0 runs the whole stream.
	Batches int
	// Progress, when set, is called after each batch with the examples
	// done so far.
	Progress func(done int)
}

// Result is the per-layer error of an int8 graph.
type Result struct {
	// Layers are the tensors compared, in the FP32 graph's execution
	// order.
	Layers []*Layer
	// Input is the Placeholder fed; Examples and Batches count what ran.
	Input             string
	Examples, Batches int
}

// TapSuffix ends the name of the Dequantize nodes Measure adds to the
// int8 graph to read a quantized layer's output that no Dequantize reads.
const TapSuffix = "/layererr_dequantize"

// Tensors returns the tensors Measure compares, in the FP32 graph's
// execution order, and the int8 graph with the Dequantize nodes added that
// read them (the int8 graph itself when none is needed):
//   - each Dequantize of the int8 graph whose name is also a node of the
//     FP32 graph (the end of a quantized chain, standing for the FP32 node
//     it replaces);
//   - each quantized layer whose output no Dequantize reads (it feeds the
//     next quantized layer): a node "X_eightbit_requantize" stands for the
//     FP32 node X and, when its op (or, for a Requantize, its input's op)
//     says "WithBias", "Relu" or "Relu6", for the BiasAdd and activation
//     that follow X in the FP32 graph (a Relu6 counts as the Relu the
//     Intel path fuses); its output is dequantized SCALED when it is a
//     RequantizePerChannel or qint8, else with the mode the graph's other
//     Dequantize nodes use;
//   - the FP32 graph's outputs that the int8 graph computes under the same
//     name.
//
// It returns an error when there is none.
func Tensors(fp32, int8 *exec.Graph) ([]*Layer, *tfpb.GraphDef, error) {
	order, err := graphinfo.SortByExecutionOrder(fp32.Def())
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", fp32.Name, err)
	}
	fpNodes := map[string]*tfpb.NodeDef{}
	consumers := map[string][]*tfpb.NodeDef{} // FP32 node → nodes reading its output 0
	for _, n := range order.GetNode() {
		fpNodes[n.GetName()] = n
		for _, in := range n.GetInput() {
			if !strings.HasPrefix(in, "^") && !strings.Contains(in, ":") || strings.HasSuffix(in, ":0") {
				name := strings.TrimSuffix(in, ":0")
				consumers[name] = append(consumers[name], n)
			}
		}
	}
	q := map[string]*tfpb.NodeDef{}
	read := map[string]bool{} // int8 nodes a Dequantize reads
	mode := "MIN_FIRST"
	modeSet := false
	for _, n := range int8.Def().GetNode() {
		q[n.GetName()] = n
	}
	for _, n := range int8.Def().GetNode() {
		if n.GetOp() != "Dequantize" || len(n.GetInput()) == 0 {
			continue
		}
		src := strings.TrimSuffix(n.GetInput()[0], ":0")
		read[src] = true
		if m := n.GetAttr()["mode"]; !modeSet && strings.HasSuffix(src, requantizeSuffix) && m != nil {
			mode, modeSet = string(m.GetS()), true
		}
	}
	// taps: FP32 chain end → the int8 node whose output stands for it.
	taps := map[string]*tfpb.NodeDef{}
	for _, n := range int8.Def().GetNode() {
		x, ok := strings.CutSuffix(n.GetName(), requantizeSuffix)
		if !ok || read[n.GetName()] || fpNodes[x] == nil {
			continue
		}
		ops := n.GetOp()
		if strings.HasPrefix(ops, "Requantize") && len(n.GetInput()) > 0 {
			if p := q[strings.TrimSuffix(n.GetInput()[0], ":0")]; p != nil {
				ops = p.GetOp()
			}
		}
		end := chainEnd(x, ops, consumers)
		if end != "" && q[end] == nil {
			taps[end] = n
		}
	}
	outputs := map[string]bool{}
	for _, o := range fp32.Outputs {
		outputs[o] = true
	}
	var layers []*Layer
	var added []*tfpb.NodeDef
	for _, n := range order.GetNode() {
		name := n.GetName()
		l := &Layer{Name: name, Op: n.GetOp(), Output: outputs[name], Int8: name}
		if qn, ok := q[name]; ok && (qn.GetOp() == "Dequantize" || outputs[name]) {
			layers = append(layers, l)
			continue
		}
		src := taps[name]
		t := src.GetAttr()["out_type"]
		if src == nil || t == nil {
			continue
		}
		l.Int8 = name + TapSuffix
		s := src.GetName()
		m := mode
		if src.GetOp() == "RequantizePerChannel" || t.GetType() == tfpb.DataType_DT_QINT8 {
			// Symmetric codes: Intel's per-channel down-conversion (also
			// written for depthwise convolutions on the per-tensor path)
			// and every qint8 result are read SCALED.
			m = "SCALED"
		}
		added = append(added, &tfpb.NodeDef{Name: l.Int8, Op: "Dequantize", Input: []string{s, s + ":1", s + ":2"},
			Attr: map[string]*tfpb.AttrValue{"T": t, "mode": {Value: &tfpb.AttrValue_S{S: []byte(m)}}}})
		layers = append(layers, l)
	}
	if len(layers) == 0 {
		return nil, nil, fmt.Errorf("%s and %s share no quantized layer's output (no Dequantize of the int8 graph is named after an FP32 node) nor an output", fp32.Name, int8.Name)
	}
	g := int8.Def()
	if len(added) > 0 {
		g = proto.Clone(g).(*tfpb.GraphDef)
		g.Node = append(g.Node, added...)
	}
	return layers, g, nil
}

const requantizeSuffix = "_eightbit_requantize"

// chainEnd follows the FP32 graph from x through the BiasAdd and the
// activation that ops (a quantized op's name) says it fused, and returns
// the last node, or "" when the FP32 graph does not have that chain.
func chainEnd(x, ops string, consumers map[string][]*tfpb.NodeDef) string {
	next := func(x string, want ...string) string {
		cs := consumers[x]
		if len(cs) != 1 || !slices.Contains(want, cs[0].GetOp()) {
			return ""
		}
		return cs[0].GetName()
	}
	if strings.Contains(ops, "WithBias") {
		if x = next(x, "BiasAdd", "Add", "AddV2"); x == "" {
			return ""
		}
	}
	switch {
	case strings.Contains(ops, "Relu6"):
		x = next(x, "Relu6")
	case strings.Contains(ops, "Relu"):
		// The Intel path fuses a Relu6 into an ...AndRelu op too.
		x = next(x, "Relu", "Relu6")
	}
	return x
}

// Measure runs the batches of src through both graphs and accumulates,
// for each tensor Tensors finds, the error of the int8 value against the
// FP32 one. No tensor outlives its batch. A tensor that is not float in
// both graphs (an output such as an ArgMax) is left out; one whose shapes
// differ is an error naming it.
func Measure(fp32, int8 *exec.Graph, src *dataset.Stream, opt Options) (*Result, error) {
	in, err := evaluate.PickInput(fp32, opt.Input)
	if err != nil {
		return nil, err
	}
	if in.DType != tfpb.DataType_DT_FLOAT {
		return nil, fmt.Errorf("%s: input %s: qcal feeds float data", fp32.Name, in)
	}
	qin, err := evaluate.PickInput(int8, in.Name)
	if err != nil {
		return nil, err
	}
	layers, g, err := Tensors(fp32, int8)
	if err != nil {
		return nil, err
	}
	if g != int8.Def() {
		if int8, err = exec.New(g, int8.Name); err != nil {
			return nil, err
		}
	}
	names := make([]string, len(layers))
	qnames := make([]string, len(layers))
	for i, l := range layers {
		names[i], qnames[i] = l.Name, l.Int8
	}
	res := &Result{Input: in.Name}
	notFloat := make([]bool, len(layers))
	var b dataset.Batch
	for opt.Batches == 0 || res.Batches < opt.Batches {
		n, err := src.Next(&b)
		if err == io.EOF || (err == nil && n == 0) {
			break
		}
		if err != nil {
			return nil, err
		}
		xs, err := fp32.Run(map[string]*tensor.Tensor{in.Name: tensor.FromF32(feedShape(in, b.Shape), b.X)}, names)
		if err != nil {
			return nil, fmt.Errorf("batch from %s: %w", firstID(&b), err)
		}
		ys, err := int8.Run(map[string]*tensor.Tensor{qin.Name: tensor.FromF32(feedShape(qin, b.Shape), b.X)}, qnames)
		if err != nil {
			return nil, fmt.Errorf("batch from %s: %w", firstID(&b), err)
		}
		for i, l := range layers {
			x, y := xs[i], ys[i]
			if x.DType != tfpb.DataType_DT_FLOAT || y.DType != tfpb.DataType_DT_FLOAT {
				// An output that is not float (an ArgMax's classes) is
				// not compared; dtypes do not change between batches.
				notFloat[i] = true
				continue
			}
			if !slices.Equal(x.Shape, y.Shape) || len(x.F32) != len(y.F32) {
				return nil, fmt.Errorf("tensor %q is %s in %s but %s in %s", l.Name, x, fp32.Name, y, int8.Name)
			}
			l.add(x.F32, y.F32)
		}
		res.Examples += n
		res.Batches++
		if opt.Progress != nil {
			opt.Progress(res.Examples)
		}
	}
	if res.Batches == 0 {
		return nil, fmt.Errorf("the data set gave no example")
	}
	for i, l := range layers {
		if !notFloat[i] {
			res.Layers = append(res.Layers, l)
		}
	}
	if len(res.Layers) == 0 {
		return nil, fmt.Errorf("%s and %s share no float tensor to compare", fp32.Name, int8.Name)
	}
	return res, nil
}

// feedShape returns the batch's shape in the layout the Placeholder
// declares when it holds as many values per example, else the batch's own
// (as evaluate feeds).
func feedShape(in exec.Input, shape []int) []int {
	want := evaluate.InputShape(in)
	if want != nil && !slices.Equal(shape[1:], want[1:]) && tensor.NumElements(shape[1:]) == tensor.NumElements(want[1:]) {
		return append([]int{shape[0]}, want[1:]...)
	}
	return shape
}

func firstID(b *dataset.Batch) string {
	if len(b.IDs) > 0 {
		return b.IDs[0]
	}
	return "?"
}
