package kernels

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"qcal/internal/tensor"
	"qcal/internal/tfpb"
)

// TestConvPrepShared runs Intel's quantized convolutions through one
// Packs, their filter, bias and filter ranges marked Const, as the
// executor does, and checks every output against a run that derives
// everything afresh (no Packs): the same codes and ranges, bit for bit,
// while the range inputs change from run to run and come back, and for a
// second filter of the same shape. It also checks that the Packs keeps
// one preparation per distinct set of operands (so later runs reuse it):
// 4 range settings × 2 filters = 8 (6 for the op without output ranges).
func TestConvPrepShared(t *testing.T) {
	r := rand.New(rand.NewPCG(61, 62))
	codes := func(shape ...int) *tensor.Tensor {
		x := tensor.New(dtQU8, shape)
		for i := range x.U8 {
			x.U8[i] = uint8(r.IntN(256))
		}
		return x
	}
	filter := func(shape ...int) *tensor.Tensor {
		w := tensor.New(dtQI8, shape)
		for i := range w.I8 {
			w.I8[i] = int8(r.IntN(256) - 128)
		}
		return w
	}
	vec := func(n int, lo, hi float32) *tensor.Tensor {
		v := make([]float32, n)
		for i := range v {
			v[i] = lo + (hi-lo)*r.Float32()
		}
		return f32([]int{n}, v...)
	}
	qbias := func(n int) *tensor.Tensor {
		b := tensor.New(dtQI32, []int{n})
		for i := range b.I32 {
			b.I32[i] = r.Int32N(1<<16) - 1<<15
		}
		return b
	}
	ranges := [][4]float32{{0, 6, 0, 6}, {0, 4, 0, 6}, {0, 6, -1, 3}, {-2, 6, 0, 6}}
	cases := []struct {
		op     string
		a      attrs
		x      *tensor.Tensor
		fshape []int
		oc     int
		bias   func(int) *tensor.Tensor
	}{
		{"QuantizedConv2DWithBiasAndReluAndRequantize", withOut(qconvAttrs(1, "SAME"), dtQU8), codes(1, 9, 9, 16), []int{1, 1, 16, 24}, 24, qbias},
		{"QuantizedConv2DWithBiasAndReluAndRequantize", withOut(qconvAttrs(2, "SAME"), dtQU8), codes(1, 9, 8, 3), []int{3, 3, 3, 8}, 8, qbias},
		{"QuantizedConv2DWithBiasAndRequantize", withOut(qconvAttrs(1, "VALID"), dtQI8), codes(1, 1, 1, 32), []int{1, 1, 32, 21}, 21, func(n int) *tensor.Tensor { return vec(n, -1, 1) }},
		{"QuantizedDepthwiseConv2DWithBiasAndReluAndRequantize", withOut(qconvAttrs(1, "SAME"), dtQU8), codes(1, 7, 6, 16), []int{3, 3, 16, 1}, 16, qbias},
		{"QuantizedDepthwiseConv2DWithBiasAndReluAndRequantize", withOut(qconvAttrs(2, "SAME"), dtQU8), codes(1, 7, 6, 4), []int{3, 3, 4, 2}, 8, qbias},
		{"QuantizedConv2DWithBias", qconvAttrs(1, "SAME"), codes(1, 5, 5, 8), []int{3, 3, 8, 8}, 8, qbias},
	}
	for _, cc := range cases {
		packs := new(Packs)
		ws := []*tensor.Tensor{filter(cc.fshape...), filter(cc.fshape...)}
		bias, minW, maxW := cc.bias(cc.oc), vec(cc.oc, -2, -0.5), vec(cc.oc, 0.5, 2)
		for round := 0; round < 2; round++ { // the second round finds every preparation made
			for wi, w := range ws {
				for ri, rg := range ranges {
					ins := []*tensor.Tensor{cc.x, w, bias, sc(rg[0]), sc(rg[1]), minW, maxW}
					if strings.HasSuffix(cc.op, "Requantize") {
						ins = append(ins, sc(rg[2]), sc(rg[3]))
					}
					name := fmt.Sprintf("%s %v filter %d ranges %d round %d", cc.op, cc.fshape, wi, ri, round)
					want, err := runOp(cc.op, cc.a, ins...)
					if err != nil {
						t.Fatalf("%s: %v", name, err)
					}
					c := &Context{Inputs: ins, Scratch: new(Scratch), Packs: packs,
						Const: []bool{false, true, true, false, false, true, true, false, false}}
					got, err := runOpCtx(cc.op, cc.a, c)
					if err != nil {
						t.Fatalf("%s: %v", name, err)
					}
					for k := range want {
						if fmt.Sprint(codesOrF32(got[k])) != fmt.Sprint(codesOrF32(want[k])) {
							t.Fatalf("%s: output %d = %v, afresh %v", name, k, codesOrF32(got[k]), codesOrF32(want[k]))
						}
					}
				}
			}
		}
		want := len(ranges) * len(ws)
		if !strings.HasSuffix(cc.op, "Requantize") {
			want = 3 * len(ws) // without output ranges, settings 0 and 2 are one: x in [0, 6]
		}
		if n := len(packs.conv); n != want {
			t.Errorf("%s %v: %d preparations kept, want %d", cc.op, cc.fshape, n, want)
		}
	}
}

func withOut(a attrs, t tfpb.DataType) attrs {
	a["out_type"] = aType(t)
	return a
}

// runOpCtx is runOp with the caller's Context (its Inputs set).
func runOpCtx(op string, a attrs, c *Context) ([]*tensor.Tensor, error) {
	n := &tfpb.NodeDef{Name: "n", Op: op, Attr: a}
	for range c.Inputs {
		n.Input = append(n.Input, "in")
	}
	d, _ := Lookup(op)
	if d.Check != nil {
		if err := d.Check(n); err != nil {
			return nil, err
		}
	}
	c.Node = n
	return d.Run(c)
}

// codesOrF32 is a tensor's codes, or its floats.
func codesOrF32(x *tensor.Tensor) any {
	if x.DType == dtF32 {
		return x.F32
	}
	return codesOf(x)
}
