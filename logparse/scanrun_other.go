//go:build !amd64 || purego

package logparse

// scanFloats is scanRun where there is no assembly version.
func scanFloats(s []byte, p, lim int, dst []float32) (n, q int) {
	return scanRun(s, p, lim, dst)
}
