package dataset

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"strings"
	"testing"
)

// npyFile builds a version 1.0 .npy file by hand: magic, version, uint16 LE
// header length, the dict padded with spaces and ended by "\n" so the data
// starts at a multiple of 64 (numpy's format.py layout), then data.
func npyFile(dict string, data []byte) []byte {
	pad := 64 - (10+len(dict)+1)%64
	if pad == 64 {
		pad = 0
	}
	hdr := dict + strings.Repeat(" ", pad) + "\n"
	b := []byte("\x93NUMPY\x01\x00")
	b = binary.LittleEndian.AppendUint16(b, uint16(len(hdr)))
	b = append(b, hdr...)
	return append(b, data...)
}

func f32bytes(v ...float32) []byte {
	var b []byte
	for _, f := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(f))
	}
	return b
}

func TestNPYHeaderLayout(t *testing.T) {
	f := npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", nil)
	// numpy's rule: 6+2+2+HEADER_LEN is a multiple of 64; this dict is 59
	// bytes, 10+59+"\n" = 70 pads to 128: HEADER_LEN = 118, data at 128
	// (the layout TF-FILES.md §11 reports for numpy 1.24).
	if len(f) != 128 || binary.LittleEndian.Uint16(f[8:]) != 118 {
		t.Fatalf("hand-built header: %d bytes, HEADER_LEN %d", len(f), binary.LittleEndian.Uint16(f[8:]))
	}
	h, err := ReadNPYHeader(bytes.NewReader(f))
	if err != nil {
		t.Fatal(err)
	}
	if h.Descr != "<f4" || h.FortranOrder || len(h.Shape) != 2 || h.Shape[0] != 2 || h.Shape[1] != 3 || h.Kind != 'f' || h.Size != 4 {
		t.Errorf("header %+v", h)
	}
}

func TestNPYFloat32(t *testing.T) {
	dir := t.TempDir()
	// Shape (2, 2, 3): two examples of 2×3, one channel.
	vals := []float32{0, 1.5, -2, 3.25, 4, 5, 6, 7, 8, 9, 10, -0.125}
	p := writeFile(t, dir, "x.npy", npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2, 3), }", f32bytes(vals...)))
	lab := writeFile(t, dir, "y.npy", npyFile("{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }", []byte{4, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0}))
	s, err := Open(p, Options{BatchSize: 2, Labels: lab})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var b Batch
	if _, err := s.Next(&b); err != nil {
		t.Fatal(err)
	}
	if FormatShape(b.Shape) != "[2,2,3,1]" || len(b.X) != 12 || b.X[1] != 1.5 || b.X[11] != -0.125 {
		t.Errorf("batch shape %v x %v", b.Shape, b.X)
	}
	if b.Labels[0] != 4 || b.Labels[1] != 1 || b.IDs[1] != "x.npy:1" {
		t.Errorf("labels %v ids %v, want [4 1] [x.npy:0 x.npy:1]", b.Labels, b.IDs)
	}
}

func TestNPYUint8AndVersions(t *testing.T) {
	dir := t.TempDir()
	// uint8 (2, 4) → two examples of 1×1×4; Python 2's "2L" dims (numpy's
	// win64python2.npy writes them).
	p := writeFile(t, dir, "u.npy", npyFile("{'descr': '|u1', 'fortran_order': False, 'shape': (2L, 4L), }", []byte{0, 1, 2, 255, 9, 8, 7, 6}))
	x, _, _, _ := readAll(t, p, Options{BatchSize: 2, Preprocess: Preprocess{Shape: []int{-1, 4}}})
	if len(x) != 8 || x[3] != 255 || x[4] != 9 {
		t.Errorf("uint8 values %v", x)
	}
	// Version 2.0: a uint32 header length.
	dict := "{'shape': (1, 1), 'fortran_order': False, 'descr': '>f4'}"
	v2 := []byte("\x93NUMPY\x02\x00")
	v2 = binary.LittleEndian.AppendUint32(v2, uint32(len(dict)+1))
	v2 = append(append(v2, dict...), '\n')
	v2 = binary.BigEndian.AppendUint32(v2, math.Float32bits(2.5))
	x, _, _, _ = readAll(t, writeFile(t, dir, "v2.npy", v2), Options{})
	if len(x) != 1 || x[0] != 2.5 {
		t.Errorf("v2 big-endian value %v, want [2.5]", x)
	}
}

func TestNPYErrors(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"magic", []byte("\x93NUMPX\x01\x00\x00\x00"), `magic.npy: not an NPY file: magic "\x93NUMPX", want "\x93NUMPY"`},
		{"version", []byte("\x93NUMPY\x04\x00\x00\x00"), "version.npy: npy version 4.0 not supported (want 1, 2 or 3)"},
		{"short-header", []byte("\x93NUMPY\x01\x00\x40\x00{'descr'"), "short-header.npy: npy header (64 bytes): unexpected end of file"},
		{"fortran", npyFile("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", nil),
			"fortran.npy: fortran_order arrays cannot be streamed by example; save the array in C order"},
		{"object", npyFile("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", nil),
			`object.npy: npy header "{'descr': '|O', 'fortran_order': False, 'shape': (2,), }": descr "|O" not supported (want e.g. '<f4', '|u1')`},
		{"missing", npyFile("{'descr': '<f4', 'shape': (2,), }", nil), `missing key "fortran_order"`},
		{"unknown-key", npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}", nil), `unknown key "x"`},
		{"bad-shape", npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (2, -3), }", nil), "shape: want a dimension at offset"},
		{"scalar", npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (), }", f32bytes(1)), "a scalar array has no examples; want shape (N, ...)"},
		{"truncated", npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }", f32bytes(1, 2, 3, 4, 5)),
			"truncated.npy: record 2: unexpected end of file (the header says 3 examples)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := readErr(writeFile(t, dir, c.name+".npy", c.data), Options{Format: "npy"})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
		})
	}
	// A label file of floats, and a negative label.
	x := writeFile(t, dir, "x.npy", npyFile("{'descr': '|u1', 'fortran_order': False, 'shape': (2, 1), }", []byte{1, 2}))
	fl := writeFile(t, dir, "fl.npy", npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", f32bytes(1, 2)))
	if err := readErr(x, Options{Labels: fl}); err == nil || !strings.HasSuffix(err.Error(), "fl.npy: labels array holds <f4 floats, want integers") {
		t.Errorf("float labels: %v", err)
	}
	neg := writeFile(t, dir, "neg.npy", npyFile("{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", []byte{1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff}))
	if err := readErr(x, Options{Labels: neg}); err == nil || !errors.Is(err, ErrLabel) || !strings.HasSuffix(err.Error(), "neg.npy: record 1: label out of range: label -1") {
		t.Errorf("negative label: %v", err)
	}
}
