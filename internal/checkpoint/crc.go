package checkpoint

import "hash/crc32"

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// maskDelta is added to a rotated CRC by Mask (TF-FILES.md §1).
const maskDelta = 0xa282ead8

// mask is the CRC transform LevelDB and TensorFlow store: a CRC of data that
// itself holds CRCs would otherwise be weak.
func mask(c uint32) uint32 { return (c>>15 | c<<17) + maskDelta }

// unmask inverts mask.
func unmask(m uint32) uint32 {
	r := m - maskDelta
	return r>>17 | r<<15
}

func crc32c(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }

func crc32cUpdate(c uint32, b []byte) uint32 { return crc32.Update(c, castagnoli, b) }
