package dataset

import (
	"flag"
	"fmt"
	"strconv"
	"strings"
)

// FormatShape writes a shape as "[-1,28,28,1]".
func FormatShape(s []int) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, d := range s {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(d))
	}
	b.WriteByte(']')
	return b.String()
}

// ParseShape parses "-1,28,28,1" or "[-1,28,28,1]"; "?" stands for -1.
func ParseShape(s string) ([]int, error) {
	t := strings.TrimSpace(s)
	t = strings.TrimSuffix(strings.TrimPrefix(t, "["), "]")
	if t == "" {
		return nil, nil
	}
	parts := strings.Split(t, ",")
	shape := make([]int, len(parts))
	for i, p := range parts {
		p = strings.TrimSpace(p)
		if p == "?" {
			shape[i] = -1
			continue
		}
		d, err := strconv.Atoi(p)
		if err != nil || d < -1 {
			return nil, fmt.Errorf("shape %q: bad dimension %q", s, p)
		}
		shape[i] = d
	}
	return shape, nil
}

// ParseShard parses "K/N" (qcal's -shard) into K and N, 0 ≤ K < N.
func ParseShard(s string) (k, n int, err error) {
	a, b, ok := strings.Cut(s, "/")
	if ok {
		k, err = strconv.Atoi(a)
		if err == nil {
			n, err = strconv.Atoi(b)
		}
	}
	if !ok || err != nil || n <= 0 || k < 0 || k >= n {
		return 0, 0, fmt.Errorf("shard %q: want K/N with 0 ≤ K < N", s)
	}
	return k, n, nil
}

// parseSize parses "HxW" (or "H×W", or one number for a square).
func parseSize(s string) (h, w int, err error) {
	s = strings.ReplaceAll(s, "×", "x")
	a, b, ok := strings.Cut(strings.ToLower(s), "x")
	if !ok {
		b = a
	}
	h, err = strconv.Atoi(strings.TrimSpace(a))
	if err == nil {
		w, err = strconv.Atoi(strings.TrimSpace(b))
	}
	if err != nil || h <= 0 || w <= 0 {
		return 0, 0, fmt.Errorf("size %q: want HxW with positive sides", s)
	}
	return h, w, nil
}

// parseFloats parses "0.485,0.456,0.406"; a value may be a fraction "1/255".
func parseFloats(s string) ([]float32, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var v []float32
	for _, p := range strings.Split(s, ",") {
		f, err := parseFloat(p)
		if err != nil {
			return nil, err
		}
		v = append(v, f)
	}
	return v, nil
}

func parseFloat(s string) (float32, error) {
	s = strings.TrimSpace(s)
	num, den, frac := strings.Cut(s, "/")
	a, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err == nil && frac {
		var d float64
		d, err = strconv.ParseFloat(strings.TrimSpace(den), 64)
		if err == nil && d == 0 {
			return 0, fmt.Errorf("number %q divides by zero", s)
		}
		a /= d
	}
	if err != nil {
		return 0, fmt.Errorf("bad number %q", s)
	}
	return float32(a), nil
}

// funcValue is a flag.Value from a setter and the current text.
type funcValue struct {
	set func(string) error
	get func() string
}

func (f funcValue) Set(s string) error { return f.set(s) }
func (f funcValue) String() string {
	if f.get == nil {
		return ""
	}
	return f.get()
}

// RegisterFlags defines on fs the flags that fill o, for commands that read
// data sets (qcal eval, qcal calibrate): -data-format, -batch, -limit,
// -shard, -labels, -label-column, -classes, -color, -central-crop, -crop, -resize,
// -align-corners, -half-pixel-centers, -scale, -mean, -std, -input-shape.
// The data set's format flag says "data" so that -format stays free for
// the output format (STYLE.md).
func (o *Options) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&o.Format, "data-format", o.Format, "data set `format`: idx, npy, images or tfrecord (default: detected)")
	fs.IntVar(&o.BatchSize, "batch", o.BatchSize, "examples per `batch` (default: the input shape's batch dimension, or 1)")
	fs.IntVar(&o.Limit, "limit", o.Limit, "use only the first `N` examples (0: all), before sharding")
	fs.Var(funcValue{
		set: func(s string) (err error) { o.Shard, o.Shards, err = ParseShard(s); return err },
		get: func() string { return fmt.Sprintf("%d/%d", o.Shard, max(o.Shards, 1)) },
	}, "shard", "read every N-th example starting at K (`K/N`)")
	fs.StringVar(&o.Labels, "labels", o.Labels, "labels `file`: idx1 or NPY for IDX/NPY data, CSV (file,label) for an image folder")
	fs.StringVar(&o.LabelColumn, "label-column", o.LabelColumn, "CSV header of the label `column` (default: label, else class_index, else the second)")
	fs.IntVar(&o.Classes, "classes", o.Classes, "number of classes: a label outside [0, `N`) is an error (0: no check)")
	fs.Var(funcValue{
		set: func(s string) (err error) { o.Color, err = ParseColor(s); return err },
		get: func() string { return o.Color.String() },
	}, "color", "channels: keep, gray, rgb or bgr")
	fs.Float64Var(&o.CentralFraction, "central-crop", o.CentralFraction, "keep the central `fraction` (0,1] as tf.image.central_crop (0: none)")
	fs.Var(funcValue{
		set: func(s string) (err error) { o.CropHeight, o.CropWidth, err = parseSize(s); return err },
		get: func() string { return sizeText(o.CropHeight, o.CropWidth) },
	}, "crop", "crop the centre to `HxW`, after -central-crop")
	fs.Var(funcValue{
		set: func(s string) (err error) { o.Height, o.Width, err = parseSize(s); return err },
		get: func() string { return sizeText(o.Height, o.Width) },
	}, "resize", "resize to `HxW` as TF's ResizeBilinear")
	fs.BoolVar(&o.AlignCorners, "align-corners", o.AlignCorners, "ResizeBilinear align_corners")
	fs.BoolVar(&o.HalfPixelCenters, "half-pixel-centers", o.HalfPixelCenters, "ResizeBilinear half_pixel_centers (TF 2's tf.image.resize)")
	fs.Var(funcValue{
		set: func(s string) (err error) { o.Scale, err = parseFloat(s); return err },
		get: func() string {
			if o.Scale == 0 {
				return ""
			}
			return strconv.FormatFloat(float64(o.Scale), 'g', -1, 32)
		},
	}, "scale", "multiply each value by `x` as it is read, e.g. 1/255")
	fs.Var(funcValue{
		set: func(s string) (err error) { o.Mean, err = parseFloats(s); return err },
		get: func() string { return floatsText(o.Mean) },
	}, "mean", "subtract per-channel `means` after resizing, e.g. 123.68,116.78,103.94")
	fs.Var(funcValue{
		set: func(s string) (err error) { o.Std, err = parseFloats(s); return err },
		get: func() string { return floatsText(o.Std) },
	}, "std", "divide by per-channel standard `deviations` after the mean")
	fs.Var(funcValue{
		set: func(s string) (err error) { o.Shape, err = ParseShape(s); return err },
		get: func() string {
			if o.Shape == nil {
				return ""
			}
			return FormatShape(o.Shape)
		},
	}, "input-shape", "lay examples out to the graph input's `shape`, e.g. -1,28,28,1 or -1,784")
}

func sizeText(h, w int) string {
	if h == 0 && w == 0 {
		return ""
	}
	return fmt.Sprintf("%dx%d", h, w)
}

func floatsText(v []float32) string {
	s := make([]string, len(v))
	for i, f := range v {
		s[i] = strconv.FormatFloat(float64(f), 'g', -1, 32)
	}
	return strings.Join(s, ",")
}
