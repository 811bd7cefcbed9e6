package dataset

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"qcal/internal/testutil"
)

// readAll streams the data set at path and returns every batch's copy.
func readAll(t *testing.T, path string, opt Options) (x []float32, labels []int, ids []string, batches int) {
	t.Helper()
	s, err := Open(path, opt)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var b Batch
	for {
		n, err := s.Next(&b)
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if n != b.Shape[0] || len(b.Labels) != n || len(b.IDs) != n || len(b.X) != n*prod(b.Shape[1:]) {
			t.Fatalf("batch of %d: shape %v, %d labels, %d ids, %d values", n, b.Shape, len(b.Labels), len(b.IDs), len(b.X))
		}
		x = append(x, b.X...)
		labels = append(labels, b.Labels...)
		ids = append(ids, b.IDs...)
		batches++
	}
}

func TestMNISTFirstTestImage(t *testing.T) {
	dir := testutil.MNIST(t)
	s, err := Open(filepath.Join(dir, "t10k-images-idx3-ubyte.gz"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var b Batch
	n, err := s.Next(&b)
	if err != nil || n != 1 {
		t.Fatalf("Next = %d, %v", n, err)
	}
	// Values from an independent Python read of the same file (gzip +
	// slicing): t10k label 0 is 7; image 0 sums to 18454 over 116 nonzero
	// pixels; row 7 starts at column 6 with 84, 185; (8,7) is 254.
	if FormatShape(b.Shape) != "[1,28,28,1]" || b.Labels[0] != 7 || b.IDs[0] != "t10k-images-idx3-ubyte.gz:0" {
		t.Errorf("shape %v label %d id %q, want [1,28,28,1] 7 t10k-images-idx3-ubyte.gz:0", b.Shape, b.Labels[0], b.IDs[0])
	}
	var sum float32
	nonzero := 0
	for _, v := range b.X {
		sum += v
		if v != 0 {
			nonzero++
		}
	}
	if sum != 18454 || nonzero != 116 {
		t.Errorf("pixel sum %g over %d nonzero, want 18454 over 116", sum, nonzero)
	}
	for _, c := range []struct {
		y, x int
		v    float32
	}{{7, 6, 84}, {7, 7, 185}, {8, 7, 254}, {0, 0, 0}, {12, 19, 255}} {
		if got := b.X[c.y*28+c.x]; got != c.v {
			t.Errorf("pixel (%d,%d) = %g, want %g", c.y, c.x, got, c.v)
		}
	}
}

func TestMNISTWholeTestSet(t *testing.T) {
	dir := testutil.MNIST(t)
	x, labels, ids, batches := readAll(t, filepath.Join(dir, "t10k-images-idx3-ubyte.gz"),
		Options{BatchSize: 1000, Preprocess: Preprocess{Scale: 1.0 / 255, Shape: []int{-1, 784}}})
	if len(labels) != 10000 || batches != 10 || len(x) != 10000*784 {
		t.Fatalf("%d examples in %d batches, %d values; want 10000 in 10, 7840000", len(labels), batches, len(x))
	}
	// Class counts from an independent Python count of t10k-labels.
	want := [10]int{980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009}
	var got [10]int
	for _, l := range labels {
		got[l]++
	}
	if got != want {
		t.Errorf("class counts %v, want %v", got, want)
	}
	if ids[9999] != "t10k-images-idx3-ubyte.gz:9999" || labels[9997] != 4 || labels[9998] != 5 || labels[9999] != 6 {
		t.Errorf("last ids/labels %q %v, want ...:9999 [4 5 6]", ids[9999], labels[9997:])
	}
	// The last image sums to 41833 (Python); scaled by float32(1/255) per
	// pixel the float64 sum is within 1e-3 of 41833/255.
	var sum float64
	for _, v := range x[9999*784:] {
		sum += float64(v)
	}
	if math.Abs(sum-41833.0/255) > 1e-3 {
		t.Errorf("last image sums to %g, want %g", sum, 41833.0/255)
	}
}

func TestMNISTLimitShard(t *testing.T) {
	dir := testutil.MNIST(t)
	// Limit 10 then shard 1/3 keeps indices 1, 4, 7; t10k labels 0–9 are
	// 7 2 1 0 4 1 4 9 5 9 (Python), so 2, 4, 9.
	_, labels, ids, _ := readAll(t, filepath.Join(dir, "t10k-images-idx3-ubyte.gz"),
		Options{BatchSize: 2, Limit: 10, Shard: 1, Shards: 3, Preprocess: Preprocess{Shape: []int{-1, 28, 28}}})
	if strings.Join(ids, " ") != "t10k-images-idx3-ubyte.gz:1 t10k-images-idx3-ubyte.gz:4 t10k-images-idx3-ubyte.gz:7" {
		t.Errorf("ids %v", ids)
	}
	if len(labels) != 3 || labels[0] != 2 || labels[1] != 4 || labels[2] != 9 {
		t.Errorf("labels %v, want [2 4 9]", labels)
	}
	// The train set's first labels are 5 0 4 (TF-FILES.md §10).
	_, labels, _, _ = readAll(t, filepath.Join(dir, "train-images-idx3-ubyte.gz"), Options{Limit: 3})
	if len(labels) != 3 || labels[0] != 5 || labels[1] != 0 || labels[2] != 4 {
		t.Errorf("train labels %v, want [5 0 4]", labels)
	}
}

func TestFashionMNIST(t *testing.T) {
	dir := testutil.FashionMNIST(t)
	x, labels, _, _ := readAll(t, filepath.Join(dir, "t10k-images-idx3-ubyte.gz"), Options{Limit: 3, BatchSize: 3})
	// First t10k labels 9 2 1 (TF-FILES.md §10); image 0 sums to 33456 (Python).
	if len(labels) != 3 || labels[0] != 9 || labels[1] != 2 || labels[2] != 1 {
		t.Errorf("labels %v, want [9 2 1]", labels)
	}
	var sum float32
	for _, v := range x[:784] {
		sum += v
	}
	if sum != 33456 {
		t.Errorf("image 0 sums to %g, want 33456", sum)
	}
}

// idxFile builds an IDX file: type byte, dims, then data bytes.
func idxFile(typ byte, dims []int, data []byte) []byte {
	b := []byte{0, 0, typ, byte(len(dims))}
	for _, d := range dims {
		b = binary.BigEndian.AppendUint32(b, uint32(d))
	}
	return append(b, data...)
}

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func gzipped(data []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(data)
	zw.Close()
	return buf.Bytes()
}

func TestIDXSmall(t *testing.T) {
	dir := t.TempDir()
	// 3 images of 2×2 uint8, labels 0 1 2, gzipped images, plain labels.
	img := writeFile(t, dir, "x-images-idx3-ubyte.gz", gzipped(idxFile(0x08, []int{3, 2, 2}, []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})))
	writeFile(t, dir, "x-labels-idx1-ubyte.gz", idxFile(0x08, []int{3}, []byte{0, 1, 2}))
	x, labels, _, batches := readAll(t, img, Options{BatchSize: 2})
	if batches != 2 || len(labels) != 3 || labels[2] != 2 || len(x) != 12 || x[0] != 1 || x[11] != 12 {
		t.Errorf("%d batches, labels %v, x %v", batches, labels, x)
	}
	// float32 big-endian (type 0x0D): [[1.5], [-2]] as 2 examples of 1×1.
	f := idxFile(0x0D, []int{2, 1}, nil)
	f = binary.BigEndian.AppendUint32(f, math.Float32bits(1.5))
	f = binary.BigEndian.AppendUint32(f, math.Float32bits(-2))
	x, labels, _, _ = readAll(t, writeFile(t, dir, "f.idx", f), Options{})
	if len(x) != 2 || x[0] != 1.5 || x[1] != -2 || labels[0] != -1 {
		t.Errorf("float idx: x %v labels %v, want [1.5 -2] [-1 -1]", x, labels)
	}
}

func TestIDXErrors(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name   string
		data   []byte
		labels []byte
		opt    Options
		want   string
		is     error
	}{
		{"truncated", idxFile(0x08, []int{3, 2, 2}, make([]byte, 9)), nil, Options{BatchSize: 3},
			"truncated.idx: record 2: unexpected end of file (the header says 3 examples)", ErrTruncated},
		{"truncated-header", []byte{0, 0, 8, 3, 0, 0}, nil, Options{},
			"truncated-header.idx: idx header: dimension 0: unexpected end of file", ErrTruncated},
		{"bad-type", []byte{0, 0, 7, 1, 0, 0, 0, 1, 5}, nil, Options{Format: "idx"},
			"bad-type.idx: idx header: unknown type 0x07", nil},
		{"label-range", idxFile(0x08, []int{2, 1, 1}, []byte{1, 2}), idxFile(0x08, []int{2}, []byte{3, 12}), Options{Classes: 10},
			"label-range.idx: record 1: label out of range: 12 not in [0, 10)", ErrLabel},
		{"label-count", idxFile(0x08, []int{2, 1, 1}, []byte{1, 2}), idxFile(0x08, []int{3}, []byte{3, 1, 2}), Options{},
			"label-count.labels: 3 labels for 2 examples", nil},
		{"huge", idxFile(0x08, []int{1, 40000, 40000}, nil), nil, Options{},
			"huge.idx: examples of shape [40000 40000] take 1600000000 bytes, over the 268435456 limit", nil},
		{"shape", idxFile(0x08, []int{1, 2, 2}, []byte{1, 2, 3, 4}), nil, Options{Preprocess: Preprocess{Shape: []int{-1, 3}}},
			"shape.idx: record 0: example is 2×2×1 after preprocessing, which does not fit the input shape [-1,3]", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := writeFile(t, dir, c.name+".idx", c.data)
			if c.labels != nil {
				c.opt.Labels = writeFile(t, dir, c.name+".labels", c.labels)
			}
			err := readErr(p, c.opt)
			if err == nil || !strings.HasSuffix(err.Error(), c.want) {
				t.Fatalf("error %v, want one ending %q", err, c.want)
			}
			if c.is != nil && !errors.Is(err, c.is) {
				t.Errorf("error %v is not %v", err, c.is)
			}
		})
	}
}

// readErr reads the whole data set and returns the first error.
func readErr(path string, opt Options) error {
	s, err := Open(path, opt)
	if err != nil {
		return err
	}
	defer s.Close()
	var b Batch
	for {
		_, err := s.Next(&b)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func TestBatchReusesBuffers(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "r.idx", idxFile(0x08, []int{4, 1, 2}, []byte{1, 2, 3, 4, 5, 6, 7, 8}))
	s, err := Open(p, Options{BatchSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var b Batch
	s.Next(&b)
	first := &b.X[0]
	s.Next(&b)
	if &b.X[0] != first || b.X[0] != 5 || b.X[3] != 8 {
		t.Errorf("second batch %v did not reuse the first's buffer", b.X)
	}
	if n, err := s.Next(&b); n != 0 || err != io.EOF {
		t.Errorf("after the end: %d, %v; want 0, EOF", n, err)
	}
}

func BenchmarkIDXBatches(b *testing.B) {
	dir := testutil.MNIST(b)
	path := filepath.Join(dir, "t10k-images-idx3-ubyte.gz")
	opt := Options{BatchSize: 100, Preprocess: Preprocess{Scale: 1.0 / 255, Shape: []int{-1, 28, 28, 1}}}
	b.SetBytes(100 * 784)
	b.ReportAllocs()
	var batch Batch
	var s *Stream
	batches := 0
	for b.Loop() {
		if s == nil {
			var err error
			if s, err = Open(path, opt); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := s.Next(&batch); err == io.EOF {
			s.Close()
			s = nil
		} else if err != nil {
			b.Fatal(err)
		}
		batches++
	}
	if s != nil {
		s.Close()
	}
	b.ReportMetric(float64(batches)/b.Elapsed().Seconds(), "batches/s")
}
