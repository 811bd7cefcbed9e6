package kernels

import (
	"unsafe"

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
			pool8(x.U8, false, n, ch, win, y.U8, isMax, truncate)
		} else {
			pool8(int8Bytes(x.I8), true, n, ch, win, int8Bytes(y.I8), isMax, truncate)
		}
		return []*tensor.Tensor{y, scalarF32(mn), scalarF32(mx)}, nil
	}
}

// int8Bytes returns the bytes of v (the same memory).
func int8Bytes(v []int8) []byte {
	if len(v) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&v[0])), len(v))
}

// pool8 pools the 8-bit codes x (n×InH×InW×ch; qint8 codes as their
// bytes when signed) over win into out (n×OH×OW×ch): the max of the
// in-image taps, or their average: the int32 sum times float32(1/count)
// rounded half to even, or with truncate the integer quotient. A window
// without an in-image tap gives 0. A code's byte is its low 8 bits,
// whether the type is signed or not.
func pool8(x []byte, signed bool, n, ch int, win Window, out []byte, isMax, truncate bool) {
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
						sumInto(acc, px, signed)
					case count == 1:
						copy(dst, px)
					default:
						maxInto(dst, px, signed)
					}
				}
			}
			switch {
			case count == 0:
				clear(dst)
			case isMax:
			case truncate:
				for i, s := range acc {
					dst[i] = byte(s / count)
				}
			default:
				recip := 1 / float32(count)
				for i, s := range acc {
					dst[i] = byte(rneSmall(float32(s) * recip))
				}
			}
		}
	})
}

// sumInto adds the codes src (bytes of qint8 codes when signed) to acc.
func sumInto(acc []int32, src []byte, signed bool) {
	acc = acc[:len(src)]
	if signed {
		for i, v := range src {
			acc[i] += int32(int8(v))
		}
		return
	}
	for i, v := range src {
		acc[i] += int32(v)
	}
}

// maxInto sets dst[i] = max(dst[i], src[i]) (src as long as dst; bytes
// of qint8 codes when signed), 32 at a time in AVX2, the rest in Go.
func maxInto(dst, src []byte, signed bool) {
	done := 0
	if useAVX2 && len(dst) >= 32 {
		if signed {
			maxI8AVX2(&dst[0], &src[0], len(dst))
		} else {
			maxU8AVX2(&dst[0], &src[0], len(dst))
		}
		done = len(dst) &^ 31
	}
	src = src[done:len(dst)]
	dst = dst[done:]
	if signed {
		for i, v := range src {
			if int8(v) > int8(dst[i]) {
				dst[i] = v
			}
		}
		return
	}
	for i, v := range src {
		if v > dst[i] {
			dst[i] = v
		}
	}
}
