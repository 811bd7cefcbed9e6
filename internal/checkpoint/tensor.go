package checkpoint

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"

	"google.golang.org/protobuf/proto"

	"qcal/internal/tfpb"
)

// elementSize returns the bytes per element of a fixed-size dtype and the
// size of the unit a byte swap reverses (a complex number swaps its two
// halves separately), or 0 for dtypes a bundle does not store raw.
func elementSize(t tfpb.DataType) (size, unit int) {
	switch t {
	case tfpb.DataType_DT_BOOL, tfpb.DataType_DT_INT8, tfpb.DataType_DT_UINT8,
		tfpb.DataType_DT_QINT8, tfpb.DataType_DT_QUINT8:
		return 1, 1
	case tfpb.DataType_DT_HALF, tfpb.DataType_DT_BFLOAT16, tfpb.DataType_DT_INT16,
		tfpb.DataType_DT_UINT16, tfpb.DataType_DT_QINT16, tfpb.DataType_DT_QUINT16:
		return 2, 2
	case tfpb.DataType_DT_FLOAT, tfpb.DataType_DT_INT32, tfpb.DataType_DT_UINT32,
		tfpb.DataType_DT_QINT32:
		return 4, 4
	case tfpb.DataType_DT_DOUBLE, tfpb.DataType_DT_INT64, tfpb.DataType_DT_UINT64:
		return 8, 8
	case tfpb.DataType_DT_COMPLEX64:
		return 8, 4
	case tfpb.DataType_DT_COMPLEX128:
		return 16, 8
	}
	return 0, 0
}

// numElements returns the number of elements of a fully defined shape.
func numElements(s *tfpb.TensorShapeProto) (int64, error) {
	if s.GetUnknownRank() {
		return 0, errors.New("shape of unknown rank")
	}
	n := uint64(1)
	for _, d := range s.GetDim() {
		if d.GetSize() < 0 {
			return 0, fmt.Errorf("shape %s has a negative dimension", ShapeString(s))
		}
		hi, lo := bits.Mul64(n, uint64(d.GetSize()))
		if hi != 0 || lo > math.MaxInt64 {
			return 0, fmt.Errorf("shape %s has too many elements", ShapeString(s))
		}
		n = lo
	}
	return int64(n), nil
}

// Tensor reads the value of the tensor name from its data shard, checks it
// against the entry's CRC32C, and returns it as a TensorProto with the
// entry's dtype and shape: numeric and bool values in tensor_content, in
// little-endian order whatever the checkpoint's byte order; strings in
// string_val. Only this tensor's bytes are read.
func (r *Reader) Tensor(name string) (*tfpb.TensorProto, error) {
	e, ok := r.entries[name]
	if !ok {
		return nil, fmt.Errorf("variable %q: %w %s", name, ErrNotFound, r.prefix)
	}
	t, err := r.tensor(e)
	if err != nil {
		return nil, fmt.Errorf("variable %q: %w", name, err)
	}
	return t, nil
}

func (r *Reader) tensor(e *tfpb.BundleEntryProto) (*tfpb.TensorProto, error) {
	if len(e.GetSlices()) > 0 {
		return nil, fmt.Errorf("a partitioned variable (%d slices) in %s; qcal does not read partitioned variables", len(e.GetSlices()), r.prefix)
	}
	n, err := numElements(e.GetShape())
	if err != nil {
		return nil, fmt.Errorf("entry in %s.index: %w", r.prefix, err)
	}
	dt := e.GetDtype()
	elt, unit := elementSize(dt)
	if elt == 0 && dt != tfpb.DataType_DT_STRING {
		return nil, fmt.Errorf("dtype %s in %s.index is not supported in a checkpoint (want a numeric, bool or string dtype)", DTypeName(dt), r.prefix)
	}
	if elt > 0 {
		if hi, lo := bits.Mul64(uint64(n), uint64(elt)); hi != 0 || lo != uint64(e.GetSize()) {
			return nil, fmt.Errorf("invalid size in bundle entry in %s.index: %d bytes for %d elements of %s, want %d", r.prefix, e.GetSize(), n, DTypeName(dt), uint64(n)*uint64(elt))
		}
	}
	buf, err := r.read(e)
	if err != nil {
		return nil, err
	}
	t := &tfpb.TensorProto{Dtype: dt, TensorShape: proto.Clone(e.GetShape()).(*tfpb.TensorShapeProto)}
	if t.TensorShape == nil {
		t.TensorShape = &tfpb.TensorShapeProto{}
	}
	if dt == tfpb.DataType_DT_STRING {
		vals, err := decodeStrings(buf, n, e.GetCrc32C())
		if err != nil {
			return nil, fmt.Errorf("string tensor in %s: %w", r.dataPath(int(e.GetShardId())), err)
		}
		t.StringVal = vals
		return t, nil
	}
	if got := crc32c(buf); got != unmask(e.GetCrc32C()) {
		return nil, fmt.Errorf("data checksum mismatch in %s at offset %d: stored %#08x, computed %#08x", r.dataPath(int(e.GetShardId())), e.GetOffset(), unmask(e.GetCrc32C()), got)
	}
	if r.header.GetEndianness() == tfpb.BundleHeaderProto_BIG && unit > 1 {
		swapBytes(buf, unit)
	}
	t.TensorContent = buf
	return t, nil
}

// read returns the bytes [offset, offset+size) of the entry's shard.
func (r *Reader) read(e *tfpb.BundleEntryProto) ([]byte, error) {
	id := e.GetShardId()
	if id < 0 || int(id) >= len(r.shards) {
		return nil, fmt.Errorf("shard %d in %s.index, but the bundle has %d shards", id, r.prefix, len(r.shards))
	}
	s, err := r.openShard(int(id))
	if err != nil {
		return nil, err
	}
	off, size := e.GetOffset(), e.GetSize()
	if off < 0 || size < 0 || off > s.size || size > s.size-off {
		return nil, fmt.Errorf("truncated data file %s: bytes [%d, %d+%d) past its end at %d", s.path, off, off, size, s.size)
	}
	buf := make([]byte, size)
	if _, err := s.f.ReadAt(buf, off); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("truncated data file %s: %w", s.path, io.ErrUnexpectedEOF)
		}
		return nil, fmt.Errorf("%s: %w", s.path, err)
	}
	return buf, nil
}

// swapBytes reverses the bytes of each unit-byte word of b in place.
func swapBytes(b []byte, unit int) {
	for i := 0; i+unit <= len(b); i += unit {
		w := b[i : i+unit]
		for j, k := 0, unit-1; j < k; j, k = j+1, k-1 {
			w[j], w[k] = w[k], w[j]
		}
	}
}

// decodeStrings decodes a DT_STRING tensor as a bundle stores it
// (TF-FILES.md §3.3): n varint64 lengths, a uint32 masked CRC32C of the
// lengths written as 4-byte (8-byte above 0xFFFFFFFF) little-endian words,
// then the string bytes. The entry's CRC continues that CRC over the stored
// checksum bytes and the string bytes.
func decodeStrings(b []byte, n int64, entryCRC uint32) ([][]byte, error) {
	if n > int64(len(b)) {
		return nil, fmt.Errorf("%d strings in %d bytes", n, len(b))
	}
	lens := make([]uint64, n)
	var crc uint32
	var word [8]byte
	off := 0
	total := uint64(0)
	for i := range lens {
		l, k := binary.Uvarint(b[off:])
		if k <= 0 {
			return nil, fmt.Errorf("bad length of string %d", i)
		}
		off += k
		lens[i] = l
		if l > math.MaxUint32 {
			binary.LittleEndian.PutUint64(word[:], l)
			crc = crc32cUpdate(crc, word[:8])
		} else {
			binary.LittleEndian.PutUint32(word[:], uint32(l))
			crc = crc32cUpdate(crc, word[:4])
		}
		total += l
	}
	if len(b)-off < 4 {
		return nil, errors.New("truncated before the length checksum")
	}
	stored := binary.LittleEndian.Uint32(b[off:])
	if unmask(stored) != crc {
		return nil, fmt.Errorf("the length checksum does not match: stored %#08x, computed %#08x", unmask(stored), crc)
	}
	crc = crc32cUpdate(crc, b[off:off+4])
	off += 4
	if total != uint64(len(b)-off) {
		return nil, fmt.Errorf("string lengths add up to %d bytes, the entry holds %d", total, len(b)-off)
	}
	if crc = crc32cUpdate(crc, b[off:]); crc != unmask(entryCRC) {
		return nil, fmt.Errorf("data checksum mismatch: stored %#08x, computed %#08x", unmask(entryCRC), crc)
	}
	vals := make([][]byte, n)
	for i, l := range lens {
		vals[i] = b[off : off+int(l) : off+int(l)]
		off += int(l)
	}
	return vals, nil
}
