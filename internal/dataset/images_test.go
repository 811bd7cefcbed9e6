package dataset

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"qcal/internal/testutil"
)

func pngBytes(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// classFolder writes a folder with subfolders "b_cat" (a gray PNG) and
// "a_dog" (an NRGBA PNG with alpha, and a paletted PNG), plus a stray text file.
func classFolder(t *testing.T) string {
	dir := t.TempDir()
	for _, d := range []string{"a_dog", "b_cat"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	gray := image.NewGray(image.Rect(0, 0, 2, 1))
	gray.Pix[0], gray.Pix[1] = 10, 250
	writeFile(t, filepath.Join(dir, "b_cat"), "g.png", pngBytes(t, gray))
	rgba := image.NewNRGBA(image.Rect(0, 0, 2, 1))
	copy(rgba.Pix, []uint8{1, 2, 3, 0, 200, 100, 50, 128}) // alpha 0 and 128: RGB kept as stored
	writeFile(t, filepath.Join(dir, "a_dog"), "x.png", pngBytes(t, rgba))
	pal := image.NewPaletted(image.Rect(0, 0, 2, 1), color.Palette{color.RGBA{9, 8, 7, 255}, color.RGBA{60, 70, 80, 255}})
	pal.Pix[0], pal.Pix[1] = 1, 0
	writeFile(t, filepath.Join(dir, "a_dog"), "y.PNG", pngBytes(t, pal))
	writeFile(t, filepath.Join(dir, "a_dog"), "notes.txt", []byte("not an image"))
	return dir
}

func TestImageFolderByClass(t *testing.T) {
	dir := classFolder(t)
	x, labels, ids, _ := readAll(t, dir, Options{BatchSize: 8, Preprocess: Preprocess{Color: RGB}})
	// Sorted subfolders: a_dog = 0 (x.png, y.PNG), b_cat = 1 (g.png).
	if strings.Join(ids, " ") != "a_dog/x.png a_dog/y.PNG b_cat/g.png" || len(labels) != 3 || labels[0] != 0 || labels[1] != 0 || labels[2] != 1 {
		t.Fatalf("ids %v labels %v", ids, labels)
	}
	want := []float32{
		1, 2, 3, 200, 100, 50, // NRGBA: alpha dropped, colours as stored
		60, 70, 80, 9, 8, 7, // paletted
		10, 10, 10, 250, 250, 250, // gray copied to three channels
	}
	if len(x) != len(want) {
		t.Fatalf("x %v, want %v", x, want)
	}
	for i := range x {
		if x[i] != want[i] {
			t.Fatalf("x %v, want %v", x, want)
		}
	}
	// Without -color the gray image has one channel, and the batch refuses
	// to mix it with the 3-channel ones.
	err := readErr(dir, Options{BatchSize: 8})
	if err == nil || !strings.HasSuffix(err.Error(), "g.png: record 2: example is 1×2×1 after preprocessing, the batch's first was 1×2×3 (resize or crop to one size)") {
		t.Errorf("mixed channels: %v", err)
	}
}

func TestImageFolderLabelsCSV(t *testing.T) {
	dir := t.TempDir()
	img := filepath.Join(dir, "img")
	os.Mkdir(img, 0o755)
	g := image.NewGray(image.Rect(0, 0, 1, 1))
	for _, n := range []string{"b.png", "a.png", "c.png"} {
		writeFile(t, img, n, pngBytes(t, g))
	}
	csv := writeFile(t, dir, "labels.csv", []byte("file,name,class_index,other\nc.png,\"x, y\",2,7\na.png,z,0,5\nb.png,w,1,6\n"))
	_, labels, ids, _ := readAll(t, img, Options{Labels: csv, BatchSize: 3})
	if strings.Join(ids, " ") != "a.png b.png c.png" || labels[0] != 0 || labels[1] != 1 || labels[2] != 2 {
		t.Errorf("class_index: ids %v labels %v", ids, labels)
	}
	_, labels, _, _ = readAll(t, img, Options{Labels: csv, LabelColumn: "other", BatchSize: 3})
	if labels[0] != 5 || labels[1] != 6 || labels[2] != 7 {
		t.Errorf("column other: labels %v, want [5 6 7]", labels)
	}
	// No header: file,label lines.
	plain := writeFile(t, dir, "plain.csv", []byte("a.png,3\nb.png,4\nc.png,5\n"))
	_, labels, _, _ = readAll(t, img, Options{Labels: plain, BatchSize: 3})
	if labels[0] != 3 || labels[2] != 5 {
		t.Errorf("plain: labels %v, want [3 4 5]", labels)
	}
	for _, c := range []struct{ csv, opt, want string }{
		{"a.png,3\nb.png,x\n", "", "bad.csv:2: label \"x\" is not a non-negative integer"},
		{"a.png,3\nb.png,4\n", "", "img: c.png has no label in "},
		{"a.png,3\na.png,4\n", "", "bad.csv:2: a.png labelled twice"},
		{"file,label\na.png,3\n", "nope", `bad.csv: no column "nope" in the header "file,label"`},
	} {
		bad := writeFile(t, dir, "bad.csv", []byte(c.csv))
		err := readErr(img, Options{Labels: bad, LabelColumn: c.opt})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want %q", c.csv, err, c.want)
		}
	}
	// Classes bounds the labels.
	err := readErr(img, Options{Labels: plain, Classes: 5, BatchSize: 3})
	if err == nil || !errors.Is(err, ErrLabel) || !strings.HasSuffix(err.Error(), "c.png: record 2: label out of range: 5 not in [0, 5)") {
		t.Errorf("classes: %v", err)
	}
}

func TestImageErrors(t *testing.T) {
	dir := t.TempDir()
	g := image.NewGray(image.Rect(0, 0, 1, 1))
	good := pngBytes(t, g)
	writeFile(t, dir, "a.png", good)
	writeFile(t, dir, "b.png", good[:len(good)-20]) // cut inside the data
	writeFile(t, dir, "c.jpg", []byte("GIF89a"))
	err := readErr(dir, Options{})
	if err == nil || !strings.Contains(err.Error(), "b.png: record 1: ") {
		t.Errorf("truncated png: %v", err)
	}
	err = readErr(dir, Options{Limit: 3, Shard: 2, Shards: 3})
	if err == nil || !strings.HasSuffix(err.Error(), "c.jpg: record 2: not a JPEG or PNG image (starts 47 49 46 38)") {
		t.Errorf("not an image: %v", err)
	}
	// Skipped examples are not decoded: shard 0/3 reads only a.png.
	if err := readErr(dir, Options{Shard: 0, Shards: 3}); err != nil {
		t.Errorf("shard 0/3 decoded a skipped image: %v", err)
	}
}

func TestJPEGDecode(t *testing.T) {
	// A uniform (200, 100, 50) image through the standard library's
	// encoder at quality 100 and back: JPEG's YCbCr rounding moves each
	// channel by at most a few levels.
	src := image.NewRGBA(image.Rect(0, 0, 16, 16))
	for i := 0; i < len(src.Pix); i += 4 {
		copy(src.Pix[i:], []uint8{200, 100, 50, 255})
	}
	var buf bytes.Buffer
	jpeg.Encode(&buf, src, &jpeg.Options{Quality: 100})
	var ex example
	if err := decodeImage(buf.Bytes(), &ex); err != nil {
		t.Fatal(err)
	}
	if ex.h != 16 || ex.w != 16 || ex.c != 3 {
		t.Fatalf("decoded %d×%d×%d", ex.h, ex.w, ex.c)
	}
	for i, v := range ex.u8 {
		want := []int{200, 100, 50}[i%3]
		if d := int(v) - want; d < -3 || d > 3 {
			t.Fatalf("value %d = %d, want %d ± 3", i, v, want)
		}
	}
}

func TestImageNetSample(t *testing.T) {
	root := testutil.RealData(t, "imagenet/sample_images")
	// MobileNet v1 0.25/128 preprocessing (imagenet/README.md): RGB,
	// central 87.5%, resize to 128×128, (x − 127.5)/127.5.
	opt := Options{Labels: filepath.Join(root, "labels.csv"), Limit: 4, Preprocess: Preprocess{
		Color: RGB, CentralFraction: 0.875, Height: 128, Width: 128,
		Mean: []float32{127.5}, Std: []float32{127.5}, Shape: []int{1, 128, 128, 3}}}
	x, labels, ids, batches := readAll(t, filepath.Join(root, "images"), opt)
	// labels.csv: the first four sorted files are classes 0–3.
	if batches != 4 || strings.Join(ids, " ") != "n01440764_tench.JPEG n01443537_goldfish.JPEG n01484850_great_white_shark.JPEG n01491361_tiger_shark.JPEG" ||
		labels[0] != 0 || labels[3] != 3 || len(x) != 4*128*128*3 {
		t.Fatalf("%d batches, ids %v, labels %v, %d values", batches, ids, labels, len(x))
	}
	for i, v := range x {
		if v < -1 || v > 1 {
			t.Fatalf("value %d = %g outside [-1, 1]", i, v)
		}
	}
	// The mobilenet column counts the background class: class + 1.
	opt.LabelColumn = "mobilenet_1001_index"
	_, labels, _, _ = readAll(t, filepath.Join(root, "images"), opt)
	if labels[0] != 1 || labels[3] != 4 {
		t.Errorf("mobilenet labels %v, want [1 2 3 4]", labels)
	}
	// `file` says n01440764_tench.JPEG is 500x375 with 3 components and
	// n02096051_Airedale.JPEG 500x330 with 1 component.
	var ex example
	for _, c := range []struct {
		name    string
		h, w, c int
	}{{"n01440764_tench.JPEG", 375, 500, 3}, {"n02096051_Airedale.JPEG", 330, 500, 1}} {
		data, err := os.ReadFile(filepath.Join(root, "images", c.name))
		if err != nil {
			t.Fatal(err)
		}
		if err := decodeImage(data, &ex); err != nil {
			t.Fatal(err)
		}
		if ex.h != c.h || ex.w != c.w || ex.c != c.c {
			t.Errorf("%s: %d×%d×%d, want %d×%d×%d", c.name, ex.h, ex.w, ex.c, c.h, c.w, c.c)
		}
	}
	// The grayscale photograph becomes three equal channels.
	s, err := Open(filepath.Join(root, "images", "n02096051_Airedale.JPEG"), Options{Preprocess: Preprocess{Color: RGB}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var b Batch
	if _, err := s.Next(&b); err != nil {
		t.Fatal(err)
	}
	if FormatShape(b.Shape) != "[1,330,500,3]" || b.Labels[0] != -1 || b.IDs[0] != "n02096051_Airedale.JPEG" {
		t.Fatalf("shape %v label %d id %q", b.Shape, b.Labels[0], b.IDs[0])
	}
	for i := 0; i < len(b.X); i += 3 {
		if b.X[i] != b.X[i+1] || b.X[i] != b.X[i+2] {
			t.Fatalf("pixel %d: %v not gray", i/3, b.X[i:i+3])
		}
	}
}

func BenchmarkJPEGDecodeResize(b *testing.B) {
	root := testutil.RealData(b, "imagenet/sample_images")
	data, err := os.ReadFile(filepath.Join(root, "images", "n01440764_tench.JPEG"))
	if err != nil {
		b.Fatal(err)
	}
	p := Preprocess{Color: RGB, CentralFraction: 0.875, Height: 224, Width: 224, Mean: []float32{127.5}, Std: []float32{127.5}}
	var ex example
	dst := make([]float32, 224*224*3)
	var work []float32
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if err := decodeImage(data, &ex); err != nil {
			b.Fatal(err)
		}
		work = p.apply(dst, work, &ex)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "images/s")
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
