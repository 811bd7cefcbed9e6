package checkpoint

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"sort"
	"testing"

	"google.golang.org/protobuf/proto"

	"qcal/internal/tfpb"
)

// This file holds a test-only writer of tables and bundles, written from the
// layout in TF-FILES.md §3 like the reader, so that tests can build
// checkpoints of every dtype and corrupt them on purpose. Rebuilding the real
// prathmesh index with it gives the same bytes (TestWriterMatchesRealIndex),
// which checks the writer against TensorFlow's.

// tableOptions are the knobs of TensorFlow's table writer.
type tableOptions struct {
	blockSize       int  // a data block is flushed once its size reaches this (TF: 262144)
	restartInterval int  // entries between restart points (TF: 16)
	snappy          bool // store blocks snappy-compressed (as literals)
}

var tfTableOptions = tableOptions{blockSize: 262144, restartInterval: 16}

type blockBuilder struct {
	buf      []byte
	restarts []uint32
	count    int
	last     []byte
	interval int
}

func (b *blockBuilder) add(key, value []byte) {
	shared := 0
	if b.count%b.interval == 0 {
		b.restarts = append(b.restarts, uint32(len(b.buf)))
	} else {
		for shared < len(key) && shared < len(b.last) && key[shared] == b.last[shared] {
			shared++
		}
	}
	b.buf = binary.AppendUvarint(b.buf, uint64(shared))
	b.buf = binary.AppendUvarint(b.buf, uint64(len(key)-shared))
	b.buf = binary.AppendUvarint(b.buf, uint64(len(value)))
	b.buf = append(b.buf, key[shared:]...)
	b.buf = append(b.buf, value...)
	b.last = append(b.last[:0], key...)
	b.count++
}

func (b *blockBuilder) size() int { return len(b.buf) + 4*len(b.restarts) + 4 }

func (b *blockBuilder) finish() []byte {
	out := append([]byte(nil), b.buf...)
	if len(b.restarts) == 0 {
		b.restarts = []uint32{0}
	}
	for _, r := range b.restarts {
		out = binary.LittleEndian.AppendUint32(out, r)
	}
	return binary.LittleEndian.AppendUint32(out, uint32(len(b.restarts)))
}

// snappyLiteral encodes b as snappy literals only: valid, not smaller.
func snappyLiteral(b []byte) []byte {
	out := binary.AppendUvarint(nil, uint64(len(b)))
	for len(b) > 0 {
		n := min(len(b), 60)
		out = append(out, byte(n-1)<<2)
		out = append(out, b[:n]...)
		b = b[n:]
	}
	return out
}

// shortestSeparator returns a short key k with start <= k < limit.
func shortestSeparator(start, limit []byte) []byte {
	i := 0
	for i < len(start) && i < len(limit) && start[i] == limit[i] {
		i++
	}
	if i < len(start) && i < len(limit) {
		if c := start[i]; c < 0xff && c+1 < limit[i] {
			out := append([]byte(nil), start[:i+1]...)
			out[i]++
			return out
		}
	}
	return start
}

// shortSuccessor returns a short key >= key.
func shortSuccessor(key []byte) []byte {
	for i, c := range key {
		if c != 0xff {
			out := append([]byte(nil), key[:i+1]...)
			out[i]++
			return out
		}
	}
	return key
}

// buildTable writes sorted entries as a table.
func buildTable(entries []tableEntry, o tableOptions) []byte {
	var file []byte
	writeBlock := func(contents []byte) handle {
		typ := byte(blockNone)
		if o.snappy {
			contents, typ = snappyLiteral(contents), blockSnappy
		}
		h := handle{uint64(len(file)), uint64(len(contents))}
		file = append(file, contents...)
		crc := crc32cUpdate(crc32c(contents), []byte{typ})
		file = append(file, typ)
		file = binary.LittleEndian.AppendUint32(file, mask(crc))
		return h
	}
	appendHandle := func(b []byte, h handle) []byte {
		return binary.AppendUvarint(binary.AppendUvarint(b, h.offset), h.size)
	}
	index := &blockBuilder{interval: 1}
	data := &blockBuilder{interval: o.restartInterval}
	var pending *handle
	var pendingKey []byte
	for _, e := range entries {
		if pending != nil {
			index.add(shortestSeparator(pendingKey, e.key), appendHandle(nil, *pending))
			pending = nil
		}
		data.add(e.key, e.value)
		if data.size() >= o.blockSize {
			h := writeBlock(data.finish())
			pending, pendingKey = &h, append([]byte(nil), data.last...)
			data = &blockBuilder{interval: o.restartInterval}
		}
	}
	if data.count > 0 {
		h := writeBlock(data.finish())
		pending, pendingKey = &h, append([]byte(nil), data.last...)
	}
	if pending != nil {
		index.add(shortSuccessor(pendingKey), appendHandle(nil, *pending))
	}
	meta := writeBlock((&blockBuilder{interval: 1}).finish())
	ih := writeBlock(index.finish())
	footer := appendHandle(appendHandle(nil, meta), ih)
	footer = append(footer, make([]byte, 40-len(footer))...)
	footer = binary.LittleEndian.AppendUint64(footer, tableMagic)
	return append(file, footer...)
}

// testTensor is one tensor for writeBundle: stored bytes are raw (already in
// the bundle's byte order) or, for DT_STRING, the strings.
type testTensor struct {
	name    string
	dtype   tfpb.DataType
	shape   []int64
	raw     []byte
	strings [][]byte
}

func shapeProto(dims []int64) *tfpb.TensorShapeProto {
	s := &tfpb.TensorShapeProto{}
	for _, d := range dims {
		s.Dim = append(s.Dim, &tfpb.TensorShapeProto_Dim{Size: d})
	}
	return s
}

// encodeStrings lays out a string tensor as a bundle does and returns the
// bytes and the entry CRC (unmasked).
func encodeStrings(vals [][]byte) ([]byte, uint32) {
	var out []byte
	var crc uint32
	for _, v := range vals {
		out = binary.AppendUvarint(out, uint64(len(v)))
		crc = crc32cUpdate(crc, binary.LittleEndian.AppendUint32(nil, uint32(len(v))))
	}
	stored := binary.LittleEndian.AppendUint32(nil, mask(crc))
	out = append(out, stored...)
	crc = crc32cUpdate(crc, stored)
	for _, v := range vals {
		out = append(out, v...)
		crc = crc32cUpdate(crc, v)
	}
	return out, crc
}

// writeBundle writes PREFIX.index and PREFIX.data-00000-of-00001 for ts (in
// the given order in the data file) and returns the prefix.
func writeBundle(t testing.TB, prefix string, ts []testTensor, big bool, o tableOptions) string {
	t.Helper()
	var data []byte
	header := &tfpb.BundleHeaderProto{NumShards: 1, Version: &tfpb.VersionDef{Producer: 1}}
	if big {
		header.Endianness = tfpb.BundleHeaderProto_BIG
	}
	hb, err := proto.Marshal(header)
	if err != nil {
		t.Fatal(err)
	}
	entries := []tableEntry{{key: []byte{}, value: hb}}
	for _, tt := range ts {
		raw, crc := tt.raw, crc32c(tt.raw)
		if tt.dtype == tfpb.DataType_DT_STRING {
			raw, crc = encodeStrings(tt.strings)
		}
		e := &tfpb.BundleEntryProto{Dtype: tt.dtype, Shape: shapeProto(tt.shape), Offset: int64(len(data)), Size: int64(len(raw)), Crc32C: mask(crc)}
		data = append(data, raw...)
		eb, err := proto.MarshalOptions{Deterministic: true}.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		entries = append(entries, tableEntry{key: []byte(tt.name), value: eb})
	}
	sort.Slice(entries, func(i, j int) bool { return bytes.Compare(entries[i].key, entries[j].key) < 0 })
	if err := os.WriteFile(prefix+".index", buildTable(entries, o), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(prefix+".data-00000-of-00001", data, 0o644); err != nil {
		t.Fatal(err)
	}
	return prefix
}

// le packs values little-endian (or big-endian) by their Go type.
func le(big bool, vals ...any) []byte {
	var order binary.AppendByteOrder = binary.LittleEndian
	if big {
		order = binary.BigEndian
	}
	var out []byte
	for _, v := range vals {
		switch x := v.(type) {
		case float32:
			out = order.AppendUint32(out, math.Float32bits(x))
		case float64:
			out = order.AppendUint64(out, math.Float64bits(x))
		case int8:
			out = append(out, byte(x))
		case uint8:
			out = append(out, x)
		case bool:
			b := byte(0)
			if x {
				b = 1
			}
			out = append(out, b)
		case int16:
			out = order.AppendUint16(out, uint16(x))
		case uint16:
			out = order.AppendUint16(out, x)
		case int32:
			out = order.AppendUint32(out, uint32(x))
		case int64:
			out = order.AppendUint64(out, uint64(x))
		default:
			panic(fmt.Sprintf("le: unsupported %T", v))
		}
	}
	return out
}
