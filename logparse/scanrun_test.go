package logparse

import (
	"bytes"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// checkScan checks what a fast value loop did on s from p: each of the
// n values it stored in dst is the reference rule's value of its token
// (the text up to the next ' ' or ']'), each token starts before lim, a
// ']' ends the run, and q is after the last token's ' ' or at its ']'.
// With dst64 (the integer loops), each token is an integer of at most 15
// digits and dst64 holds its exact value.
func checkScan(t *testing.T, s []byte, p, lim int, dst []float32, dst64 []float64, n, q int) {
	t.Helper()
	pos := p
	for i := range n {
		if pos >= lim {
			t.Fatalf("value %d of %q starts at %d, past lim %d", i, s[p:lim], pos, lim)
		}
		e := pos
		for e < len(s) && s[e] != ' ' && s[e] != ']' {
			e++
		}
		if e == len(s) {
			t.Fatalf("value %d of %q has no end", i, s[p:lim])
		}
		want, ok := refNumber(string(s[pos:e]))
		if !ok || math.Float32bits(dst[i]) != math.Float32bits(want) {
			t.Fatalf("value %d of %q: token %q read as %v, want %v (ok %v)", i, s[p:lim], s[pos:e], dst[i], want, ok)
		}
		if dst64 != nil {
			tok := string(s[pos:e])
			d, _ := strconv.ParseFloat(tok, 64)
			if !refIsInt(tok) || math.Float64bits(dst64[i]) != math.Float64bits(d) {
				t.Fatalf("value %d of %q: token %q read exactly as %v, want %v (integer %v)", i, s[p:lim], tok, dst64[i], d, refIsInt(tok))
			}
		}
		pos = e + 1
		if s[e] == ']' {
			pos = e
			if i != n-1 {
				t.Fatalf("%q: values read past the ']' at %d", s[p:lim], e)
			}
		}
	}
	if q != pos {
		t.Fatalf("%q: %d values end at %d, want %d", s[p:lim], n, q, pos)
	}
}

// scanTokens reads the tokens, joined by spaces and ended by ']', with
// scanFloats (ints false) or scanInts in every mode the machine has, as
// the tensor loop does: where the fast loop stops at a token, the pure Go
// loop must stop too (the general rule then reads it; here it is
// skipped). It returns how many tokens the first (fastest) mode took.
func scanTokens(t *testing.T, toks []string, ints bool) int {
	t.Helper()
	run := []byte(strings.Join(toks, " ") + "]")
	lim := len(run)
	s := append(bytes.Clone(run), bytes.Repeat([]byte("9"), 64)...)
	taken := -1
	for _, mode := range scanModes() {
		restore := mode.set()
		dst := make([]float32, len(toks)+1)
		var dst64 []float64
		if ints {
			dst64 = make([]float64, len(dst))
		}
		got := 0
		for p := 0; p < lim-1; {
			n, q := scanFast(s, p, lim, dst[:min(len(dst), 7)], dst64) // short chunks too
			checkScan(t, s, p, lim, dst, dst64, n, q)
			got += n
			if n == 0 {
				if k, _ := scanSlow(s, q, lim, dst[:1], dst64); k != 0 {
					t.Fatalf("%s: the fast loop stops at %q, which the Go loop reads", mode.name, s[q:min(q+24, lim)])
				}
				q = bytes.IndexByte(s[q:], ' ') + q + 1 // skip the token
				if q == p || q > lim {
					break
				}
			}
			p = q
		}
		if taken >= 0 && got > taken {
			// The SSSE3 loop takes what the Go loop takes and more (such
			// as 9-digit integers), never less.
			t.Fatalf("%s takes %d tokens, more than the mode before (%d)", mode.name, got, taken)
		}
		if taken < 0 {
			taken = got
		}
		restore()
	}
	return taken
}

// scanFast is scanFloats, or scanInts when there is a dst64.
func scanFast(s []byte, p, lim int, dst []float32, dst64 []float64) (int, int) {
	if dst64 != nil {
		return scanInts(s, p, lim, dst, dst64[:len(dst)])
	}
	return scanFloats(s, p, lim, dst)
}

// scanSlow is scanRun, or scanIntRun when there is a dst64.
func scanSlow(s []byte, p, lim int, dst []float32, dst64 []float64) (int, int) {
	if dst64 != nil {
		return scanIntRun(s, p, lim, dst, dst64[:len(dst)])
	}
	return scanRun(s, p, lim, dst)
}

// TestScanFloats checks the value loop on edge cases, the spellings TF's
// Print writes and random ones, against the reference number rule.
func TestScanFloats(t *testing.T) {
	// The spellings of TF's Print and other plain decimals are taken by
	// the fast paths (three times: before spaces and before the ']').
	for _, tok := range []string{"0", "-0", "0.0", "-0.000", "5.", ".5", "-.5", "1.5", "-2.25", "007",
		"0.123456791", "-0.00123456791", "1234567.12345678", "0.000123456789", "1e-05", "-1.23457e-05",
		"1e+22", "1e-22", "1.23456788e-14", "2.5E-03", "1.e+05"} {
		if n := scanTokens(t, []string{tok, tok, tok}, false); n != 3 {
			t.Errorf("fast paths took %d of 3 %q", n, tok)
		}
	}
	// Other spellings, values outside float32's normal range or 10^±22,
	// and float32 halfway points are left to the general rule.
	for _, tok := range []string{"+5", "-", ".", "-.", "1..2", "1.2.3", "--1", "1-", "", "nan", "inf", "1e5",
		"1e-5", "1e-005", "1.5e+1x", "1.5e+", "1.5e", "e+05", "-e+05", "1.5x", "1234567890123456",
		"0.1234567890123456", "16777217", "12345678.5", "1.5e+10", "1e+23", "1e-23", "9.99999e-23",
		"4.2e+38", "1.17549e-38", "0.00000000000000001", "1e+x5", "1e+5x", "1.5e-0x", "1.5e-x0", "1.5f-05"} {
		if n := scanTokens(t, []string{tok, tok, tok}, false); n != 0 {
			t.Errorf("fast paths took %d of 3 %q", n, tok)
		}
	}
	// Some are taken by the SSSE3 loop only (before a space).
	scanTokens(t, []string{"12345678", "123456789012345", "-12345678", "16777216.5", "99999999", "1.5"}, false)
	rng := rand.New(rand.NewPCG(3, 7))
	toks := make([]string, 20000)
	for i := range toks {
		switch rng.IntN(5) {
		case 0:
			toks[i] = tfFloat(math.Float32frombits(rng.Uint32()))
		case 1:
			toks[i] = tfFloat(float32(rng.NormFloat64() * math.Pow(10, float64(rng.IntN(14)-7))))
		case 2:
			toks[i] = strconv.FormatFloat(rng.NormFloat64()*1e3, 'f', rng.IntN(14), 64)
		case 3: // halfway cases and their neighbours
			v := float64(rng.Uint32()>>8) + 0.5
			toks[i] = strconv.FormatFloat(v*math.Pow(2, float64(rng.IntN(20)-10)), 'f', -1, 64)
		default:
			toks[i] = tfFloat(float32(rng.NormFloat64()))
		}
	}
	if n := scanTokens(t, toks, false); n < 15000 {
		t.Errorf("fast paths took %d of %d random values", n, len(toks))
	}
}

// TestScanInts checks the integer loop (Intel's quantized dumps) on edge
// cases and random qint32 codes: exact values, and the general rule left
// every other spelling.
func TestScanInts(t *testing.T) {
	for _, tok := range []string{"0", "-0", "7", "-2147483648", "2147483647", "007", "123456789012345", "-99999999"} {
		if n := scanTokens(t, []string{tok, tok, tok}, true); n != 3 {
			t.Errorf("fast paths took %d of 3 %q", n, tok)
		}
	}
	for _, tok := range []string{"+5", "-", "1.5", "5.", "1e+05", "1234567890123456", "0x10", "--1", "", "nan"} {
		if n := scanTokens(t, []string{tok, tok, tok}, true); n != 0 {
			t.Errorf("fast paths took %d of 3 %q", n, tok)
		}
	}
	rng := rand.New(rand.NewPCG(5, 7))
	toks := make([]string, 20000)
	for i := range toks {
		toks[i] = strconv.Itoa(int(int32(rng.Uint32())) >> rng.IntN(32))
	}
	if n := scanTokens(t, toks, true); n < 19000 {
		t.Errorf("fast paths took %d of %d random codes", n, len(toks))
	}
}

// FuzzScanFloats checks scanFloats and scanInts on arbitrary runs from an
// arbitrary start: every value they read is the reference's.
func FuzzScanFloats(f *testing.F) {
	f.Add([]byte("1.5 -2.25 1e-05 0.123456791]"), uint8(0))
	f.Add([]byte("-0 0.0 12345678.5 1.e+05 .5 -. 1..2 7]"), uint8(3))
	f.Add([]byte("-2147483648 0 7 -0 123456789012345 12]"), uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, start uint8) {
		s := append(bytes.Clone(data), bytes.Repeat([]byte("9"), 64)...)
		lim := len(data)
		p := min(int(start), lim)
		for _, mode := range scanModes() {
			restore := mode.set()
			dst := make([]float32, len(data)+1)
			n, q := scanFloats(s, p, lim, dst)
			checkScan(t, s, p, lim, dst, nil, n, q)
			dst64 := make([]float64, len(dst))
			n, q = scanInts(s, p, lim, dst, dst64)
			checkScan(t, s, p, lim, dst, dst64, n, q)
			restore()
		}
	})
}
