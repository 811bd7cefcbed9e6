//go:build amd64 && !purego

package logparse

// scanRunSSSE3 converts the run of values at s[p:] like scanRun, with
// SSSE3 instructions (scanrun_amd64.s), 1.6 times as fast. It reads the
// values [-]digits[.digits][(e|E)(+|-)dd] that end at a ' ' and have at
// most 15 digits in the 16 bytes from the first digit, and stops at
// anything else: a value before a ']' or any other byte, another
// spelling, a value that starts at lim or later, or when dst is full. It
// converts a value as scanRun does, and leaves it to the general rule in
// the same cases (exponents beyond ±22, results outside float32's normal
// range or near a float32 halfway point).
//
// With a non-empty dst64 (at least as long as dst) it is scanIntRun: it
// reads integers [-]digits only, and stores each also exactly in dst64.
//
// As for scanRun, p >= 0 and s[q:q+scanRunRoom] must exist for every
// q < lim; a non-empty dst64 must be as long as dst.
//
// It finds the spaces of 64 bytes at a time first, so that each value
// can be read without waiting for the end of the one before, and it
// needs 64 bytes from a value's start: it stops within 64 bytes of the
// end of s.
//
//go:noescape
func scanRunSSSE3(s []byte, p, lim int, dst []float32, dst64 []float64) (n, q int)

// cpuid1ECX returns ECX of CPUID leaf 1, the feature flags.
func cpuid1ECX() uint32

// hasSSSE3 says whether the CPU has SSSE3 (CPUID.1:ECX bit 9), which
// x86-64 CPUs have had since 2006 (Intel Core 2) and 2011 (AMD).
var hasSSSE3 = cpuid1ECX()&(1<<9) != 0

// scanFloats is scanRun, faster: the SSSE3 loop reads the values it can
// and scanRun the one it cannot (a value before a ']', at the end of the
// buffer, or in a spelling it does not take), until neither reads on.
func scanFloats(s []byte, p, lim int, dst []float32) (n, q int) {
	if !hasSSSE3 {
		return scanRun(s, p, lim, dst)
	}
	for n < len(dst) {
		k, r := scanRunSSSE3(s, p, lim, dst[n:], nil)
		n, p = n+k, r
		if n == len(dst) {
			break
		}
		if k, p = scanRun(s, p, lim, dst[n:n+1]); k == 0 {
			break
		}
		n++
	}
	return n, p
}

// scanInts is scanIntRun, faster, as scanFloats is scanRun.
func scanInts(s []byte, p, lim int, dst []float32, dst64 []float64) (n, q int) {
	if !hasSSSE3 {
		return scanIntRun(s, p, lim, dst, dst64)
	}
	dst64 = dst64[:len(dst)]
	for n < len(dst) {
		k, r := scanRunSSSE3(s, p, lim, dst[n:], dst64[n:])
		n, p = n+k, r
		if n == len(dst) {
			break
		}
		if k, p = scanIntRun(s, p, lim, dst[n:n+1], dst64[n:n+1]); k == 0 {
			break
		}
		n++
	}
	return n, p
}

// shufTab[17*nd+dot] is the PSHUFB mask that moves the nd digits of a
// number read at a value's first digit (with its '.' at index dot, 16
// for none) to the last nd bytes of 16, squeezing out the '.', and
// clears the bytes before them: the digits are then a 16-digit number
// with leading zeros.
var shufTab = func() (t [17 * 17][16]byte) {
	for nd := range 17 {
		for dot := range 17 {
			row := &t[17*nd+dot]
			for j := range 16 {
				d := j - (16 - nd) // the digit's index in the number
				switch {
				case d < 0:
					row[j] = 0x80 // PSHUFB writes a zero
				case d < dot:
					row[j] = byte(d)
				default:
					row[j] = byte(d+1) & 15
				}
			}
		}
	}
	return t
}()
