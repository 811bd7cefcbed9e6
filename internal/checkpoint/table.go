package checkpoint

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// The table layout (TF-FILES.md §3.1): data blocks, a metaindex block and an
// index block, each followed by a 5-byte trailer, then a 48-byte footer.
const (
	footerLen  = 48
	trailerLen = 5
	// tableMagic ends every table, stored little-endian.
	tableMagic = 0xdb4775248b80fb57

	blockNone   = 0
	blockSnappy = 1
)

// handle locates a block in the file; size excludes the trailer.
type handle struct{ offset, size uint64 }

// tableEntry is one key/value pair of the table. Both slices point into the
// (decompressed) block they came from.
type tableEntry struct{ key, value []byte }

// readTable returns every entry of the table in data, in file order, after
// checking the footer, every block trailer's CRC and that keys are sorted.
// Errors do not name the file; the caller adds it.
func readTable(data []byte) ([]tableEntry, error) {
	if len(data) < footerLen {
		return nil, fmt.Errorf("truncated table: %d bytes, shorter than the %d-byte footer", len(data), footerLen)
	}
	footer := data[len(data)-footerLen:]
	if binary.LittleEndian.Uint64(footer[40:]) != tableMagic {
		return nil, fmt.Errorf("not an sstable (bad magic number %x)", footer[40:])
	}
	meta, n := decodeHandle(footer)
	if n <= 0 {
		return nil, fmt.Errorf("bad metaindex block handle in the footer")
	}
	index, m := decodeHandle(footer[n:])
	if m <= 0 {
		return nil, fmt.Errorf("bad index block handle in the footer")
	}
	end := uint64(len(data) - footerLen)
	// The metaindex block is unused (TensorFlow ignores it too), but its
	// checksum is still a cheap check of the file.
	if _, err := readBlock(data[:end], meta, "metaindex"); err != nil {
		return nil, err
	}
	indexBlock, err := readBlock(data[:end], index, "index")
	if err != nil {
		return nil, err
	}
	indexEntries, err := blockEntries(indexBlock)
	if err != nil {
		return nil, fmt.Errorf("index block at offset %d: %w", index.offset, err)
	}
	var all []tableEntry
	for i, ie := range indexEntries {
		h, k := decodeHandle(ie.value)
		if k <= 0 || k != len(ie.value) {
			return nil, fmt.Errorf("index entry %d (key %q): bad block handle %x", i, ie.key, ie.value)
		}
		block, err := readBlock(data[:end], h, "data")
		if err != nil {
			return nil, err
		}
		entries, err := blockEntries(block)
		if err != nil {
			return nil, fmt.Errorf("data block at offset %d: %w", h.offset, err)
		}
		if len(entries) > 0 {
			// The index key is at or after the block's last key and before
			// the next block's first.
			if last := entries[len(entries)-1].key; bytes.Compare(ie.key, last) < 0 {
				return nil, fmt.Errorf("index key %q sorts before the last key %q of its block at offset %d", ie.key, last, h.offset)
			}
			if len(all) > 0 && bytes.Compare(all[len(all)-1].key, entries[0].key) >= 0 {
				return nil, fmt.Errorf("keys out of order across blocks: %q then %q", all[len(all)-1].key, entries[0].key)
			}
		}
		all = append(all, entries...)
	}
	return all, nil
}

// decodeHandle reads a BlockHandle (two varint64s) from b and returns it with
// the number of bytes read, or n <= 0 when b does not start with one.
func decodeHandle(b []byte) (h handle, n int) {
	off, i := binary.Uvarint(b)
	if i <= 0 {
		return h, i
	}
	size, j := binary.Uvarint(b[i:])
	if j <= 0 {
		return h, j
	}
	return handle{off, size}, i + j
}

// readBlock returns the contents of the block at h in data, checking its
// trailer and decompressing it if needed. what names the block in errors.
func readBlock(data []byte, h handle, what string) ([]byte, error) {
	if h.offset > uint64(len(data)) || h.size > uint64(len(data))-h.offset || uint64(len(data))-h.offset-h.size < trailerLen {
		return nil, fmt.Errorf("truncated table: %s block at offset %d, size %d runs past the end of the %d bytes before the footer", what, h.offset, h.size, len(data))
	}
	contents := data[h.offset : h.offset+h.size]
	trailer := data[h.offset+h.size : h.offset+h.size+trailerLen]
	stored := binary.LittleEndian.Uint32(trailer[1:])
	got := crc32cUpdate(crc32c(contents), trailer[:1])
	if unmask(stored) != got {
		return nil, fmt.Errorf("%s block at offset %d: block checksum mismatch: stored %#08x, computed %#08x", what, h.offset, unmask(stored), got)
	}
	switch trailer[0] {
	case blockNone:
		return contents, nil
	case blockSnappy:
		out, err := snappyDecode(contents)
		if err != nil {
			return nil, fmt.Errorf("%s block at offset %d: snappy: %w", what, h.offset, err)
		}
		return out, nil
	}
	return nil, fmt.Errorf("%s block at offset %d: unknown compression type %d", what, h.offset, trailer[0])
}

// blockEntries decodes every entry of a block: prefix-compressed keys
// (shared, non_shared, value_len varints, key suffix, value), then the
// restart offsets and their count. It checks that restart points share no
// prefix and that keys increase strictly.
func blockEntries(b []byte) ([]tableEntry, error) {
	if len(b) < 4 {
		return nil, fmt.Errorf("block of %d bytes has no restart count", len(b))
	}
	nr := uint64(binary.LittleEndian.Uint32(b[len(b)-4:]))
	if nr == 0 || nr > uint64(len(b)-4)/4 {
		return nil, fmt.Errorf("bad restart count %d for a block of %d bytes", nr, len(b))
	}
	limit := len(b) - 4 - int(nr)*4
	restarts := b[limit : len(b)-4]
	isRestart := make(map[int]bool, nr)
	for i := 0; i < int(nr); i++ {
		r := binary.LittleEndian.Uint32(restarts[4*i:])
		if uint64(r) > uint64(limit) || r == uint32(limit) && limit > 0 {
			return nil, fmt.Errorf("restart point %d at offset %d is outside the %d bytes of entries", i, r, limit)
		}
		isRestart[int(r)] = true
	}
	var entries []tableEntry
	var prev []byte
	for off := 0; off < limit; {
		start := off
		var v [3]uint64
		for i := range v {
			x, n := binary.Uvarint(b[off:limit])
			if n <= 0 {
				return nil, fmt.Errorf("entry at offset %d: bad varint", start)
			}
			v[i] = x
			off += n
		}
		shared, nonShared, valueLen := v[0], v[1], v[2]
		if shared > uint64(len(prev)) {
			return nil, fmt.Errorf("entry at offset %d: shares %d bytes with a previous key of %d", start, shared, len(prev))
		}
		if isRestart[start] && shared != 0 {
			return nil, fmt.Errorf("entry at offset %d is a restart point but shares %d key bytes", start, shared)
		}
		if nonShared > uint64(limit-off) || valueLen > uint64(limit-off)-nonShared {
			return nil, fmt.Errorf("entry at offset %d: key suffix %d and value %d bytes run past the block's %d bytes of entries", start, nonShared, valueLen, limit)
		}
		key := make([]byte, 0, int(shared+nonShared))
		key = append(append(key, prev[:shared]...), b[off:off+int(nonShared)]...)
		off += int(nonShared)
		value := b[off : off+int(valueLen)]
		off += int(valueLen)
		if len(entries) > 0 && bytes.Compare(prev, key) >= 0 {
			return nil, fmt.Errorf("entry at offset %d: key %q does not sort after %q", start, key, prev)
		}
		if len(entries) == 0 && start == 0 && !isRestart[0] {
			return nil, fmt.Errorf("the first entry is not a restart point")
		}
		entries = append(entries, tableEntry{key, value})
		prev = key
	}
	return entries, nil
}
