package dataset

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"

	"google.golang.org/protobuf/encoding/protowire"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// CRC32C is the Castagnoli CRC TFRecords and checkpoints use.
func CRC32C(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }

// MaskCRC is TF's crc32c::Mask: rotate right by 15 bits, add 0xa282ead8.
func MaskCRC(c uint32) uint32 { return (c>>15 | c<<17) + 0xa282ead8 }

// validLengthCRC reports whether the 12 bytes h are a TFRecord header
// whose length CRC matches.
func validLengthCRC(h []byte) bool {
	return len(h) >= 12 && MaskCRC(CRC32C(h[:8])) == binary.LittleEndian.Uint32(h[8:12])
}

// maxRecord bounds the length a TFRecord header may claim (the largest
// ImageNet JPEG is a few MB).
const maxRecord = 1 << 28

// TFRecordReader reads the records of a TFRecord stream one at a time,
// checking both CRCs, in the manner of bufio.Scanner.
type TFRecordReader struct {
	r    *bufio.Reader
	name string
	rec  int
	buf  []byte
	err  error
}

// NewTFRecordReader reads records from r; name is used in errors.
func NewTFRecordReader(r io.Reader, name string) *TFRecordReader {
	return &TFRecordReader{r: bufio.NewReaderSize(r, 1<<16), name: name, rec: -1}
}

// Scan reads the next record and reports whether there is one. At the
// end, or after an error, it returns false and Err says which.
func (t *TFRecordReader) Scan() bool {
	if t.err != nil {
		return false
	}
	t.rec++
	var h [12]byte
	n, err := io.ReadFull(t.r, h[:])
	if n == 0 && err == io.EOF {
		t.err = io.EOF
		return false
	}
	if err != nil {
		return t.fail(fmt.Errorf("record header: %w", truncated(err)))
	}
	length := binary.LittleEndian.Uint64(h[:8])
	if got, want := MaskCRC(CRC32C(h[:8])), binary.LittleEndian.Uint32(h[8:]); got != want {
		return t.fail(fmt.Errorf("%w: length crc 0x%08x, computed 0x%08x", ErrChecksum, want, got))
	}
	if length > maxRecord {
		return t.fail(fmt.Errorf("record length %d over %d", length, maxRecord))
	}
	if cap(t.buf) < int(length)+4 {
		t.buf = make([]byte, int(length)+4)
	}
	t.buf = t.buf[:length+4]
	if _, err := io.ReadFull(t.r, t.buf); err != nil {
		return t.fail(fmt.Errorf("record of %d bytes: %w", length, truncated(err)))
	}
	data := t.buf[:length]
	if got, want := MaskCRC(CRC32C(data)), binary.LittleEndian.Uint32(t.buf[length:]); got != want {
		return t.fail(fmt.Errorf("%w: data crc 0x%08x, computed 0x%08x", ErrChecksum, want, got))
	}
	t.buf = data
	return true
}

func (t *TFRecordReader) fail(err error) bool {
	t.err = &Error{File: t.name, Record: t.rec, Err: err}
	return false
}

// Record returns the last record read; it is valid until the next Scan.
func (t *TFRecordReader) Record() []byte { return t.buf }

// Index returns the 0-based index of the last record read.
func (t *TFRecordReader) Index() int { return t.rec }

// Err returns the error that stopped Scan, or nil at a clean end.
func (t *TFRecordReader) Err() error {
	if t.err == io.EOF {
		return nil
	}
	return t.err
}

// Feature kinds of tf.Example's Feature oneof (feature.proto).
const (
	bytesList = 1
	floatList = 2
	int64List = 3
)

var kindNames = [...]string{"empty", "bytes_list", "float_list", "int64_list"}

// fields calls fn for every field of the protobuf message b; v holds a
// length-delimited field's bytes, x a varint's value.
func fields(b []byte, fn func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		var v []byte
		var x uint64
		switch typ {
		case protowire.BytesType:
			v, n = protowire.ConsumeBytes(b)
		case protowire.VarintType:
			x, n = protowire.ConsumeVarint(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return fmt.Errorf("field %d: %w", num, protowire.ParseError(n))
		}
		b = b[n:]
		if err := fn(num, typ, v, x); err != nil {
			return err
		}
	}
	return nil
}

// feature finds the Feature named key in a serialized tf.Example and
// returns its kind and its list message; kind 0 means absent (or empty).
// As protobuf merges them, the last of repeated keys wins.
func feature(example []byte, key string) (kind int, list []byte, err error) {
	err = fields(example, func(num protowire.Number, typ protowire.Type, features []byte, _ uint64) error {
		if num != 1 || typ != protowire.BytesType { // Example.features
			return nil
		}
		return fields(features, func(num protowire.Number, typ protowire.Type, entry []byte, _ uint64) error {
			if num != 1 || typ != protowire.BytesType { // Features.feature map entry
				return nil
			}
			var k, value []byte
			hasValue := false
			if err := fields(entry, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
				if typ == protowire.BytesType && num == 1 {
					k = v
				} else if typ == protowire.BytesType && num == 2 {
					value, hasValue = v, true
				}
				return nil
			}); err != nil {
				return fmt.Errorf("feature map entry: %w", err)
			}
			if string(k) != key {
				return nil
			}
			kind, list = 0, nil
			if !hasValue {
				return nil
			}
			return fields(value, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
				if typ == protowire.BytesType && num >= bytesList && num <= int64List {
					kind, list = int(num), v
				}
				return nil
			})
		})
	})
	if err != nil {
		return 0, nil, fmt.Errorf("tf.Example: %w", err)
	}
	return kind, list, nil
}

// firstBytes returns a BytesList's first value.
func firstBytes(list []byte) (v []byte, ok bool, err error) {
	err = fields(list, func(num protowire.Number, typ protowire.Type, b []byte, _ uint64) error {
		if num == 1 && typ == protowire.BytesType && !ok {
			v, ok = b, true
		}
		return nil
	})
	return v, ok, err
}

// firstInt64 returns an Int64List's first value, packed or not.
func firstInt64(list []byte) (v int64, ok bool, err error) {
	err = fields(list, func(num protowire.Number, typ protowire.Type, b []byte, x uint64) error {
		if num != 1 || ok {
			return nil
		}
		switch typ {
		case protowire.VarintType:
			v, ok = int64(x), true
		case protowire.BytesType:
			if len(b) == 0 {
				return nil
			}
			x, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return fmt.Errorf("packed int64: %w", protowire.ParseError(n))
			}
			v, ok = int64(x), true
		}
		return nil
	})
	return v, ok, err
}

// exampleImage returns the encoded image and the label of a serialized
// tf.Example (label -1 when the Example has no label feature).
func exampleImage(example []byte, imageKey, labelKey string) (img []byte, label int, err error) {
	kind, list, err := feature(example, imageKey)
	if err != nil {
		return nil, 0, err
	}
	if kind != bytesList {
		if kind == 0 {
			return nil, 0, fmt.Errorf("no feature %q", imageKey)
		}
		return nil, 0, fmt.Errorf("feature %q is a %s, want bytes_list", imageKey, kindNames[kind])
	}
	img, ok, err := firstBytes(list)
	if err != nil {
		return nil, 0, fmt.Errorf("feature %q: %w", imageKey, err)
	}
	if !ok {
		return nil, 0, fmt.Errorf("feature %q holds no value", imageKey)
	}
	kind, list, err = feature(example, labelKey)
	if err != nil {
		return nil, 0, err
	}
	switch kind {
	case 0:
		return img, -1, nil
	case int64List:
	default:
		return nil, 0, fmt.Errorf("feature %q is a %s, want int64_list", labelKey, kindNames[kind])
	}
	l, ok, err := firstInt64(list)
	if err != nil {
		return nil, 0, fmt.Errorf("feature %q: %w", labelKey, err)
	}
	if !ok {
		return img, -1, nil
	}
	if l < 0 || l > 1<<31-1 {
		return nil, 0, fmt.Errorf("%w: feature %q is %d", ErrLabel, labelKey, l)
	}
	return img, int(l), nil
}

// tfrecordReader streams tf.Example records from TFRecord shards in order.
// When the stream says which records it wants (want, and end: none from
// there on; -1 for no end), it scans ahead and decodes the wanted ones a
// few at once (prefetch.go); scanning stays in order on the stream's
// goroutine.
type tfrecordReader struct {
	files              []string
	nextFile           int
	f                  *os.File
	rr                 *TFRecordReader
	base               string
	imageKey, labelKey string

	want    func(i int) bool
	end     func() int
	ahead   ahead
	i       int       // the record the stream asks for next
	scanned int       // the records scanned so far
	queue   []tfEntry // scanned, not yet handed out, in order
	stopped bool      // scanning ahead met an error or the end
}

// tfEntry is one scanned record: decoding ahead, passed over, or the error
// (io.EOF at the end) that scanning it met.
type tfEntry struct {
	decoded bool
	err     error
}

// maxQueued bounds the records scanned ahead (most passed over: a shard
// K/N scans N records for each it decodes).
const maxQueued = 1 << 14

func openTFRecords(files []string, imageKey, labelKey string) (reader, error) {
	return &tfrecordReader{files: files, imageKey: imageKey, labelKey: labelKey, ahead: ahead{max: 2 * runtime.GOMAXPROCS(0)}}, nil
}

func (t *tfrecordReader) next(ex *example, decode bool) error {
	if t.want == nil || t.ahead.max < 2 {
		return t.nextInOrder(ex, decode)
	}
	t.fill()
	if len(t.queue) == 0 {
		// Scanning ahead stopped at an error or the end, all handed out:
		// from here the reader goes on as one at a time would.
		return t.nextInOrder(ex, decode)
	}
	e := t.queue[0]
	t.queue = t.queue[1:]
	if e.err != nil {
		return e.err
	}
	rec := t.i
	t.i++
	if !e.decoded {
		if decode {
			panic("dataset: the stream asked to decode a TFRecord record it did not want")
		}
		return nil
	}
	ok, err := t.ahead.take(rec, ex)
	if !ok {
		panic("dataset: a TFRecord record decoded ahead is missing")
	}
	if !decode {
		return nil
	}
	return err
}

// fill scans records ahead until the wanted ones fill the read-ahead, the
// stream will want no more, or scanning meets an error or the end.
func (t *tfrecordReader) fill() {
	for !t.stopped && !t.ahead.full() && len(t.queue) < maxQueued {
		rec := t.scanned
		if end := t.end(); end >= 0 && rec >= end {
			return
		}
		if err := t.scan(); err != nil {
			t.queue = append(t.queue, tfEntry{err: err})
			t.stopped = true
			return
		}
		t.scanned++
		if !t.want(rec) {
			t.queue = append(t.queue, tfEntry{})
			continue
		}
		name, idx, base := t.rr.name, t.rr.Index(), t.base
		raw := t.rr.Record()
		t.ahead.start(rec, func(d *decoding) { d.data = append(d.data[:0], raw...) }, func(d *decoding) error {
			return t.decode(d.data, &d.ex, name, base, idx)
		})
		t.queue = append(t.queue, tfEntry{decoded: true})
	}
}

// nextInOrder is next one record at a time.
func (t *tfrecordReader) nextInOrder(ex *example, decode bool) error {
	if err := t.scan(); err != nil {
		return err
	}
	if !decode {
		return nil
	}
	return t.decode(t.rr.Record(), ex, t.rr.name, t.base, t.rr.Index())
}

// decode reads the image and label of the tf.Example record (record idx
// of the file name, base its folder-less name) into ex. It only reads
// the reader's fields that never change.
func (t *tfrecordReader) decode(record []byte, ex *example, name, base string, idx int) error {
	img, label, err := exampleImage(record, t.imageKey, t.labelKey)
	if err == nil {
		err = decodeImage(img, ex)
	}
	if err != nil {
		return &Error{File: name, Record: idx, Err: err}
	}
	ex.label, ex.file, ex.rec = label, name, idx
	ex.id = base + ":" + strconv.Itoa(idx)
	return nil
}

// scan moves to the next record, opening the next file when one ends.
func (t *tfrecordReader) scan() error {
	for {
		if t.rr == nil {
			if t.nextFile >= len(t.files) {
				return io.EOF
			}
			name := t.files[t.nextFile]
			t.nextFile++
			f, err := os.Open(name)
			if err != nil {
				return err
			}
			t.f, t.rr, t.base = f, NewTFRecordReader(f, name), filepath.Base(name)
		}
		if t.rr.Scan() {
			break
		}
		err := t.rr.Err()
		t.f.Close()
		t.f, t.rr = nil, nil
		if err != nil {
			return err
		}
	}
	return nil
}

func (t *tfrecordReader) close() error {
	t.ahead.wait()
	if t.f == nil {
		return nil
	}
	err := t.f.Close()
	t.f, t.rr = nil, nil
	if errors.Is(err, os.ErrClosed) {
		return nil
	}
	return err
}
