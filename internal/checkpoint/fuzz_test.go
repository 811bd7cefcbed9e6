package checkpoint

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzBundle feeds arbitrary .index and .data bytes to Open and Tensor: they
// must return errors, never panic or allocate past the data they were given.
func FuzzBundle(f *testing.F) {
	ts, _ := allDTypes(false)
	dir := f.TempDir()
	for i, o := range []tableOptions{tfTableOptions, {blockSize: 40, restartInterval: 2, snappy: true}} {
		prefix := writeBundle(f, filepath.Join(dir, "seed"+string(rune('0'+i))), ts, false, o)
		index, _ := os.ReadFile(prefix + ".index")
		data, _ := os.ReadFile(prefix + ".data-00000-of-00001")
		f.Add(index, data)
	}
	f.Add([]byte("not a table"), []byte{})
	f.Fuzz(func(t *testing.T, index, data []byte) {
		r, err := parseIndex(index, filepath.Join(t.TempDir(), "m"))
		if err != nil {
			return
		}
		if err := os.WriteFile(r.dataPath(0), data, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, name := range r.Names() {
			r.Tensor(name)
		}
		r.Close()
	})
}

// FuzzSnappy: arbitrary blocks never panic, and a literal encoding decodes
// back to its input.
func FuzzSnappy(f *testing.F) {
	f.Add([]byte("\x09\x08abc\x09\x03"))
	f.Add([]byte("\xff\xff\xff\xff\x0f"))
	f.Fuzz(func(t *testing.T, b []byte) {
		snappyDecode(b)
		got, err := snappyDecode(snappyLiteral(b))
		if err != nil || string(got) != string(b) {
			t.Fatalf("literal round trip of %x: %x, %v", b, got, err)
		}
	})
}

// FuzzStrings: arbitrary string-tensor bytes never panic.
func FuzzStrings(f *testing.F) {
	b, crc := encodeStrings([][]byte{[]byte("hi"), nil, []byte("abc")})
	f.Add(b, int64(3), mask(crc))
	f.Fuzz(func(t *testing.T, b []byte, n int64, crc uint32) {
		if n < 0 {
			return
		}
		decodeStrings(b, n, crc)
	})
}
