package exec

import (
	"encoding/csv"
	"image"
	_ "image/jpeg"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"qcal/internal/tensor"
	"qcal/internal/testutil"
	"qcal/internal/tfpb"
)

// loadPhoto decodes a JPEG, takes the central 87.5% square-ish crop and
// resizes it bilinearly to size×size RGB, scaled (x − 127.5)/127.5, as the
// MobileNet training scripts preprocess (imagenet/README.md). A minimal
// version for this test; internal/dataset holds the real preprocessing.
func loadPhoto(t *testing.T, path string, size int) *tensor.Tensor {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	b := img.Bounds()
	cw, ch := float64(b.Dx())*0.875, float64(b.Dy())*0.875
	x0, y0 := float64(b.Min.X)+(float64(b.Dx())-cw)/2, float64(b.Min.Y)+(float64(b.Dy())-ch)/2
	px := func(x, y int) [3]float64 {
		x = min(max(x, b.Min.X), b.Max.X-1)
		y = min(max(y, b.Min.Y), b.Max.Y-1)
		r, g, bl, _ := img.At(x, y).RGBA()
		return [3]float64{float64(r >> 8), float64(g >> 8), float64(bl >> 8)}
	}
	out := tensor.New(tfpb.DataType_DT_FLOAT, []int{1, size, size, 3})
	for oy := 0; oy < size; oy++ {
		sy := y0 + (float64(oy)+0.5)*ch/float64(size) - 0.5
		iy := int(sy)
		if sy < 0 {
			iy = -1
		}
		fy := sy - float64(iy)
		for ox := 0; ox < size; ox++ {
			sx := x0 + (float64(ox)+0.5)*cw/float64(size) - 0.5
			ix := int(sx)
			if sx < 0 {
				ix = -1
			}
			fx := sx - float64(ix)
			p00, p01, p10, p11 := px(ix, iy), px(ix+1, iy), px(ix, iy+1), px(ix+1, iy+1)
			for c := 0; c < 3; c++ {
				v := (p00[c]*(1-fx)+p01[c]*fx)*(1-fy) + (p10[c]*(1-fx)+p11[c]*fx)*fy
				out.F32[(oy*size+ox)*3+c] = float32((v - 127.5) / 127.5)
			}
		}
	}
	return out
}

// TestMobileNetPhotos classifies real photographs with Google's MobileNet
// v1 0.25/128. An independent numpy evaluator measured top-1 47.5% and
// top-5 70.2% on all 1000 (imagenet/README.md); on the first 100, with this
// test's simpler resize, top-5 must reach 50%: wrong convolution,
// depthwise, pooling or batch-norm arithmetic drops it to chance (0.5%).
func TestMobileNetPhotos(t *testing.T) {
	if testing.Short() {
		t.Skip("100 MobileNet runs; skipped in -short")
	}
	dir := testutil.RealData(t, "imagenet")
	g, err := Load(filepath.Join(dir, "mobilenet_v1_0.25_128_2017", "frozen_graph.pb"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(dir, "sample_images", "labels.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	const n = 100
	top1, top5 := 0, 0
	for _, row := range rows[1 : n+1] {
		want, err := strconv.Atoi(row[4]) // mobilenet_1001_index
		if err != nil {
			t.Fatal(err)
		}
		x := loadPhoto(t, filepath.Join(dir, "sample_images", "images", row[0]), 128)
		out, err := g.Run(map[string]*tensor.Tensor{"input": x}, []string{"MobilenetV1/Predictions/Reshape_1"})
		if err != nil {
			t.Fatal(err)
		}
		p := out[0].F32
		rank := 0 // classes scoring above the true one
		for _, v := range p {
			if v > p[want] {
				rank++
			}
		}
		if rank == 0 {
			top1++
		}
		if rank < 5 {
			top5++
		}
	}
	t.Logf("MobileNet on the first %d photographs: top-1 %d%%, top-5 %d%%", n, top1*100/n, top5*100/n)
	if top5 < n/2 {
		t.Errorf("top-5 %d of %d, want at least half", top5, n)
	}
}
