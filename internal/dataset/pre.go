package dataset

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Color is the channel layout examples are converted to.
type Color int

const (
	// KeepColor keeps the channels the data set has (1 for grayscale images
	// and IDX, 3 for colour images).
	KeepColor Color = iota
	// Gray gives one channel: 0.2989 R + 0.5870 G + 0.1140 B, the weights of
	// TF's rgb_to_grayscale, kept in float32 (TF rounds back to uint8 when
	// its image is uint8).
	Gray
	// RGB gives three channels; grayscale is copied to all three, as TF's
	// decode_jpeg(channels=3) does.
	RGB
	// BGR is RGB with the first and last channels swapped (Caffe-trained
	// models).
	BGR
)

var colorNames = []string{"keep", "gray", "rgb", "bgr"}

func (c Color) String() string {
	if c >= 0 && int(c) < len(colorNames) {
		return colorNames[c]
	}
	return "Color(" + strconv.Itoa(int(c)) + ")"
}

// ParseColor parses "keep", "gray", "rgb" or "bgr".
func ParseColor(s string) (Color, error) {
	for i, n := range colorNames {
		if strings.EqualFold(s, n) || i == 1 && strings.EqualFold(s, "grey") {
			return Color(i), nil
		}
	}
	return 0, fmt.Errorf("unknown colour %q (want keep, gray, rgb or bgr)", s)
}

// Preprocess says how each example becomes the graph's input. The steps
// run in this order: colour conversion and Scale (as each value is read),
// central crop (CentralFraction, then CropHeight×CropWidth), bilinear
// resize to Height×Width, then (x − Mean[c]) / Std[c]. The order is that
// of TF's Inception and MobileNet eval preprocessing: convert_image_dtype,
// central_crop, resize_bilinear, then normalization.
type Preprocess struct {
	Color Color
	// CentralFraction in (0, 1] crops as TF's tf.image.central_crop: the
	// offset is int((h − h·f)/2) and the size h − 2·offset (likewise for
	// the width). 0 means no crop.
	CentralFraction float64
	// CropHeight and CropWidth, when set, crop the centre to that size
	// (offset (h − CropHeight)/2, rounded down).
	CropHeight, CropWidth int
	// Height and Width, when set, resize as TF's ResizeBilinear op with its
	// attributes AlignCorners and HalfPixelCenters (both false by default,
	// as in TF 1.x; tf.image.resize in TF 2 sets HalfPixelCenters).
	Height, Width                  int
	AlignCorners, HalfPixelCenters bool
	// Scale multiplies every value as it is read (1/255 for [0, 1]); 0 means 1.
	Scale float32
	// Mean and Std hold one value per output channel, or one value for all;
	// empty Mean subtracts nothing, empty Std divides by nothing.
	Mean, Std []float32
	// Shape is the graph input's shape, e.g. [-1,28,28,1], [-1,28,28] or
	// [-1,784]; a positive first dimension fixes the batch size. Rank 4
	// must match H×W×C exactly, rank 3 H×W with one channel, other ranks
	// the number of values. Empty: [-1,H,W,C] of the first example.
	Shape []int
}

func (p *Preprocess) check() error {
	if p.Color < KeepColor || p.Color > BGR {
		return fmt.Errorf("unknown colour %d", p.Color)
	}
	if p.CentralFraction < 0 || p.CentralFraction > 1 || math.IsNaN(p.CentralFraction) {
		return fmt.Errorf("central crop fraction %g not in (0, 1]", p.CentralFraction)
	}
	if p.CropHeight < 0 || p.CropWidth < 0 || (p.CropHeight == 0) != (p.CropWidth == 0) {
		return fmt.Errorf("crop size %d×%d: want both positive, or neither", p.CropHeight, p.CropWidth)
	}
	if p.Height < 0 || p.Width < 0 || (p.Height == 0) != (p.Width == 0) {
		return fmt.Errorf("resize %d×%d: want both positive, or neither", p.Height, p.Width)
	}
	if p.AlignCorners && p.HalfPixelCenters {
		return fmt.Errorf("align corners and half-pixel centers cannot both be set (TF rejects it too)")
	}
	for _, s := range p.Std {
		if s == 0 {
			return fmt.Errorf("std 0 would divide by zero")
		}
	}
	if len(p.Shape) > 0 {
		if len(p.Shape) < 2 {
			return fmt.Errorf("input shape %s: want a batch dimension and at least one more", FormatShape(p.Shape))
		}
		if p.Shape[0] == 0 || p.Shape[0] < -1 {
			return fmt.Errorf("input shape %s: the batch dimension must be -1 or positive", FormatShape(p.Shape))
		}
		for _, d := range p.Shape[1:] {
			if d <= 0 {
				return fmt.Errorf("input shape %s: only the batch dimension may be unknown", FormatShape(p.Shape))
			}
		}
	}
	return nil
}

// crop returns the window of an h×w image that the crop options keep.
func (p *Preprocess) crop(h, w int) (y0, x0, ch, cw int, err error) {
	ch, cw = h, w
	if f := p.CentralFraction; f > 0 && f < 1 {
		// TF's central_crop, in float64 as its static-shape path computes it.
		hd, wd := float64(h), float64(w)
		dy := int((hd - hd*f) / 2)
		dx := int((wd - wd*f) / 2)
		y0, x0 = dy, dx
		ch, cw = h-2*dy, w-2*dx
	}
	if p.CropHeight > 0 {
		if p.CropHeight > ch || p.CropWidth > cw {
			return 0, 0, 0, 0, fmt.Errorf("crop %d×%d is larger than the %d×%d image", p.CropHeight, p.CropWidth, ch, cw)
		}
		y0 += (ch - p.CropHeight) / 2
		x0 += (cw - p.CropWidth) / 2
		ch, cw = p.CropHeight, p.CropWidth
	}
	if ch <= 0 || cw <= 0 {
		return 0, 0, 0, 0, fmt.Errorf("crop leaves an empty image from %d×%d", h, w)
	}
	return y0, x0, ch, cw, nil
}

// channels returns the number of output channels for c input channels.
func (p *Preprocess) channels(c int) (int, error) {
	switch p.Color {
	case KeepColor:
		return c, nil
	case Gray:
		if c != 1 && c != 3 {
			return 0, fmt.Errorf("cannot make gray from %d channels", c)
		}
		return 1, nil
	default:
		if c != 1 && c != 3 {
			return 0, fmt.Errorf("cannot make %s from %d channels", p.Color, c)
		}
		return 3, nil
	}
}

// outSize returns the preprocessed size of an h×w×c example.
func (p *Preprocess) outSize(h, w, c int) (oh, ow, oc int, err error) {
	if h <= 0 || w <= 0 || c <= 0 {
		return 0, 0, 0, fmt.Errorf("empty example %d×%d×%d", h, w, c)
	}
	_, _, oh, ow, err = p.crop(h, w)
	if err != nil {
		return 0, 0, 0, err
	}
	if p.Height > 0 {
		oh, ow = p.Height, p.Width
	}
	oc, err = p.channels(c)
	if err != nil {
		return 0, 0, 0, err
	}
	for _, v := range [][]float32{p.Mean, p.Std} {
		if len(v) > 1 && len(v) != oc {
			return 0, 0, 0, fmt.Errorf("%d mean/std values for %d channels", len(v), oc)
		}
	}
	return oh, ow, oc, nil
}

// apply preprocesses ex into dst, whose length outSize gives, and returns
// the (possibly grown) scratch buffer work. outSize must have accepted ex.
func (p *Preprocess) apply(dst, work []float32, ex *example) []float32 {
	y0, x0, ch, cw, _ := p.crop(ex.h, ex.w)
	oc, _ := p.channels(ex.c)
	resize := p.Height > 0 && (p.Height != ch || p.Width != cw)
	if resize && !ex.float && oc == ex.c && p.Color != BGR {
		// convert would copy the window's values times Scale: resize
		// straight from the bytes instead (the same bits).
		scale := p.Scale
		if scale == 0 {
			scale = 1
		}
		resizeU8(dst, ex.u8[(y0*ex.w+x0)*ex.c:], ex.w*ex.c, ch, cw, oc, p.Height, p.Width, p.AlignCorners, p.HalfPixelCenters, scale)
		normalize(dst, oc, p.Mean, p.Std)
		return work
	}
	buf := dst
	if resize {
		if cap(work) < ch*cw*oc {
			work = make([]float32, ch*cw*oc)
		}
		buf = work[:ch*cw*oc]
	}
	p.convert(buf, ex, y0, x0, ch, cw, oc)
	if resize {
		ResizeBilinear(dst, buf, ch, cw, oc, p.Height, p.Width, p.AlignCorners, p.HalfPixelCenters)
	}
	normalize(dst, oc, p.Mean, p.Std)
	return work
}

// TF's rgb_to_grayscale weights.
const (
	grayR = 0.2989
	grayG = 0.5870
	grayB = 0.1140
)

// convert copies the ch×cw window at (y0, x0) of ex into dst as float32
// with oc channels, multiplied by Scale.
func (p *Preprocess) convert(dst []float32, ex *example, y0, x0, ch, cw, oc int) {
	scale := p.Scale
	if scale == 0 {
		scale = 1
	}
	c := ex.c
	rowLen := cw * c
	i := 0
	for y := y0; y < y0+ch; y++ {
		start := (y*ex.w + x0) * c
		if oc == c && p.Color != BGR {
			out := dst[i : i+rowLen]
			if ex.float {
				for k, v := range ex.f32[start : start+rowLen] {
					out[k] = v * scale
				}
			} else {
				for k, v := range ex.u8[start : start+rowLen] {
					out[k] = float32(v) * scale
				}
			}
			i += rowLen
			continue
		}
		for x := 0; x < cw; x++ {
			at := start + x*c
			r := ex.value(at)
			g, b := r, r
			if c == 3 {
				g, b = ex.value(at+1), ex.value(at+2)
			}
			switch {
			case oc == 1: // gray from RGB; conversions keep each product rounded to float32 (no FMA)
				dst[i] = (float32(float32(float32(grayR)*r)+float32(float32(grayG)*g)) + float32(float32(grayB)*b)) * scale
			case p.Color == BGR:
				dst[i], dst[i+1], dst[i+2] = b*scale, g*scale, r*scale
			default:
				dst[i], dst[i+1], dst[i+2] = r*scale, g*scale, b*scale
			}
			i += oc
		}
	}
}

func (ex *example) value(i int) float32 {
	if ex.float {
		return ex.f32[i]
	}
	return float32(ex.u8[i])
}

// normalize computes (x − mean[c]) / std[c] in place over interleaved
// channels; a single value applies to every channel.
func normalize(x []float32, c int, mean, std []float32) {
	if len(mean) == 0 && len(std) == 0 {
		return
	}
	var mb, sb [4]float32
	m, s := mb[:0], sb[:0]
	if c > len(mb) {
		m, s = make([]float32, 0, c), make([]float32, 0, c)
	}
	for k := range c {
		mk, sk := float32(0), float32(1)
		if len(mean) == 1 {
			mk = mean[0]
		} else if len(mean) > 1 {
			mk = mean[k]
		}
		if len(std) == 1 {
			sk = std[0]
		} else if len(std) > 1 {
			sk = std[k]
		}
		m, s = append(m, mk), append(s, sk)
	}
	for i := 0; i < len(x); i += c {
		for k := range c {
			x[i+k] = (x[i+k] - m[k]) / s[k]
		}
	}
}
