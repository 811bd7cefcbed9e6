package dataset

import (
	"fmt"
	"math"
)

// lerp is one output coordinate's two source indices and weight: TF's
// CachedInterpolation.
type lerp struct {
	lo, hi int
	f      float32
}

// resizeScale is TF's CalculateResizeScale, in float32.
func resizeScale(in, out int, alignCorners bool) float32 {
	if alignCorners && out > 1 {
		return float32(in-1) / float32(out-1)
	}
	return float32(in) / float32(out)
}

// sourceCoord maps output index i to the source coordinate: TF's
// LegacyScaler (i·scale) or HalfPixelScaler ((i+0.5)·scale − 0.5), each
// step rounded to float32.
func sourceCoord(i int, scale float32, halfPixel bool) float32 {
	if halfPixel {
		return float32((float32(i)+0.5)*scale) - 0.5
	}
	return float32(i) * scale
}

// weights computes the lerps of out coordinates from in, as TF's
// compute_interpolation_weights: lo = max(floor(s), 0),
// hi = min(ceil(s), in−1), f = s − floor(s).
func weights(ws []lerp, in, out int, alignCorners, halfPixel bool) []lerp {
	scale := resizeScale(in, out, alignCorners)
	ws = ws[:0]
	for i := range out {
		s := sourceCoord(i, scale, halfPixel)
		fl := float32(math.Floor(float64(s)))
		lo := max(int(fl), 0)
		hi := min(int(math.Ceil(float64(s))), in-1)
		ws = append(ws, lerp{lo: lo, hi: hi, f: s - fl})
	}
	return ws
}

// ResizeBilinear resizes the h×w×c image src (row-major, interleaved
// channels) to oh×ow×c in dst as TF's ResizeBilinear op does on float
// input, to the bit: top = TL + (TR−TL)·fx, bottom = BL + (BR−BL)·fx,
// out = top + (bottom−top)·fy, each step rounded to float32. The same size
// copies. It panics if the slices are too short (a programmer mistake).
func ResizeBilinear(dst, src []float32, h, w, c, oh, ow int, alignCorners, halfPixelCenters bool) {
	if len(src) < h*w*c || len(dst) < oh*ow*c || h <= 0 || w <= 0 || c <= 0 {
		panic(fmt.Sprintf("dataset: ResizeBilinear of %d×%d×%d (%d values) to %d×%d (%d values)", h, w, c, len(src), oh, ow, len(dst)))
	}
	if oh == h && ow == w {
		copy(dst, src[:h*w*c])
		return
	}
	var ybuf, xbuf [256]lerp
	ys := weights(ybuf[:0], h, oh, alignCorners, halfPixelCenters)
	xs := weights(xbuf[:0], w, ow, alignCorners, halfPixelCenters)
	for i := range xs {
		xs[i].lo *= c
		xs[i].hi *= c
	}
	row := w * c
	o := 0
	for _, y := range ys {
		top := src[y.lo*row : y.lo*row+row]
		bot := src[y.hi*row : y.hi*row+row]
		fy := y.f
		if c == 3 {
			for _, x := range xs {
				out := dst[o : o+3 : o+3]
				tl, tr, bl, br := top[x.lo:x.lo+3], top[x.hi:x.hi+3], bot[x.lo:x.lo+3], bot[x.hi:x.hi+3]
				for k := range 3 {
					t := tl[k] + float32((tr[k]-tl[k])*x.f)
					b := bl[k] + float32((br[k]-bl[k])*x.f)
					out[k] = t + float32((b-t)*fy)
				}
				o += 3
			}
			continue
		}
		for _, x := range xs {
			for k := range c {
				t := top[x.lo+k] + float32((top[x.hi+k]-top[x.lo+k])*x.f)
				b := bot[x.lo+k] + float32((bot[x.hi+k]-bot[x.lo+k])*x.f)
				dst[o+k] = t + float32((b-t)*fy)
			}
			o += c
		}
	}
}

// resizeU8 is ResizeBilinear of the h×w×c window of uint8 values whose rows
// start stride elements apart in src, each value read as float32(v)·scale:
// the bits of converting the window to float32 (Preprocess.convert) and
// resizing that, without writing the window's floats, of which bilinear
// resizing to a smaller size reads only some.
func resizeU8(dst []float32, src []uint8, stride, h, w, c, oh, ow int, alignCorners, halfPixelCenters bool, scale float32) {
	if len(src) < (h-1)*stride+w*c || len(dst) < oh*ow*c || h <= 0 || w <= 0 || c <= 0 {
		panic(fmt.Sprintf("dataset: resizeU8 of %d×%d×%d (stride %d, %d values) to %d×%d (%d values)", h, w, c, stride, len(src), oh, ow, len(dst)))
	}
	var ybuf, xbuf [256]lerp
	ys := weights(ybuf[:0], h, oh, alignCorners, halfPixelCenters)
	xs := weights(xbuf[:0], w, ow, alignCorners, halfPixelCenters)
	for i := range xs {
		xs[i].lo *= c
		xs[i].hi *= c
	}
	row := w * c
	o := 0
	for _, y := range ys {
		top := src[y.lo*stride : y.lo*stride+row]
		bot := src[y.hi*stride : y.hi*stride+row]
		fy := y.f
		for _, x := range xs {
			for k := range c {
				// float32(): each value rounded on its own, as stored by
				// convert (no FMA into the differences under GOAMD64=v3).
				tl, tr := float32(float32(top[x.lo+k])*scale), float32(float32(top[x.hi+k])*scale)
				bl, br := float32(float32(bot[x.lo+k])*scale), float32(float32(bot[x.hi+k])*scale)
				t := tl + float32((tr-tl)*x.f)
				b := bl + float32((br-bl)*x.f)
				dst[o+k] = t + float32((b-t)*fy)
			}
			o += c
		}
	}
}
