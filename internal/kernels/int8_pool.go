package kernels

import (
	"math"

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
		codes := codesOf(x)
		out := make([]int32, n*win.OH*win.OW*ch)
		if isMax {
			PoolCodes(codes, n, ch, win, out, true, false)
		} else {
			PoolCodes(codes, n, ch, win, out, false, currentInt8Options(c).EigenAvgPool)
		}
		y := c.New(x.DType, []int{n, win.OH, win.OW, ch})
		setCodes(y, out)
		return []*tensor.Tensor{y, scalarF32(mn), scalarF32(mx)}, nil
	}
}

// PoolCodes pools the codes x (n×InH×InW×ch) over win into out
// (n×OH×OW×ch): the max, or the average of the in-image taps (rounded
// half to even after multiplying by float32(1/count), or with truncate
// the integer quotient).
func PoolCodes(x []int32, n, ch int, win Window, out []int32, isMax, truncate bool) {
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
