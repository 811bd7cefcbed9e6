package logparse

import (
	"encoding/binary"
	"math"
	"math/bits"
	"strconv"
	"unsafe"
)

// Exact powers of ten: every entry is representable without rounding
// (10^22 = 5^22·2^22 and 5^22 < 2^53), so one multiplication or division by
// an entry rounds exactly once.
var (
	pow10f64 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
		1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}
	// pow10neg64[k] is the double nearest 10^-k (not exact for k > 0).
	pow10neg64 = [...]float64{1e0, 1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9, 1e-10,
		1e-11, 1e-12, 1e-13, 1e-14, 1e-15, 1e-16, 1e-17, 1e-18, 1e-19, 1e-20, 1e-21, 1e-22}
)

// parseNumber parses the text between a record's brackets the way the
// default mode does: strconv.ParseFloat(s, 32) semantics, except that
// surrounding white space (' ', '\t', '\r', '\v', '\f', as TensorFlow's
// safe_strtof allows) is ignored, "nan" may carry a sign (glibc and TF print
// "-nan"), and a value beyond the float32 range gives ±Inf instead of an
// error (TF does the same). It does not allocate unless s is malformed.
func parseNumber(s []byte) (float32, bool) {
	if f, ok := parseDecimalFast(s); ok {
		return f, true
	}
	return parseNumberSlow(s)
}

func parseNumberSlow(s []byte) (float32, bool) {
	s = trimSpace(s)
	if len(s) == 0 {
		return 0, false
	}
	if f, ok := parseDecimalFast(s); ok {
		return f, true
	}
	if isSignedNaN(s) {
		return float32(math.NaN()), true
	}
	// ParseFloat does not keep its argument (a NumError holds a copy), so a
	// string view of the buffer is safe and saves an allocation.
	f, err := strconv.ParseFloat(unsafe.String(unsafe.SliceData(s), len(s)), 32)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return float32(f), true // ±Inf on overflow
		}
		return 0, false
	}
	return float32(f), true
}

// parseDecimalFast handles the common spelling [+-]digits[.digits][e[+-]digits]
// and reports false for anything else, or when it cannot guarantee the
// result strconv.ParseFloat(s, 32) would give; the caller then takes the
// slow path.
func parseDecimalFast(s []byte) (float32, bool) {
	f, j, ok := scanDecimal(s, 0)
	return f, ok && j == len(s)
}

// scanDecimal parses the plain decimal [+-]digits[.digits][e[+-]digits]
// starting at s[i] and returns its value and the index just after it. ok
// is false when there is no such decimal at i or when the fast conversion
// cannot guarantee the correctly rounded float32 (strconv's result); see
// decimalToFloat32.
func scanDecimal(s []byte, i int) (f float32, j int, ok bool) {
	// Fast digit conversion, eight bytes at a time, when its reads (at
	// most sign, 7 integer digits, '.', two 8-byte loads, and the byte
	// after 15 fraction digits: 25 bytes) stay inside s. Anything else
	// (longer digit runs, exponents) goes to the byte loop.
	i0 := i
	if i+32 > len(s) {
		return scanDecimalLoop(s, i0)
	}
	neg := false
	if c := s[i]; c == '-' || c == '+' {
		neg = c == '-'
		i++
	}
	// Integer parts are short (TF prints %.6g/%.9g): take up to three
	// digits one by one, longer runs eight at a time.
	var mant uint64
	k := 0
	for ; k < 3; k++ {
		d := s[i+k] - '0'
		if d > 9 {
			break
		}
		mant = mant*10 + uint64(d)
	}
	if k == 3 {
		mant, k = leadingDigits(binary.LittleEndian.Uint64(s[i:]))
		if k == 8 {
			return scanDecimalLoop(s, i0)
		}
	}
	i += k
	digits, exp := k, 0
	if s[i] == '.' {
		i++
		fv, fk := leadingDigits(binary.LittleEndian.Uint64(s[i:]))
		if fk == 8 && s[i+8]-'0' <= 9 { // more than 8 fraction digits
			fv2, fk2 := leadingDigits(binary.LittleEndian.Uint64(s[i+8:]))
			if fk2 == 8 || k+8+fk2 > 19 {
				return scanDecimalLoop(s, i0)
			}
			mant = (mant*1e8+fv)*pow10u[fk2] + fv2
			fk += fk2
		} else if fk == 8 {
			mant = mant*1e8 + fv
		} else {
			mant = mant*pow10u[fk] + fv
		}
		i += fk
		digits += fk
		exp = -fk
	}
	if digits == 0 || s[i]|0x20 == 'e' {
		return scanDecimalLoop(s, i0)
	}
	return decimalToFloat32(mant, exp, neg, i)
}

var pow10u = [...]uint64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8}

// leadingDigits returns the value of the decimal digits at the start of
// the 8 bytes packed little-endian in v, and how many there are (0-8).
func leadingDigits(v uint64) (uint64, int) {
	// A byte b is a digit when its high nibble is 3 and b+6 keeps it 3.
	// A carry out of a non-digit byte only disturbs later bytes, which do
	// not matter once a non-digit is seen.
	t := v&0xF0F0F0F0F0F0F0F0 | (v+0x0606060606060606)&0xF0F0F0F0F0F0F0F0>>4
	k := bits.TrailingZeros64(t^0x3333333333333333) >> 3
	if k == 0 {
		return 0, 0
	}
	// Keep the k digit values, moved to the top so that the missing
	// leading digits are zeros (v<<64 is 0 in Go when k is 0).
	x := (v - 0x3030303030303030) << (64 - 8*k)
	// Combine neighbours: pairs, then quads, then the eight digits (the
	// first byte holds the most significant digit).
	x = (x * (10<<8 + 1)) >> 8 & 0x00FF00FF00FF00FF
	x = (x * (100<<16 + 1)) >> 16 & 0x0000FFFF0000FFFF
	x = (x * (10000<<32 + 1)) >> 32
	return x, k
}

// scanDecimalLoop is scanDecimal one byte at a time.
func scanDecimalLoop(s []byte, i int) (f float32, j int, ok bool) {
	n := len(s)
	neg := false
	if i < n && (s[i] == '-' || s[i] == '+') {
		neg = s[i] == '-'
		i++
	}
	var mant uint64
	nd := 0 // significant digits in mant
	start := i
	for ; i < n; i++ {
		d := s[i] - '0'
		if d > 9 {
			break
		}
		if nd >= 19 {
			return 0, i, false
		}
		mant = mant*10 + uint64(d)
		if mant != 0 {
			nd++
		}
	}
	digits := i - start
	exp := 0
	if i < n && s[i] == '.' {
		i++
		fs := i
		for ; i < n; i++ {
			d := s[i] - '0'
			if d > 9 {
				break
			}
			if nd >= 19 {
				return 0, i, false
			}
			mant = mant*10 + uint64(d)
			if mant != 0 {
				nd++
			}
		}
		digits += i - fs
		exp = fs - i
	}
	if digits == 0 {
		return 0, i, false
	}
	if i < n && s[i]|0x20 == 'e' {
		i++
		eneg := false
		if i < n && (s[i] == '-' || s[i] == '+') {
			eneg = s[i] == '-'
			i++
		}
		es, e := i, 0
		for ; i < n && s[i]-'0' <= 9; i++ {
			if e < 10000 {
				e = e*10 + int(s[i]-'0')
			}
		}
		if i == es {
			return 0, i, false
		}
		if eneg {
			e = -e
		}
		exp += e
	}
	return decimalToFloat32(mant, exp, neg, i)
}

// decimalToFloat32 converts ±mant·10^exp when it can guarantee the
// correctly rounded float32, which strconv.ParseFloat(s, 32) also returns:
// for mant < 2^53 and |exp| <= 22, float64(mant) and 10^|exp| are exact, so
// one float64 operation gives the correctly rounded double x. Rounding x
// to float32 then equals rounding the decimal to float32 unless x lies
// exactly halfway between two float32 values (double rounding), which is
// checked, as is the normal float32 range. j is passed through.
func decimalToFloat32(mant uint64, exp int, neg bool, j int) (float32, int, bool) {
	i := j
	switch {
	case mant == 0:
		if neg {
			return float32(math.Copysign(0, -1)), i, true
		}
		return 0, i, true
	case mant < 1<<53 && exp >= -22 && exp < 0:
		// Multiplying by the double nearest 10^exp is faster than dividing
		// by 10^-exp but rounds twice: x = v(1+d1)(1+d2), |d| <= 2^-53,
		// so x is within 2 units in the last place of v. Rounding x to
		// float32 still gives v's float32 unless a float32 halfway point
		// (low 29 bits 1000…0) lies within those 2 units; such values (and
		// exact halfway cases) are left to the division below.
		x := float64(mant) * pow10neg64[-exp]
		b := math.Float64bits(x)
		e := int(b>>52) & 0x7ff
		if low := b & (1<<29 - 1); e >= 1023-126 && e < 1023+127 && low-(1<<28-4) > 8 {
			f := float32(x)
			if neg {
				f = -f
			}
			return f, i, true
		}
		fallthrough
	case mant < 1<<53 && exp >= -22 && exp <= 22:
		x := float64(mant)
		if exp < 0 {
			x /= pow10f64[-exp]
		} else {
			x *= pow10f64[exp]
		}
		b := math.Float64bits(x)
		e := int(b>>52) & 0x7ff
		// Normal float32 range only, and not a float32 halfway point: the
		// 29 mantissa bits float32 drops are then not exactly 1000…0.
		if e >= 1023-126 && e < 1023+127 && b&(1<<29-1) != 1<<28 {
			f := float32(x)
			if neg {
				f = -f
			}
			return f, i, true
		}
	}
	return 0, i, false
}

// isSpace reports whether c is white space for safe_strtof (double-conversion
// treats ' ', '\t', '\n', '\v', '\f', '\r' as white space; '\n' cannot occur
// inside a line).
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f' || c == '\n'
}

func trimSpace(s []byte) []byte {
	for len(s) > 0 && isSpace(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

func isSignedNaN(s []byte) bool {
	return len(s) == 4 && (s[0] == '-' || s[0] == '+') && equalFold3(s[1:], "nan")
}

// equalFold3 reports whether the 3 bytes of s equal the lower-case ASCII
// word w, ignoring case.
func equalFold3(s []byte, w string) bool {
	return len(s) == 3 && s[0]|0x20 == w[0] && s[1]|0x20 == w[1] && s[2]|0x20 == w[2]
}

// tfMaxNumberLen is TensorFlow's kFastToBufferSize: safe_strtof refuses
// strings of this length or longer.
const tfMaxNumberLen = 32

// tfStrtof parses s exactly as TensorFlow's strings::safe_strtof does
// (double-conversion's StringToFloat with ALLOW_LEADING_SPACES,
// ALLOW_TRAILING_SPACES, ALLOW_HEX and ALLOW_CASE_INSENSIBILITY, empty and
// junk value 0, symbols "inf" and "nan", success when at least one character
// was processed):
//   - len(s) must be < 32; the empty string fails;
//   - a string of white space only succeeds with the value 0;
//   - otherwise, after leading white space: an optional sign, not followed
//     by white space; then "inf" or "nan" in any case (not "infinity"), or
//     "0x"/"0X" and hex digits (an integer; no '.' or 'p'), or a decimal
//     digits[.digits][e[+-]digits] with at least one digit before the
//     exponent; then only white space;
//   - the result is correctly rounded; overflow gives ±Inf.
func tfStrtof(s []byte) (float32, bool) {
	if len(s) == 0 || len(s) >= tfMaxNumberLen {
		return 0, false
	}
	t := trimSpace(s)
	if len(t) == 0 {
		return 0, true
	}
	body := t
	neg := false
	if body[0] == '+' || body[0] == '-' {
		neg = body[0] == '-'
		body = body[1:]
		if len(body) == 0 {
			return 0, false
		}
	}
	switch body[0] | 0x20 {
	case 'i':
		if !equalFold3(body, "inf") {
			return 0, false
		}
		if neg {
			return float32(math.Inf(-1)), true
		}
		return float32(math.Inf(1)), true
	case 'n':
		if !equalFold3(body, "nan") {
			return 0, false
		}
		return float32(math.NaN()), true
	}
	if len(body) >= 2 && body[0] == '0' && body[1]|0x20 == 'x' {
		digits := body[2:]
		if len(digits) == 0 {
			return 0, false
		}
		for _, c := range digits {
			if !isHexDigit(c) {
				return 0, false
			}
		}
		// strconv needs a binary exponent for hex mantissas; "p0" keeps
		// the value. Hex is rare enough in logs to allocate here.
		f, err := strconv.ParseFloat("0x"+string(digits)+"p0", 32)
		if err != nil {
			if ne, ok := err.(*strconv.NumError); !ok || ne.Err != strconv.ErrRange {
				return 0, false
			}
		}
		if neg {
			f = -f
		}
		return float32(f), true
	}
	if !isTFDecimal(body) {
		return 0, false
	}
	if f, ok := parseDecimalFast(t); ok {
		return f, true
	}
	f, err := strconv.ParseFloat(unsafe.String(unsafe.SliceData(t), len(t)), 32)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); !ok || ne.Err != strconv.ErrRange {
			return 0, false
		}
	}
	return float32(f), true
}

func isHexDigit(c byte) bool {
	return c >= '0' && c <= '9' || c|0x20 >= 'a' && c|0x20 <= 'f'
}

// isTFDecimal reports whether s (no sign, no white space) is
// digits[.digits][(e|E)[+-]digits] with at least one mantissa digit,
// where either digit run around the '.' may be empty.
func isTFDecimal(s []byte) bool {
	i, n := 0, len(s)
	digits := 0
	for i < n && s[i] >= '0' && s[i] <= '9' {
		i++
		digits++
	}
	if i < n && s[i] == '.' {
		i++
		for i < n && s[i] >= '0' && s[i] <= '9' {
			i++
			digits++
		}
	}
	if digits == 0 {
		return false
	}
	if i < n && s[i]|0x20 == 'e' {
		i++
		if i < n && (s[i] == '+' || s[i] == '-') {
			i++
		}
		start := i
		for i < n && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == start {
			return false
		}
	}
	return i == n
}
