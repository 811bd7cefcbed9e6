package kernels

import (
	"math/rand/v2"
	"testing"

	"qcal/internal/tfpb"
)

func fusedAttrs(a attrs, ops ...string) attrs {
	l := &tfpb.AttrValue_ListValue{}
	for _, o := range ops {
		l.S = append(l.S, []byte(o))
	}
	b := attrs{"fused_ops": {Value: &tfpb.AttrValue_List{List: l}}, "num_args": aInt(1)}
	for k, v := range a {
		b[k] = v
	}
	return b
}

// TestFusedEqualsChain: each fused op equals its op followed by BiasAdd
// and the activation run as separate kernels.
func TestFusedEqualsChain(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	x := random(r, 2, 9, 9, 3)
	f := random(r, 3, 3, 3, 5)
	bias := random(r, 5)
	for _, act := range []string{"", "Relu", "Relu6"} {
		ops := []string{"BiasAdd"}
		if act != "" {
			ops = append(ops, act)
		}
		// Scale the inputs so that Relu6 clips some values above 6.
		x6 := x.Clone()
		for i := range x6.F32 {
			x6.F32[i] *= 4
		}
		ca := convAttrs("SAME", 2, 2, 1, 1)
		want := mustRun(t, "BiasAdd", attrs{}, mustRun(t, "Conv2D", ca, x6, f)[0], bias)[0]
		if act != "" {
			want = mustRun(t, act, attrs{}, want)[0]
		}
		got := mustRun(t, "_FusedConv2D", fusedAttrs(ca, ops...), x6, f, bias)[0]
		same(t, "_FusedConv2D "+act, got, want.Shape, want.F32, 0)

		dw := random(r, 3, 3, 3, 2)
		dwb := random(r, 6)
		want = mustRun(t, "BiasAdd", attrs{}, mustRun(t, "DepthwiseConv2dNative", ca, x6, dw)[0], dwb)[0]
		if act != "" {
			want = mustRun(t, act, attrs{}, want)[0]
		}
		got = mustRun(t, "_FusedDepthwiseConv2dNative", fusedAttrs(ca, ops...), x6, dw, dwb)[0]
		same(t, "_FusedDepthwiseConv2dNative "+act, got, want.Shape, want.F32, 0)

		a, b, mb := random(r, 4, 7), random(r, 5, 7), random(r, 5)
		ma := attrs{"transpose_b": aBool(true)}
		want = mustRun(t, "BiasAdd", attrs{}, mustRun(t, "MatMul", ma, a, b)[0], mb)[0]
		if act != "" {
			want = mustRun(t, act, attrs{}, want)[0]
		}
		got = mustRun(t, "_FusedMatMul", fusedAttrs(ma, ops...), a, b, mb)[0]
		same(t, "_FusedMatMul "+act, got, want.Shape, want.F32, 0)
	}
	wantErr(t, "_FusedConv2D", fusedAttrs(convAttrs("SAME", 1, 1, 1, 1), "FusedBatchNorm", "Relu"), `fused_ops ["FusedBatchNorm" "Relu"] are not supported`, x, f, bias)
	wantErr(t, "_FusedMatMul", fusedAttrs(attrs{}, "BiasAdd"), "bias float[5] does not match the 4 output channels", ramp(2, 3), ramp(3, 4), ramp(5))
}

// TestActivationsMatchDefinitions: the written-out Relu and Relu6 loops
// agree with their definitions in unaryOps on values around 0 and 6, on
// a tensor large enough to be split over cores.
func TestActivationsMatchDefinitions(t *testing.T) {
	n := 2*parallelGrain + 3
	x := ramp(n)
	for i := range x.F32 {
		x.F32[i] = float32(i%17)*0.75 - 4
	}
	for _, op := range []string{"Relu", "Relu6"} {
		y := mustRun(t, op, attrs{}, x)[0]
		for i, v := range x.F32 {
			if want := unaryOps[op](v); y.F32[i] != want {
				t.Fatalf("%s(%v) = %v, want %v", op, v, y.F32[i], want)
			}
		}
	}
}
