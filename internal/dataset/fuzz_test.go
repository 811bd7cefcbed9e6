package dataset

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func FuzzIDXHeader(f *testing.F) {
	f.Add(idxFile(0x08, []int{10000, 28, 28}, nil))
	f.Add(idxFile(0x08, []int{10000}, nil))
	f.Add(idxFile(0x0D, []int{3, 2, 2, 2}, nil))
	f.Add([]byte{0, 0, 8, 200, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ReadIDXHeader(bytes.NewReader(b))
		if err != nil {
			return
		}
		// A header that parses re-encodes to the same bytes.
		if got := idxFile(h.Type, h.Dims, nil); !bytes.Equal(got, b[:len(got)]) {
			t.Fatalf("header %+v re-encodes to % x, read from % x", h, got, b[:len(got)])
		}
	})
}

// npyDictText writes a header dict the way numpy does.
func npyDictText(h NPYHeader) string {
	dims := make([]string, len(h.Shape))
	for i, d := range h.Shape {
		dims[i] = fmt.Sprint(d)
	}
	shape := "(" + strings.Join(dims, ", ")
	if len(dims) == 1 {
		shape += ","
	}
	fo := "False"
	if h.FortranOrder {
		fo = "True"
	}
	return fmt.Sprintf("{'descr': '%s', 'fortran_order': %s, 'shape': %s), }", h.Descr, fo, shape)
}

func FuzzNPYHeader(f *testing.F) {
	f.Add(npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", nil))
	f.Add(npyFile("{'descr': '|u1', 'fortran_order': True, 'shape': (2L,), }", nil))
	f.Add(npyFile("{'shape': (), 'descr': '>i8', 'fortran_order': False}", nil))
	f.Add([]byte("\x93NUMPY\x02\x00\x05\x00\x00\x00{}  \n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ReadNPYHeader(bytes.NewReader(b))
		if err != nil {
			return
		}
		// Round trip through numpy's layout gives the same header.
		h2, err := ReadNPYHeader(bytes.NewReader(npyFile(npyDictText(h), nil)))
		if err != nil {
			t.Fatalf("%+v: rewritten header fails: %v", h, err)
		}
		if h2.Descr != h.Descr || h2.FortranOrder != h.FortranOrder || fmt.Sprint(h2.Shape) != fmt.Sprint(h.Shape) {
			t.Fatalf("round trip %+v → %+v", h, h2)
		}
	})
}

func FuzzTFRecord(f *testing.F) {
	worked, _ := hex.DecodeString(workedRecord)
	f.Add(worked)
	f.Add(append(frame([]byte("a")), frame(nil)...))
	f.Add(worked[:20])
	f.Fuzz(func(t *testing.T, b []byte) {
		r := NewTFRecordReader(bytes.NewReader(b), "fuzz")
		off := 0
		for r.Scan() {
			// Every record read re-frames to the bytes it came from.
			fr := frame(r.Record())
			if !bytes.Equal(fr, b[off:off+len(fr)]) {
				t.Fatalf("record %d re-frames differently", r.Index())
			}
			off += len(fr)
		}
		if err := r.Err(); err != nil {
			var e *Error
			if !errors.As(err, &e) || e.File != "fuzz" || e.Record < 0 {
				t.Fatalf("error %v names no file and record", err)
			}
		} else if off != len(b) {
			t.Fatalf("clean end at %d of %d bytes", off, len(b))
		}
	})
}

func FuzzExample(f *testing.F) {
	worked, _ := hex.DecodeString(workedRecord)
	f.Add(worked[12 : 12+42])
	f.Add(imageExample([]byte("\x89PNG"), 5))
	f.Add([]byte{0x0a, 0x02, 0x0a, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		img, label, err := exampleImage(b, "image/encoded", "image/class/label")
		if err == nil && label < -1 {
			t.Fatalf("label %d accepted", label)
		}
		if err == nil && img == nil {
			t.Fatalf("no image and no error")
		}
		exampleImage(b, "c", "a")
	})
}

// FuzzStream runs whole files through Open and Next: no panic, and every
// error names the file.
func FuzzStream(f *testing.F) {
	f.Add(idxFile(0x08, []int{2, 2, 2}, []byte{1, 2, 3, 4, 5, 6, 7, 8}))
	f.Add(npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), }", f32bytes(1, 2)))
	f.Add(frame(imageExample(pngBytes(f, image.NewGray(image.Rect(0, 0, 1, 1))), 1)))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(dir, "x")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, format := range []string{"idx", "npy", "tfrecord"} {
			err := readErr(p, Options{Format: format, BatchSize: 3, Preprocess: Preprocess{Height: 3, Width: 2}})
			if err != nil && !strings.Contains(err.Error(), p) {
				t.Fatalf("%s: error %q does not name the file", format, err)
			}
		}
	})
}
