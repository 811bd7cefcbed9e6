package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"
	"unsafe"

	"qcal/internal/gemm"
	"qcal/internal/tensor"
	"qcal/internal/tfpb"
	"qcal/quant"
)

// The fast int8 paths against the obvious implementations they replaced,
// kept here verbatim as references: the same codes, bit for bit, on
// random and edge-case inputs.

// refMklEpilogue is the epilogue as it was: one element at a time,
// channel i % oc, quant.SatRNE.
func refMklEpilogue(acc []int32, oc int, bias, scale []float32, relu bool, t quant.Type, out []int32) {
	for i := range acc {
		j := i % oc
		d := float32(acc[i])
		if bias != nil {
			d += bias[j]
		}
		if scale != nil {
			d *= scale[j]
		}
		if relu && d < 0 {
			d = 0
		}
		out[i] = quant.SatRNE(t, d)
	}
}

// refDepthwise is the depthwise accumulation as it was.
func refDepthwise(x []uint8, n, ch int, w []int8, mult int, win Window, acc []int32) {
	oc := ch * mult
	pix := win.OH * win.OW
	for r := 0; r < n*pix; r++ {
		b, p := r/pix, r%pix
		oy, ox := p/win.OW, p%win.OW
		row := acc[r*oc : (r+1)*oc]
		clear(row)
		for ky := 0; ky < win.KH; ky++ {
			iy := oy*win.SH - win.PadT + ky*win.DH
			if iy < 0 || iy >= win.InH {
				continue
			}
			for kx := 0; kx < win.KW; kx++ {
				ix := ox*win.SW - win.PadL + kx*win.DW
				if ix < 0 || ix >= win.InW {
					continue
				}
				xin := x[((b*win.InH+iy)*win.InW+ix)*ch:][:ch]
				wk := w[(ky*win.KW+kx)*oc:][:oc]
				for ci, xv := range xin {
					for m := 0; m < mult; m++ {
						row[ci*mult+m] += int32(xv) * int32(wk[ci*mult+m])
					}
				}
			}
		}
	}
}

// edgeFloats are the values where rounding and saturation can go wrong:
// ties on both sides of even numbers, the type bounds and half a step
// around them, signed zeros, NaN, infinities, the limits of rneSmall.
var edgeFloats = []float32{
	0, float32(math.Copysign(0, -1)), 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 0.49999997, -0.49999997,
	126.5, 127, 127.5, 128, -127.5, -128, -128.5, -129, 254.5, 255, 255.49998, 255.5, 256,
	1e-45, -1e-45, 0x1p22, -0x1p22, 0x1p22 + 1, 0x1p23 + 1, -0x1p23 - 3, 3e9, -3e9, math.MaxFloat32, -math.MaxFloat32,
	float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()),
}

// TestSatMatchesSatRNE: satU8, satI8 and satI32 give quant.SatRNE's code for the
// edge values and for 2²⁰ random bit patterns and 2²⁰ values in
// [-300, 300] with random fractions (ties included by the edges).
func TestSatMatchesSatRNE(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	vals := append([]float32{}, edgeFloats...)
	for i := 0; i < 1<<20; i++ {
		vals = append(vals, math.Float32frombits(r.Uint32()), float32(r.IntN(1200)-600)/2+float32(r.IntN(3))*r.Float32())
	}
	for _, v := range []float32{0x1p22 + 0.5, 0x1p22 + 1.5, -0x1p22 - 0.5, 0x1p23 - 0.5, 0x1p31, -0x1p31, 0x1p31 - 128, -0x1p31 + 128, 0x1p51, 2.5, -2.5} {
		vals = append(vals, v, math.Nextafter32(v, 0), math.Nextafter32(v, float32(math.Inf(1))))
	}
	for _, v := range vals {
		if got, want := satI32(v), quant.SatRNE(quant.QInt32, v); got != want {
			t.Fatalf("satI32(%g) = %d, SatRNE gives %d", v, got, want)
		}
		if got, want := int32(satU8(v)), quant.SatRNE(quant.QUInt8, v); got != want {
			t.Fatalf("satU8(%g) = %d, SatRNE gives %d", v, got, want)
		}
		if got, want := int32(satI8(v)), quant.SatRNE(quant.QInt8, v); got != want {
			t.Fatalf("satI8(%g) = %d, SatRNE gives %d", v, got, want)
		}
	}
	// Worked by hand (round half to even): 2.5 → 2, 3.5 → 4, -2.5 → -2,
	// 254.5 → 254, 255.5 saturates to 255, -128.5 to -128.
	for _, c := range []struct {
		v      float32
		u8, i8 int32
	}{{2.5, 2, 2}, {3.5, 4, 4}, {-2.5, 0, -2}, {254.5, 254, 127}, {255.5, 255, 127}, {-128.5, 0, -128}} {
		if int32(satU8(c.v)) != c.u8 || int32(satI8(c.v)) != c.i8 {
			t.Errorf("sat(%g) = %d, %d; want %d, %d", c.v, satU8(c.v), satI8(c.v), c.u8, c.i8)
		}
	}
}

// TestQuantizeMklFastMatchesQuantize: the QuantizeV2 loops equal
// quant.MklScaled.Quantize element by element.
func TestQuantizeMklFastMatchesQuantize(t *testing.T) {
	r := rand.New(rand.NewPCG(23, 24))
	src := append([]float32{}, edgeFloats...)
	for i := 0; i < 1<<16; i++ {
		src = append(src, (r.Float32()-0.3)*8, math.Float32frombits(r.Uint32()))
	}
	for _, qt := range []quant.Type{quant.QUInt8, quant.QInt8} {
		for _, rg := range [][2]float32{{0, 6}, {-1, 5.3}, {-3, 0.5}, {0, 1e-3}} {
			z, err := quant.NewMklScaled(qt, rg[0], rg[1])
			if err != nil {
				t.Fatal(err)
			}
			u8, i8 := make([]uint8, len(src)), make([]int8, len(src))
			quantizeMklU8(u8, src, z.Scale)
			quantizeMklI8(i8, src, z.Scale)
			for i, v := range src {
				got := int32(u8[i])
				if qt == quant.QInt8 {
					got = int32(i8[i])
				}
				if want := z.Quantize(v); got != want {
					t.Fatalf("%v %v: %g → %d, Quantize gives %d", qt, rg, v, got, want)
				}
			}
		}
	}
}

// TestConvMKLMatchesReference: the fused convolution and depthwise paths
// (chunked im2col + gemm + per-row epilogue; per-pixel depthwise) write
// the codes of ConvU8S8 / refDepthwise followed by refMklEpilogue, for
// every output type, with and without bias, scale and Relu, on odd and
// edge shapes; biases and scales large enough to saturate, and a NaN
// bias.
func TestConvMKLMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(25, 26))
	cases := convCases(r)
	cases = append(cases,
		convCase{1, 3, 3, 1, 3, 3, 1, 1, 1, "SAME"},
		convCase{2, 13, 11, 7, 3, 3, 33, 2, 1, "SAME"},
		convCase{1, 40, 40, 16, 3, 3, 70, 1, 1, "VALID"}, // several accumulator chunks
		convCase{1, 2, 3, 4, 5, 5, 3, 1, 1, "SAME"},      // window wider than the image
		convCase{2, 5, 7, 9, 1, 1, 12, 1, 1, "SAME"},     // pointwise: x is the im2col matrix
		convCase{1, 5, 7, 9, 1, 1, 12, 1, 1, "VALID"},    // pointwise
		convCase{1, 64, 64, 3, 1, 1, 70, 1, 1, "VALID"},  // pointwise in several chunks
		convCase{1, 5, 7, 9, 1, 1, 12, 2, 1, "VALID"},    // 1×1 strided: im2col again
		convCase{2, 6, 7, 3, 3, 3, 2, 1, 3, "SAME"},      // dilation 3: some taps never land
		convCase{1, 9, 9, 8, 3, 3, 8, 3, 2, "VALID"},     // stride 3 with dilation
		convCase{2, 12, 11, 16, 3, 3, 4, 2, 1, "SAME"},   // strided, 8-channel blocks (AVX2)
		convCase{1, 9, 10, 24, 3, 3, 4, 2, 1, "VALID"},   // strided, 8-channel blocks (AVX2)
		// quint8 depthwise in registers (dwRunU8AVX2): 4 blocks and 1
		// block at a time, a Go tail of 3 channels, padded edge columns.
		convCase{1, 7, 9, 43, 3, 3, 4, 1, 1, "SAME"},
		convCase{2, 8, 8, 64, 3, 3, 4, 2, 1, "SAME"},
		convCase{1, 2, 1, 40, 3, 3, 4, 1, 1, "SAME"}, // no interior column
		convCase{1, 5, 6, 8, 3, 3, 4, 1, 2, "SAME"},  // dilation: taps off the image
		// ... four pixels at a time for fewer than 4 blocks (dwRun4U8AVX2):
		// interior runs of 17, 10 and 11 pixels (groups and a rest).
		convCase{1, 6, 19, 8, 3, 3, 4, 1, 1, "SAME"},
		convCase{1, 7, 22, 16, 3, 3, 4, 2, 1, "SAME"},
		convCase{2, 5, 13, 27, 3, 3, 4, 1, 1, "VALID"},
		// quint8 epilogue over whole chunks of rows (epilogueRowsU8AVX2)
		convCase{1, 9, 7, 8, 1, 1, 16, 1, 1, "VALID"},
		convCase{2, 5, 5, 3, 3, 3, 24, 1, 1, "SAME"},
		convCase{1, 40, 40, 16, 1, 1, 128, 1, 1, "VALID"}, // several chunks
		convCase{1, 9, 7, 8, 1, 1, 32, 1, 1, "VALID"},     // 32 codes a step
		convCase{2, 3, 5, 8, 3, 3, 96, 2, 1, "SAME"},      // 3 steps of 32 a row
	)
	types := []quant.Type{quant.QUInt8, quant.QInt8, quant.QInt32}
	for ci, cc := range cases {
		win, err := NewWindow(cc.h, cc.w, cc.kh, cc.kw, cc.s, cc.s, cc.d, cc.d, cc.pad, nil)
		if err != nil {
			t.Fatal(err)
		}
		x := make([]uint8, cc.n*cc.h*cc.w*cc.ch)
		for i := range x {
			x[i] = uint8(r.IntN(256))
		}
		// Depthwise with multiplier 1 (the row path) and 2 or 3 (per pixel).
		for _, kind := range []struct {
			depthwise bool
			mult      int
		}{{false, 1}, {true, 1}, {true, 2 + ci%2}} {
			depthwise, mult := kind.depthwise, kind.mult
			oc := cc.oc
			if depthwise {
				oc = cc.ch * mult
			}
			wn := cc.kh * cc.kw * cc.ch * oc // HWIO
			if depthwise {
				wn = cc.kh * cc.kw * cc.ch * mult // HWCM
			}
			w := make([]int8, wn)
			for i := range w {
				w[i] = int8(r.IntN(256) - 128)
			}
			rows := cc.n * win.OH * win.OW
			acc := make([]int32, rows*oc)
			if depthwise {
				refDepthwise(x, cc.n, cc.ch, w, mult, win, acc)
			} else {
				ConvU8S8(x, cc.n, cc.ch, w, oc, win, 0, acc, nil)
			}
			for variant := 0; variant < 8; variant++ {
				var bias, scale []float32
				if variant&1 != 0 {
					bias = make([]float32, oc)
					for j := range bias {
						bias[j] = (r.Float32() - 0.5) * 4e5
					}
					if variant == 7 {
						bias[0] = float32(math.NaN())
					}
				}
				if variant&2 != 0 {
					scale = make([]float32, oc)
					for j := range scale {
						scale[j] = r.Float32() * 2e-3
					}
				}
				relu := variant&4 != 0
				for _, qt := range types {
					if qt != quant.QInt32 && scale == nil {
						continue // the requantizing ops always scale
					}
					name := fmt.Sprintf("%+v depthwise=%v mult=%d bias=%v scale=%v relu=%v %v", cc, depthwise, mult, bias != nil, scale != nil, relu, qt)
					want := make([]int32, len(acc))
					refMklEpilogue(acc, oc, bias, scale, relu, qt, want)
					dt := map[quant.Type]tfpb.DataType{quant.QUInt8: dtQU8, quant.QInt8: dtQI8, quant.QInt32: dtQI32}[qt]
					y := tensor.New(dt, []int{cc.n, win.OH, win.OW, oc})
					ep := newConvEpilogue(oc, bias, scale, relu, qt)
					if depthwise {
						depthwiseMKL(x, cc.n, cc.ch, w, mult, win, ep, y)
					} else {
						convMKL(x, cc.n, cc.ch, w, oc, win, ep, y, new(Scratch))
					}
					got := codesOf(y)
					for i := range want {
						if got[i] != want[i] {
							t.Fatalf("%s: code %d = %d, reference %d (acc %d)", name, i, got[i], want[i], acc[i])
						}
					}
				}
			}
		}
	}
}

// refExtreme is the whole-tensor Min/Max as it was: one pass each, the
// first of equal values, the first NaN once seen.
func refExtreme(v []float32, max bool) float32 {
	m := v[0]
	if m != m {
		return m
	}
	for _, f := range v[1:] {
		switch {
		case f != f:
			return f
		case max && f > m, !max && f < m:
			m = f
		}
	}
	return m
}

// TestMinMaxMatchesReference: minMax gives refExtreme's bits for both
// ends: signed zeros in either order (-0 first → -0), NaNs (distinct
// payloads: the first one wins), infinities, lengths 1 to 70.
func TestMinMaxMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(27, 28))
	negZero := float32(math.Copysign(0, -1))
	nan1, nan2 := math.Float32frombits(0x7fc00001), math.Float32frombits(0xffc00002)
	pool := []float32{0, negZero, 1, -1, 2.5, -3, nan1, nan2, float32(math.Inf(1)), float32(math.Inf(-1)), 1e-45}
	check := func(v []float32) {
		t.Helper()
		mn, mx := minMax(v)
		wmn, wmx := refExtreme(v, false), refExtreme(v, true)
		if math.Float32bits(mn) != math.Float32bits(wmn) || math.Float32bits(mx) != math.Float32bits(wmx) {
			t.Fatalf("minMax(%v) = %v, %v; reference %v, %v", v, mn, mx, wmn, wmx)
		}
	}
	// Worked by hand: [-0, 0] → min -0 (first of equals), max -0 too;
	// [0, -0] → +0 both.
	if mn, mx := minMax([]float32{negZero, 0}); !math.Signbit(float64(mn)) || !math.Signbit(float64(mx)) {
		t.Errorf("minMax([-0 0]) = %v, %v: want -0, -0", mn, mx)
	}
	noNaN := []float32{0, negZero, 1, -1, 2.5, -3, float32(math.Inf(1)), float32(math.Inf(-1)), 1e-45}
	lengths := []int{}
	for n := 1; n <= 90; n++ {
		lengths = append(lengths, n)
	}
	lengths = append(lengths, 127, 128, 129, 255, 1000, 4099)
	for _, n := range lengths {
		for rep := 0; rep < 40; rep++ {
			// Special values often, rarely (one or two, anywhere: the
			// vector part or the tail), or only zeros and numbers ≥ 0
			// (a Relu's output: min is a zero of either sign).
			p := pool
			if rep%2 == 1 {
				p = noNaN
			}
			v := make([]float32, n)
			for i := range v {
				v[i] = r.Float32()*10 - 5
				if rep%4 == 3 {
					v[i] = max(v[i], 0)
				}
				if rep%4 < 2 && r.IntN(4) == 0 {
					v[i] = p[r.IntN(len(p))]
				}
			}
			if rep%4 >= 2 {
				for range 1 + r.IntN(2) {
					v[r.IntN(n)] = p[r.IntN(len(p))]
				}
			}
			check(v)
		}
	}
}

// TestMinMaxOfRemembers: the Max after a Min of the same tensor comes
// from the Context's memory (same bits as a fresh pass), a different
// tensor — also one sharing the first's elements — is measured afresh.
func TestMinMaxOfRemembers(t *testing.T) {
	c := &Context{}
	a := f32([]int{4}, 3, -2, 7, 1)
	if mn, mx := c.minMaxOf(a); mn != -2 || mx != 7 {
		t.Fatalf("minMaxOf(a) = %v, %v; want -2, 7", mn, mx)
	}
	c.extremes.max = 99 // a remembered value is used, not recomputed
	if _, mx := c.minMaxOf(a); mx != 99 {
		t.Fatalf("second minMaxOf(a) = %v, want the remembered 99", mx)
	}
	b := f32([]int{3}, 5, 6, 4)
	if mn, mx := c.minMaxOf(b); mn != 4 || mx != 6 {
		t.Fatalf("minMaxOf(b) = %v, %v; want 4, 6", mn, mx)
	}
	a.F32[2] = -9
	view := &tensor.Tensor{DType: a.DType, Shape: []int{2, 2}, F32: a.F32} // a Reshape's view of a
	if mn, mx := c.minMaxOf(view); mn != -9 || mx != 3 {
		t.Fatalf("minMaxOf(view) = %v, %v; want -9, 3", mn, mx)
	}
}

// refPoolCodes is the pooling as it was, on int32 copies of the codes:
// it pools the codes x (n×InH×InW×ch) over win into out
// (n×OH×OW×ch): the max, or the average of the in-image taps (rounded
// half to even after multiplying by float32(1/count), or with truncate
// the integer quotient).
func refPoolCodes(x []int32, n, ch int, win Window, out []int32, isMax, truncate bool) {
	pix := win.OH * win.OW
	Parallel(n*pix, max(1, 2048/max(1, win.KH*win.KW*ch)), func(lo, hi int) {
		acc := make([]int32, ch)
		for r := lo; r < hi; r++ {
			b, p := r/pix, r%pix
			oy, ox := p/win.OW, p%win.OW
			count := int32(0)
			for i := range acc {
				if isMax {
					acc[i] = math.MinInt32
				} else {
					acc[i] = 0
				}
			}
			for ky := 0; ky < win.KH; ky++ {
				iy := oy*win.SH - win.PadT + ky
				if iy < 0 || iy >= win.InH {
					continue
				}
				for kx := 0; kx < win.KW; kx++ {
					ix := ox*win.SW - win.PadL + kx
					if ix < 0 || ix >= win.InW {
						continue
					}
					count++
					px := x[((b*win.InH+iy)*win.InW+ix)*ch:][:ch]
					for i, v := range px {
						if isMax {
							acc[i] = max(acc[i], v)
						} else {
							acc[i] += v
						}
					}
				}
			}
			dst := out[r*ch : (r+1)*ch]
			switch {
			case isMax || count == 0:
				copy(dst, acc)
			case truncate:
				for i, s := range acc {
					dst[i] = s / count
				}
			default:
				recip := 1 / float32(count)
				for i, s := range acc {
					dst[i] = int32(math.RoundToEven(float64(float32(s) * recip)))
				}
			}
		}
	})
}

// TestPool8MatchesReference: pool8 on quint8 and qint8 codes writes
// refPoolCodes' codes (stored as setCodes did) for max, the MKL average
// and the truncating average, on SAME, VALID and explicit padding wide
// enough to leave windows with no in-image tap (code 0).
func TestPool8MatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(29, 30))
	type pc struct {
		n, h, w, ch, k, s int
		pad               string
		explicit          []int
	}
	cases := []pc{
		{1, 1, 1, 1, 1, 1, "VALID", nil},
		{2, 24, 24, 64, 2, 2, "VALID", nil},
		{1, 4, 4, 256, 4, 4, "VALID", nil},
		{1, 7, 5, 3, 3, 2, "SAME", nil},
		{3, 5, 6, 17, 2, 3, "SAME", nil},
		{1, 3, 3, 2, 2, 2, "EXPLICIT", []int{0, 0, 3, 3, 3, 3, 0, 0}},
	}
	for i := 0; i < 8; i++ {
		k := 1 + r.IntN(4)
		cases = append(cases, pc{1 + r.IntN(2), k + r.IntN(9), k + r.IntN(9), 1 + r.IntN(40), k, 1 + r.IntN(3), []string{"SAME", "VALID"}[r.IntN(2)], nil})
	}
	for _, cc := range cases {
		win, err := NewWindow(cc.h, cc.w, cc.k, cc.k, cc.s, cc.s, 1, 1, cc.pad, cc.explicit)
		if err != nil {
			t.Fatal(err)
		}
		ne := cc.n * cc.h * cc.w * cc.ch
		u8, i8 := make([]uint8, ne), make([]int8, ne)
		for i := range u8 {
			u8[i], i8[i] = uint8(r.IntN(256)), int8(r.IntN(256)-128)
		}
		if ne > 3 {
			u8[0], u8[1], i8[0], i8[1] = 255, 0, -128, 127
		}
		no := cc.n * win.OH * win.OW * cc.ch
		for _, mode := range []struct{ isMax, truncate bool }{{true, false}, {false, false}, {false, true}} {
			name := fmt.Sprintf("%+v %+v", cc, mode)
			gotU, gotI := make([]uint8, no), make([]int8, no)
			pool8(u8, false, cc.n, cc.ch, win, gotU, mode.isMax, mode.truncate)
			pool8(int8Bytes(i8), true, cc.n, cc.ch, win, int8Bytes(gotI), mode.isMax, mode.truncate)
			wantU, wantI := make([]int32, no), make([]int32, no)
			refPoolCodes(codesOf(&tensor.Tensor{DType: dtQU8, U8: u8}), cc.n, cc.ch, win, wantU, mode.isMax, mode.truncate)
			refPoolCodes(codesOf(&tensor.Tensor{DType: dtQI8, I8: i8}), cc.n, cc.ch, win, wantI, mode.isMax, mode.truncate)
			for i := range wantU {
				if gotU[i] != uint8(wantU[i]) || gotI[i] != int8(wantI[i]) {
					t.Fatalf("%s: output %d: %d, %d; reference %d, %d", name, i, gotU[i], gotI[i], uint8(wantU[i]), int8(wantI[i]))
				}
			}
		}
	}
}

// TestDequantizeTableMatchesFormula: the table lookup gives, for all 256
// codes of quint8 and qint8 in each mode, the bits of the expression it
// was computed from (the loop as it was): float32(float32(c + add)·s) + off.
func TestDequantizeTableMatchesFormula(t *testing.T) {
	for _, dt := range []tfpb.DataType{dtQU8, dtQI8} {
		qt, _ := quantType(dt)
		x := tensor.New(dt, []int{256})
		for c := range 256 {
			if dt == dtQU8 {
				x.U8[c] = uint8(c)
			} else {
				x.I8[c] = int8(uint8(c))
			}
		}
		for _, mode := range []string{"MIN_COMBINED", "MIN_FIRST", "SCALED"} {
			for _, rg := range [][2]float32{{0, 6}, {-1.7, 3.3}, {-0.02, 0.01}} {
				var add, s, off float32
				switch mode {
				case "MIN_COMBINED":
					add, s = quant.MinCombinedParams(qt, rg[0], rg[1])
					off = rg[0]
				case "SCALED":
					s, off = quant.DequantizeParams(qt, quant.Scaled, false, rg[0], rg[1])
				default:
					s, off = quant.DequantizeParams(qt, quant.MinFirst, false, rg[0], rg[1])
				}
				out := mustRun(t, "Dequantize", attrs{"T": aType(dt), "mode": aStr(mode)}, x, sc(rg[0]), sc(rg[1]))[0]
				for i, c := range codesOf(x) {
					want := float32(float32(float32(c)+add)*s) + off
					if math.Float32bits(out.F32[i]) != math.Float32bits(want) {
						t.Fatalf("%v %s %v: code %d → %v, formula %v", qt, mode, rg, c, out.F32[i], want)
					}
				}
			}
		}
	}
}

// TestPackedFilterCache: a filter is packed once and found again; codes
// changed in place (the same address, as memory reused for another
// graph's filter) are packed afresh, and the convolution follows them.
func TestPackedFilterCache(t *testing.T) {
	const k, n = 18, 5
	r := rand.New(rand.NewPCG(39, 40))
	w := make([]int8, k*n)
	for i := range w {
		w[i] = int8(r.IntN(256) - 128)
	}
	p1 := packedFilter(w, k, n)
	if p2 := packedFilter(w, k, n); p2 != p1 {
		t.Fatal("the same filter was packed twice")
	}
	w[7]++
	p3 := packedFilter(w, k, n)
	if p3 == p1 {
		t.Fatal("a changed filter came back from the cache")
	}
	// A 1×1 convolution of a one-pixel image with 18 channels is one row
	// of the product: worked as Σ x[i]·w[i][j] directly.
	x := make([]uint8, k)
	for i := range x {
		x[i] = uint8(r.IntN(256))
	}
	got := make([]int32, n)
	gemm.U8S8Packed(1, x, k, p3, got, n)
	for j := 0; j < n; j++ {
		var want int32
		for i := 0; i < k; i++ {
			want += int32(x[i]) * int32(w[i*n+j])
		}
		if got[j] != want {
			t.Errorf("column %d: %d, want %d", j, got[j], want)
		}
	}
}

// TestQuantizeMinFirstMatchesQuantize: the MIN_FIRST loop gives
// quant.Quantization.Quantize's code for quint8 and qint8 on edge values,
// random values and bit patterns, and values whose product with
// range_scale lands on or next to a tie k + 0.5; ranges lopsided either
// way (range_min_scaled from 0 to −255).
func TestQuantizeMinFirstMatchesQuantize(t *testing.T) {
	r := rand.New(rand.NewPCG(43, 44))
	for _, qt := range []quant.Type{quant.QUInt8, quant.QInt8} {
		for _, rg := range [][2]float32{{0, 6}, {-1, 5.3}, {-3, 0.5}, {-0.01, 1000}, {-1000, 0.01}, {-2e-3, 1e-3}} {
			lo, hi := quant.AdjustRangeTF1(rg[0], rg[1])
			z, err := quant.QuantizeV2{T: qt, Mode: quant.MinFirst, RoundMode: quant.HalfAwayFromZero}.Prepare(lo, hi)
			if err != nil {
				t.Fatal(err)
			}
			rs, rms := z.MinFirstParams()
			src := append([]float32{}, edgeFloats...)
			for i := 0; i < 1<<14; i++ {
				src = append(src, lo+(hi-lo)*(r.Float32()*1.4-0.2), math.Float32frombits(r.Uint32()))
				tie := (float32(r.IntN(600)-300) + 0.5) / rs
				src = append(src, tie, math.Nextafter32(tie, 0), math.Nextafter32(tie, 1e30))
			}
			got := make([]byte, len(src))
			quantizeMinFirst8(got, src, rs, rms-float32(qt.Lowest()), float32(qt.Lowest()), float32(qt.Highest()), z.Quantize)
			for i, v := range src {
				want := z.Quantize(v)
				g := int32(got[i])
				if qt == quant.QInt8 {
					g = int32(int8(got[i]))
				}
				if g != want {
					t.Fatalf("%v %v: %g (·rs = %g) → %d, Quantize gives %d", qt, rg, v, v*rs, g, want)
				}
			}
		}
	}
	// Worked by hand: quint8 on [0, 6]: rs = 255/6 = 42.5, rms = 0;
	// 1.0 → 42.5 → 43 (half away from zero), 6.1 → 259.25 → 255.
	z, _ := quant.QuantizeV2{T: quant.QUInt8, Mode: quant.MinFirst, RoundMode: quant.HalfAwayFromZero}.Prepare(0, 6)
	rs, rms := z.MinFirstParams()
	got := make([]byte, 2)
	quantizeMinFirst8(got, []float32{1, 6.1}, rs, rms, 0, 255, z.Quantize)
	if got[0] != 43 || got[1] != 255 {
		t.Errorf("MIN_FIRST [0, 6]: 1.0, 6.1 → %d, %d; want 43, 255", got[0], got[1])
	}
}

// TestRneSmallRoundsTheFloat32Product: the fast loops round the float32
// product v·scale, as TF does, even where the compiler could fuse the
// product into rneSmall's addition (GOAMD64=v3: FMA). Pairs found by a
// search with math/big: 92.98641·0.5000731 is 46.500001033… exactly but
// 46.5 in float32, so RNE gives 46 (the fused form gave 47);
// −4.9992695·0.5000731 is −2.5000000658… exactly, −2.5 in float32 → −2
// (fused: −3). Run under GOAMD64=v3 too.
func TestRneSmallRoundsTheFloat32Product(t *testing.T) {
	src := []float32{92.98641, 4.9992695}
	scale := []float32{0.5000731}
	u8 := make([]uint8, 1)
	quantizeMklU8(u8, src[:1], scale[0])
	if u8[0] != 46 {
		t.Errorf("quantizeMklU8(92.98641·0.5000731) = %d, want 46", u8[0])
	}
	neg := []float32{-src[1]}
	i8 := make([]int8, 1)
	quantizeMklI8(i8, neg, scale[0])
	if i8[0] != -2 {
		t.Errorf("quantizeMklI8(−4.9992695·0.5000731) = %d, want −2", i8[0])
	}
	if got := satU8(src[1] * scale[0]); got != 2 {
		t.Errorf("satU8(4.9992695·0.5000731) = %d, want 2", got)
	}
}

// TestPackedFilterCacheForgetsFreedFilters: once a filter's memory is
// collected (its graph dropped), its entry leaves the package-level cache,
// which otherwise kept a copy and a packing of every filter of every graph
// the process ever ran, up to 1024 of them (qcal tune runs several int8
// graphs of one model).
func TestPackedFilterCacheForgetsFreedFilters(t *testing.T) {
	const k, n = 64, 256 // 16 KiB, beyond the tiny allocator
	key := func() filterKey {
		w := make([]int8, k*n)
		for i := range w {
			w[i] = int8(i)
		}
		packedFilter(w, k, n)
		return filterKey{uintptr(unsafe.Pointer(&w[0])), k, n}
	}()
	held := func() bool {
		packedFilters.mu.Lock()
		defer packedFilters.mu.Unlock()
		return packedFilters.m[key] != nil
	}
	if !held() {
		t.Fatal("the filter was not cached")
	}
	for i := 0; i < 200 && held(); i++ {
		runtime.GC()
		time.Sleep(5 * time.Millisecond)
	}
	if held() {
		t.Error("the cache still holds a collected filter's packing")
	}
}

// TestEpilogueRowsMatchesSatU8: epilogueRowsU8AVX2 (8 and 32 codes a
// step) gives satU8((float32(acc) + bias)·scale) for every element, on
// rows of 8 to 96 codes with edge values: accumulators at the int32
// extremes, biases NaN and ±Inf, scales 0, negative and huge, and sums
// landing on halves (2.5 → 2, 3.5 → 4: half to even).
func TestEpilogueRowsMatchesSatU8(t *testing.T) {
	if !useAVX2 {
		t.Skip("no AVX2 assembly in this build")
	}
	r := rand.New(rand.NewPCG(71, 72))
	accs := []int32{0, 1, -1, 2, 3, 255, 256, -256, math.MaxInt32, math.MinInt32, 1 << 24, 5}
	biases := []float32{0, 0.5, -0.5, float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 1e30, 254.5}
	scales := []float32{1, 0, -1, 0.5, 1e-3, 1e30, float32(math.Inf(1))}
	for _, n := range []int{8, 16, 24, 32, 64, 96} {
		for rows := 1; rows <= 3; rows++ {
			acc := make([]int32, n*rows)
			bias, scale := make([]float32, n), make([]float32, n)
			for i := range acc {
				if r.IntN(2) == 0 {
					acc[i] = accs[r.IntN(len(accs))]
				} else {
					acc[i] = r.Int32N(1200) - 600
				}
			}
			for j := range bias {
				bias[j], scale[j] = biases[r.IntN(len(biases))], scales[r.IntN(len(scales))]
				if r.IntN(3) == 0 {
					bias[j], scale[j] = r.Float32()*10-5, r.Float32()
				}
			}
			out := make([]uint8, n*rows)
			epilogueRowsU8AVX2(&acc[0], &bias[0], &scale[0], &out[0], n, rows)
			for i, a := range acc {
				j := i % n
				if want := satU8((float32(a) + bias[j]) * scale[j]); out[i] != want {
					t.Fatalf("n=%d rows=%d: element %d: acc %d bias %v scale %v → %d, want %d", n, rows, i, a, bias[j], scale[j], out[i], want)
				}
			}
		}
	}
}
