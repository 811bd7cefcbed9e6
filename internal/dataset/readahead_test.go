package dataset

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"qcal/internal/testutil"
)

// drain reads every batch of s: the values, ids and labels in order, and
// the error that stopped it ("" at the end of the data set).
func drain(s *Stream) (x []float32, ids []string, labels []int, stop string) {
	var b Batch
	for {
		_, err := s.Next(&b)
		if err == io.EOF {
			return x, ids, labels, ""
		}
		if err != nil {
			return x, ids, labels, err.Error()
		}
		x = append(x, b.X...)
		ids = append(ids, b.IDs...)
		labels = append(labels, b.Labels...)
	}
}

// TestImageReadAhead checks that decoding images ahead on several
// goroutines gives what decoding them one at a time gives (the reader
// without want): the same values, ids and labels in the same order, and
// the same error at the same record, for limits, shards, samples and batch
// sizes, with a truncated file among 13 images of different sizes.
func TestImageReadAhead(t *testing.T) {
	dir := t.TempDir()
	for i := range 13 {
		img := image.NewGray(image.Rect(0, 0, 3+i%4, 2+i%3))
		for p := range img.Pix {
			img.Pix[p] = uint8(17*i + 5*p)
		}
		data := pngBytes(t, img)
		if i == 9 {
			data = data[:len(data)-20] // cut inside the data
		}
		writeFile(t, dir, fmt.Sprintf("im%02d.png", i), data)
	}
	pre := Preprocess{Height: 4, Width: 5, Mean: []float32{100}, Std: []float32{50}}
	for _, opt := range []Options{
		{}, {BatchSize: 3}, {Limit: 9, BatchSize: 2}, {Limit: 5},
		{Shard: 1, Shards: 3}, {Shard: 0, Shards: 3, Limit: 9}, {Shard: 2, Shards: 4, BatchSize: 2},
		{Sample: 6, Seed: 3}, {Sample: 4, Seed: 1, Limit: 9}, {Sample: 12, Seed: 7, BatchSize: 5},
	} {
		opt.Preprocess = pre
		name := fmt.Sprintf("%+v", opt)
		read := func(ahead bool) ([]float32, []string, []int, string) {
			s, err := Open(dir, opt)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			ir := s.r.(*imageReader)
			if ir.want == nil {
				t.Fatalf("%s: the stream did not give the image reader its wanted records", name)
			}
			if !ahead {
				ir.want = nil
			}
			return drain(s)
		}
		x0, ids0, l0, err0 := read(false)
		x1, ids1, l1, err1 := read(true)
		if !slices.Equal(x0, x1) || !slices.Equal(ids0, ids1) || !slices.Equal(l0, l1) || err0 != err1 {
			t.Errorf("%s: read ahead: ids %v, error %q; one at a time: ids %v, error %q", name, ids1, err1, ids0, err0)
		}
		if len(ids0) == 0 && err0 == "" {
			t.Errorf("%s: nothing read", name)
		}
	}
	// The truncated im09.png stops the full read at record 9, after the
	// nine images before it (one batch each).
	s, err := Open(dir, Options{Preprocess: pre})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, ids, _, stop := drain(s)
	if len(ids) != 9 || ids[8] != "im08.png" || stop == "" {
		t.Errorf("ids %v, stop %q: want 9 images, then im09.png's error", ids, stop)
	}
}

// TestYCbCrToRGB checks the row loops against the standard library's
// own per-pixel path (YCbCr.YCbCrAt, then color.YCbCrToRGB) for every
// subsampling, odd sizes, and sub-images whose bounds start at odd
// coordinates (where a row's first chroma sample is shared with the pixel
// before it).
func TestYCbCrToRGB(t *testing.T) {
	ratios := []image.YCbCrSubsampleRatio{image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio422,
		image.YCbCrSubsampleRatio420, image.YCbCrSubsampleRatio440, image.YCbCrSubsampleRatio411, image.YCbCrSubsampleRatio410}
	for _, ratio := range ratios {
		full := image.NewYCbCr(image.Rect(0, 0, 13, 9), ratio)
		for i := range full.Y {
			full.Y[i] = uint8(i*37 + 11)
		}
		for i := range full.Cb {
			full.Cb[i], full.Cr[i] = uint8(i*53+7), uint8(255-i*29)
		}
		for _, r := range []image.Rectangle{full.Bounds(), image.Rect(1, 1, 12, 8), image.Rect(3, 2, 4, 9), image.Rect(5, 0, 13, 1)} {
			m := full.SubImage(r).(*image.YCbCr)
			px := make([]uint8, r.Dx()*r.Dy()*3)
			ycbcrToRGB(px, m)
			i := 0
			for y := r.Min.Y; y < r.Max.Y; y++ {
				for x := r.Min.X; x < r.Max.X; x++ {
					c := m.YCbCrAt(x, y)
					rr, gg, bb := color.YCbCrToRGB(c.Y, c.Cb, c.Cr)
					if px[i] != rr || px[i+1] != gg || px[i+2] != bb {
						t.Fatalf("%v %v: pixel (%d, %d) = %v, want %d %d %d", ratio, r, x, y, px[i:i+3], rr, gg, bb)
					}
					i += 3
				}
			}
		}
	}
}

// TestJFIFRGB checks jfifRGB against color.YCbCrToRGB on every one of the
// 2²⁴ (Y, Cb, Cr) triples, and by hand on two: (255, 128, 128) is white
// (the 0x10101 scale keeps 255), and (0, 128, 255) has R = 1.402·127 =
// 178.05 → 178.
func TestJFIFRGB(t *testing.T) {
	if r, g, b := jfifRGB(255, 128, 128); r != 255 || g != 255 || b != 255 {
		t.Errorf("white: %d %d %d", r, g, b)
	}
	if r, _, _ := jfifRGB(0, 128, 255); r != 178 {
		t.Errorf("R of (0, 128, 255) = %d, want 178", r)
	}
	bad := 0
	for v := range 1 << 24 {
		y, cb, cr := uint8(v>>16), uint8(v>>8), uint8(v)
		r, g, b := jfifRGB(y, cb, cr)
		wr, wg, wb := color.YCbCrToRGB(y, cb, cr)
		if r != wr || g != wg || b != wb {
			if bad++; bad <= 5 {
				t.Errorf("(%d, %d, %d) → %d %d %d, color.YCbCrToRGB gives %d %d %d", y, cb, cr, r, g, b, wr, wg, wb)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of 2²⁴ triples differ", bad)
	}
}

// BenchmarkYCbCrToRGB converts the decoded 500×375 4:2:0 tench photograph
// of imagenet/sample_images to RGB, reporting pixels per second.
func BenchmarkYCbCrToRGB(b *testing.B) {
	root := testutil.RealData(b, "imagenet/sample_images")
	data, err := os.ReadFile(filepath.Join(root, "images", "n01440764_tench.JPEG"))
	if err != nil {
		b.Fatal(err)
	}
	img, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		b.Fatal(err)
	}
	m := img.(*image.YCbCr)
	px := make([]uint8, m.Rect.Dx()*m.Rect.Dy()*3)
	b.SetBytes(int64(len(px)))
	b.ReportAllocs()
	for b.Loop() {
		ycbcrToRGB(px, m)
	}
	b.ReportMetric(float64(m.Rect.Dx()*m.Rect.Dy()*b.N)/b.Elapsed().Seconds()/1e6, "Mpixel/s")
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
