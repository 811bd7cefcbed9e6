package stats

import "math"

// orderKey maps a float32 to a uint32 whose unsigned order is the order of
// the floats: -Inf < ... < 0 < ... < +Inf. -0 maps to the key of +0, so a
// zero picked by selection is always +0. (TF sorts with std::sort, which
// leaves the order of -0 and +0 unspecified; qcal writes a zero bound as +0
// whatever the log's spelling.) NaN must not be passed.
func orderKey(f float32) uint32 {
	b := math.Float32bits(f)
	if b == 0x80000000 {
		b = 0
	}
	if b&0x80000000 != 0 {
		return ^b
	}
	return b | 0x80000000
}

func fromKey(k uint32) float32 {
	if k&0x80000000 != 0 {
		return math.Float32frombits(k &^ 0x80000000)
	}
	return math.Float32frombits(^k)
}

// selectKth returns the k-th smallest (0-based) of keys, reordering keys. It
// is Hoare's quickselect with a median-of-three pivot, O(n) on average; a
// pivot taken from the middle element keeps sorted and reversed input fast.
func selectKth(keys []uint32, k int) uint32 {
	lo, hi := 0, len(keys)-1
	for hi > lo {
		if hi-lo < 16 {
			insertion(keys[lo : hi+1])
			return keys[k]
		}
		mid := lo + (hi-lo)/2
		// Order keys[lo], keys[mid], keys[hi] and use the middle as pivot.
		if keys[mid] < keys[lo] {
			keys[mid], keys[lo] = keys[lo], keys[mid]
		}
		if keys[hi] < keys[lo] {
			keys[hi], keys[lo] = keys[lo], keys[hi]
		}
		if keys[hi] < keys[mid] {
			keys[hi], keys[mid] = keys[mid], keys[hi]
		}
		p := keys[mid]
		i, j := lo, hi
		for i <= j {
			for keys[i] < p {
				i++
			}
			for keys[j] > p {
				j--
			}
			if i <= j {
				keys[i], keys[j] = keys[j], keys[i]
				i++
				j--
			}
		}
		// Now keys[lo..j] <= p <= keys[i..hi], and keys[j+1..i-1] == p.
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return keys[k]
		}
	}
	return keys[k]
}

func insertion(a []uint32) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j] < a[j-1]; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}
