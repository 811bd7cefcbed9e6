package transform

import (
	"fmt"
	"math"
	"slices"

	"google.golang.org/protobuf/proto"

	"qcal/internal/tfname"
	"qcal/internal/tfpb"
)

func init() {
	register(&Transform{
		Name:    "fold_batch_norms",
		Summary: "fold Mul(Conv2D|MatMul|DepthwiseConv2dNative(x, Const), Const) into the weights",
		run:     foldBatchNorms,
	})
	register(&Transform{
		Name: "fold_old_batch_norms",
		Summary: "fold BatchNormWithGlobalNormalization|FusedBatchNorm[V2|V3] after Conv2D|DepthwiseConv2dNative|MatMul " +
			"into the weights and a BiasAdd",
		run: foldOldBatchNorms,
	})
}

// Op names the folds read.
const (
	opConst     = "Const"
	opConv2D    = "Conv2D"
	opDepthwise = "DepthwiseConv2dNative"
	opMatMul    = "MatMul"
	opBiasAdd   = "BiasAdd"
)

func isConvOp(op string) bool { return op == opConv2D || op == opDepthwise || op == opMatMul }

// batchNormInputs are the input positions and epsilon attribute of the
// batch-norm ops fold_old_batch_norms folds.
type batchNormInputs struct {
	mean, variance, beta, gamma int
	epsilon                     string
}

var batchNormOps = map[string]batchNormInputs{
	"BatchNormWithGlobalNormalization": {mean: 1, variance: 2, beta: 3, gamma: 4, epsilon: "variance_epsilon"},
	"FusedBatchNorm":                   {mean: 3, variance: 4, beta: 2, gamma: 1, epsilon: "epsilon"},
	"FusedBatchNormV2":                 {mean: 3, variance: 4, beta: 2, gamma: 1, epsilon: "epsilon"},
	"FusedBatchNormV3":                 {mean: 3, variance: 4, beta: 2, gamma: 1, epsilon: "epsilon"},
}

// graphView is what the folds look up: nodes by name and who consumes them.
type graphView struct {
	g     *tfpb.GraphDef
	nodes map[string]*tfpb.NodeDef
	users map[string][]*tfpb.NodeDef
	// edits replace a node (by name) with the listed nodes, in place; an
	// empty list deletes it.
	edits map[string][]*tfpb.NodeDef
}

func newView(g *tfpb.GraphDef) *graphView {
	return &graphView{g: g, nodes: byName(g), users: consumers(g), edits: map[string][]*tfpb.NodeDef{}}
}

// input returns the node of n's i-th data input, or nil.
func (v *graphView) input(n *tfpb.NodeDef, i int) *tfpb.NodeDef {
	ins := dataInputs(n)
	if i >= len(ins) {
		return nil
	}
	return v.nodes[tfname.NodeName(ins[i])]
}

// onlyUser reports whether user is the one consumer of n (through one input).
func (v *graphView) onlyUser(n, user *tfpb.NodeDef) bool {
	u := v.users[n.GetName()]
	return len(u) == 1 && u[0] == user
}

// onlyDataUser reports whether user is the one node reading n's values
// (through one input); nodes that only wait for n (^n) may be others.
func (v *graphView) onlyDataUser(n, user *tfpb.NodeDef) bool {
	readers := 0
	for _, u := range v.users[n.GetName()] {
		for _, in := range u.GetInput() {
			if in != "" && in[0] != '^' && tfname.NodeName(in) == n.GetName() {
				if u != user {
					return false
				}
				readers++
			}
		}
	}
	return readers == 1
}

// usedOnlyBy reports whether every consumer of n is one of the given nodes.
func (v *graphView) usedOnlyBy(n *tfpb.NodeDef, users ...*tfpb.NodeDef) bool {
	for _, u := range v.users[n.GetName()] {
		if !slices.Contains(users, u) {
			return false
		}
	}
	return true
}

// isConst reports whether n is a float Const.
func isFloatConst(n *tfpb.NodeDef) bool {
	return n != nil && n.GetOp() == opConst && n.GetAttr()["value"].GetTensor().GetDtype() == tfpb.DataType_DT_FLOAT
}

// apply writes the edited graph: each edited node replaced in place.
func (v *graphView) apply() *tfpb.GraphDef {
	var out []*tfpb.NodeDef
	for _, n := range v.g.GetNode() {
		if r, ok := v.edits[n.GetName()]; ok {
			out = append(out, r...)
			continue
		}
		out = append(out, n)
	}
	return withNodes(v.g, out)
}

// convWeights checks a conv node whose weights are to be scaled per output
// column and returns the weights node, its values, its shape and the number
// of columns; why is set when the node cannot be folded.
func (v *graphView) convWeights(conv *tfpb.NodeDef, perChannelOnLastAxis bool) (w *tfpb.NodeDef, vals []float32, dims []int64, cols int64, why string, err error) {
	if len(dataInputs(conv)) != 2 {
		return nil, nil, nil, 0, fmt.Sprintf("%s %q does not have 2 inputs", conv.GetOp(), conv.GetName()), nil
	}
	w = v.input(conv, 1)
	if !isFloatConst(w) {
		return nil, nil, nil, 0, fmt.Sprintf("the weights of %s %q are not a float Const (run fold_constants or remove_nodes(op=Identity) first?)", conv.GetOp(), conv.GetName()), nil
	}
	if t, ok := conv.GetAttr()["T"]; ok && t.GetType() != tfpb.DataType_DT_FLOAT {
		return nil, nil, nil, 0, fmt.Sprintf("%s %q is not float", conv.GetOp(), conv.GetName()), nil
	}
	if conv.GetOp() == opMatMul && conv.GetAttr()["transpose_b"].GetB() {
		return nil, nil, nil, 0, fmt.Sprintf("MatMul %q has transpose_b set", conv.GetName()), nil
	}
	if perChannelOnLastAxis && string(conv.GetAttr()["data_format"].GetS()) == "NCHW" {
		return nil, nil, nil, 0, fmt.Sprintf("%s %q is NCHW, so the Mul does not scale its channels", conv.GetOp(), conv.GetName()), nil
	}
	if !v.onlyDataUser(w, conv) {
		return nil, nil, nil, 0, fmt.Sprintf("the weights %q of %q feed other nodes too", w.GetName(), conv.GetName()), nil
	}
	vals, dims, err = constFloats(w)
	if err != nil {
		return nil, nil, nil, 0, "", err
	}
	want := 4
	if conv.GetOp() == opMatMul {
		want = 2
	}
	if len(dims) != want {
		return nil, nil, nil, 0, "", fmt.Errorf("node %q: weights %q of %s have shape %v, want %d dimensions", conv.GetName(), w.GetName(), conv.GetOp(), dims, want)
	}
	switch conv.GetOp() {
	case opConv2D:
		cols = dims[3]
	case opDepthwise:
		cols = dims[2] * dims[3] // in channels × multiplier, TF's rule
	default:
		cols = dims[1]
	}
	return w, vals, dims, cols, "", nil
}

// scaleWeights multiplies each weight by the scale of its column (the
// index modulo the column count, in the flat order), in float32 as
// TensorFlow does.
func scaleWeights(w []float32, scale []float32) []float32 {
	out := make([]float32, len(w))
	cols := len(scale)
	for i, x := range w {
		out[i] = x * scale[i%cols]
	}
	return out
}

// foldBatchNorms is TensorFlow's fold_batch_norms: a Mul whose inputs are,
// in this order, a Conv2D, MatMul or DepthwiseConv2dNative with Const
// weights and a Const vector with one value per output column (channel)
// becomes the conv itself, named like the Mul, with weights w·m[col]
// (float32 products; same weights node name). It is left alone when the
// conv, its weights or the Mul's Const feed other nodes too (TensorFlow's
// rule). qcal also leaves alone, with a note, what TensorFlow would fold
// wrongly or reject: a Mul Const that is not such a vector (TensorFlow
// fails the transform), MatMul with transpose_b, NCHW convolutions (the Mul
// does not scale channels there), non-float nodes. TensorFlow folds in one
// pass and so misses a Mul whose conv shares its input with an earlier
// match; qcal folds every match.
func foldBatchNorms(c *call, g *tfpb.GraphDef) (*tfpb.GraphDef, error) {
	v := newView(g)
	for _, mul := range g.GetNode() {
		if mul.GetOp() != "Mul" || len(dataInputs(mul)) != 2 {
			continue
		}
		conv, m := v.input(mul, 0), v.input(mul, 1)
		if conv == nil || !isConvOp(conv.GetOp()) || m == nil || m.GetOp() != opConst {
			continue
		}
		if !isFloatConst(m) || (mul.GetAttr()["T"] != nil && mul.GetAttr()["T"].GetType() != tfpb.DataType_DT_FLOAT) {
			c.notef("Mul %q left: not float", mul.GetName())
			continue
		}
		if !v.onlyUser(conv, mul) || !v.onlyDataUser(m, mul) {
			c.notef("Mul %q left: its %s or its Const feed other nodes too", mul.GetName(), conv.GetOp())
			continue
		}
		w, wv, dims, cols, why, err := v.convWeights(conv, true)
		if err != nil {
			return nil, err
		}
		if why != "" {
			c.notef("Mul %q left: %s", mul.GetName(), why)
			continue
		}
		mv, mdims, err := constFloats(m)
		if err != nil {
			return nil, err
		}
		if len(mdims) != 1 || mdims[0] != cols {
			c.notef("Mul %q left: its Const has shape %v, not [%d] (one value per output column)", mul.GetName(), mdims, cols)
			continue
		}
		scaled := constNode(w.GetName(), floatTensor(scaleWeights(wv, mv), dims))
		newConv := proto.Clone(conv).(*tfpb.NodeDef)
		newConv.Name = mul.GetName()
		v.edits[w.GetName()] = []*tfpb.NodeDef{scaled}
		v.edits[conv.GetName()] = nil
		if v.onlyUser(m, mul) {
			v.edits[m.GetName()] = nil // else it stays for the nodes waiting on it
		}
		v.edits[mul.GetName()] = []*tfpb.NodeDef{newConv}
	}
	return v.apply(), nil
}

// foldOldBatchNorms is TensorFlow's fold_old_batch_norms for its main
// pattern: a BatchNormWithGlobalNormalization or FusedBatchNorm whose input
// is a Conv2D or DepthwiseConv2dNative with Const weights and whose mean,
// variance, beta and gamma are Consts. With TensorFlow's float32 arithmetic
// (INT8-ARITHMETIC §0.7), per output column i:
//
//	scale[i]  = (1.0f / sqrtf(var[i] + eps)) * gamma[i]
//	            (without scale_after_normalization: 1.0f / sqrtf(var[i] + eps))
//	offset[i] = (-mean[i] * scale[i]) + beta[i]
//
// the weights become w·scale[col] (same node name), and the batch norm is
// replaced by a BiasAdd taking its name, fed by the conv and a Const
// "<conv>_bn_offset" of the offsets (attrs T and data_format from the conv).
//
// Beyond TensorFlow (which folds only FusedBatchNorm and, since 2019,
// DepthwiseConv2dNative), qcal also folds FusedBatchNormV2 and V3 (same
// inputs and arithmetic), MatMul producers (weights [in, out], not
// transposed), and a BiasAdd of a Const between the conv and the batch norm
// (as Keras writes Conv2D(use_bias=True) + BatchNormalization): the bias b is
// taken into the mean, mean' = mean − b (float32), and the BiasAdd goes.
// qcal leaves alone, with a note, what TensorFlow would fold wrongly: a
// FusedBatchNorm with is_training=true (it normalizes with the batch's own
// statistics), one whose outputs other than 0 are consumed, and a conv or
// weights that feed other nodes too. TensorFlow's BatchToSpaceND and
// ConcatV2 variants are not folded.
func foldOldBatchNorms(c *call, g *tfpb.GraphDef) (*tfpb.GraphDef, error) {
	v := newView(g)
	otherOutputs := map[string]bool{}
	for _, n := range g.GetNode() {
		for _, in := range n.GetInput() {
			if p, ok := tfname.ParseInput(in); ok && !p.Control && p.Index != 0 {
				otherOutputs[p.Node] = true
			}
		}
	}
	for _, bn := range g.GetNode() {
		pos, ok := batchNormOps[bn.GetOp()]
		if !ok {
			continue
		}
		left := func(format string, a ...any) {
			c.notef("%s %q left: %s", bn.GetOp(), bn.GetName(), fmt.Sprintf(format, a...))
		}
		if len(dataInputs(bn)) != 5 {
			left("it does not have 5 inputs")
			continue
		}
		if bn.GetAttr()["is_training"].GetB() {
			left("is_training is set (it normalizes with the batch's statistics)")
			continue
		}
		if otherOutputs[bn.GetName()] {
			left("its outputs other than 0 are consumed")
			continue
		}
		conv := v.input(bn, 0)
		var bias, biasAdd *tfpb.NodeDef
		if conv != nil && conv.GetOp() == opBiasAdd && len(dataInputs(conv)) == 2 {
			biasAdd, bias = conv, v.input(conv, 1)
			conv = v.input(biasAdd, 0)
			if !isFloatConst(bias) || !v.onlyUser(biasAdd, bn) {
				left("the BiasAdd before it does not add a float Const, or feeds other nodes too")
				continue
			}
		}
		if conv == nil || !isConvOp(conv.GetOp()) {
			left("its input is not a Conv2D, DepthwiseConv2dNative or MatMul (optionally through a BiasAdd)")
			continue
		}
		consumer := bn
		if biasAdd != nil {
			consumer = biasAdd
		}
		if !v.onlyDataUser(conv, consumer) {
			left("%s %q feeds other nodes too", conv.GetOp(), conv.GetName())
			continue
		}
		var params [4]*tfpb.NodeDef
		constOK := true
		for k, i := range []int{pos.mean, pos.variance, pos.beta, pos.gamma} {
			params[k] = v.input(bn, i)
			constOK = constOK && isFloatConst(params[k])
		}
		if !constOK {
			left("its mean, variance, beta and gamma are not all float Consts")
			continue
		}
		w, wv, dims, cols, why, err := v.convWeights(conv, false)
		if err != nil {
			return nil, err
		}
		if why != "" {
			left("%s", why)
			continue
		}
		var vals [4][]float32
		for k, p := range params {
			x, d, err := constFloats(p)
			if err != nil {
				return nil, err
			}
			if len(d) != 1 || d[0] != cols {
				return nil, fmt.Errorf("node %q: %s input %q has shape %v, want [%d] (the output columns of %q)",
					bn.GetName(), [4]string{"mean", "variance", "beta", "gamma"}[k], p.GetName(), d, cols, conv.GetName())
			}
			vals[k] = x
		}
		mean := vals[0]
		if bias != nil {
			b, d, err := constFloats(bias)
			if err != nil {
				return nil, err
			}
			if len(d) != 1 || d[0] != cols {
				return nil, fmt.Errorf("node %q: bias %q has shape %v, want [%d]", biasAdd.GetName(), bias.GetName(), d, cols)
			}
			mean = make([]float32, cols)
			for i := range mean {
				mean[i] = vals[0][i] - b[i]
			}
		}
		eps := bn.GetAttr()[pos.epsilon].GetF()
		scaleAfter := bn.GetOp() != "BatchNormWithGlobalNormalization" || bn.GetAttr()["scale_after_normalization"].GetB()
		scale, offset := ScaleOffset(mean, vals[1], vals[2], vals[3], eps, scaleAfter)

		offsetName := conv.GetName() + "_bn_offset"
		if _, taken := v.nodes[offsetName]; taken {
			return nil, fmt.Errorf("node %q: cannot add the Const %q: a node of that name exists", bn.GetName(), offsetName)
		}
		add := &tfpb.NodeDef{
			Name:  bn.GetName(),
			Op:    opBiasAdd,
			Input: []string{conv.GetName(), offsetName},
			Attr:  map[string]*tfpb.AttrValue{},
		}
		if t, ok := conv.GetAttr()["T"]; ok {
			add.Attr["T"] = t
		} else {
			add.Attr["T"] = &tfpb.AttrValue{Value: &tfpb.AttrValue_Type{Type: tfpb.DataType_DT_FLOAT}}
		}
		if df, ok := conv.GetAttr()["data_format"]; ok {
			add.Attr["data_format"] = df
		}
		v.edits[w.GetName()] = []*tfpb.NodeDef{constNode(w.GetName(), floatTensor(scaleWeights(wv, scale), dims))}
		v.edits[bn.GetName()] = []*tfpb.NodeDef{constNode(offsetName, floatTensor(offset, []int64{cols})), add}
		if biasAdd != nil {
			v.edits[biasAdd.GetName()] = nil
			if v.onlyUser(bias, biasAdd) {
				v.edits[bias.GetName()] = nil
			}
		}
		// The batch norm's Consts go when nothing else reads them.
		for _, p := range params {
			if v.usedOnlyBy(p, bn) {
				v.edits[p.GetName()] = nil
			}
		}
	}
	return v.apply(), nil
}

// ScaleOffset computes fold_old_batch_norms' per-column scale and offset
// with TensorFlow's float32 operations in TensorFlow's order (see
// foldOldBatchNorms). The explicit conversions keep each operation rounded
// to float32 (no fused multiply-add).
func ScaleOffset(mean, variance, beta, gamma []float32, eps float32, scaleAfterNormalization bool) (scale, offset []float32) {
	scale = make([]float32, len(mean))
	offset = make([]float32, len(mean))
	for i := range mean {
		// sqrtf is correctly rounded, and so is the float64 square root of a
		// float32 rounded back to float32.
		r := float32(1) / float32(math.Sqrt(float64(float32(variance[i]+eps))))
		if scaleAfterNormalization {
			r = float32(r * gamma[i])
		}
		scale[i] = r
		offset[i] = float32(-mean[i]*r) + beta[i]
	}
	return scale, offset
}
