package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// depthwiseLoop is the kernel DepthwiseF32 replaced, kept as its bit-exact
// reference: y starts at 0 and each in-bounds tap, in ky-then-kx order,
// adds x·f to every output channel (q = ic·mult + m), reading and writing
// y once a tap. The product is rounded before the sum, as the old
// `out[q] += v * fk[q]` computed it on amd64 (Go fuses x·y+z into one FMA
// only on other architectures or GOAMD64=v3; float32() forbids it).
func depthwiseLoop(x []float32, n, ch int, f []float32, mult int, win Window) []float32 {
	oc := ch * mult
	h, w := win.InH, win.InW
	y := make([]float32, n*win.OH*win.OW*oc)
	for b := 0; b < n; b++ {
		for oy := 0; oy < win.OH; oy++ {
			for ox := 0; ox < win.OW; ox++ {
				out := y[((b*win.OH+oy)*win.OW+ox)*oc:][:oc]
				for ky := 0; ky < win.KH; ky++ {
					iy := oy*win.SH - win.PadT + ky*win.DH
					if iy < 0 || iy >= h {
						continue
					}
					for kx := 0; kx < win.KW; kx++ {
						ix := ox*win.SW - win.PadL + kx*win.DW
						if ix < 0 || ix >= w {
							continue
						}
						in := x[((b*h+iy)*w+ix)*ch:][:ch]
						fk := f[(ky*win.KW+kx)*oc:][:oc]
						for ic, v := range in {
							for m := 0; m < mult; m++ {
								out[ic*mult+m] += float32(v * fk[ic*mult+m])
							}
						}
					}
				}
			}
		}
	}
	return y
}

// TestDepthwiseF32Bits compares DepthwiseF32 with depthwiseLoop bit for bit
// (and each with refConv's float64 sums within rounding) on random shapes:
// channel counts below, at and past a block of 8 (1, 3, 8, 13, 24),
// multipliers 1, 2 and 3, strides 1 and 2 (and 3 past the kernel), SAME,
// VALID and EXPLICIT padding, dilations, batches, and every epilogue
// (bias, Relu, Relu6 after the sums, as the separate pass computes it).
func TestDepthwiseF32Bits(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	type shape struct {
		n, h, w, c, kh, kw, mult, sh, sw, dh, dw int
		pad                                      string
	}
	cases := []shape{
		{1, 5, 5, 1, 3, 3, 1, 1, 1, 1, 1, "SAME"},
		{1, 64, 64, 8, 3, 3, 1, 1, 1, 1, 1, "SAME"}, // MobileNet 0.25/128's first depthwise layer
		{1, 64, 64, 16, 3, 3, 1, 2, 2, 1, 1, "SAME"},
		{2, 9, 8, 13, 3, 3, 1, 2, 2, 1, 1, "SAME"},
		{1, 9, 8, 13, 3, 3, 1, 2, 2, 1, 1, "VALID"},
		{1, 7, 7, 24, 3, 3, 1, 1, 1, 1, 1, "VALID"},
		{1, 10, 11, 3, 3, 3, 2, 1, 1, 1, 1, "SAME"},
		{2, 10, 11, 8, 3, 2, 3, 2, 1, 1, 1, "SAME"},
		{1, 11, 10, 9, 3, 3, 1, 1, 1, 2, 2, "SAME"},
		{1, 11, 10, 9, 3, 3, 2, 1, 1, 2, 3, "VALID"},
		{1, 9, 9, 16, 2, 2, 1, 3, 3, 1, 1, "SAME"},
		{1, 4, 4, 256, 3, 3, 1, 1, 1, 1, 1, "SAME"},
		{3, 6, 5, 10, 5, 5, 1, 1, 1, 1, 1, "EXPLICIT"},
		{1, 1, 1, 8, 3, 3, 1, 1, 1, 1, 1, "SAME"}, // only the centre tap is inside
	}
	for range 20 {
		cases = append(cases, shape{1 + r.IntN(2), 1 + r.IntN(12), 1 + r.IntN(12), 1 + r.IntN(40), 1 + r.IntN(4), 1 + r.IntN(4),
			1 + r.IntN(3), 1 + r.IntN(2), 1 + r.IntN(2), 1 + r.IntN(2), 1 + r.IntN(2), "SAME"})
	}
	for _, c := range cases {
		name := fmt.Sprintf("%dx%dx%dx%d_k%dx%d_m%d_s%d%d_d%d%d_%s", c.n, c.h, c.w, c.c, c.kh, c.kw, c.mult, c.sh, c.sw, c.dh, c.dw, c.pad)
		var explicit []int
		if c.pad == "EXPLICIT" {
			explicit = []int{0, 0, 2, 1, 0, 3, 0, 0}
		}
		win, err := NewWindow(c.h, c.w, c.kh, c.kw, c.sh, c.sw, c.dh, c.dw, c.pad, explicit)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		x := random(r, c.n, c.h, c.w, c.c)
		for i := range x.F32 {
			x.F32[i] *= 8 // so that Relu6 clips some sums
		}
		f := random(r, c.kh, c.kw, c.c, c.mult)
		oc := c.c * c.mult
		want := depthwiseLoop(x.F32, c.n, c.c, f.F32, c.mult, win)
		ref := refConv(x, f, win, true)
		k := float64(c.kh * c.kw)
		for i := range want {
			if d := math.Abs(float64(want[i] - ref[i])); d > 8*k*1e-6 {
				t.Fatalf("%s: reference loop element %d = %v, float64 sum %v", name, i, want[i], ref[i])
			}
		}
		bias := random(r, oc).F32
		for _, ep := range []*Epilogue{nil, {Bias: bias}, {Bias: bias, Act: ActRelu}, {Bias: bias, Act: ActRelu6}} {
			w := append([]float32(nil), want...)
			withAsm(false, func() { ep.Apply(w) })
			for _, asm := range []bool{false, true} {
				got := make([]float32, len(w))
				for i := range got {
					got[i] = float32(math.NaN()) // every element must be written
				}
				withAsm(asm, func() { DepthwiseF32(x.F32, c.n, c.c, f.F32, c.mult, win, got, ep) })
				for i := range w {
					if math.Float32bits(got[i]) != math.Float32bits(w[i]) {
						t.Fatalf("%s, epilogue %+v, asm %v: element %d = %v (%#x), the loop gives %v (%#x)",
							name, ep, asm && hasAVX, i, got[i], math.Float32bits(got[i]), w[i], math.Float32bits(w[i]))
					}
				}
			}
		}
	}
}

// withAsm runs f with the assembly kernels on (where the CPU has them) or
// off.
func withAsm(on bool, f func()) {
	saved := useAsm
	useAsm = on && hasAVX
	defer func() { useAsm = saved }()
	f()
}

// TestEpilogueAsm compares Epilogue.Apply's assembly with its Go loops bit
// for bit on rows of 1 to 40 channels (tails shorter than a vector) holding
// the values where max and min are subtle: NaNs of both signs (Go's max
// clears a NaN's sign bit: Inf + −Inf is 0xffc00000, its Relu 0x7fc00000),
// ±0 (a sum −0 + −0 is −0, which Go's max(·, 0) makes +0), ±Inf, exactly
// 6, and values beside them.
func TestEpilogueAsm(t *testing.T) {
	if !hasAVX {
		t.Skip("no assembly on this CPU or build")
	}
	nz := float32(math.Copysign(0, -1))
	special := []float32{float32(math.NaN()), 0, nz, float32(math.Inf(1)), float32(math.Inf(-1)), 6, -6,
		math.Nextafter32(6, 7), math.Nextafter32(6, 5), math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32, 3.5, -0.25,
		math.Float32frombits(0xffc12345), math.Float32frombits(0x7fc00abc)} // NaNs with a sign and payloads
	r := rand.New(rand.NewPCG(3, 4))
	for c := 1; c <= 40; c++ {
		rows := 3
		y := make([]float32, rows*c)
		bias := make([]float32, c)
		for i := range y {
			y[i] = special[r.IntN(len(special))]
		}
		for i := range bias {
			bias[i] = special[r.IntN(len(special))]
		}
		// One −0 + −0 at least, when the row has room.
		y[0], bias[0] = nz, nz
		for _, act := range []Activation{ActNone, ActRelu, ActRelu6} {
			ep := &Epilogue{Bias: bias, Act: act}
			want := append([]float32(nil), y...)
			withAsm(false, func() { ep.Apply(want) })
			got := append([]float32(nil), y...)
			withAsm(true, func() { ep.Apply(got) })
			for i := range want {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("%d channels, act %d: element %d (%v + %v) = %v (%#x), Go gives %v (%#x)",
						c, act, i, y[i], bias[i%c], got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
				}
			}
		}
	}
	// Worked by hand: Relu6 of −0 + −0 is +0 (Go's max(−0, 0)), of 5 + 2 is 6.
	y := []float32{nz, 5, 0, 0, 0, 0, 0, 0}
	(&Epilogue{Bias: []float32{nz, 2, 0, 0, 0, 0, 0, 0}, Act: ActRelu6}).Apply(y)
	if math.Float32bits(y[0]) != 0 || y[1] != 6 {
		t.Errorf("Relu6(−0 + −0), Relu6(5 + 2) = %v (%#x), %v; want +0, 6", y[0], math.Float32bits(y[0]), y[1])
	}
}

// BenchmarkDepthwiseF32 runs MobileNet v1 0.25/128's depthwise layers
// (3×3, multiplier 1, SAME) with bias and Relu6, as the executor calls
// them, and reports GFLOP/s (2 per tap inside the input).
func BenchmarkDepthwiseF32(b *testing.B) {
	for _, c := range []struct{ h, ch, s int }{{64, 8, 1}, {64, 16, 2}, {32, 32, 1}, {16, 64, 1}, {8, 128, 1}, {4, 256, 1}} {
		for _, asm := range []bool{true, false} {
			kind := "go"
			if asm && hasAVX {
				kind = "asm"
			} else if asm {
				continue
			}
			b.Run(fmt.Sprintf("%dx%dx%d_s%d/%s", c.h, c.h, c.ch, c.s, kind), func(b *testing.B) {
				defer func(saved bool) { useAsm = saved }(useAsm)
				useAsm = asm && hasAVX
				r := rand.New(rand.NewPCG(1, 2))
				win, err := NewWindow(c.h, c.h, 3, 3, c.s, c.s, 1, 1, "SAME", nil)
				if err != nil {
					b.Fatal(err)
				}
				x, f, bias := random(r, 1, c.h, c.h, c.ch), random(r, 3, 3, c.ch, 1), random(r, c.ch)
				y := make([]float32, win.OH*win.OW*c.ch)
				ep := &Epilogue{Bias: bias.F32, Act: ActRelu6}
				taps := 0
				for oy := 0; oy < win.OH; oy++ {
					for ox := 0; ox < win.OW; ox++ {
						for ky := 0; ky < 3; ky++ {
							for kx := 0; kx < 3; kx++ {
								iy, ix := oy*c.s-win.PadT+ky, ox*c.s-win.PadL+kx
								if iy >= 0 && iy < c.h && ix >= 0 && ix < c.h {
									taps++
								}
							}
						}
					}
				}
				b.SetBytes(int64(4 * (len(x.F32) + len(y))))
				b.ReportAllocs()
				for b.Loop() {
					DepthwiseF32(x.F32, 1, c.ch, f.F32, 1, win, y, ep)
				}
				b.ReportMetric(2*float64(taps*c.ch)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// BenchmarkEpilogue applies bias and Relu6 to the output of MobileNet v1
// 0.25/128's first pointwise convolution (64×64 pixels × 16 channels) in
// assembly and in Go, reporting elements per second.
func BenchmarkEpilogue(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	y := random(r, 64*64*16).F32
	ep := &Epilogue{Bias: random(r, 16).F32, Act: ActRelu6}
	for _, asm := range []bool{true, false} {
		if asm && !hasAVX {
			continue
		}
		name := map[bool]string{true: "asm", false: "go"}[asm]
		b.Run(name, func(b *testing.B) {
			defer func(saved bool) { useAsm = saved }(useAsm)
			useAsm = asm
			b.SetBytes(int64(4 * len(y)))
			b.ReportAllocs()
			for b.Loop() {
				ep.Apply(y)
			}
			b.ReportMetric(float64(len(y)*b.N)/b.Elapsed().Seconds()/1e9, "Gelem/s")
		})
	}
}
