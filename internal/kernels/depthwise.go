package kernels

// DepthwiseF32 computes a depthwise convolution of x (n×InH×InW×ch, NHWC)
// with the filter f (KH×KW×ch×mult) into y (n×OH×OW×ch·mult), then ep on
// each finished output row (ep may be nil). Output channel q = ic·mult + m
// takes input channel ic with filter column (ic, m):
//
//	y[b, oy, ox, q] = Σ_ky Σ_kx x[b, iy, ix, ic] · f[ky, kx, ic, m]
//
// summed from 0 in ky-then-kx order over the taps inside the input, each
// product rounded to float32 before it is added: the order of TensorFlow's
// reference kernel and of the plain loop this replaced, so the bits are
// the same. The speed comes from keeping eight channels' sums in
// registers across the taps instead of reading and writing y once a tap,
// and, on CPUs with AVX, from doing so for 32 channels at once in assembly
// (VMULPS then VADDPS: no FMA, which would round once instead of twice).
func DepthwiseF32(x []float32, n, ch int, f []float32, mult int, win Window, y []float32, ep *Epilogue) {
	oc := ch * mult
	if n == 0 || win.OH == 0 || win.OW == 0 || oc == 0 {
		return
	}
	rowLen := win.OW * oc
	Parallel(n*win.OH, max(1, parallelGrain/(rowLen*win.KH*win.KW+1)), func(lo, hi int) {
		var offs []int // the asm path's tap offsets: x's, then f's
		if useAsm && mult == 1 && ch >= 8 {
			offs = make([]int, 2*win.KH*win.KW)
		}
		for r := lo; r < hi; r++ {
			b, oy := r/win.OH, r%win.OH
			out := y[r*rowLen : (r+1)*rowLen]
			if offs != nil {
				depthwiseRowAVX(x[b*win.InH*win.InW*ch:(b+1)*win.InH*win.InW*ch], ch, f, win, oy, out, offs)
			} else if mult == 1 {
				depthwiseRow1(x[b*win.InH*win.InW*ch:(b+1)*win.InH*win.InW*ch], ch, f, win, oy, out)
			} else {
				depthwiseRowMult(x[b*win.InH*win.InW*ch:(b+1)*win.InH*win.InW*ch], ch, f, mult, win, oy, out)
			}
			ep.Apply(out)
		}
	})
}

// depthwiseRow1 is one output row of a depthwise convolution with channel
// multiplier 1; x is one image.
func depthwiseRow1(x []float32, ch int, f []float32, win Window, oy int, out []float32) {
	for ox := 0; ox < win.OW; ox++ {
		o := out[ox*ch : (ox+1)*ch]
		q := 0
		for ; q+8 <= ch; q += 8 {
			var a0, a1, a2, a3, a4, a5, a6, a7 float32
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
					xi := x[(iy*win.InW+ix)*ch+q:][:8]
					fi := f[(ky*win.KW+kx)*ch+q:][:8]
					a0 += float32(xi[0] * fi[0])
					a1 += float32(xi[1] * fi[1])
					a2 += float32(xi[2] * fi[2])
					a3 += float32(xi[3] * fi[3])
					a4 += float32(xi[4] * fi[4])
					a5 += float32(xi[5] * fi[5])
					a6 += float32(xi[6] * fi[6])
					a7 += float32(xi[7] * fi[7])
				}
			}
			oq := o[q : q+8]
			oq[0], oq[1], oq[2], oq[3], oq[4], oq[5], oq[6], oq[7] = a0, a1, a2, a3, a4, a5, a6, a7
		}
		for ; q < ch; q++ {
			var a float32
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
					a += float32(x[(iy*win.InW+ix)*ch+q] * f[(ky*win.KW+kx)*ch+q])
				}
			}
			o[q] = a
		}
	}
}

// depthwiseRowAVX is depthwiseRow1 with the blocks of 8 channels in
// assembly (dwRunAVX) and the last ch mod 8 in Go; offs holds 2·KH·KW
// ints. The columns whose window lies inside the input in x (all but
// a padding's width at either end) go to the assembly as one run.
func depthwiseRowAVX(x []float32, ch int, f []float32, win Window, oy int, out []float32, offs []int) {
	taps := win.KH * win.KW
	xoff, foff := offs[:taps], offs[taps:2*taps]
	blocks := ch / 8
	_ = x[len(x)-1]
	_ = f[taps*ch-1]
	// tail sums the channels past the last block of pixel ox, whose taps
	// are xoff (moved by shift) and foff.
	tail := func(ox, nt, shift int) {
		o := out[ox*ch : (ox+1)*ch]
		for q := blocks * 8; q < ch; q++ {
			var a float32
			for t := 0; t < nt; t++ {
				a += float32(x[shift+xoff[t]+q] * f[foff[t]+q])
			}
			o[q] = a
		}
	}
	oxLo, oxHi := win.interiorCols()
	for ox := 0; ox < win.OW; ox++ {
		if ox == oxLo && oxHi > oxLo {
			// Every offset + ch is within x and f: in-bounds taps only.
			nt := win.tapOffsets(oy, ox, ch, xoff, foff)
			dwRunAVX(&out[ox*ch], &x[0], &f[0], &xoff[0], &foff[0], nt, blocks, oxHi-oxLo, ch, win.SW*ch)
			for p := ox; p < oxHi && blocks*8 < ch; p++ {
				tail(p, nt, (p-ox)*win.SW*ch)
			}
			ox = oxHi - 1
			continue
		}
		nt := win.tapOffsets(oy, ox, ch, xoff, foff)
		dwRunAVX(&out[ox*ch], &x[0], &f[0], &xoff[0], &foff[0], nt, blocks, 1, ch, 0)
		tail(ox, nt, 0)
	}
}

// depthwiseRowMult is one output row of a depthwise convolution with
// channel multiplier mult > 1; x is one image.
func depthwiseRowMult(x []float32, ch int, f []float32, mult int, win Window, oy int, out []float32) {
	oc := ch * mult
	for ox := 0; ox < win.OW; ox++ {
		o := out[ox*oc : (ox+1)*oc]
		clear(o)
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
				in := x[(iy*win.InW+ix)*ch:][:ch]
				fk := f[(ky*win.KW+kx)*oc:][:oc]
				for ic, v := range in {
					oq, fq := o[ic*mult:(ic+1)*mult], fk[ic*mult:(ic+1)*mult]
					for m, w := range fq {
						oq[m] += float32(v * w)
					}
				}
			}
		}
	}
}
