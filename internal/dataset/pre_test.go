package dataset

import (
	"flag"
	"math"
	"math/rand/v2"
	"testing"
)

func TestResizeBilinearWorked(t *testing.T) {
	src := []float32{0, 3, 6, 9} // 2×2, one channel
	cases := []struct {
		name             string
		align, halfPixel bool
		want             []float32
	}{
		// TF 1.x default, worked by hand from TF's rule: scale = 2/3,
		// s = 0, 0.667, 1.333 → (lo,hi,f) = (0,0,0), (0,1,0.667), (1,1,0.333).
		// Row 0: 0, 0+3·0.667 = 2, 3. Row 1 lerps rows 0 and 1 by 0.667:
		// 0+6·0.667 = 4, 2+(8−2)·0.667 = 6, 3+(9−3)·0.667 = 7. Row 2 copies
		// input row 1 with the same x lerps: 6, 8, 9 (the image shifts
		// toward the top left, the last edge repeats).
		{"legacy", false, false, []float32{0, 2, 3, 4, 6, 7, 6, 8, 9}},
		// align_corners: scale = (2−1)/(3−1) = 0.5, s = 0, 0.5, 1.
		{"align-corners", true, false, []float32{0, 1.5, 3, 3, 4.5, 6, 6, 7.5, 9}},
		// half_pixel_centers: s = (i+0.5)·2/3 − 0.5 = −0.167, 0.5, 1.167 →
		// lo = hi = 0 (clamped), (0,1,0.5), lo = hi = 1: the same values.
		{"half-pixel", false, true, []float32{0, 1.5, 3, 3, 4.5, 6, 6, 7.5, 9}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dst := make([]float32, 9)
			ResizeBilinear(dst, src, 2, 2, 1, 3, 3, c.align, c.halfPixel)
			for i := range dst {
				if dst[i] != c.want[i] {
					t.Fatalf("got %v, want %v", dst, c.want)
				}
			}
		})
	}
	// TF-FILES.md §12's example, 3 → 7 legacy: s = 0, .43, .86, 1.29, 1.71,
	// 2.14, 2.57; rows 5 and 6 copy input row 2. On a column [0, 7, 14]:
	// 0, 7·3/7, 7·6/7, 7+7·2/7, 7+7·5/7, 14, 14.
	dst := make([]float32, 7)
	ResizeBilinear(dst, []float32{0, 7, 14}, 3, 1, 1, 7, 1, false, false)
	want := []float32{0, 3, 6, 9, 12, 14, 14}
	for i := range dst {
		if math.Abs(float64(dst[i]-want[i])) > 1e-5 {
			t.Errorf("3→7: got %v, want %v", dst, want)
			break
		}
	}
}

// resizeReference is TF's rule written out per output value, with no
// cached weights.
func resizeReference(src []float32, h, w, c, oh, ow int, align, half bool) []float32 {
	sy, sx := resizeScale(h, oh, align), resizeScale(w, ow, align)
	dst := make([]float32, oh*ow*c)
	if oh == h && ow == w {
		copy(dst, src)
		return dst
	}
	for y := range oh {
		fy := sourceCoord(y, sy, half)
		y0 := max(int(math.Floor(float64(fy))), 0)
		y1 := min(int(math.Ceil(float64(fy))), h-1)
		ly := fy - float32(math.Floor(float64(fy)))
		for x := range ow {
			fx := sourceCoord(x, sx, half)
			x0 := max(int(math.Floor(float64(fx))), 0)
			x1 := min(int(math.Ceil(float64(fx))), w-1)
			lx := fx - float32(math.Floor(float64(fx)))
			for k := range c {
				tl, tr := src[(y0*w+x0)*c+k], src[(y0*w+x1)*c+k]
				bl, br := src[(y1*w+x0)*c+k], src[(y1*w+x1)*c+k]
				top := tl + float32((tr-tl)*lx)
				bot := bl + float32((br-bl)*lx)
				dst[(y*ow+x)*c+k] = top + float32((bot-top)*ly)
			}
		}
	}
	return dst
}

func TestResizeBilinearMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	sizes := [][4]int{{1, 1, 5, 3}, {5, 3, 1, 1}, {3, 5, 7, 4}, {7, 4, 2, 9}, {100, 100, 128, 128}, {375, 500, 128, 128}, {13, 17, 13, 5}, {2, 2, 300, 1}}
	for _, sz := range sizes {
		for _, c := range []int{1, 2, 3, 4} {
			for _, mode := range [][2]bool{{false, false}, {true, false}, {false, true}} {
				h, w, oh, ow := sz[0], sz[1], sz[2], sz[3]
				src := make([]float32, h*w*c)
				for i := range src {
					src[i] = rng.Float32()*510 - 255
				}
				want := resizeReference(src, h, w, c, oh, ow, mode[0], mode[1])
				got := make([]float32, oh*ow*c)
				ResizeBilinear(got, src, h, w, c, oh, ow, mode[0], mode[1])
				for i := range got {
					if got[i] != want[i] {
						t.Fatalf("%d×%d×%d → %d×%d align=%v half=%v: value %d = %g, reference %g", h, w, c, oh, ow, mode[0], mode[1], i, got[i], want[i])
					}
				}
			}
		}
	}
}

func TestCrop(t *testing.T) {
	cases := []struct {
		p              Preprocess
		h, w           int
		y0, x0, ch, cw int
	}{
		// TF's central_crop: offset int((h − h·f)/2), size h − 2·offset.
		// 5, f=0.5: int(1.25) = 1, size 3.
		{Preprocess{CentralFraction: 0.5}, 5, 5, 1, 1, 3, 3},
		// 375×500, f=0.875 (Inception eval): int(23.4375) = 23 → 329;
		// int(31.25) = 31 → 438.
		{Preprocess{CentralFraction: 0.875}, 375, 500, 23, 31, 329, 438},
		{Preprocess{CentralFraction: 1}, 4, 4, 0, 0, 4, 4},
		// To a size: offset (h − size)/2 rounded down: (5−3)/2 = 1, (8−3)/2 = 2.
		{Preprocess{CropHeight: 3, CropWidth: 3}, 5, 8, 1, 2, 3, 3},
		// Fraction then size: 10 → int(2.5)=2, 6 rows from 2; then 4 of those 6 from 2+1.
		{Preprocess{CentralFraction: 0.5, CropHeight: 4, CropWidth: 4}, 10, 10, 3, 3, 4, 4},
	}
	for _, c := range cases {
		y0, x0, ch, cw, err := c.p.crop(c.h, c.w)
		if err != nil || y0 != c.y0 || x0 != c.x0 || ch != c.ch || cw != c.cw {
			t.Errorf("%+v on %d×%d: (%d,%d) %d×%d %v, want (%d,%d) %d×%d", c.p, c.h, c.w, y0, x0, ch, cw, err, c.y0, c.x0, c.ch, c.cw)
		}
	}
	if _, _, _, _, err := (&Preprocess{CropHeight: 6, CropWidth: 2}).crop(5, 5); err == nil || err.Error() != "crop 6×2 is larger than the 5×5 image" {
		t.Errorf("oversized crop: %v", err)
	}
}

func TestPreprocessApply(t *testing.T) {
	// A 1×1 RGB pixel (100, 150, 200) through each colour.
	px := &example{h: 1, w: 1, c: 3, u8: []uint8{100, 150, 200}}
	cases := []struct {
		p    Preprocess
		want []float32
	}{
		{Preprocess{}, []float32{100, 150, 200}},
		{Preprocess{Color: BGR}, []float32{200, 150, 100}},
		// TF's rgb_to_grayscale weights: 0.2989·100 + 0.5870·150 + 0.1140·200 = 140.74.
		{Preprocess{Color: Gray}, []float32{140.74}},
		// MobileNet: (x − 127.5)/127.5.
		{Preprocess{Mean: []float32{127.5}, Std: []float32{127.5}}, []float32{-27.5 / 127.5, 22.5 / 127.5, 72.5 / 127.5}},
		// Scale first, then per-channel mean and std (ImageNet's torchvision constants).
		{Preprocess{Scale: 1.0 / 255, Mean: []float32{0.485, 0.456, 0.406}, Std: []float32{0.229, 0.224, 0.225}},
			[]float32{(100.0/255 - 0.485) / 0.229, (150.0/255 - 0.456) / 0.224, (200.0/255 - 0.406) / 0.225}},
	}
	for _, c := range cases {
		oh, ow, oc, err := c.p.outSize(1, 1, 3)
		if err != nil || oh*ow*oc != len(c.want) {
			t.Fatalf("%+v: size %d×%d×%d %v", c.p, oh, ow, oc, err)
		}
		got := make([]float32, len(c.want))
		c.p.apply(got, nil, px)
		for i := range got {
			if math.Abs(float64(got[i]-c.want[i])) > 1e-5 {
				t.Errorf("%+v: got %v, want %v", c.p, got, c.want)
				break
			}
		}
	}
	// Gray to RGB copies the value to three channels.
	got := make([]float32, 3)
	(&Preprocess{Color: RGB}).apply(got, nil, &example{h: 1, w: 1, c: 1, u8: []uint8{42}})
	if got[0] != 42 || got[1] != 42 || got[2] != 42 {
		t.Errorf("gray → rgb: %v", got)
	}
	// Central crop 0.5 of a 4×4 ramp 0..15 keeps rows and columns 1–2
	// (int((4−2)/2) = 1): [[5 6] [9 10]]. Resized 2×2 → 3×3 with the legacy
	// lerps of the worked example above, x (0,0,0) (0,1,⅔) (1,1,⅓), y the same:
	// row 0: 5, 5⅔, 6; row 2: 9, 9⅔, 10; row 1 = row 0 + (row 2 − row 0)·⅔
	// = 7⅔, 8⅓, 8⅔.
	ramp := make([]uint8, 16)
	for i := range ramp {
		ramp[i] = uint8(i)
	}
	p := Preprocess{CentralFraction: 0.5, Height: 3, Width: 3}
	oh, ow, oc, err := p.outSize(4, 4, 1)
	if err != nil || oh != 3 || ow != 3 || oc != 1 {
		t.Fatalf("size %d×%d×%d %v", oh, ow, oc, err)
	}
	got = make([]float32, 9)
	p.apply(got, nil, &example{h: 4, w: 4, c: 1, u8: ramp})
	want := []float32{5, 5 + 2.0/3, 6, 5 + 4*2.0/3, 5 + 4*2.0/3 + 2.0/3, 6 + 4*2.0/3, 9, 9 + 2.0/3, 10}
	for i := range got {
		if math.Abs(float64(got[i]-want[i])) > 1e-5 {
			t.Fatalf("crop+resize: got %v, want %v", got, want)
		}
	}
}

func TestRegisterFlags(t *testing.T) {
	var o Options
	fs := flag.NewFlagSet("eval", flag.ContinueOnError)
	o.RegisterFlags(fs)
	err := fs.Parse([]string{"-shard", "2/5", "-limit", "100", "-resize", "224x224", "-scale", "1/255",
		"-mean", "0.485,0.456,0.406", "-input-shape", "-1,224,224,3", "-color", "bgr", "-central-crop", "0.875", "-half-pixel-centers"})
	if err != nil {
		t.Fatal(err)
	}
	if o.Shard != 2 || o.Shards != 5 || o.Limit != 100 || o.Height != 224 || o.Width != 224 || o.Scale != float32(1.0/255) ||
		len(o.Mean) != 3 || o.Mean[2] != 0.406 || FormatShape(o.Shape) != "[-1,224,224,3]" || o.Color != BGR || o.CentralFraction != 0.875 || !o.HalfPixelCenters {
		t.Errorf("options %+v", o)
	}
	for _, bad := range [][]string{{"-shard", "5/5"}, {"-shard", "x"}, {"-resize", "0x3"}, {"-scale", "1/0"}, {"-color", "cmyk"}, {"-input-shape", "-1,a"}} {
		fs := flag.NewFlagSet("eval", flag.ContinueOnError)
		fs.SetOutput(new(discard))
		new(Options).RegisterFlags(fs)
		if err := fs.Parse(bad); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func BenchmarkResizeBilinear(b *testing.B) {
	// 375×500 RGB (an ImageNet photograph) to 224×224, TF 1.x attributes.
	src := make([]float32, 375*500*3)
	for i := range src {
		src[i] = float32(i % 251)
	}
	dst := make([]float32, 224*224*3)
	b.SetBytes(int64(4 * len(src)))
	b.ReportAllocs()
	for b.Loop() {
		ResizeBilinear(dst, src, 375, 500, 3, 224, 224, false, false)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "images/s")
}

// TestResizeFromBytes checks that Preprocess.apply's resize straight from
// an image's bytes (resizeU8) gives the bits of the two-step path it
// replaced for byte images — convert the crop window to float32 times
// Scale, then ResizeBilinear — for crops, scales (none, 1/255, 0.7), one
// and three channels, shrinking and enlarging, and every pair of
// align_corners / half_pixel_centers.
func TestResizeFromBytes(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for trial := range 60 {
		c := []int{1, 3}[trial%2]
		h, w := 1+r.IntN(40), 1+r.IntN(40)
		ex := &example{h: h, w: w, c: c, u8: make([]uint8, h*w*c)}
		for i := range ex.u8 {
			ex.u8[i] = uint8(r.Uint32())
		}
		p := Preprocess{Height: 1 + r.IntN(30), Width: 1 + r.IntN(30), Scale: []float32{0, 1.0 / 255, 0.7}[r.IntN(3)],
			AlignCorners: r.IntN(2) == 0, HalfPixelCenters: r.IntN(2) == 0, Mean: []float32{127.5}, Std: []float32{127.5}}
		if p.AlignCorners && p.HalfPixelCenters {
			p.HalfPixelCenters = false // TF refuses both
		}
		if trial%3 == 0 {
			p.CentralFraction = 0.875
		}
		oh, ow, oc, err := p.outSize(h, w, c)
		if err != nil {
			t.Fatal(err)
		}
		got := make([]float32, oh*ow*oc)
		p.apply(got, nil, ex)
		// The two-step path.
		y0, x0, ch, cw, _ := p.crop(h, w)
		if p.Height == ch && p.Width == cw {
			continue
		}
		buf := make([]float32, ch*cw*oc)
		p.convert(buf, ex, y0, x0, ch, cw, oc)
		want := make([]float32, oh*ow*oc)
		ResizeBilinear(want, buf, ch, cw, oc, p.Height, p.Width, p.AlignCorners, p.HalfPixelCenters)
		normalize(want, oc, p.Mean, p.Std)
		for i := range want {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("trial %d %+v on %d×%d×%d: element %d = %v, the two-step path gives %v", trial, p, h, w, c, i, got[i], want[i])
			}
		}
	}
}
