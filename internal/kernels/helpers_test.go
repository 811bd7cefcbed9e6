package kernels

import (
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"qcal/internal/tensor"
	"qcal/internal/tfpb"
)

type attrs map[string]*tfpb.AttrValue

func aInts(v ...int) *tfpb.AttrValue {
	l := &tfpb.AttrValue_ListValue{}
	for _, e := range v {
		l.I = append(l.I, int64(e))
	}
	return &tfpb.AttrValue{Value: &tfpb.AttrValue_List{List: l}}
}
func aInt(v int) *tfpb.AttrValue       { return &tfpb.AttrValue{Value: &tfpb.AttrValue_I{I: int64(v)}} }
func aStr(s string) *tfpb.AttrValue    { return &tfpb.AttrValue{Value: &tfpb.AttrValue_S{S: []byte(s)}} }
func aBool(b bool) *tfpb.AttrValue     { return &tfpb.AttrValue{Value: &tfpb.AttrValue_B{B: b}} }
func aFloat(f float32) *tfpb.AttrValue { return &tfpb.AttrValue{Value: &tfpb.AttrValue_F{F: f}} }
func aType(t tfpb.DataType) *tfpb.AttrValue {
	return &tfpb.AttrValue{Value: &tfpb.AttrValue_Type{Type: t}}
}

// runOp runs op's kernel on inputs after its load-time Check, as the
// executor would; it returns the outputs or the error.
func runOp(op string, a attrs, inputs ...*tensor.Tensor) ([]*tensor.Tensor, error) {
	n := &tfpb.NodeDef{Name: "n", Op: op, Attr: a}
	for range inputs {
		n.Input = append(n.Input, "in")
	}
	d, ok := Lookup(op)
	if !ok {
		panic("no kernel " + op)
	}
	if d.Check != nil {
		if err := d.Check(n); err != nil {
			return nil, err
		}
	}
	return d.Run(&Context{Node: n, Inputs: inputs, Scratch: new(Scratch)})
}

func mustRun(t *testing.T, op string, a attrs, inputs ...*tensor.Tensor) []*tensor.Tensor {
	t.Helper()
	out, err := runOp(op, a, inputs...)
	if err != nil {
		t.Fatalf("%s: %v", op, err)
	}
	return out
}

func wantErr(t *testing.T, op string, a attrs, substr string, inputs ...*tensor.Tensor) {
	t.Helper()
	_, err := runOp(op, a, inputs...)
	if err == nil || !strings.Contains(err.Error(), substr) {
		t.Errorf("%s: got error %v, want one containing %q", op, err, substr)
	}
}

func f32(shape []int, v ...float32) *tensor.Tensor { return tensor.FromF32(shape, v) }
func i32(shape []int, v ...int32) *tensor.Tensor   { return tensor.FromI32(shape, v) }

// ramp returns a float tensor holding 1, 2, 3, ...
func ramp(shape ...int) *tensor.Tensor {
	v := make([]float32, tensor.NumElements(shape))
	for i := range v {
		v[i] = float32(i + 1)
	}
	return tensor.FromF32(shape, v)
}

func random(r *rand.Rand, shape ...int) *tensor.Tensor {
	v := make([]float32, tensor.NumElements(shape))
	for i := range v {
		v[i] = r.Float32()*2 - 1
	}
	return tensor.FromF32(shape, v)
}

// same checks shape and values of got against want within tol (absolute).
func same(t *testing.T, what string, got *tensor.Tensor, wantShape []int, want []float32, tol float64) {
	t.Helper()
	if !reflect.DeepEqual(got.Shape, wantShape) && !(len(got.Shape) == 0 && len(wantShape) == 0) {
		t.Fatalf("%s: shape %v, want %v", what, got.Shape, wantShape)
	}
	if len(got.F32) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got.F32), len(want))
	}
	for i := range want {
		if d := math.Abs(float64(got.F32[i] - want[i])); d > tol || math.IsNaN(float64(got.F32[i])) != math.IsNaN(float64(want[i])) {
			t.Fatalf("%s: element %d = %v, want %v\ngot  %v\nwant %v", what, i, got.F32[i], want[i], got.F32, want)
		}
	}
}
