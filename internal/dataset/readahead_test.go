package dataset

import (
	"fmt"
	"image"
	"io"
	"slices"
	"testing"
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
