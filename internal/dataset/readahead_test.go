package dataset

import (
	"fmt"
	"image"
	"io"
	"path/filepath"
	"slices"
	"strings"
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

// TestTFRecordReadAhead checks the TFRecord reader's read-ahead as
// TestImageReadAhead does the folder's: two synthetic shards through one
// glob, the first with a record whose image is not an image (record 5),
// the second ending in a cut frame (a scan error after its 6 records), and
// the real fruits shards, under limits, shards, samples and batch sizes.
func TestTFRecordReadAhead(t *testing.T) {
	dir := t.TempDir()
	shard := func(name string, n, bad int, cut bool) {
		var data []byte
		for i := range n {
			img := image.NewGray(image.Rect(0, 0, 2+i%3, 3+i%2))
			for p := range img.Pix {
				img.Pix[p] = uint8(31*i + 7*p)
			}
			b := pngBytes(t, img)
			if i == bad {
				b = []byte("GIF89a")
			}
			data = append(data, frame(imageExample(b, int64(i%4)))...)
		}
		if cut {
			f := frame(imageExample(pngBytes(t, image.NewGray(image.Rect(0, 0, 2, 2))), 1))
			data = append(data, f[:len(f)-7]...)
		}
		writeFile(t, dir, name, data)
	}
	shard("a-00000-of-00002", 9, 5, false)
	shard("a-00001-of-00002", 6, -1, true)
	pre := Preprocess{Height: 4, Width: 3}
	compare := func(t *testing.T, path string) {
		for _, opt := range []Options{
			{}, {BatchSize: 4}, {Limit: 5}, {Limit: 12, BatchSize: 3}, {Shard: 1, Shards: 3}, {Shard: 2, Shards: 5, Limit: 14},
			{Sample: 5, Seed: 2}, {Sample: 9, Seed: 4, BatchSize: 2}, {Shard: 0, Shards: 2, BatchSize: 7},
		} {
			opt.Preprocess = pre
			name := fmt.Sprintf("%s %+v", filepath.Base(path), opt)
			read := func(ahead bool) ([]float32, []string, []int, string) {
				s, err := Open(path, opt)
				if err != nil {
					// A sample counts the records first: the cut frame stops it here.
					return nil, nil, nil, "open: " + err.Error()
				}
				defer s.Close()
				tr := s.r.(*tfrecordReader)
				if tr.want == nil {
					t.Fatalf("%s: the stream did not give the TFRecord reader its wanted records", name)
				}
				if !ahead {
					tr.want = nil
				}
				return drain(s)
			}
			x0, ids0, l0, err0 := read(false)
			x1, ids1, l1, err1 := read(true)
			if !slices.Equal(x0, x1) || !slices.Equal(ids0, ids1) || !slices.Equal(l0, l1) || err0 != err1 {
				t.Errorf("%s: read ahead: %d ids, error %q; one at a time: %d ids, error %q", name, len(ids1), err1, len(ids0), err0)
			}
			if len(ids0) == 0 && err0 == "" {
				t.Errorf("%s: nothing read", name)
			}
		}
	}
	compare(t, filepath.Join(dir, "a-*"))
	t.Run("fruits", func(t *testing.T) {
		compare(t, filepath.Join(testutil.RealData(t, "tfrecord/fruits"), "*-of-*"))
	})
	// Worked by hand: the full read stops at record 5 of the first shard
	// (not an image) after records 0–4; shard 1/3 passes over it (records
	// 1, 4, 7, …) and stops at the cut frame after the second shard's 6
	// records: 1 4 7 of the first, then records 10 and 13 (its 1 and 4).
	s, err := Open(filepath.Join(dir, "a-*"), Options{Preprocess: pre})
	if err != nil {
		t.Fatal(err)
	}
	_, ids, _, stop := drain(s)
	s.Close()
	if len(ids) != 5 || !strings.Contains(stop, "a-00000-of-00002: record 5: not a JPEG or PNG image") {
		t.Errorf("full read: ids %v, stop %q", ids, stop)
	}
	s, err = Open(filepath.Join(dir, "a-*"), Options{Shard: 1, Shards: 3, Preprocess: pre})
	if err != nil {
		t.Fatal(err)
	}
	_, ids, _, stop = drain(s)
	s.Close()
	if strings.Join(ids, " ") != "a-00000-of-00002:1 a-00000-of-00002:4 a-00000-of-00002:7 a-00001-of-00002:1 a-00001-of-00002:4" ||
		!strings.Contains(stop, "a-00001-of-00002") {
		t.Errorf("shard 1/3: ids %v, stop %q", ids, stop)
	}
}
