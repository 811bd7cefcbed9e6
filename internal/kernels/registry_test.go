package kernels

import (
	"strings"
	"testing"

	"qcal/internal/tensor"
	"qcal/internal/tfpb"
)

func TestAttrErrors(t *testing.T) {
	n := &tfpb.NodeDef{Name: "conv", Op: "Conv2D", Attr: map[string]*tfpb.AttrValue{
		"padding": {Value: &tfpb.AttrValue_S{S: []byte("SAME")}},
		"strides": {Value: &tfpb.AttrValue_List{List: &tfpb.AttrValue_ListValue{I: []int64{1, 2, 2, 1}}}},
		"T":       {Value: &tfpb.AttrValue_Type{Type: tfpb.DataType_DT_DOUBLE}},
	}}
	c := &Context{Node: n}
	if s, err := c.String("padding"); s != "SAME" || err != nil {
		t.Errorf("padding: %q %v", s, err)
	}
	if v, err := c.Ints("strides"); err != nil || len(v) != 4 || v[1] != 2 {
		t.Errorf("strides: %v %v", v, err)
	}
	if _, err := c.Int("padding"); err == nil || err.Error() != `node "conv" (Conv2D): attr "padding" is not an int` {
		t.Errorf("wrong kind: %v", err)
	}
	if _, err := c.Bool("use_cudnn_on_gpu"); err == nil || err.Error() != `node "conv" (Conv2D): attr "use_cudnn_on_gpu" is missing` {
		t.Errorf("missing: %v", err)
	}
	err := CheckType("T", tfpb.DataType_DT_FLOAT)(n)
	if err == nil || !strings.Contains(err.Error(), "T double is not supported") {
		t.Errorf("CheckType: %v", err)
	}
}

func TestRegisterTwicePanics(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "registered twice") {
			t.Errorf("recover() = %v, want a panic saying registered twice", r)
		}
	}()
	Register(Def{Op: "TestOnlyOp", Run: func(*Context) ([]*tensor.Tensor, error) { return nil, nil }})
	Register(Def{Op: "TestOnlyOp", Run: func(*Context) ([]*tensor.Tensor, error) { return nil, nil }})
}

func TestParallelCoversRange(t *testing.T) {
	for _, n := range []int{0, 1, 7, 1000} {
		seen := make([]int32, n)
		Parallel(n, 3, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				seen[i]++
			}
		})
		for i, s := range seen {
			if s != 1 {
				t.Fatalf("n=%d: index %d visited %d times", n, i, s)
			}
		}
	}
}

// TestParallelPanic: a panic in a worker reaches the caller's goroutine.
func TestParallelPanic(t *testing.T) {
	defer func() {
		if r := recover(); r != "boom" {
			t.Errorf("recover() = %v, want boom", r)
		}
	}()
	Parallel(100, 1, func(lo, hi int) {
		if lo == 0 {
			panic("boom")
		}
	})
}
