package synth

import "strconv"

// AppendFloat appends v as TensorFlow's Print op writes a float32: with 6
// significant digits (C's %.6g) when that reads back as the same float32,
// else with 9 (%.9g), which always does. nan, inf and -inf are spelled so.
func AppendFloat(dst []byte, v float32) []byte {
	switch {
	case v != v:
		return append(dst, "nan"...)
	case v > 3.4028235e38:
		return append(dst, "inf"...)
	case v < -3.4028235e38:
		return append(dst, "-inf"...)
	}
	start := len(dst)
	dst = strconv.AppendFloat(dst, float64(v), 'g', 6, 32)
	if back, err := strconv.ParseFloat(string(dst[start:]), 32); err == nil && float32(back) == v {
		return dst
	}
	return strconv.AppendFloat(dst[:start], float64(v), 'g', 9, 32)
}
