package checkpoint

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// maxSnappyLen bounds the decoded size of one block, so that a corrupt length
// cannot make the reader allocate without limit (TensorFlow's blocks are
// about 256 KiB).
const maxSnappyLen = 1 << 30

// snappyDecode decodes a block in the snappy format: a varint with the
// decoded length, then elements whose tag byte's low two bits say literal
// (0) or copy with a 1-, 2- or 4-byte offset (1, 2, 3).
func snappyDecode(src []byte) ([]byte, error) {
	n, i := binary.Uvarint(src)
	if i <= 0 {
		return nil, errors.New("bad decoded length")
	}
	if n > maxSnappyLen {
		return nil, fmt.Errorf("decoded length %d is too large", n)
	}
	dst := make([]byte, 0, n)
	s := src[i:]
	for len(s) > 0 {
		tag := s[0]
		s = s[1:]
		var length, offset int
		switch tag & 3 {
		case 0:
			length = int(tag>>2) + 1
			if extra := int(tag>>2) - 59; extra > 0 {
				if len(s) < extra {
					return nil, errors.New("truncated literal length")
				}
				var l uint32
				for k := 0; k < extra; k++ {
					l |= uint32(s[k]) << (8 * k)
				}
				s = s[extra:]
				length = int(l) + 1
			}
			if length <= 0 || length > len(s) {
				return nil, fmt.Errorf("literal of %d bytes with %d left", length, len(s))
			}
			if uint64(len(dst)+length) > n {
				return nil, errors.New("output longer than its stated length")
			}
			dst = append(dst, s[:length]...)
			s = s[length:]
			continue
		case 1:
			if len(s) < 1 {
				return nil, errors.New("truncated copy")
			}
			length = int(tag>>2&7) + 4
			offset = int(tag>>5)<<8 | int(s[0])
			s = s[1:]
		case 2:
			if len(s) < 2 {
				return nil, errors.New("truncated copy")
			}
			length = int(tag>>2) + 1
			offset = int(binary.LittleEndian.Uint16(s))
			s = s[2:]
		case 3:
			if len(s) < 4 {
				return nil, errors.New("truncated copy")
			}
			length = int(tag>>2) + 1
			offset = int(binary.LittleEndian.Uint32(s))
			s = s[4:]
		}
		if offset <= 0 || offset > len(dst) {
			return nil, fmt.Errorf("copy offset %d with %d bytes written", offset, len(dst))
		}
		if uint64(len(dst)+length) > n {
			return nil, errors.New("output longer than its stated length")
		}
		// Copies may overlap their own output (offset < length), so go
		// byte by byte.
		for k := 0; k < length; k++ {
			dst = append(dst, dst[len(dst)-offset])
		}
	}
	if uint64(len(dst)) != n {
		return nil, fmt.Errorf("decoded %d bytes, the header says %d", len(dst), n)
	}
	return dst, nil
}
