package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"qcal/internal/tensor"
	"qcal/internal/tfpb"
)

// int8Ops are the ops registered by the int8_*.go files.
var int8Ops = []string{
	"QuantizeV2", "Dequantize", "RequantizationRange", "RequantizationRangePerChannel", "Requantize", "RequantizePerChannel",
	"Print", "QuantizedConv2D", "QuantizedConv2DPerChannel", "QuantizedConv2DAndRelu", "QuantizedConv2DAndRequantize",
	"QuantizedConv2DAndReluAndRequantize", "QuantizedConv2DWithBias", "QuantizedConv2DWithBiasAndRelu",
	"QuantizedConv2DWithBiasAndRequantize", "QuantizedConv2DWithBiasAndReluAndRequantize", "QuantizedDepthwiseConv2D",
	"QuantizedDepthwiseConv2DWithBias", "QuantizedDepthwiseConv2DWithBiasAndRelu", "QuantizedDepthwiseConv2DWithBiasAndReluAndRequantize",
	"QuantizedConv2DWithBiasSumAndRelu", "QuantizedConv2DWithBiasSumAndReluAndRequantize", "QuantizedConv2DWithBiasSignedSumAndReluAndRequantize",
	"QuantizedMaxPool", "QuantizedAvgPool", "QuantizedMatMul", "QuantizedMatMulWithBias", "QuantizedMatMulWithBiasAndRelu",
	"QuantizedMatMulWithBiasAndReluAndRequantize", "QuantizedBiasAdd", "QuantizedRelu", "QuantizedRelu6", "QuantizedReshape",
	"QuantizedConcatV2", "QuantizedConcat", "QuantizedAdd", "QuantizedMul",
}

func randTensor(r *rand.Rand) *tensor.Tensor {
	dts := []tfpb.DataType{dtF32, dtQU8, dtQI8, dtQI32, tfpb.DataType_DT_INT32}
	shape := make([]int, r.IntN(5))
	for i := range shape {
		shape[i] = r.IntN(4)
	}
	if r.IntN(3) == 0 {
		shape = nil // a scalar, as range inputs are
	}
	x := tensor.New(dts[r.IntN(len(dts))], shape)
	for i := range x.F32 {
		x.F32[i] = float32(r.NormFloat64() * 3)
	}
	for i := range x.U8 {
		x.U8[i] = uint8(r.IntN(256))
	}
	for i := range x.I8 {
		x.I8[i] = int8(r.IntN(256))
	}
	for i := range x.I32 {
		x.I32[i] = int32(r.Uint32())
	}
	return x
}

// TestInt8KernelsNeverPanic: every int8 op, given random inputs (wrong
// counts, dtypes, shapes, ranges) with plausible attrs, returns outputs or
// an error naming the node — it never panics.
func TestInt8KernelsNeverPanic(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	attrSets := []attrs{
		{},
		{"T": aType(dtQU8), "Tinput": aType(dtQU8), "Tfilter": aType(dtQI8), "out_type": aType(dtQI32), "mode": aStr("SCALED"), "round_mode": aStr("HALF_TO_EVEN"),
			"strides": aInts(1, 1, 1, 1), "padding": aStr("SAME"), "ksize": aInts(1, 2, 2, 1), "clip_value_max": aFloat(6),
			"T1": aType(dtQU8), "T2": aType(dtQI8), "Toutput": aType(dtQI32), "first_n": aInt(2), "summarize": aInt(2)},
		{"T": aType(dtQI8), "Tinput": aType(dtQU8), "Tfilter": aType(dtQU8), "out_type": aType(dtQU8), "mode": aStr("MIN_FIRST"),
			"strides": aInts(1, 2, 2, 1), "padding": aStr("VALID"), "ksize": aInts(1, 3, 1, 1), "T1": aType(dtQU8), "T2": aType(dtQU8), "Toutput": aType(dtQU8)},
	}
	for _, op := range int8Ops {
		okRuns := 0
		d, ok := Lookup(op)
		if !ok {
			t.Errorf("op %s is not registered", op)
			continue
		}
		for trial := 0; trial < 300; trial++ {
			a := attrSets[trial%len(attrSets)]
			inputs := make([]*tensor.Tensor, r.IntN(13))
			for i := range inputs {
				inputs[i] = randTensor(r)
			}
			n := &tfpb.NodeDef{Name: "bad", Op: op, Attr: a}
			for range inputs {
				n.Input = append(n.Input, "in")
			}
			func() {
				defer func() {
					if p := recover(); p != nil {
						t.Fatalf("%s panicked on %d inputs %v: %v", op, len(inputs), inputs, p)
					}
				}()
				if d.Check != nil && d.Check(n) != nil {
					return
				}
				_, err := d.Run(&Context{Node: n, Inputs: inputs, Log: NewPrintLog(&strings.Builder{})})
				if err != nil && !strings.Contains(err.Error(), `node "bad"`) {
					t.Errorf("%s: error %q does not name the node", op, err)
				}
				if err == nil {
					okRuns++
				}
			}()
		}
		t.Logf("%s: %d of 300 random calls ran", op, okRuns)
	}
}

type seedCall struct {
	a      attrs
	inputs []*tensor.Tensor
}

// int8Seeds are valid calls of each op family; TestInt8KernelsMutated
// breaks one thing in them at a time.
func int8Seeds() map[string]seedCall {
	x4 := func() *tensor.Tensor {
		return qu8([]int{1, 4, 4, 2}, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20)
	}
	w := func() *tensor.Tensor { return qi8([]int{2, 2, 2, 3}, 1, -2, 3, -4, 5, -6, 7, -8, 9, -10, 11, -12) }
	conv := qconvAttrs(1, "SAME")
	convQ := qconvAttrs(1, "SAME")
	convQ["out_type"] = aType(dtQU8)
	r2 := []*tensor.Tensor{sc(0), sc(2), sc(-1), sc(1)}
	cat := func(ts ...[]*tensor.Tensor) []*tensor.Tensor {
		var out []*tensor.Tensor
		for _, t := range ts {
			out = append(out, t...)
		}
		return out
	}
	one := func(ts ...*tensor.Tensor) []*tensor.Tensor { return ts }
	bias := f32([]int{3}, 0.5, -0.5, 1)
	return map[string]seedCall{
		"QuantizeV2":                     {quantAttrs(dtQU8, "SCALED", "HALF_TO_EVEN"), one(ramp(2, 3), sc(-1), sc(6))},
		"Dequantize":                     {attrs{"T": aType(dtQU8), "mode": aStr("MIN_FIRST")}, one(qu8([]int{3}, 1, 2, 3), sc(-1), sc(1))},
		"RequantizationRange":            {attrs{"Tinput": aType(dtQI32)}, one(qi32([]int{3}, 1, -2, 3), sc(-1), sc(1))},
		"Requantize":                     {attrs{"Tinput": aType(dtQI32), "out_type": aType(dtQU8)}, one(qi32([]int{3}, 1, -2, 3), sc(-1), sc(1), sc(0), sc(1))},
		"RequantizationRangePerChannel":  {attrs{"T": aType(dtQI32), "clip_value_max": aFloat(6)}, one(qi32([]int{1, 1, 2, 2}, 1, 2, 3, 4), f32([]int{2}, -1, -2), f32([]int{2}, 1, 2))},
		"RequantizePerChannel":           {attrs{"T": aType(dtQI32), "out_type": aType(dtQU8)}, one(qi32([]int{1, 1, 2, 2}, 1, 2, 3, 4), f32([]int{2}, -1, -2), f32([]int{2}, 1, 2), sc(0), sc(1))},
		"Print":                          {attrs{"message": aStr("m"), "first_n": aInt(3)}, one(sc(1), qu8([]int{2, 2}, 1, 2, 3, 4))},
		"QuantizedConv2D":                {conv, cat(one(x4(), w()), r2)},
		"QuantizedConv2DWithBiasAndRelu": {conv, cat(one(x4(), w(), bias), r2)},
		"QuantizedConv2DWithBiasAndReluAndRequantize":    {convQ, cat(one(x4(), w(), bias), r2, one(sc(0), sc(3)))},
		"QuantizedDepthwiseConv2DWithBiasAndRelu":        {conv, cat(one(x4(), qi8([]int{2, 2, 2, 1}, 1, 2, 3, 4, 5, 6, 7, 8), f32([]int{2}, 1, 2)), r2)},
		"QuantizedConv2DWithBiasSumAndRelu":              {conv, cat(one(x4(), w(), bias), r2, one(ramp(1, 4, 4, 3)))},
		"QuantizedConv2DWithBiasSumAndReluAndRequantize": {convQ, cat(one(x4(), w(), bias), r2, one(sc(0), sc(3), tensor.New(dtQU8, []int{1, 4, 4, 3}), sc(0), sc(1)))},
		"QuantizedMaxPool":                               {qpoolAttrs(2, 2, "SAME"), one(x4(), sc(0), sc(1))},
		"QuantizedAvgPool":                               {qpoolAttrs(3, 1, "SAME"), one(x4(), sc(0), sc(1))},
		"QuantizedMatMul":                                {attrs{"T1": aType(dtQU8), "T2": aType(dtQU8), "Toutput": aType(dtQI32)}, cat(one(qu8([]int{2, 3}, 1, 2, 3, 4, 5, 6), qu8([]int{3, 1}, 7, 8, 9)), r2)},
		"QuantizedMatMulWithBiasAndRelu": {attrs{"T1": aType(dtQU8), "T2": aType(dtQI8), "Toutput": aType(dtQI32)},
			cat(one(qu8([]int{2, 3}, 1, 2, 3, 4, 5, 6), qi8([]int{3, 1}, 7, -8, 9), f32([]int{1}, 0.5)), r2)},
		"QuantizedBiasAdd":  {attrs{"T1": aType(dtQU8), "T2": aType(dtQU8), "out_type": aType(dtQI32)}, cat(one(qu8([]int{2, 2}, 1, 2, 3, 4), qu8([]int{2}, 5, 6)), r2)},
		"QuantizedRelu6":    {attrs{"Tinput": aType(dtQU8)}, one(qu8([]int{3}, 1, 2, 3), sc(-1), sc(7))},
		"QuantizedReshape":  {attrs{}, one(qu8([]int{2, 2}, 1, 2, 3, 4), i32([]int{1}, -1), sc(0), sc(1))},
		"QuantizedConcatV2": {attrs{"T": aType(dtQU8)}, one(qu8([]int{1, 2}, 1, 2), qu8([]int{1, 1}, 3), i32(nil, 1), sc(0), sc(0), sc(1), sc(2))},
		"QuantizedConcat":   {attrs{"T": aType(dtQU8)}, one(i32(nil, 1), qu8([]int{1, 2}, 1, 2), qu8([]int{1, 1}, 3), sc(0), sc(-1), sc(1), sc(2))},
		"QuantizedAdd":      {attrs{"T1": aType(dtQU8), "T2": aType(dtQU8), "Toutput": aType(dtQI32)}, cat(one(qu8([]int{2, 2}, 1, 2, 3, 4), qu8([]int{2}, 5, 6)), r2)},
		"QuantizedMul":      {attrs{"T1": aType(dtQU8), "T2": aType(dtQU8), "Toutput": aType(dtQI32)}, cat(one(qu8([]int{2, 2}, 1, 2, 3, 4), qu8([]int{1}, 5)), r2)},
	}
}

// mutate returns a copy of inputs with one thing broken: an input
// replaced by one of another shape or dtype, a range bound made NaN, ±Inf
// or swapped, or an input dropped or added.
func mutate(r *rand.Rand, in []*tensor.Tensor) []*tensor.Tensor {
	out := append([]*tensor.Tensor{}, in...)
	if len(out) == 0 {
		return []*tensor.Tensor{randTensor(r)}
	}
	i := r.IntN(len(out))
	switch r.IntN(6) {
	case 0: // another shape, same dtype
		x := randTensor(r)
		y := tensor.New(out[i].DType, x.Shape)
		out[i] = y
	case 1: // another dtype, same shape
		dts := []tfpb.DataType{dtF32, dtQU8, dtQI8, dtQI32, tfpb.DataType_DT_INT32}
		out[i] = tensor.New(dts[r.IntN(len(dts))], out[i].Shape)
	case 2: // a bad float
		bad := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 0, -1e30, 1e30}
		out[i] = sc(bad[r.IntN(len(bad))])
	case 3:
		out = out[:len(out)-1]
	case 4:
		out = append(out, randTensor(r))
	default: // a dimension set to 0
		if len(out[i].Shape) > 0 {
			sh := append([]int{}, out[i].Shape...)
			sh[r.IntN(len(sh))] = 0
			out[i] = tensor.New(out[i].DType, sh)
		}
	}
	return out
}

// TestInt8KernelsMutated: valid calls run; each broken one returns outputs
// or an error naming the node, never a panic.
func TestInt8KernelsMutated(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	for op, s := range int8Seeds() {
		d, ok := Lookup(op)
		if !ok {
			t.Fatalf("no kernel %s", op)
		}
		run := func(inputs []*tensor.Tensor) (err error) {
			n := &tfpb.NodeDef{Name: "bad", Op: op, Attr: s.a}
			for range inputs {
				n.Input = append(n.Input, "in")
			}
			defer func() {
				if p := recover(); p != nil {
					err = fmt.Errorf("panic: %v", p)
					t.Errorf("%s panicked on inputs %v: %v", op, inputs, p)
				}
			}()
			if d.Check != nil {
				if err := d.Check(n); err != nil {
					return err
				}
			}
			_, err = d.Run(&Context{Node: n, Inputs: inputs, Log: NewPrintLog(&strings.Builder{})})
			return err
		}
		if err := run(s.inputs); err != nil {
			t.Errorf("%s: the valid seed call fails: %v", op, err)
			continue
		}
		for trial := 0; trial < 200; trial++ {
			in := s.inputs
			for k := 0; k <= r.IntN(2); k++ {
				in = mutate(r, in)
			}
			if err := run(in); err != nil && !strings.Contains(err.Error(), `node "bad"`) && !strings.HasPrefix(err.Error(), "panic") {
				t.Errorf("%s: error %q does not name the node", op, err)
			}
		}
	}
}

// TestScalarRangeOfDepthwise: Intel's script without --per_channel follows
// a depthwise convolution (per-channel weights, so a range per channel)
// with a scalar RequantizationRange. TensorFlow reads element 0 of the
// vector; qcal refuses and says why and what to do.
func TestScalarRangeOfDepthwise(t *testing.T) {
	n := &tfpb.NodeDef{Name: "dw_eightbit_requant_range", Op: "RequantizationRange",
		Input: []string{"dw_eightbit_quantized_depthwise_conv", "dw_eightbit_quantized_depthwise_conv:1", "dw_eightbit_quantized_depthwise_conv:2"},
		Attr:  attrs{"Tinput": aType(dtQI32)}}
	d, _ := Lookup(n.Op)
	_, err := d.Run(&Context{Node: n, Inputs: []*tensor.Tensor{qi32([]int{1, 1, 1, 2}, 5, -7), f32([]int{2}, -1, -2), f32([]int{2}, 1, 2)}})
	for _, want := range []string{`input 1 ("dw_eightbit_quantized_depthwise_conv:1") has 2 elements, want 1`, "channel 0's range", "RequantizationRangePerChannel"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err %v, want it to contain %q", err, want)
		}
	}
	// Without "depthwise" in the producer's name: the plain message.
	n.Input = []string{"c", "c:1", "c:2"}
	_, err = d.Run(&Context{Node: n, Inputs: []*tensor.Tensor{qi32([]int{1, 1, 1, 2}, 5, -7), f32([]int{2}, -1, -2), f32([]int{2}, 1, 2)}})
	if err == nil || strings.Contains(err.Error(), "channel 0") {
		t.Errorf("err %v, want the plain message", err)
	}
}
