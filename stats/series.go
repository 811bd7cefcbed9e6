package stats

// blockLen is the number of float32 values in one block of a series. Blocks
// keep memory at 4 bytes a value (no slice doubling) while wasting at most one
// partly filled block (4 KiB) per series.
const blockLen = 1024

// series is an append-only sequence of float32 values kept in fixed-size
// blocks, in insertion order.
type series struct {
	blocks []*[blockLen]float32
	n      int
}

func (s *series) add(v float32) {
	i := s.n & (blockLen - 1)
	if i == 0 {
		s.blocks = append(s.blocks, new([blockLen]float32))
	}
	s.blocks[len(s.blocks)-1][i] = v
	s.n++
}

// len returns the number of values.
func (s *series) len() int { return s.n }

// at returns the i-th value in insertion order.
func (s *series) at(i int) float32 { return s.blocks[i/blockLen][i%blockLen] }

// chunk returns the values of block b.
func (s *series) chunk(b int) []float32 {
	if b == len(s.blocks)-1 && s.n%blockLen != 0 {
		return s.blocks[b][:s.n%blockLen]
	}
	return s.blocks[b][:]
}

// appendTo appends the values in insertion order to dst.
func (s *series) appendTo(dst []float32) []float32 {
	for b := range s.blocks {
		dst = append(dst, s.chunk(b)...)
	}
	return dst
}

// each calls f for each value in insertion order.
func (s *series) each(f func(float32)) {
	for b := range s.blocks {
		for _, v := range s.chunk(b) {
			f(v)
		}
	}
}
