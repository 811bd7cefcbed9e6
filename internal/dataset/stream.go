package dataset

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Batch is a batch of preprocessed examples, plain Go slices.
type Batch struct {
	// X holds the examples one after another, each laid out row-major to
	// Shape[1:] (NHWC for images): len(X) = Shape[0] × prod(Shape[1:]).
	X []float32
	// Shape is [n, ...] where n is the number of examples in this batch
	// (the last batch may be short) and the rest is the graph input's shape.
	Shape []int
	// Labels holds one label per example, -1 when the data set has none.
	Labels []int
	// IDs holds one stable id per example: "file:record" for IDX, NPY and
	// TFRecord files (file without its folder, record counted from 0), or
	// the image's path under the folder.
	IDs []string
}

// Options say what to read and how to prepare it. The zero value reads
// every example, one at a time, as it is.
type Options struct {
	// Format is "idx", "npy", "images" or "tfrecord"; empty detects it from
	// the path (directory, glob, extension) and the file's first bytes.
	Format string
	// BatchSize is the number of examples per batch; 0 takes the input
	// shape's fixed first dimension, or 1.
	BatchSize int
	// Limit keeps only the first Limit examples of the data set (0: all).
	// It applies before sharding, so the shards of a limited set are a
	// partition of it.
	Limit int
	// Shard and Shards select every Shards-th example starting at Shard
	// (qcal's -shard K/N); Shards 0 means 1.
	Shard, Shards int
	// Labels names a labels file: an IDX (idx1) or NPY array for IDX and NPY
	// data, a CSV file (file name → label) for an image folder. Empty: IDX
	// images find their labels file by name ("images-idx3" → "labels-idx1")
	// when it exists; folders with subfolders label by subfolder.
	Labels string
	// LabelColumn names the CSV header of the label column; empty takes
	// "label", else "class_index", else the second column.
	LabelColumn string
	// Classes, when > 0, makes a label outside [0, Classes) an error.
	Classes int
	// ImageKey and LabelKey are the tf.Example features read from TFRecord
	// files; empty means "image/encoded" and "image/class/label" (the keys
	// TF's build_image_data.py and IntelAI's ImageNet and COCO scripts write).
	ImageKey, LabelKey string
	// Sample, when > 0, reads only Sample examples drawn uniformly without
	// replacement from the (limited) data set with the seed Seed, in data
	// set order: a calibration subset that is not just the first batches.
	// It costs one pass over the data set to count it (records are passed
	// over, not decoded). It cannot be combined with sharding.
	Sample int
	Seed   uint64
	Preprocess
}

// Stream reads a data set a batch at a time. It is not safe for concurrent use.
type Stream struct {
	r       reader
	opt     Options
	index   int // data set index of the next example
	ex      example
	work    []float32
	exShape []int // the per-example shape, fixed by the first example when no input shape is given
	done    bool
	pick    []bool    // with Options.Sample: the examples drawn
	pipe    *pipeline // decoding workers (parallel.go), started by the first Next
	started bool
	replay  []Batch // a Recording's batches still to give (record.go); r is nil then
}

// example is one decoded example, before preprocessing. Readers reuse its
// buffers.
type example struct {
	h, w, c int
	u8      []uint8   // the values when !float
	f32     []float32 // the values when float
	float   bool
	label   int
	id      string
	file    string // for errors
	rec     int
}

// reader is one data set format.
type reader interface {
	// next reads the next example into ex, or only passes over it when
	// decode is false (labels and ids need not be set then). It returns
	// io.EOF when no example is left.
	next(ex *example, decode bool) error
	close() error
}

// Open opens the data set at path: a file, a directory of images, or a glob
// of TFRecord shards ("validation-*").
func Open(path string, opt Options) (*Stream, error) {
	if opt.Shards == 0 {
		opt.Shards = 1
	}
	if opt.Shard < 0 || opt.Shard >= opt.Shards {
		return nil, fmt.Errorf("shard %d/%d: want 0 ≤ K < N", opt.Shard, opt.Shards)
	}
	if opt.Limit < 0 {
		return nil, fmt.Errorf("negative limit %d", opt.Limit)
	}
	if err := opt.Preprocess.check(); err != nil {
		return nil, err
	}
	if opt.BatchSize < 0 {
		return nil, fmt.Errorf("negative batch size %d", opt.BatchSize)
	}
	if len(opt.Shape) > 0 && opt.Shape[0] > 0 {
		if opt.BatchSize == 0 {
			opt.BatchSize = opt.Shape[0]
		} else if opt.BatchSize != opt.Shape[0] {
			return nil, fmt.Errorf("batch size %d differs from the input shape's first dimension %d", opt.BatchSize, opt.Shape[0])
		}
	}
	if opt.BatchSize == 0 {
		opt.BatchSize = 1
	}
	if opt.ImageKey == "" {
		opt.ImageKey = "image/encoded"
	}
	if opt.LabelKey == "" {
		opt.LabelKey = "image/class/label"
	}
	if opt.Sample < 0 {
		return nil, fmt.Errorf("negative sample size %d", opt.Sample)
	}
	if opt.Sample > 0 && opt.Shards > 1 {
		return nil, fmt.Errorf("a sample (%d examples) cannot be sharded (%d/%d)", opt.Sample, opt.Shard, opt.Shards)
	}
	files, format, err := detect(path, opt.Format)
	if err != nil {
		return nil, err
	}
	r, err := openReader(path, files, format, opt)
	if err != nil {
		return nil, err
	}
	s := &Stream{r: r, opt: opt}
	if opt.Sample > 0 {
		n, err := countExamples(r, opt.Limit)
		r.close()
		if err != nil {
			return nil, err
		}
		if s.r, err = openReader(path, files, format, opt); err != nil {
			return nil, err
		}
		s.pick = samplePick(n, opt.Sample, opt.Seed)
	}
	return s, nil
}

// countExamples passes over every example of r (up to limit, when > 0)
// without decoding it.
func countExamples(r reader, limit int) (int, error) {
	var ex example
	n := 0
	for limit == 0 || n < limit {
		err := r.next(&ex, false)
		if err == io.EOF {
			break
		}
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// samplePick draws k of n indices uniformly without replacement (all n when
// k ≥ n) with a PCG generator seeded by seed, and marks them.
func samplePick(n, k int, seed uint64) []bool {
	pick := make([]bool, n)
	if k >= n {
		for i := range pick {
			pick[i] = true
		}
		return pick
	}
	// Floyd's algorithm: k draws, each index equally likely.
	rng := rand.New(rand.NewPCG(seed, 0x71ca1))
	for j := n - k; j < n; j++ {
		t := rng.IntN(j + 1)
		if pick[t] {
			t = j
		}
		pick[t] = true
	}
	return pick
}

// openReader opens the reader of one data set format.
func openReader(path string, files []string, format string, opt Options) (reader, error) {
	var r reader
	var err error
	switch format {
	case "idx":
		r, err = openIDX(files[0], opt.Labels)
	case "npy":
		r, err = openNPY(files[0], opt.Labels)
	case "images":
		r, err = openImages(path, files, opt.Labels, opt.LabelColumn)
	case "tfrecord":
		r, err = openTFRecords(files, opt.ImageKey, opt.LabelKey)
	default:
		err = fmt.Errorf("%s: unknown data set format %q (want idx, npy, images or tfrecord)", path, format)
	}
	if err != nil {
		return nil, err
	}
	if len(files) > 1 && format != "tfrecord" && format != "images" {
		r.close()
		return nil, fmt.Errorf("%s: %d files match; only TFRecord shards can be read as one data set", path, len(files))
	}
	return r, nil
}

// detect finds the files and the format of the data set at path.
func detect(path, format string) (files []string, _ string, err error) {
	if strings.ContainsAny(path, "*?[") {
		files, err = filepath.Glob(path)
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", path, err)
		}
		if len(files) == 0 {
			return nil, "", fmt.Errorf("%s: no file matches", path)
		}
		sort.Strings(files)
	} else {
		fi, err := os.Stat(path)
		if err != nil {
			return nil, "", err
		}
		if fi.IsDir() {
			if format != "" && format != "images" {
				return nil, "", fmt.Errorf("%s: a directory holds images, not %s", path, format)
			}
			return nil, "images", nil
		}
		files = []string{path}
	}
	if format != "" {
		return files, format, nil
	}
	for i, f := range files {
		ff, err := sniff(f)
		if err != nil {
			return nil, "", err
		}
		if i == 0 {
			format = ff
		} else if ff != format {
			return nil, "", fmt.Errorf("%s: %s is %s, not %s like %s", path, filepath.Base(f), ff, format, filepath.Base(files[0]))
		}
	}
	return files, format, nil
}

// sniff tells the format of one file from its name and first bytes.
func sniff(file string) (string, error) {
	f, err := os.Open(file)
	if err != nil {
		return "", err
	}
	defer f.Close()
	var head [16]byte
	n, err := io.ReadFull(f, head[:])
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("%s: %w", file, err)
	}
	h := head[:n]
	lower := strings.ToLower(file)
	switch {
	case strings.HasPrefix(string(h), npyMagic):
		return "npy", nil
	case isImage(h):
		return "images", nil
	case len(h) >= 2 && h[0] == 0x1f && h[1] == 0x8b:
		return "idx", nil // a gzipped data file: the MNIST family ships gzipped
	case strings.HasSuffix(lower, ".tfrecord") || strings.HasSuffix(lower, ".tfrecords") || strings.Contains(lower, "-of-"):
		return "tfrecord", nil
	case len(h) >= 4 && h[0] == 0 && h[1] == 0 && idxTypeSize(h[2]) > 0 && h[3] > 0:
		return "idx", nil
	case len(h) >= 12 && validLengthCRC(h[:12]):
		return "tfrecord", nil
	}
	return "", fmt.Errorf("%s: unknown data set format (not IDX, NPY, JPEG, PNG or TFRecord); set the format", file)
}

// Next fills b with the next batch and returns the number of examples in
// it. At the end of the data set it returns 0, io.EOF. On an error it
// returns 0 and an error naming the file and record; b is then not valid.
// b's slices are reused from call to call: copy what must outlive the next
// call.
func (s *Stream) Next(b *Batch) (int, error) {
	b.X = b.X[:0]
	b.Labels = b.Labels[:0]
	b.IDs = b.IDs[:0]
	b.Shape = b.Shape[:0]
	if s.done {
		return 0, io.EOF
	}
	if s.r == nil {
		return s.nextReplay(b)
	}
	if !s.started {
		s.started = true
		if r, ok := s.r.(rawReader); ok && decodeWorkers > 1 {
			s.startPipeline(r)
		}
	}
	next := s.nextSequential
	if s.pipe != nil {
		next = s.nextParallel
	}
	n, err := next(b)
	if err != nil {
		return 0, err
	}
	if n == 0 {
		return 0, io.EOF
	}
	b.Shape = append(b.Shape, n)
	if len(s.opt.Shape) > 0 {
		b.Shape = append(b.Shape, s.opt.Shape[1:]...)
	} else {
		b.Shape = append(b.Shape, s.exShape...)
	}
	return n, nil
}

// nextSequential reads, decodes and preprocesses the examples of one batch
// in order on the calling goroutine.
func (s *Stream) nextSequential(b *Batch) (int, error) {
	n := 0
	for n < s.opt.BatchSize {
		take, more := s.wants(s.index)
		if !more {
			s.done = true
			break
		}
		err := s.r.next(&s.ex, take)
		if err == io.EOF {
			s.done = true
			break
		}
		if err != nil {
			s.done = true
			return 0, err
		}
		s.index++
		if !take {
			continue
		}
		if err := s.add(b); err != nil {
			s.done = true
			return 0, err
		}
		n++
	}
	return n, nil
}

// wants says whether the example at data set index is taken (the shard's,
// or drawn for the sample), and more is false once the (limited or
// sampled) data set has ended before it. The sequential read and the
// pipeline's reading goroutine both ask it.
func (s *Stream) wants(index int) (take, more bool) {
	if s.opt.Limit > 0 && index >= s.opt.Limit {
		return false, false
	}
	if s.pick != nil {
		if index >= len(s.pick) {
			return false, false
		}
		return s.pick[index], true
	}
	return index%s.opt.Shards == s.opt.Shard, true
}

// add preprocesses s.ex onto the end of b.
func (s *Stream) add(b *Batch) error {
	ex := &s.ex
	oh, ow, oc, err := s.opt.Preprocess.outSize(ex.h, ex.w, ex.c)
	if err := s.accept(ex, oh, ow, oc, err); err != nil {
		return err
	}
	size := oh * ow * oc
	start := len(b.X)
	b.X = grow(b.X, size)
	s.work = s.opt.Preprocess.apply(b.X[start:start+size], s.work, ex)
	b.Labels = append(b.Labels, ex.label)
	b.IDs = append(b.IDs, ex.id)
	return nil
}

// accept checks a decoded example before it joins a batch, in this order:
// its label against Classes, the error of working out its preprocessed
// size (sizeErr), and that size against the batch's (fits).
func (s *Stream) accept(ex *example, oh, ow, oc int, sizeErr error) error {
	if s.opt.Classes > 0 && ex.label != -1 && (ex.label < 0 || ex.label >= s.opt.Classes) {
		return &Error{File: ex.file, Record: ex.rec, Err: fmt.Errorf("%w: %d not in [0, %d)", ErrLabel, ex.label, s.opt.Classes)}
	}
	if sizeErr != nil {
		return &Error{File: ex.file, Record: ex.rec, Err: sizeErr}
	}
	if err := s.fits(oh, ow, oc); err != nil {
		return &Error{File: ex.file, Record: ex.rec, Err: err}
	}
	return nil
}

// fits checks the preprocessed example's shape against the input shape, or
// against the first example's when there is no input shape.
func (s *Stream) fits(oh, ow, oc int) error {
	shape := s.opt.Shape
	if len(shape) == 0 {
		if s.exShape == nil {
			s.exShape = []int{oh, ow, oc}
			return nil
		}
		if s.exShape[0] != oh || s.exShape[1] != ow || s.exShape[2] != oc {
			return fmt.Errorf("example is %d×%d×%d after preprocessing, the batch's first was %d×%d×%d (resize or crop to one size)",
				oh, ow, oc, s.exShape[0], s.exShape[1], s.exShape[2])
		}
		return nil
	}
	rest := shape[1:]
	ok := true
	switch len(rest) {
	case 3: // [-1,H,W,C]
		ok = rest[0] == oh && rest[1] == ow && rest[2] == oc
	case 2: // [-1,H,W]: one channel
		ok = rest[0] == oh && rest[1] == ow && oc == 1
	default:
		ok = prod(rest) == oh*ow*oc
	}
	if !ok {
		return fmt.Errorf("example is %d×%d×%d after preprocessing, which does not fit the input shape %s", oh, ow, oc, FormatShape(shape))
	}
	return nil
}

// Close closes the data set's open file.
func (s *Stream) Close() error {
	if s.r == nil { // a Recording's
		s.replay, s.done = nil, true
		return nil
	}
	if s.pipe != nil {
		s.pipe.stop()
		s.pipe = nil
	}
	// Next after Close gives io.EOF, even before the first Next (which
	// would otherwise start reading a closed data set).
	s.done = true
	return s.r.close()
}

func grow(x []float32, n int) []float32 {
	if cap(x)-len(x) >= n {
		return x[:len(x)+n]
	}
	y := make([]float32, len(x)+n, 2*cap(x)+n)
	copy(y, x)
	return y
}

func prod(s []int) int {
	p := 1
	for _, d := range s {
		p *= d
	}
	return p
}
