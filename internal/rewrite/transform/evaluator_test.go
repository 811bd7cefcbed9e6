package transform

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"qcal/internal/exec"
	"qcal/internal/graphinfo"
	"qcal/internal/tfname"
	"qcal/internal/tfpb"
)

// arithEvaluator is a small ConstEvaluator for tests: Identity, Neg,
// Rsqrt, Add/AddV2, Sub and Mul on float tensors, where one operand may be
// a single value (the broadcasts MobileNet's batch-norm arithmetic needs).
type arithEvaluator struct{}

func (arithEvaluator) CanEvaluate(n *tfpb.NodeDef) bool {
	switch n.GetOp() {
	case "Identity", "Neg", "Rsqrt", "Add", "AddV2", "Sub", "Mul":
		return true
	}
	return false
}

func (arithEvaluator) Evaluate(g *tfpb.GraphDef, fetch []string) ([]*tfpb.TensorProto, error) {
	sorted, err := graphinfo.SortByExecutionOrder(g)
	if err != nil {
		return nil, err
	}
	type val struct {
		v    []float32
		dims []int64
	}
	vals := map[string]val{}
	for _, n := range sorted.GetNode() {
		if n.GetOp() == "Const" {
			v, dims, err := constFloats(n)
			if err != nil {
				return nil, err
			}
			vals[n.GetName()] = val{v, dims}
			continue
		}
		var args []val
		for _, in := range dataInputs(n) {
			a, ok := vals[tfname.NodeName(in)]
			if !ok {
				return nil, fmt.Errorf("node %q: input %q not computed", n.GetName(), in)
			}
			args = append(args, a)
		}
		var r val
		if !(arithEvaluator{}).CanEvaluate(n) || len(args) != map[bool]int{true: 1, false: 2}[n.GetOp() == "Identity" || n.GetOp() == "Neg" || n.GetOp() == "Rsqrt"] {
			return nil, fmt.Errorf("node %q: cannot evaluate %s with %d inputs", n.GetName(), n.GetOp(), len(args))
		}
		switch n.GetOp() {
		case "Identity":
			r = args[0]
		case "Neg", "Rsqrt":
			r = val{make([]float32, len(args[0].v)), args[0].dims}
			for i, x := range args[0].v {
				if n.GetOp() == "Neg" {
					r.v[i] = -x
				} else {
					r.v[i] = float32(1 / math.Sqrt(float64(x)))
				}
			}
		default:
			a, b := args[0], args[1]
			if len(a.v) < len(b.v) {
				r.dims = b.dims
			} else {
				r.dims = a.dims
			}
			size := max(len(a.v), len(b.v))
			if len(a.v) != size && len(a.v) != 1 || len(b.v) != size && len(b.v) != 1 {
				return nil, fmt.Errorf("node %q: shapes %v and %v", n.GetName(), a.dims, b.dims)
			}
			r.v = make([]float32, size)
			for i := range r.v {
				x, y := a.v[min(i, len(a.v)-1)], b.v[min(i, len(b.v)-1)]
				switch n.GetOp() {
				case "Sub":
					r.v[i] = x - y
				case "Mul":
					r.v[i] = x * y
				default:
					r.v[i] = x + y
				}
			}
		}
		vals[n.GetName()] = r
	}
	var out []*tfpb.TensorProto
	for _, f := range fetch {
		p, ok := tfname.ParseInput(f)
		if !ok || p.Index != 0 {
			return nil, fmt.Errorf("fetch %q: only output 0", f)
		}
		v, ok := vals[p.Node]
		if !ok {
			return nil, fmt.Errorf("fetch %q: not in the subgraph", f)
		}
		out = append(out, floatTensor(v.v, v.dims))
	}
	return out, nil
}

// graphRunner runs a whole graph with fed inputs: qcal's executor
// (internal/exec) once it is merged.
type graphRunner interface {
	Run(g *tfpb.GraphDef, feeds map[string]*tfpb.TensorProto, fetch []string) ([]*tfpb.TensorProto, error)
}

// realRunner is the executor the numeric checks of the folds on real
// graphs use.
var realRunner graphRunner = exec.Runner{}

// compareOutputs runs before and after on the same feeds and reports the
// first output element whose difference exceeds relTol relative to the
// output's scale (its largest |value| before the rewrite: a softmax's
// 3e-15 probabilities are not held to 1e-5 of themselves, which would ask
// for identical float32 summation orders), or nil; it returns the largest
// relative difference seen.
func compareOutputs(r graphRunner, before, after *tfpb.GraphDef, feeds map[string]*tfpb.TensorProto, fetch []string, relTol float64) (float64, error) {
	a, err := r.Run(before, feeds, fetch)
	if err != nil {
		return 0, fmt.Errorf("original graph: %w", err)
	}
	b, err := r.Run(after, feeds, fetch)
	if err != nil {
		return 0, fmt.Errorf("transformed graph: %w", err)
	}
	worst := 0.0
	for k := range fetch {
		x, _, err := floats(a[k])
		if err != nil {
			return 0, err
		}
		y, _, err := floats(b[k])
		if err != nil {
			return 0, err
		}
		if len(x) != len(y) {
			return 0, fmt.Errorf("%s: %d values before, %d after", fetch[k], len(x), len(y))
		}
		scale := 1e-30
		for _, v := range x {
			scale = max(scale, math.Abs(float64(v)))
		}
		for i := range x {
			d := math.Abs(float64(x[i]) - float64(y[i]))
			rel := d / scale
			if d == 0 {
				rel = 0
			}
			worst = max(worst, rel)
			if rel > relTol {
				return worst, fmt.Errorf("%s[%d]: %g before, %g after (relative difference %.3g > %g)", fetch[k], i, x[i], y[i], rel, relTol)
			}
		}
	}
	return worst, nil
}

// randomFeeds makes a deterministic float input for each -inputs
// Placeholder, its unknown dimensions set to 1, values uniform in [-1, 1).
func randomFeeds(t *testing.T, g *tfpb.GraphDef, inputs []string, seed uint64) map[string]*tfpb.TensorProto {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	feeds := map[string]*tfpb.TensorProto{}
	for _, in := range inputs {
		n := find(g, tfname.NodeName(in))
		if n == nil {
			t.Fatalf("no input %q", in)
		}
		var dims []int64
		size := int64(1)
		for _, d := range n.GetAttr()["shape"].GetShape().GetDim() {
			s := max(d.GetSize(), 1)
			dims = append(dims, s)
			size *= s
		}
		v := make([]float32, size)
		for i := range v {
			v[i] = rng.Float32()*2 - 1
		}
		feeds[in] = floatTensor(v, dims)
	}
	return feeds
}

// checkSameOutputs is the numeric proof of a fold on a real graph: both
// graphs give the same outputs within 1e-5 relative (qcal's executor).
func checkSameOutputs(t *testing.T, before, after *tfpb.GraphDef, opt Options) {
	t.Helper()
	worst, err := compareOutputs(realRunner, before, after, randomFeeds(t, before, opt.Inputs, 1), opt.Outputs, 1e-5)
	if err != nil {
		t.Error(err)
	}
	t.Logf("largest relative difference %.3g", worst)
}

// fakeRunner evaluates a graph with arithEvaluator after substituting the feeds.
type fakeRunner struct{}

func (fakeRunner) Run(g *tfpb.GraphDef, feeds map[string]*tfpb.TensorProto, fetch []string) ([]*tfpb.TensorProto, error) {
	var nodes []*tfpb.NodeDef
	for _, n := range g.GetNode() {
		if f, ok := feeds[n.GetName()]; ok {
			n = constNode(n.GetName(), f)
		}
		nodes = append(nodes, n)
	}
	return arithEvaluator{}.Evaluate(&tfpb.GraphDef{Node: nodes}, fetch)
}

func TestCompareOutputs(t *testing.T) {
	// y = x·2 + 1 written two ways gives equal outputs; y = x·2 + 1.001 differs
	// by 0.001/|y| relative, more than 1e-5 for |x| < 1.
	mk := func(c float32) *tfpb.GraphDef {
		return graph(placeholder("x"), constF("two", nil, 2), floatT(node("m", "Mul", "x", "two")),
			constF("one", nil, c), floatT(node("y", "Add", "m", "one")))
	}
	other := graph(placeholder("x"), floatT(node("m", "Add", "x", "x")), constF("one", nil, 1), floatT(node("y", "Add", "m", "one")))
	x := placeholder("x")
	x.Attr["shape"] = &tfpb.AttrValue{Value: &tfpb.AttrValue_Shape{Shape: &tfpb.TensorShapeProto{Dim: []*tfpb.TensorShapeProto_Dim{{Size: 8}}}}}
	ref := mk(1)
	ref.Node[0] = x
	feeds := randomFeeds(t, ref, []string{"x"}, 7)
	if len(feeds["x"].GetTensorContent()) != 32 {
		t.Fatalf("feed = %v", feeds["x"])
	}
	worst, err := compareOutputs(fakeRunner{}, ref, other, feeds, []string{"y"}, 1e-5)
	if err != nil || worst != 0 {
		t.Errorf("equal graphs: worst %g, %v", worst, err)
	}
	if _, err := compareOutputs(fakeRunner{}, ref, mk(1.001), feeds, []string{"y"}, 1e-5); err == nil {
		t.Error("a 1e-3 difference passed a 1e-5 tolerance")
	}
	if !slices.Equal(names(ref), []string{"x", "two", "m", "one", "y"}) {
		t.Error("graph modified")
	}
}
