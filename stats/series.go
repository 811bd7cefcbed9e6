package stats

// blockLen is the number of values in a full block of a series, and
// firstLen the capacity a series starts with. The first block grows by
// doubling (firstLen, 2·firstLen, ..., blockLen); once it holds blockLen
// values, each later block is allocated at blockLen. So a node with k
// records costs about 4k bytes a series plus a few dozen bytes, never a
// whole block: a log of a million distinct names with three records each
// holds a million small series, not a million 4 KiB blocks.
const (
	blockLen = 1024
	firstLen = 4
)

// chunks is an append-only sequence of values kept in blocks, in insertion
// order: every block but the last is full (blockLen values), so value i
// is blocks[i/blockLen][i%blockLen].
type chunks[T float32 | uint32] struct {
	blocks [][]T
	n      int
}

// series is a node's per-batch minima or maxima.
type series = chunks[float32]

func (s *chunks[T]) add(v T) {
	k := len(s.blocks) - 1
	if k < 0 || len(s.blocks[k]) == blockLen {
		c := blockLen
		if k < 0 {
			c = firstLen
		}
		s.blocks = append(s.blocks, make([]T, 0, c))
		k++
	}
	b := s.blocks[k]
	if len(b) == cap(b) { // only the first block grows
		nb := make([]T, len(b), min(2*cap(b), blockLen))
		copy(nb, b)
		b = nb
	}
	s.blocks[k] = append(b, v)
	s.n++
}

// len returns the number of values.
func (s *chunks[T]) len() int { return s.n }

// at returns the i-th value in insertion order.
func (s *chunks[T]) at(i int) T { return s.blocks[i/blockLen][i%blockLen] }

// chunk returns the values of block b.
func (s *chunks[T]) chunk(b int) []T { return s.blocks[b] }

// appendTo appends the values in insertion order to dst.
func (s *chunks[T]) appendTo(dst []T) []T {
	for _, b := range s.blocks {
		dst = append(dst, b...)
	}
	return dst
}

// each calls f for each value in insertion order.
func (s *chunks[T]) each(f func(T)) {
	for _, b := range s.blocks {
		for _, v := range b {
			f(v)
		}
	}
}

// refill replaces the values of s with v(0), ..., v(n-1), reusing the
// blocks it has (kept past len(s.blocks) for the next refill).
func (s *chunks[T]) refill(n int, v func(i int) T) {
	blocks := s.blocks[:cap(s.blocks)]
	nb := (n + blockLen - 1) / blockLen
	for k := 0; k < nb; k++ {
		if k == len(blocks) {
			blocks = append(blocks, nil)
			blocks = blocks[:cap(blocks)]
		}
		if cap(blocks[k]) < blockLen {
			blocks[k] = make([]T, 0, blockLen)
		}
		b := blocks[k][:min(blockLen, n-k*blockLen)]
		for j := range b {
			b[j] = v(k*blockLen + j)
		}
		blocks[k] = b
	}
	s.blocks = blocks[:nb]
	s.n = n
}
