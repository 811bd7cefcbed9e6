package kernels

import (
	"qcal/internal/tensor"
)

// QuantizedMaxPool and QuantizedAvgPool (INT8-ARITHMETIC §2.3, §0.11):
// pooling on the codes; the range passes through. Padding never takes part:
// the max is over the taps inside the image, and the average divides by
// their number. The average is Intel's (_MklQuantizedAvgPool: the int32
// sum times float32(1/count), rounded half to even) unless
// Int8Options.EigenAvgPool asks for the reference kernel's truncating
// integer division.

func init() {
	for _, op := range []string{"QuantizedMaxPool", "QuantizedAvgPool"} {
		Register(Def{Op: op, Run: quantizedPool(op == "QuantizedMaxPool"), Check: checkAll(CheckType("T", dtQU8, dtQI8), checkPadding)})
	}
}

func quantizedPool(isMax bool) Kernel {
	return func(c *Context) ([]*tensor.Tensor, error) {
		if err := c.WantInputs(3); err != nil {
			return nil, err
		}
		x := c.Inputs[0]
		if x.DType != dtQU8 && x.DType != dtQI8 {
			return nil, c.Errorf("input 0 (%q) is %s, want quint8 or qint8", c.inputName(0), tensor.TypeName(x.DType))
		}
		if len(x.Shape) != 4 {
			return nil, c.Errorf("input %s must have rank 4 (NHWC)", tensor.ShapeString(x.Shape))
		}
		mn, mx, err := c.rangeInput(1)
		if err != nil {
			return nil, err
		}
		n, h, w, ch := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
		win, err := windowAttrs(c, h, w, 0, 0, true)
		if err != nil {
			return nil, err
		}
		y := c.New(x.DType, []int{n, win.OH, win.OW, ch})
		truncate := !isMax && currentInt8Options(c).EigenAvgPool
		if x.DType == dtQU8 {
			pool8(x.U8, n, ch, win, y.U8, isMax, truncate)
		} else {
			pool8(x.I8, n, ch, win, y.I8, isMax, truncate)
		}
		return []*tensor.Tensor{y, scalarF32(mn), scalarF32(mx)}, nil
	}
}

// pool8 pools the 8-bit codes x (n×InH×InW×ch) over win into out
// (n×OH×OW×ch): the max of the in-image taps, or their average: the int32
// sum times float32(1/count) rounded half to even, or with truncate the
// integer quotient. A window without an in-image tap gives 0.
func pool8[T uint8 | int8](x []T, n, ch int, win Window, out []T, isMax, truncate bool) {
	pix := win.OH * win.OW
	Parallel(n*pix, max(1, 2048/max(1, win.KH*win.KW*ch)), func(lo, hi int) {
		var acc []int32
		if !isMax {
			acc = make([]int32, ch)
		}
		for r := lo; r < hi; r++ {
			b, p := r/pix, r%pix
			oy, ox := p/win.OW, p%win.OW
			dst := out[r*ch : (r+1)*ch]
			count := int32(0)
			clear(acc)
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
					px := x[((b*win.InH+iy)*win.InW+ix)*ch:][:ch]
					count++
					switch {
					case !isMax:
						acc := acc[:len(px)]
						for i, v := range px {
							acc[i] += int32(v)
						}
					case count == 1:
						copy(dst, px)
					default:
						maxInto(dst, px)
					}
				}
			}
			switch {
			case count == 0:
				clear(dst)
			case isMax:
			case truncate:
				for i, s := range acc {
					dst[i] = T(s / count)
				}
			default:
				recip := 1 / float32(count)
				for i, s := range acc {
					dst[i] = T(rneSmall(float32(s) * recip))
				}
			}
		}
	})
}

// maxInto sets dst[i] = max(dst[i], src[i]) (src as long as dst), 32 at a
// time in AVX2, the rest in Go.
func maxInto[T uint8 | int8](dst, src []T) {
	done := 0
	if useAVX2 && len(dst) >= 32 {
		switch d := any(dst).(type) {
		case []uint8:
			maxU8AVX2(&d[0], &any(src).([]uint8)[0], len(d))
		case []int8:
			maxI8AVX2(&d[0], &any(src).([]int8)[0], len(d))
		}
		done = len(dst) &^ 31
	}
	src = src[done:len(dst)]
	dst = dst[done:]
	for i, v := range src {
		if v > dst[i] {
			dst[i] = v
		}
	}
}
