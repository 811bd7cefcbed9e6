package mnistcnn

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// writeIDX writes an IDX images file of n 4×4 images and, unless labels
// is nil, its labels file beside it, and returns the images file.
func writeIDX(t *testing.T, typ byte, pixels []byte, n int, labels []byte) string {
	t.Helper()
	dir := t.TempDir()
	img := filepath.Join(dir, "x-images-idx3-ubyte")
	hdr := []byte{0, 0, typ, 3, 0, 0, 0, byte(n), 0, 0, 0, 4, 0, 0, 0, 4}
	if err := os.WriteFile(img, append(hdr, pixels...), 0o644); err != nil {
		t.Fatal(err)
	}
	if labels != nil {
		lab := []byte{0, 0, 0x08, 1, 0, 0, 0, byte(len(labels))}
		if err := os.WriteFile(filepath.Join(dir, "x-labels-idx1-ubyte"), append(lab, labels...), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return img
}

func TestLoad(t *testing.T) {
	pixels := make([]byte, 32)
	for i := range pixels {
		pixels[i] = byte(i * 8) // 0, 8, ..., 248: every byte kept as it is
	}
	d, err := Load(writeIDX(t, 0x08, pixels, 2, []byte{3, 9}), 10)
	if err != nil {
		t.Fatal(err)
	}
	if d.Height != 4 || d.Width != 4 || d.Len() != 2 || !slices.Equal(d.Images, pixels) || !slices.Equal(d.Labels, []uint8{3, 9}) {
		t.Errorf("loaded %dx%d, %d examples, images %v, labels %v; want 4x4, 2, the bytes written, [3 9]", d.Height, d.Width, d.Len(), d.Images, d.Labels)
	}
	// batch scales as package dataset does: 248 · float32(1/255).
	x := make([]float32, 16)
	lab := make([]uint8, 1)
	d.batch([]int{1}, x, lab)
	if want := float32(248) * float32(1.0/255); x[15] != want || lab[0] != 9 {
		t.Errorf("batch: last pixel %v label %d, want %v and 9", x[15], lab[0], want)
	}
}

func TestLoadErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		path    func(t *testing.T) string
		classes int
		want    string
	}{
		{"no labels", func(t *testing.T) string { return writeIDX(t, 0x08, make([]byte, 16), 1, nil) }, 10,
			"example x-images-idx3-ubyte:0 has no label"},
		{"label range", func(t *testing.T) string { return writeIDX(t, 0x08, make([]byte, 16), 1, []byte{12}) }, 10, "x-images-idx3-ubyte: record 0: label out of range: 12 not in [0, 10)"},
		{"classes", func(t *testing.T) string { return "unused" }, 300, "300 classes: want 2 to 256"},
		// float32 IDX (type 0x0D) holding 0.5: not a byte image.
		{"float", func(t *testing.T) string {
			return writeIDX(t, 0x0D, slices.Repeat([]byte{0x3f, 0, 0, 0}, 16), 1, []byte{1})
		}, 10, "example x-images-idx3-ubyte:0: value 0.5 is not a byte"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(tc.path(t), tc.classes)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}
