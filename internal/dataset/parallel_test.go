package dataset

import (
	"errors"
	"image"
	"io"
	"math"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"qcal/internal/testutil"
)

// batches reads every batch of path with the given number of decoding
// workers (1: the sequential Next) and returns them, or the error that
// ended the read.
type readBatch struct {
	x      []float32
	labels []int
	ids    []string
	shape  []int
}

func readWith(t *testing.T, workers int, path string, opt Options) ([]readBatch, error) {
	t.Helper()
	defer func(w int) { decodeWorkers = w }(decodeWorkers)
	decodeWorkers = workers
	s, err := Open(path, opt)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	return drain(s)
}

// drain reads s to its end (or its first error), copying every batch.
func drain(s *Stream) ([]readBatch, error) {
	var out []readBatch
	var b Batch
	for {
		_, err := s.Next(&b)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, readBatch{slices.Clone(b.X), slices.Clone(b.Labels), slices.Clone(b.IDs), slices.Clone(b.Shape)})
	}
}

// sameBatches compares two reads value for value (the bits of every float).
func sameBatches(t *testing.T, what string, a, b []readBatch) {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("%s: %d batches against %d", what, len(a), len(b))
	}
	for i := range a {
		if !slices.Equal(a[i].labels, b[i].labels) || !slices.Equal(a[i].ids, b[i].ids) || !slices.Equal(a[i].shape, b[i].shape) || len(a[i].x) != len(b[i].x) {
			t.Fatalf("%s: batch %d differs: %v %v %v against %v %v %v", what, i, a[i].shape, a[i].labels, a[i].ids, b[i].shape, b[i].labels, b[i].ids)
		}
		for j := range a[i].x {
			if math.Float32bits(a[i].x[j]) != math.Float32bits(b[i].x[j]) {
				t.Fatalf("%s: batch %d value %d: %v against %v", what, i, j, a[i].x[j], b[i].x[j])
			}
		}
	}
}

// TestParallelDecodeSame: decoding on 4 workers gives exactly the batches
// of the sequential read, on the real ImageNet photographs (sizes 56 px to
// 2400×1600, grayscale among them) with a short last batch, a limit and a
// shard, and on a seeded sample; and on the real TFRecord shards.
func TestParallelDecodeSame(t *testing.T) {
	root := testutil.RealData(t, "imagenet/sample_images")
	pre := Preprocess{Color: RGB, CentralFraction: 0.875, Height: 64, Width: 64, Mean: []float32{127.5}, Std: []float32{127.5}}
	images := filepath.Join(root, "images")
	labels := filepath.Join(root, "labels.csv")
	for _, opt := range []Options{
		{BatchSize: 7, Limit: 60, Labels: labels, LabelColumn: "class_index", Preprocess: pre},
		{BatchSize: 3, Limit: 90, Shard: 2, Shards: 5, Labels: labels, LabelColumn: "class_index", Preprocess: pre},
		{BatchSize: 1, Sample: 9, Seed: 4, Preprocess: pre},
	} {
		seq, err := readWith(t, 1, images, opt)
		if err != nil {
			t.Fatal(err)
		}
		par, err := readWith(t, 4, images, opt)
		if err != nil {
			t.Fatal(err)
		}
		sameBatches(t, "images", seq, par)
	}
	fruits := filepath.Join(testutil.RealData(t, "tfrecord/fruits"), "*-of-*")
	opt := Options{BatchSize: 16, Limit: 100, Preprocess: Preprocess{Height: 32, Width: 32}}
	seq, err := readWith(t, 1, fruits, opt)
	if err != nil {
		t.Fatal(err)
	}
	par, err := readWith(t, 3, fruits, opt)
	if err != nil {
		t.Fatal(err)
	}
	if len(seq) != 7 {
		t.Fatalf("%d batches of TFRecord examples, want 7 (100 in 16s)", len(seq))
	}
	sameBatches(t, "tfrecord", seq, par)
}

// TestParallelDecodeErrors: a bad image stops a parallel read at the same
// example, with the same error, as a sequential one, after the same
// batches; a label out of range and a size that does not fit likewise.
func TestParallelDecodeErrors(t *testing.T) {
	dir := t.TempDir()
	good := pngBytes(t, image.NewGray(image.Rect(0, 0, 2, 2)))
	big := pngBytes(t, image.NewGray(image.Rect(0, 0, 3, 2)))
	for _, name := range []string{"a.png", "b.png", "c.png", "d.png", "e.png"} {
		writeFile(t, dir, name, good)
	}
	writeFile(t, dir, "f.png", good[:len(good)-20]) // cut inside the data: record 5
	writeFile(t, dir, "g.png", good)
	for _, c := range []struct {
		opt  Options
		want string
	}{
		{Options{BatchSize: 2}, "f.png: record 5: "},
		{Options{BatchSize: 4, Shard: 1, Shards: 2}, "f.png: record 5: "},
	} {
		seqB, seqErr := readWith(t, 1, dir, c.opt)
		parB, parErr := readWith(t, 4, dir, c.opt)
		if seqErr == nil || parErr == nil || seqErr.Error() != parErr.Error() || !strings.Contains(parErr.Error(), c.want) {
			t.Errorf("%+v: errors %v and %v, want both %q", c.opt, seqErr, parErr, c.want)
		}
		sameBatches(t, "before the error", seqB, parB)
	}
	// A size that differs from the first example's: the same error.
	dir2 := t.TempDir()
	writeFile(t, dir2, "a.png", good)
	writeFile(t, dir2, "b.png", big)
	_, seqErr := readWith(t, 1, dir2, Options{BatchSize: 2})
	_, parErr := readWith(t, 4, dir2, Options{BatchSize: 2})
	if seqErr == nil || parErr == nil || seqErr.Error() != parErr.Error() || !strings.Contains(parErr.Error(), "b.png: record 1: example is 2×3×1") {
		t.Errorf("size: errors %v and %v", seqErr, parErr)
	}
}

// TestParallelDecodeClose: closing a stream midway stops its goroutines.
func TestParallelDecodeClose(t *testing.T) {
	root := testutil.RealData(t, "imagenet/sample_images")
	before := runtime.NumGoroutine()
	defer func(w int) { decodeWorkers = w }(decodeWorkers)
	decodeWorkers = 3
	for range 3 {
		s, err := Open(filepath.Join(root, "images"), Options{BatchSize: 2, Preprocess: Preprocess{Height: 16, Width: 16}})
		if err != nil {
			t.Fatal(err)
		}
		var b Batch
		if _, err := s.Next(&b); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Next(&b); err != io.EOF {
			t.Errorf("Next after Close: %v, want io.EOF", err)
		}
	}
	// The goroutines have ended when Close returns; allow the runtime a
	// moment to retire them.
	for i := 0; i < 100 && runtime.NumGoroutine() > before; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines after Close, %d before", n, before)
	}
}

// BenchmarkImageStream reads 64 of the ImageNet photographs through
// central crop and resize to 128×128, sequentially and on one decoding
// worker per core.
func BenchmarkImageStream(b *testing.B) {
	root := testutil.RealData(b, "imagenet/sample_images")
	for _, workers := range []int{1, runtime.GOMAXPROCS(0)} {
		b.Run("workers="+string(rune('0'+workers)), func(b *testing.B) {
			defer func(w int) { decodeWorkers = w }(decodeWorkers)
			decodeWorkers = workers
			opt := Options{BatchSize: 8, Limit: 64, Preprocess: Preprocess{Color: RGB, CentralFraction: 0.875, Height: 128, Width: 128}}
			b.ReportAllocs()
			var bytes int64
			for b.Loop() {
				s, err := Open(filepath.Join(root, "images"), opt)
				if err != nil {
					b.Fatal(err)
				}
				var batch Batch
				for {
					_, err := s.Next(&batch)
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					bytes += int64(4 * len(batch.X))
				}
				s.Close()
			}
			b.SetBytes(bytes / int64(b.N))
			b.ReportMetric(float64(64*b.N)/b.Elapsed().Seconds(), "images/s")
		})
	}
}

// TestRecording: a recorded data set replays the stream's batches exactly,
// as often as asked and from two streams at once; a budget below its size
// gives ErrTooLarge. Size: 20 photographs × 8×8×3 float32 values (15,360
// bytes) + 20 labels × 8 + the ids (their length + 16 each).
func TestRecording(t *testing.T) {
	root := testutil.RealData(t, "imagenet/sample_images")
	images := filepath.Join(root, "images")
	opt := Options{BatchSize: 6, Limit: 20, Labels: filepath.Join(root, "labels.csv"), LabelColumn: "class_index", Preprocess: Preprocess{Color: RGB, Height: 8, Width: 8}}
	want, err := readWith(t, 2, images, opt)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(images, opt)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := Record(s, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	size := int64(20*8*8*3*4 + 20*8)
	for _, b := range want {
		for _, id := range b.ids {
			size += int64(len(id) + 16)
		}
	}
	if rec.Size() != size {
		t.Errorf("Size %d, want %d", rec.Size(), size)
	}
	a, b := rec.Stream(), rec.Stream()
	for range 2 {
		for _, s := range []*Stream{a, b} {
			got, err := drain(s)
			if err != nil {
				t.Fatal(err)
			}
			sameBatches(t, "replay", want, got)
			s.Close()
		}
		a, b = rec.Stream(), rec.Stream()
	}
	s, err = Open(images, opt)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Record(s, size-1); !errors.Is(err, ErrTooLarge) {
		t.Errorf("budget %d: %v, want ErrTooLarge", size-1, err)
	}
}
