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
type tfrecordReader struct {
	files              []string
	nextFile           int
	f                  *os.File
	rr                 *TFRecordReader
	base               string
	imageKey, labelKey string
}

func openTFRecords(files []string, imageKey, labelKey string) (reader, error) {
	return &tfrecordReader{files: files, imageKey: imageKey, labelKey: labelKey}, nil
}

func (t *tfrecordReader) next(ex *example, decode bool) error {
	var raw rawExample
	if err := t.fetchRecord(&raw, decode, false); err != nil || !decode {
		return err
	}
	return raw.decode(ex)
}

func (t *tfrecordReader) fetch(rec *rawExample, take bool) error {
	return t.fetchRecord(rec, take, true)
}

// fetchRecord reads the next record and, when take is set, its image bytes
// and label into rec (copied when own is set: the record buffer is reused).
func (t *tfrecordReader) fetchRecord(raw *rawExample, take, own bool) error {
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
	if !take {
		return nil
	}
	name, rec := t.rr.name, t.rr.Index()
	img, label, err := exampleImage(t.rr.Record(), t.imageKey, t.labelKey)
	if err != nil {
		return &Error{File: name, Record: rec, Err: err}
	}
	if own {
		img = append([]byte(nil), img...)
	}
	*raw = rawExample{data: img, label: label, id: t.base + ":" + strconv.Itoa(rec), file: name, rec: rec}
	return nil
}

func (t *tfrecordReader) close() error {
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
