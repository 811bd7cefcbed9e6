package logparse

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// TestTFStrtof checks TensorFlow's number rule. Source of each expectation:
// TF's safe_strtof (tsl/platform/numbers.cc) rejects len >= 32 and
// otherwise calls double-conversion's StringToFloat with flags
// ALLOW_LEADING_SPACES|ALLOW_HEX|ALLOW_TRAILING_SPACES|ALLOW_CASE_INSENSIBILITY,
// empty/junk value 0.0, symbols "inf"/"nan", and succeeds when at least one
// character was processed (string-to-double.cc: all-space input counts as
// processed and yields the empty value; junk leaves the count at 0).
func TestTFStrtof(t *testing.T) {
	cases := []struct {
		in   string
		want float32
		ok   bool
	}{
		{"1.5", 1.5, true},
		{" 1.5 ", 1.5, true},
		{"\t-2\r", -2, true},
		{"\v3\f", 3, true},
		{"", 0, false},
		{" ", 0, true}, // white space only: processed > 0, empty value 0
		{" \t\r ", 0, true},
		{"+", 0, false},
		{"-", 0, false},
		{"- 1", 0, false}, // no spaces after the sign
		{"+5", 5, true},
		{"-0", negZ, true},
		{"00", 0, true},
		{"007", 7, true}, // no octal
		{"inf", inf, true},
		{"INF", inf, true},
		{"-Inf", negInf, true},
		{"+inf ", inf, true},
		{"infinity", 0, false}, // junk after the "inf" symbol
		{"in", 0, false},
		{"nan", nan, true},
		{"NaN", nan, true},
		{"-nan", nan, true},
		{"nanx", 0, false},
		{"0x1A", 26, true},
		{"0X1a", 26, true},
		{"-0x10", -16, true},
		{" 0x0 ", 0, true},
		{"0xFFFFFFFF", 4294967295, true}, // rounds to 4294967296
		{"0x1000001", 16777217, true},    // rounds to even: 16777216
		{"0x1000003", 16777219, true},    // rounds to even: 16777220
		{"0xFFFFFFFFFFFFFFFFFFFFFFFFFFF", float32(0xFFFFFFFFFFFFFFFFFFFFFFFFFFF), true}, // beyond uint64
		{"0x", 0, false},
		{"0x1.8", 0, false}, // no ALLOW_HEX_FLOATS
		{"0x1p3", 0, false},
		{"0xg", 0, false},
		{"00x1", 0, false},
		{"1e5", 1e5, true},
		{"1E-5", 1e-5, true},
		{"1e", 0, false},
		{"1e+", 0, false},
		{"e5", 0, false},
		{".", 0, false},
		{".e1", 0, false},
		{".5", 0.5, true},
		{"5.", 5, true},
		{"0.e1", 0, true},
		{"-.5e1", -5, true},
		{"1_0", 0, false},
		{"1,5", 0, false},
		{"12x", 0, false},
		{" 1 2", 0, false},
		{"1\x00", 0, false}, // TF 2.x passes the full length: NUL is junk
		{"1e50", inf, true},
		{"-1e-50", negZ, true},
		{"1" + strings.Repeat("0", 30), 1e30, true}, // 31 bytes
		{"1" + strings.Repeat("0", 31), 0, false},   // 32 bytes: too long
		{"0.00000000000000000000000000001", 1e-29, true}, // 31 bytes
		{"-5.75943518", -5.75943518, true},
	}
	for _, c := range cases {
		got, ok := tfStrtof([]byte(c.in))
		if ok != c.ok || ok && math.Float32bits(got) != math.Float32bits(c.want) {
			t.Errorf("tfStrtof(%q) = %v, %v; want %v, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

// TestParseNumberSpellings checks the default-mode number rule on the
// spellings of TF-FORMATS §2 and on strconv's extras.
func TestParseNumberSpellings(t *testing.T) {
	cases := []struct {
		in   string
		want float32
		ok   bool
	}{
		{"0", 0, true},
		{"-0", negZ, true},
		{"5.72005272", 5.72005272, true},
		{"-5.75943518", -5.75943518, true},
		{"2.4e-05", 2.4e-05, true},
		{"1E+10", 1e10, true},
		{"nan", nan, true},
		{"-nan", nan, true},
		{"inf", inf, true},
		{"-inf", negInf, true},
		{"Infinity", inf, true}, // strconv accepts it
		{" 1 ", 1, true},
		{"", 0, false},
		{" ", 0, false},
		{"abc", 0, false},
		{"12x", 0, false},
		{"1e50", inf, true},
		{"-1e50", negInf, true},
		{"1e-50", 0, true},
		{"0x1p-2", 0.25, true},
		{"1_000", 1000, true},
		{"16777217", 16777216, true},
		{"3.4028235e38", math.MaxFloat32, true},
		{"3.4028236e38", inf, true},
		{"1.4e-45", math.SmallestNonzeroFloat32, true},
	}
	for _, c := range cases {
		got, ok := parseNumber([]byte(c.in))
		if ok != c.ok || ok && math.Float32bits(got) != math.Float32bits(c.want) {
			t.Errorf("parseNumber(%q) = %v, %v; want %v, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

// hardDecimals returns decimal strings near float32 rounding boundaries:
// the float64 shortest form of halfway points between neighbouring float32
// values (the double-rounding trap) and of the neighbours themselves.
func hardDecimals(rng *rand.Rand, n int) []string {
	var out []string
	for range n {
		var f float32
		switch rng.IntN(3) {
		case 0:
			f = math.Float32frombits(rng.Uint32() & 0x7f7fffff)
		case 1:
			f = float32(rng.NormFloat64() * 10)
		default:
			f = float32(rng.IntN(1<<26)) / float32(int(1)<<rng.IntN(30))
		}
		if math.IsInf(float64(f), 0) || math.IsNaN(float64(f)) {
			continue
		}
		g := math.Nextafter32(f, float32(math.Inf(1)))
		mid := (float64(f) + float64(g)) / 2
		for _, x := range []float64{mid, math.Nextafter(mid, 0), math.Nextafter(mid, math.Inf(1)), float64(f)} {
			out = append(out,
				strconv.FormatFloat(x, 'g', -1, 64),
				strconv.FormatFloat(x, 'e', 16, 64),
				strconv.FormatFloat(x, 'g', 9, 64),
				strconv.FormatFloat(x, 'f', -1, 64))
		}
	}
	return out
}

// randomDecimal returns a random plain decimal like those TF prints.
func randomDecimal(rng *rand.Rand) string {
	var b strings.Builder
	if rng.IntN(2) == 0 {
		b.WriteByte('-')
	}
	nd := 1 + rng.IntN(20)
	dot := rng.IntN(nd + 2)
	for i := range nd {
		if i == dot {
			b.WriteByte('.')
		}
		b.WriteByte(byte('0' + rng.IntN(10)))
	}
	if rng.IntN(3) == 0 {
		fmt.Fprintf(&b, "e%d", rng.IntN(90)-45)
	}
	return b.String()
}

// TestParseNumberMatchesStrconv checks that the allocation-free parser
// gives exactly strconv.ParseFloat(s, 32)'s float32 on many decimals,
// including every double-rounding trap hardDecimals finds.
func TestParseNumberMatchesStrconv(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	inputs := hardDecimals(rng, 20000)
	for range 100000 {
		inputs = append(inputs, randomDecimal(rng))
	}
	for _, s := range inputs {
		want, wok := refNumber(s)
		got, ok := parseNumber([]byte(s))
		if ok != wok || ok && math.Float32bits(got) != math.Float32bits(want) {
			t.Fatalf("parseNumber(%q) = %v (%#x), %v; strconv gives %v (%#x), %v",
				s, got, math.Float32bits(got), ok, want, math.Float32bits(want), wok)
		}
		// The eight-bytes-at-a-time path needs room after the number.
		padded := []byte(s + "]-------------------------------")
		if f, j, ok := scanDecimal(padded, 0); ok && j == len(s) {
			if math.Float32bits(f) != math.Float32bits(want) {
				t.Fatalf("scanDecimal(%q) = %v, strconv gives %v", padded, f, want)
			}
		} else if _, ok := parseDecimalFast([]byte(s)); ok {
			t.Fatalf("scanDecimal(%q) failed (%v, %d) where the byte loop succeeds", padded, ok, j)
		}
		if f, ok := parseDecimalFast([]byte(s)); ok {
			if math.Float32bits(f) != math.Float32bits(want) {
				t.Fatalf("parseDecimalFast(%q) = %v, strconv gives %v", s, f, want)
			}
		}
		// The TF rule agrees with strconv on plain decimals shorter than 32.
		if len(s) < tfMaxNumberLen {
			if got, ok := tfStrtof([]byte(s)); !ok || math.Float32bits(got) != math.Float32bits(want) {
				t.Fatalf("tfStrtof(%q) = %v, %v; want %v", s, got, ok, want)
			}
		}
	}
	// TF's own spellings (%.6g / %.9g) must take the fast path.
	for _, s := range []string{"-5.75943518", "3.43590856", "0", "-0", "6.29578972", "221.069077",
		"2.4e-05", "0.891690493", "1e+10", "-12.1186771", "4.9236"} {
		if _, ok := parseDecimalFast([]byte(s)); !ok {
			t.Errorf("parseDecimalFast(%q) fell back to strconv", s)
		}
	}
}

func FuzzParseNumber(f *testing.F) {
	for _, s := range []string{"0", "-0", "1.5", "2.4e-05", "1E+10", "nan", "-inf", " 1 ", "0x1A", "1e50",
		"3.4028235e38", "16777217", "0.1", "-.5e1", "5."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, wok := refNumber(s)
		got, ok := parseNumber([]byte(s))
		if ok != wok || ok && math.Float32bits(got) != math.Float32bits(want) {
			t.Fatalf("parseNumber(%q) = %v, %v; want %v, %v", s, got, ok, want, wok)
		}
		tfStrtof([]byte(s)) // must not panic
	})
}

var sinkF32 float32

// BenchmarkParseNumber compares the fast path with strconv on the numbers
// of a real log (9 significant digits, as TF prints them).
func BenchmarkParseNumber(b *testing.B) {
	nums := []string{"-5.75943518", "3.43590856", "0", "6.29578972", "-20.887871", "22.274715",
		"2.4e-05", "0.891690493", "-12.1186771", "4.9236"}
	bs := make([][]byte, len(nums))
	for i, s := range nums {
		bs[i] = []byte(s)
	}
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			sinkF32, _ = parseNumber(bs[i%len(bs)])
		}
	})
	b.Run("strconv", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			f, _ := strconv.ParseFloat(nums[i%len(nums)], 32)
			sinkF32 = float32(f)
		}
	})
}
