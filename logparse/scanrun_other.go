//go:build !amd64 || purego

package logparse

// scanFloats is scanRun where there is no assembly version.
func scanFloats(s []byte, p, lim int, dst []float32) (n, q int) {
	return scanRun(s, p, lim, dst)
}

// scanInts is scanIntRun where there is no assembly version.
func scanInts(s []byte, p, lim int, dst []float32, dst64 []float64) (n, q int) {
	return scanIntRun(s, p, lim, dst, dst64)
}
