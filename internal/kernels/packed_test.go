package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"qcal/internal/tensor"
	"qcal/internal/tfpb"
)

// TestConvPackedFilter runs Conv2D and _FusedConv2D with the filter marked
// Const (packed once into Packs, then reused) and unmarked (packed by
// GEMM on every call): the outputs must agree bit for bit, on 1×1
// convolutions (GEMM on x itself), im2col ones, narrow and wide outputs,
// over repeated calls with one Packs and with the filter's buffer reread
// as another shape (the cache must not hand back the first shape's
// packing).
func TestConvPackedFilter(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	s := new(Scratch)
	packs := new(Packs)
	run := func(op string, a attrs, konst bool, in ...*tensor.Tensor) *tensor.Tensor {
		n := &tfpb.NodeDef{Name: "n", Op: op, Attr: a}
		d, _ := Lookup(op)
		if err := d.Check(n); err != nil {
			t.Fatal(err)
		}
		c := &Context{Node: n, Inputs: in, Scratch: s}
		if konst {
			c.Const, c.Packs = []bool{false, true, true}, packs
		}
		out, err := d.Run(c)
		if err != nil {
			t.Fatal(err)
		}
		return out[0]
	}
	for _, c := range []struct{ h, ch, kh, oc, s int }{
		{8, 8, 1, 16, 1}, {8, 16, 1, 40, 1}, {5, 3, 3, 8, 2}, {7, 12, 3, 33, 1}, {4, 64, 1, 128, 1}, {6, 5, 1, 3, 2},
	} {
		name := fmt.Sprintf("%dx%dx%d_k%d_o%d_s%d", c.h, c.h, c.ch, c.kh, c.oc, c.s)
		f := random(r, c.kh, c.kh, c.ch, c.oc)
		bias := random(r, c.oc)
		ca := convAttrs("SAME", c.s, c.s, 1, 1)
		for call := range 3 {
			x := random(r, 1, c.h, c.h, c.ch)
			for _, op := range []string{"Conv2D", "_FusedConv2D"} {
				a, in := ca, []*tensor.Tensor{x, f}
				if op == "_FusedConv2D" {
					a, in = fusedAttrs(ca, "BiasAdd", "Relu6"), append(in, bias)
				}
				want, got := run(op, a, false, in...), run(op, a, true, in...)
				for i := range want.F32 {
					if math.Float32bits(got.F32[i]) != math.Float32bits(want.F32[i]) {
						t.Fatalf("%s %s call %d: element %d = %v with the packed filter, %v without", name, op, call, i, got.F32[i], want.F32[i])
					}
				}
			}
		}
	}
	// The same buffer as a 1×1×16×8 and a 1×1×8×16 filter.
	buf := random(r, 128).F32
	x := random(r, 1, 3, 3, 16)
	f1 := tensor.FromF32([]int{1, 1, 16, 8}, buf)
	y1 := run("Conv2D", convAttrs("VALID", 1, 1, 1, 1), true, x, f1)
	want1 := run("Conv2D", convAttrs("VALID", 1, 1, 1, 1), false, x, f1)
	x2 := random(r, 1, 3, 3, 8)
	f2 := tensor.FromF32([]int{1, 1, 8, 16}, buf)
	y2 := run("Conv2D", convAttrs("VALID", 1, 1, 1, 1), true, x2, f2)
	want2 := run("Conv2D", convAttrs("VALID", 1, 1, 1, 1), false, x2, f2)
	for i := range want1.F32 {
		if math.Float32bits(y1.F32[i]) != math.Float32bits(want1.F32[i]) {
			t.Fatalf("16×8 reading: element %d = %v, want %v", i, y1.F32[i], want1.F32[i])
		}
	}
	for i := range want2.F32 {
		if math.Float32bits(y2.F32[i]) != math.Float32bits(want2.F32[i]) {
			t.Fatalf("8×16 reading of the same buffer: element %d = %v, want %v", i, y2.F32[i], want2.F32[i])
		}
	}
	if len(packs.m) == 0 {
		t.Error("nothing was packed")
	}
}

// TestRecycleBytes: a dead quint8 tensor's buffer handed to Recycle comes
// back from New for the same element count (cleared) and from NewUninit
// (as it was); other counts, qint8 codes and slices longer than their
// tensor are not reused.
func TestRecycleBytes(t *testing.T) {
	s := new(Scratch)
	c := &Context{Scratch: s}
	x := tensor.FromU8(dtQU8, []int{2, 3}, []uint8{1, 2, 3, 4, 5, 6})
	s.Recycle(x)
	if y := c.New(dtQU8, []int{3, 2}); &y.U8[0] != &x.U8[0] || y.U8[0] != 0 || y.U8[5] != 0 || y.DType != dtQU8 {
		t.Fatalf("New after Recycle: %v at %p, want the recycled buffer %p cleared", y.U8, &y.U8[0], &x.U8[0])
	}
	x.U8[4] = 9
	s.Recycle(x)
	if y := c.NewUninit(tfpb.DataType_DT_UINT8, []int{6}); &y.U8[0] != &x.U8[0] || y.U8[4] != 9 {
		t.Fatalf("NewUninit after Recycle: %v, want the recycled buffer as it was", y.U8)
	}
	s.Recycle(x)
	if y := c.New(dtQU8, []int{5}); &y.U8[0] == &x.U8[0] {
		t.Fatal("New of 5 codes reused a buffer of 6")
	}
	if y := c.New(dtQU8, []int{6}); &y.U8[0] != &x.U8[0] {
		t.Fatal("the buffer of 6 codes was not kept for a later New of 6")
	}
	w := tensor.FromI8(dtQI8, []int{2}, []int8{1, 2})
	s.Recycle(w)
	if y := c.New(dtQI8, []int{2}); &y.I8[0] == &w.I8[0] {
		t.Fatal("qint8 codes were recycled")
	}
	long := make([]uint8, 4, 8)
	s.Recycle(tensor.FromU8(dtQU8, []int{4}, long))
	if y := c.New(dtQU8, []int{4}); &y.U8[0] == &long[0] {
		t.Fatal("a slice shorter than its array was recycled")
	}
}
