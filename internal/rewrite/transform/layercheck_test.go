package transform

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"qcal/internal/tfname"
	"qcal/internal/tfpb"
)

// The per-layer numeric check of a fold, which needs no executor: a conv
// is linear in its weights for every output position, so one receptive
// field (a random patch x) decides whether conv(x, W)·scale + offset (the
// original layer, in float64 from the original Consts) equals
// conv(x, W') + offset' (the folded layer, from the folded Consts).

// constOf returns the values of the Const an input names, through Identity
// nodes.
func constOf(t *testing.T, g *tfpb.GraphDef, input string) ([]float32, []int64) {
	t.Helper()
	n := find(g, tfname.NodeName(input))
	for n != nil && n.GetOp() == "Identity" {
		n = find(g, tfname.NodeName(n.GetInput()[0]))
	}
	if n == nil || n.GetOp() != "Const" {
		t.Fatalf("input %q is not a Const", input)
	}
	v, dims, err := constFloats(n)
	if err != nil {
		t.Fatal(err)
	}
	return v, dims
}

// patchOut computes one output position of conv (Conv2D or
// DepthwiseConv2dNative) for the patch x, in float64, and the sum of the
// terms' magnitudes per column (the scale of rounding errors).
func patchOut(op string, w []float32, dims []int64, x []float64) (out, mag []float64) {
	cols := dims[3]
	per := cols // weights per patch element: Conv2D reads x[i / cols]
	if op == "DepthwiseConv2dNative" {
		cols = dims[2] * dims[3]
		per = dims[3] // depthwise reads x[i / multiplier]
	}
	out, mag = make([]float64, cols), make([]float64, cols)
	for i, v := range w {
		term := x[int64(i)/per] * float64(v)
		out[int64(i)%cols] += term
		mag[int64(i)%cols] += math.Abs(term)
	}
	return out, mag
}

func randomPatch(n int, seed uint64) []float64 {
	rng := rand.New(rand.NewPCG(seed, 2))
	x := make([]float64, n)
	for i := range x {
		x[i] = rng.Float64()*2 - 1
	}
	return x
}

// layerCheck compares the original and folded outputs of one layer: the
// difference must stay within relTol of the magnitude of the terms.
type layerCheck struct {
	t     *testing.T
	worst float64
}

func (lc *layerCheck) compare(layer string, want, got, mag []float64, relTol float64) {
	if len(want) != len(got) {
		lc.t.Fatalf("%s: %d columns vs %d", layer, len(want), len(got))
	}
	for c := range want {
		rel := math.Abs(want[c]-got[c]) / math.Max(mag[c], 1e-30)
		lc.worst = math.Max(lc.worst, rel)
		if rel > relTol {
			lc.t.Errorf("%s column %d: original %g, folded %g (relative %.3g > %g)", layer, c, want[c], got[c], rel, relTol)
			return
		}
	}
}

func TestRealSignMNISTFoldOldNumeric(t *testing.T) {
	g := loadReal(t, "batchnorm/alperiox_signmnist_bn", "frozen_graph.pb")
	out, _ := run(t, g, "remove_nodes(op=Identity) fold_old_batch_norms", Options{Inputs: []string{"input_13"}, Outputs: []string{"Identity"}})
	lc := &layerCheck{t: t}
	layers := 0
	for _, bn := range g.GetNode() {
		if bn.GetOp() != "FusedBatchNormV3" {
			continue
		}
		layers++
		// Original: FusedBatchNormV3(BiasAdd(Conv2D(x, W), b), gamma, beta, mean, var).
		biasAdd := find(g, tfname.NodeName(bn.GetInput()[0]))
		conv := find(g, tfname.NodeName(biasAdd.GetInput()[0]))
		w, dims := constOf(t, g, conv.GetInput()[1])
		b, _ := constOf(t, g, biasAdd.GetInput()[1])
		gamma, _ := constOf(t, g, bn.GetInput()[1])
		beta, _ := constOf(t, g, bn.GetInput()[2])
		mean, _ := constOf(t, g, bn.GetInput()[3])
		variance, _ := constOf(t, g, bn.GetInput()[4])
		eps := float64(bn.GetAttr()["epsilon"].GetF())
		x := randomPatch(int(dims[0]*dims[1]*dims[2]), uint64(layers))
		y, _ := patchOut(conv.GetOp(), w, dims, x)
		want := make([]float64, len(y))
		for c := range y {
			want[c] = (y[c]+float64(b[c])-float64(mean[c]))*float64(gamma[c])/math.Sqrt(float64(variance[c])+eps) + float64(beta[c])
		}
		// Folded: BiasAdd(Conv2D(x, W'), offset), the BiasAdd named like the batch norm.
		add := find(out, bn.GetName())
		conv2 := find(out, tfname.NodeName(add.GetInput()[0]))
		w2, dims2 := constOf(t, out, conv2.GetInput()[1])
		off, _ := constOf(t, out, add.GetInput()[1])
		got, mag := patchOut(conv2.GetOp(), w2, dims2, x)
		for c := range got {
			got[c] += float64(off[c])
			mag[c] += math.Abs(float64(off[c]))
		}
		lc.compare(bn.GetName(), want, got, mag, 1e-5)
	}
	if layers != 3 {
		t.Fatalf("%d batch norms checked, want 3", layers)
	}
	t.Logf("3 folded layers: largest difference %.3g of the terms' magnitude", lc.worst)
}

func TestRealMobileNetFoldNumeric(t *testing.T) {
	if testing.Short() {
		t.Skip("MobileNet folding: skipped in -short")
	}
	g := loadReal(t, "imagenet/mobilenet_v1_0.25_128_2017", "frozen_graph.pb")
	out, _ := run(t, g, "fold_constants fold_batch_norms",
		Options{Inputs: []string{"input"}, Outputs: []string{"MobilenetV1/Predictions/Reshape_1"}, Evaluator: arithEvaluator{}})
	lc := &layerCheck{t: t}
	layers := 0
	for _, rs := range g.GetNode() {
		if rs.GetOp() != "Rsqrt" {
			continue
		}
		layers++
		// Original, prefix P = ".../BatchNorm/batchnorm/": add = var + eps,
		// mul = Rsqrt(add)·gamma, mul_1 = conv·mul, mul_2 = mean·mul,
		// sub = beta − mul_2, add_1 = mul_1 + sub.
		p := strings.TrimSuffix(rs.GetName(), "Rsqrt")
		add, mul, mul1, mul2, sub := find(g, p+"add"), find(g, p+"mul"), find(g, p+"mul_1"), find(g, p+"mul_2"), find(g, p+"sub")
		variance, _ := constOf(t, g, add.GetInput()[0])
		eps, _ := constOf(t, g, add.GetInput()[1])
		gamma, _ := constOf(t, g, mul.GetInput()[1])
		mean, _ := constOf(t, g, mul2.GetInput()[0])
		beta, _ := constOf(t, g, sub.GetInput()[0])
		conv := find(g, tfname.NodeName(mul1.GetInput()[0]))
		w, dims := constOf(t, g, conv.GetInput()[1])
		per := dims[3]
		if conv.GetOp() == "DepthwiseConv2dNative" {
			per = 1
		}
		x := randomPatch(int(int64(len(w))/per), uint64(layers))
		y, _ := patchOut(conv.GetOp(), w, dims, x)
		want := make([]float64, len(y))
		for c := range y {
			scale := float64(gamma[c]) / math.Sqrt(float64(variance[c])+float64(eps[0]))
			want[c] = y[c]*scale + (float64(beta[c]) - float64(mean[c])*scale)
		}
		// Folded: mul_1 is the conv with W'; add_1 adds the folded sub.
		conv2 := find(out, p+"mul_1")
		if conv2.GetOp() != conv.GetOp() {
			t.Fatalf("%smul_1 is %s after folding", p, conv2.GetOp())
		}
		w2, dims2 := constOf(t, out, conv2.GetInput()[1])
		off, _ := constOf(t, out, find(out, p+"add_1").GetInput()[1])
		got, mag := patchOut(conv2.GetOp(), w2, dims2, x)
		for c := range got {
			got[c] += float64(off[c])
			mag[c] += math.Abs(float64(off[c]))
		}
		lc.compare(p, want, got, mag, 1e-5)
	}
	if layers != 27 {
		t.Fatalf("%d batch norms checked, want 27", layers)
	}
	t.Logf("27 folded layers: largest difference %.3g of the terms' magnitude", lc.worst)
}
