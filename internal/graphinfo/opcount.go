package graphinfo

import (
	"math/bits"
	"sort"
)

// OpCount is how many nodes use one op.
type OpCount struct {
	Op    string `json:"op"`
	Count int    `json:"count"`
}

// OpCountsTFOrder returns counts in the order summarize_graph prints its
// "Op types used" line: the ops sorted by name (a std::map), then sorted by
// descending count with std::sort, which is not stable. Ties therefore come
// out in the order GCC's libstdc++ std::sort leaves them in (TensorFlow's
// Linux builds use it), reproduced here step for step: by name for up to 16
// op types, shuffled by its introsort beyond.
func OpCountsTFOrder(counts map[string]int) []OpCount {
	v := make([]OpCount, 0, len(counts))
	for op, c := range counts {
		v = append(v, OpCount{op, c})
	}
	sort.Slice(v, func(i, j int) bool { return v[i].Op < v[j].Op })
	introsort(v, func(a, b OpCount) bool { return a.Count > b.Count })
	return v
}

// introsortThreshold is the partition size below which libstdc++ leaves
// the rest to a final insertion sort.
const introsortThreshold = 16

// introsort sorts v as libstdc++'s std::sort does, comparison for
// comparison and swap for swap, so that elements comparing equal end in the
// same places: quicksort with a median-of-three pivot down to partitions of
// 16, heapsort when the depth limit 2·floor(log2 n) runs out, then one
// insertion sort over everything.
func introsort[T any](v []T, less func(a, b T) bool) {
	if len(v) < 2 {
		return
	}
	depth := 2 * (bits.Len(uint(len(v))) - 1)
	introsortLoop(v, 0, len(v), depth, less)
	// Final insertion sort: guarded over the first 16, then unguarded (the
	// minimum of the whole slice is in the first 16 by then).
	if len(v) > introsortThreshold {
		insertionSort(v, 0, introsortThreshold, less)
		for i := introsortThreshold; i < len(v); i++ {
			linearInsert(v, i, less)
		}
	} else {
		insertionSort(v, 0, len(v), less)
	}
}

func introsortLoop[T any](v []T, first, last, depth int, less func(a, b T) bool) {
	for last-first > introsortThreshold {
		if depth == 0 {
			heapSort(v[first:last], less)
			return
		}
		depth--
		cut := partitionPivot(v, first, last, less)
		introsortLoop(v, cut, last, depth, less)
		last = cut
	}
}

// partitionPivot moves the median of v[first+1], v[mid], v[last-1] to
// v[first] and partitions v[first+1:last] around it.
func partitionPivot[T any](v []T, first, last int, less func(a, b T) bool) int {
	mid := first + (last-first)/2
	a, b, c := first+1, mid, last-1
	var m int
	switch {
	case less(v[a], v[b]):
		switch {
		case less(v[b], v[c]):
			m = b
		case less(v[a], v[c]):
			m = c
		default:
			m = a
		}
	case less(v[a], v[c]):
		m = a
	case less(v[b], v[c]):
		m = c
	default:
		m = b
	}
	v[first], v[m] = v[m], v[first]
	// Unguarded partition of [first+1, last) around v[first].
	lo, hi := first+1, last
	for {
		for less(v[lo], v[first]) {
			lo++
		}
		hi--
		for less(v[first], v[hi]) {
			hi--
		}
		if lo >= hi {
			return lo
		}
		v[lo], v[hi] = v[hi], v[lo]
		lo++
	}
}

// insertionSort sorts v[first:last]; an element smaller than v[first] is
// moved to the front at once, others are inserted by a linear scan.
func insertionSort[T any](v []T, first, last int, less func(a, b T) bool) {
	for i := first + 1; i < last; i++ {
		if less(v[i], v[first]) {
			x := v[i]
			copy(v[first+1:i+1], v[first:i])
			v[first] = x
		} else {
			linearInsert(v, i, less)
		}
	}
}

// linearInsert moves v[i] left past the elements greater than it, with no
// bounds check: something not greater must precede it.
func linearInsert[T any](v []T, i int, less func(a, b T) bool) {
	x := v[i]
	j := i - 1
	for less(x, v[j]) {
		v[j+1] = v[j]
		j--
	}
	v[j+1] = x
}

// heapSort is libstdc++'s partial_sort over the whole range: make_heap,
// then sort_heap.
func heapSort[T any](v []T, less func(a, b T) bool) {
	n := len(v)
	if n < 2 {
		return
	}
	for parent := (n - 2) / 2; ; parent-- {
		adjustHeap(v, parent, n, v[parent], less)
		if parent == 0 {
			break
		}
	}
	for last := n - 1; last > 0; last-- {
		x := v[last]
		v[last] = v[0]
		adjustHeap(v, 0, last, x, less)
	}
}

// adjustHeap sifts the hole at index hole down to a leaf, always taking the
// larger child, then sifts x up from there.
func adjustHeap[T any](v []T, hole, n int, x T, less func(a, b T) bool) {
	top := hole
	child := hole
	for child < (n-1)/2 {
		child = 2 * (child + 1)
		if less(v[child], v[child-1]) {
			child--
		}
		v[hole] = v[child]
		hole = child
	}
	if n&1 == 0 && child == (n-2)/2 {
		child = 2 * (child + 1)
		v[hole] = v[child-1]
		hole = child - 1
	}
	parent := (hole - 1) / 2
	for hole > top && less(v[parent], x) {
		v[hole] = v[parent]
		hole = parent
		parent = (hole - 1) / 2
	}
	v[hole] = x
}
