package dataset

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// idxTypeSize returns the element size of an IDX type byte, or 0.
func idxTypeSize(t byte) int {
	switch t {
	case 0x08, 0x09: // uint8, int8
		return 1
	case 0x0B: // int16
		return 2
	case 0x0C, 0x0D: // int32, float32
		return 4
	case 0x0E: // float64
		return 8
	}
	return 0
}

// IDXHeader is the header of an IDX file: its element type byte and its
// dimensions, the first being the number of examples.
type IDXHeader struct {
	Type byte
	Dims []int
}

// maxIDXRank bounds the rank an IDX header may claim: real files have 1–4.
const maxIDXRank = 16

// ReadIDXHeader reads an IDX header (2 zero bytes, type, rank, then rank
// big-endian uint32 sizes). The error does not name the file.
func ReadIDXHeader(r io.Reader) (IDXHeader, error) {
	var h [4]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return IDXHeader{}, fmt.Errorf("idx header: %w", truncated(err))
	}
	if h[0] != 0 || h[1] != 0 {
		return IDXHeader{}, fmt.Errorf("not an IDX file: magic % x, want 00 00 first", h[:])
	}
	if idxTypeSize(h[2]) == 0 {
		return IDXHeader{}, fmt.Errorf("idx header: unknown type 0x%02x", h[2])
	}
	rank := int(h[3])
	if rank == 0 || rank > maxIDXRank {
		return IDXHeader{}, fmt.Errorf("idx header: rank %d not in [1, %d]", rank, maxIDXRank)
	}
	dims := make([]int, rank)
	var b [4]byte
	n := 1
	for i := range dims {
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return IDXHeader{}, fmt.Errorf("idx header: dimension %d: %w", i, truncated(err))
		}
		d := int(binary.BigEndian.Uint32(b[:]))
		if d > 0 && n > math.MaxInt32/d {
			return IDXHeader{}, fmt.Errorf("idx header: %v elements overflow", dims[:i+1])
		}
		n *= d
		dims[i] = d
	}
	return IDXHeader{Type: h[2], Dims: dims}, nil
}

// truncated turns io's end-of-file errors into ErrTruncated.
func truncated(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return ErrTruncated
	}
	return err
}

// openMaybeGzip opens file, decompressing it when its first bytes are the
// gzip magic 1f 8b.
func openMaybeGzip(file string) (*bufio.Reader, io.Closer, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, nil, err
	}
	br := bufio.NewReaderSize(f, 1<<16)
	magic, _ := br.Peek(2)
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			f.Close()
			return nil, nil, fileErr(file, "gzip: %w", err)
		}
		return bufio.NewReaderSize(zr, 1<<16), f, nil
	}
	return br, f, nil
}

// arrayReader streams the examples of an array file (IDX or NPY) whose
// first dimension counts them, with labels from a second file when there
// is one.
type arrayReader struct {
	file, base string
	r          io.Reader
	c          io.Closer
	n          int // examples, as the header says
	h, w, ch   int // the example's layout
	size       int // bytes per example
	// u8 says the elements are bytes, handed on as they are; otherwise
	// toF32 converts an example's raw bytes.
	u8     bool
	toF32  func(dst []float32, raw []byte)
	raw    []byte
	i      int
	labels labelReader
}

// newArrayReader takes over r and c (closed on error) of a file whose
// header gave shape (examples first) and elemSize bytes per element, and
// opens labels unless it is "".
func newArrayReader(file string, r io.Reader, c io.Closer, shape []int, elemSize int, u8 bool, toF32 func(dst []float32, raw []byte), labels string) (*arrayReader, error) {
	x := &arrayReader{file: file, base: filepath.Base(file), r: r, c: c, n: shape[0], u8: u8, toF32: toF32}
	x.h, x.w, x.ch = exampleLayout(shape[1:])
	x.size = x.h * x.w * x.ch * elemSize
	if err := checkExampleSize(x.size, shape[1:]); err != nil {
		c.Close()
		return nil, &Error{File: file, Record: -1, Err: err}
	}
	if labels != "" {
		var err error
		if x.labels, err = openLabels(labels, x.n); err != nil {
			c.Close()
			return nil, err
		}
	}
	return x, nil
}

// openIDX opens an IDX data file (idx3 images, or any IDX array whose
// first dimension counts examples) and its labels file.
func openIDX(file, labels string) (reader, error) {
	r, c, err := openMaybeGzip(file)
	if err != nil {
		return nil, err
	}
	hdr, err := ReadIDXHeader(r)
	if err != nil {
		c.Close()
		return nil, &Error{File: file, Record: -1, Err: err}
	}
	if labels == "" {
		labels = idxLabelsFile(file)
	}
	toF32 := func(dst []float32, raw []byte) { decodeBigEndian(dst, raw, hdr.Type) }
	return newArrayReader(file, r, c, hdr.Dims, idxTypeSize(hdr.Type), hdr.Type == 0x08, toF32, labels)
}

// maxExampleBytes bounds one example's size, so a short file whose header
// claims huge examples cannot make the reader allocate gigabytes.
const maxExampleBytes = 1 << 28

func checkExampleSize(size int, dims []int) error {
	if size == 0 {
		return fmt.Errorf("examples of shape %v hold no values", dims)
	}
	if size > maxExampleBytes {
		return fmt.Errorf("examples of shape %v take %d bytes, over the %d limit", dims, size, maxExampleBytes)
	}
	return nil
}

// exampleLayout maps the per-example dimensions of an array to H×W×C:
// [H,W] is one channel, [H,W,C] as is, a vector or anything else
// 1×1×(values).
func exampleLayout(dims []int) (h, w, c int) {
	switch len(dims) {
	case 2:
		return dims[0], dims[1], 1
	case 3:
		return dims[0], dims[1], dims[2]
	}
	return 1, 1, prod(dims)
}

// idxLabelsFile returns the MNIST-style labels file beside an images file
// ("t10k-images-idx3-ubyte.gz" → "t10k-labels-idx1-ubyte.gz") when it
// exists, or "".
func idxLabelsFile(file string) string {
	base := filepath.Base(file)
	if !strings.Contains(base, "images-idx3") {
		return ""
	}
	l := filepath.Join(filepath.Dir(file), strings.Replace(base, "images-idx3", "labels-idx1", 1))
	if _, err := os.Stat(l); err != nil {
		return ""
	}
	return l
}

func (x *arrayReader) next(ex *example, decode bool) error {
	if x.i >= x.n {
		return io.EOF
	}
	if cap(x.raw) < x.size {
		x.raw = make([]byte, x.size)
	}
	raw := x.raw[:x.size]
	if _, err := io.ReadFull(x.r, raw); err != nil {
		return &Error{File: x.file, Record: x.i, Err: fmt.Errorf("%w (the header says %d examples)", truncated(err), x.n)}
	}
	label := -1
	if x.labels != nil {
		l, err := x.labels.next()
		if err != nil {
			return err
		}
		label = l
	}
	rec := x.i
	x.i++
	if !decode {
		return nil
	}
	ex.h, ex.w, ex.c = x.h, x.w, x.ch
	ex.label, ex.file, ex.rec = label, x.file, rec
	ex.id = x.base + ":" + strconv.Itoa(rec)
	if x.u8 {
		ex.float = false
		ex.u8 = raw
		return nil
	}
	n := x.h * x.w * x.ch
	ex.float = true
	if cap(ex.f32) < n {
		ex.f32 = make([]float32, n)
	}
	ex.f32 = ex.f32[:n]
	x.toF32(ex.f32, raw)
	return nil
}

// decodeBigEndian converts IDX elements of type t to float32.
func decodeBigEndian(dst []float32, raw []byte, t byte) {
	for i := range dst {
		switch t {
		case 0x08:
			dst[i] = float32(raw[i])
		case 0x09:
			dst[i] = float32(int8(raw[i]))
		case 0x0B:
			dst[i] = float32(int16(binary.BigEndian.Uint16(raw[2*i:])))
		case 0x0C:
			dst[i] = float32(int32(binary.BigEndian.Uint32(raw[4*i:])))
		case 0x0D:
			dst[i] = math.Float32frombits(binary.BigEndian.Uint32(raw[4*i:]))
		case 0x0E:
			dst[i] = float32(math.Float64frombits(binary.BigEndian.Uint64(raw[8*i:])))
		}
	}
}

func (x *arrayReader) close() error {
	err := x.c.Close()
	if x.labels != nil {
		if e := x.labels.close(); err == nil {
			err = e
		}
	}
	return err
}

// labelReader streams integer labels, one per example.
type labelReader interface {
	next() (int, error)
	close() error
}

// openLabels opens an IDX or NPY labels file and checks it holds n labels.
func openLabels(file string, n int) (labelReader, error) {
	r, c, err := openMaybeGzip(file)
	if err != nil {
		return nil, err
	}
	br := r
	head, _ := br.Peek(len(npyMagic))
	var l labelReader
	if string(head) == npyMagic {
		l, err = newNPYLabels(file, br, c)
	} else {
		l, err = newIDXLabels(file, br, c)
	}
	if err != nil {
		c.Close()
		return nil, err
	}
	if got := l.(interface{ count() int }).count(); got != n {
		c.Close()
		return nil, fileErr(file, "%d labels for %d examples", got, n)
	}
	return l, nil
}

type idxLabels struct {
	file string
	r    io.Reader
	c    io.Closer
	hdr  IDXHeader
	size int
	buf  [8]byte
	i    int
}

func newIDXLabels(file string, r io.Reader, c io.Closer) (*idxLabels, error) {
	hdr, err := ReadIDXHeader(r)
	if err != nil {
		return nil, &Error{File: file, Record: -1, Err: err}
	}
	if len(hdr.Dims) != 1 {
		return nil, fileErr(file, "labels file has rank %d, want 1 (idx1)", len(hdr.Dims))
	}
	if hdr.Type == 0x0D || hdr.Type == 0x0E {
		return nil, fileErr(file, "labels file holds floats (type 0x%02x), want integers", hdr.Type)
	}
	return &idxLabels{file: file, r: r, c: c, hdr: hdr, size: idxTypeSize(hdr.Type)}, nil
}

func (l *idxLabels) count() int { return l.hdr.Dims[0] }

func (l *idxLabels) next() (int, error) {
	b := l.buf[:l.size]
	if _, err := io.ReadFull(l.r, b); err != nil {
		return 0, &Error{File: l.file, Record: l.i, Err: fmt.Errorf("%w (the header says %d labels)", truncated(err), l.hdr.Dims[0])}
	}
	var v int
	switch l.hdr.Type {
	case 0x08:
		v = int(b[0])
	case 0x09:
		v = int(int8(b[0]))
	case 0x0B:
		v = int(int16(binary.BigEndian.Uint16(b)))
	case 0x0C:
		v = int(int32(binary.BigEndian.Uint32(b)))
	}
	rec := l.i
	l.i++
	if v < 0 {
		return 0, &Error{File: l.file, Record: rec, Err: fmt.Errorf("%w: negative label %d", ErrLabel, v)}
	}
	return v, nil
}

func (l *idxLabels) close() error { return l.c.Close() }
