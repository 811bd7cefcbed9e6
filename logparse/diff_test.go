package logparse

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
)

// genRandomLog builds a random log mixing everything the Reader must cope
// with: noise with ';', brackets, '\r' and '_', records of every kind and
// number spelling, joined records, malformed and truncated fragments, CRLF,
// long names and long lines, and sometimes no final '\n'.
func genRandomLog(rng *rand.Rand, lines int) []byte {
	var b bytes.Buffer
	pick := func(s ...string) string { return s[rng.IntN(len(s))] }
	noise := func(n int) {
		const alphabet = "abcXYZ019 _:/.-%=[];\r\t\x00_____;;[[]]"
		for range n {
			b.WriteByte(alphabet[rng.IntN(len(alphabet))])
		}
	}
	number := func() string {
		switch rng.IntN(12) {
		case 0:
			return pick("0", "-0", "nan", "-nan", "inf", "-inf", "NaN", "INF", "+5", "1e50", "-1e-50")
		case 1:
			return pick(" 1.5 ", "\t2", "", " ", "0x1A", "0x1p-2", "1_0", "infinity", "abc", "12x", "1e", ".", ".5", "5.")
		case 2:
			return strings.Repeat("1", 30+rng.IntN(40)) // around TF's 31 and our 64
		case 3:
			return randomDecimal(rng)
		default:
			return tfFloat(float32(rng.NormFloat64() * 10))
		}
	}
	name := func() string {
		switch rng.IntN(10) {
		case 0:
			return ""
		case 1:
			return strings.Repeat("n", rng.IntN(60)) // around the small name limits
		case 2:
			return "a b\rc"
		default:
			return noisyNames[rng.IntN(len(noisyNames))]
		}
	}
	message := func() string {
		switch rng.IntN(14) {
		case 0:
			return "__min:[" + number() + "]"
		case 1:
			return "__max:[" + number() + "]"
		case 2:
			return pick("__KL:[1 2 3]", "hello [1][2]", "", "__requant_min_max", "__min", "__mi")
		case 3:
			m := "__requant_min_max:[" + number() + "][" + number() + "]"
			return m[:rng.IntN(len(m)+1)] // truncated
		case 4:
			return "__requant_min_max:[" + number() + "][" + number() + "]" + pick("junk", "]", "[", "]]", "[3]", " ")
		case 5:
			return pick("__requant_min_max: [1][2]", "__requant_min_max:[1]x[2]", "__requant_min_max:[1][2", "__requant_min_max:")
		default:
			return "__requant_min_max:[" + number() + "][" + number() + "]"
		}
	}
	for l := range lines {
		switch rng.IntN(10) {
		case 0, 1:
			noise(rng.IntN(80))
		case 2:
			if rng.IntN(20) == 0 {
				noise(3000 + rng.IntN(5000)) // long line, longer than small blocks and names
			}
		default:
			switch rng.IntN(4) {
			case 0:
				b.WriteString("I0108 10:22:14.123 12345 logging_ops.cc:79] ")
			case 1:
				noise(rng.IntN(30))
			case 2:
				b.WriteString("(Reading database ... 5%\r")
			}
			for n := 1 + rng.IntN(3)*rng.IntN(2); n > 0; n-- {
				if rng.IntN(8) != 0 {
					b.WriteByte(';')
				}
				b.WriteString(name())
				b.WriteString(pick("__print__;", "__print__;", "__print__;", "__print_;", "__print__"))
				b.WriteString(message())
			}
			if rng.IntN(5) == 0 {
				noise(rng.IntN(20))
			}
		}
		if l == lines-1 && rng.IntN(3) == 0 {
			break // no final newline
		}
		b.WriteString(pick("\n", "\n", "\n", "\r\n"))
	}
	return b.Bytes()
}

// TestDifferential compares the Reader with the reference parsers on many
// generated logs, at several block sizes and name limits, in both modes,
// with and without the prefetching goroutine.
func TestDifferential(t *testing.T) {
	rng := rand.New(rand.NewPCG(42, 99))
	n := 300
	if testing.Short() {
		n = 50
	}
	opts := []readerOpts{
		{block: 1, async: -1}, {block: 2, async: -1}, {block: 3, async: -1}, {block: 7, async: -1},
		{block: 61, async: -1}, {block: 256, async: 1}, {block: 4096, async: 1}, {block: 1 << 20},
		{block: 5, maxName: 8, async: -1}, {block: 64, maxName: 40, async: 1}, {block: 1 << 20, maxName: 20},
	}
	var sum, tfSum Counts
	for i := range n {
		data := genRandomLog(rng, 1+rng.IntN(60))
		_, c := refParse(string(data), 0)
		_, tc := refTF(string(data), 0)
		sum = addCounts(sum, c)
		tfSum = addCounts(tfSum, tc)
		for _, o := range opts {
			for _, tf := range []bool{false, true} {
				o.tf = tf
				checkAgainstReference(t, data, o)
				if t.Failed() {
					t.Fatalf("input %d failed", i)
				}
			}
		}
	}
	// The generator must reach every kind of outcome.
	t.Logf("default mode totals %+v", sum)
	t.Logf("TFCompat totals %+v", tfSum)
	if sum.Records == 0 || sum.Malformed == 0 || sum.JoinedLines == 0 || sum.NonFinite == 0 || sum.OtherPrints == 0 ||
		tfSum.Records == 0 || tfSum.Malformed == 0 || tfSum.Ignored == 0 {
		t.Errorf("generator misses a category: %+v / %+v", sum, tfSum)
	}
}

func addCounts(a, b Counts) Counts {
	a.Bytes += b.Bytes
	a.Lines += b.Lines
	a.Records += b.Records
	a.RecordLines += b.RecordLines
	a.JoinedLines += b.JoinedLines
	a.Malformed += b.Malformed
	a.NonFinite += b.NonFinite
	a.Ignored += b.Ignored
	a.OtherPrints += b.OtherPrints
	return a
}
