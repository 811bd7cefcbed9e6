package logparse

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// kl are the options of the usual value logging:
// qcal insert-logging -op Conv2D -message "__KL:" -summarize -1.
var kl = readerOpts{values: []string{"__KL:"}}

// valueCounts are the Counts fields a value case states.
type valueCounts struct {
	ValueRecords, Values, Truncated, NonFinite, Malformed, OtherPrints int64
}

func valueCountsOf(c Counts) valueCounts {
	return valueCounts{c.ValueRecords, c.Values, c.Truncated, c.NonFinite, c.Malformed, c.OtherPrints}
}

// valueCase is one input read with options o (at every block size). The
// expected values are the input's literal text converted by Go, which
// rounds constants correctly, so each expectation's source is the input
// next to it.
type valueCase struct {
	name   string
	o      readerOpts
	in     string
	want   []item
	counts valueCounts
}

var (
	long65  = strings.Repeat("1", 65)
	long64  = strings.Repeat("0", 62) + "10"
	text128 = strings.Repeat("a", 128)
)

var valueCases = []valueCase{
	{
		name:   "plain",
		o:      kl,
		in:     ";conv__print__;__KL:[1.5 -2.25 3.4028235e+38 0.123456791]\n",
		want:   []item{vt(1, "conv", "__KL:", 0, 0, 1.5, -2.25, 3.4028235e+38, 0.123456791)},
		counts: valueCounts{ValueRecords: 1, Values: 4},
	},
	{
		name:   "integers are kept exactly",
		o:      kl,
		in:     ";conv__print__;__KL:[1 -2 +3 0]\n",
		want:   []item{vt(1, "conv", "__KL:", 0, 0, 1, -2, 3, 0).exact(1, -2, 3, 0)},
		counts: valueCounts{ValueRecords: 1, Values: 4},
	},
	{
		name: "glog prefix and show_op",
		o:    kl,
		in: "I0108 10:22:14.123 12345 logging_ops.cc:79] ;conv/Conv2D__print__;__KL:[0.5 -0.25]\n" +
			";Conv2D;;conv2__print__;__KL:[7]\n",
		want: []item{
			vt(1, "conv/Conv2D", "__KL:", 0, 0, 0.5, -0.25),
			vt(2, "conv2", "__KL:", 0, 0, 7).exact(7),
		},
		counts: valueCounts{ValueRecords: 2, Values: 3},
	},
	{
		name: "nested brackets are flattened",
		o:    kl,
		in:   ";k__print__;__KL:[[1 2][3 4]]\n;k__print__;__KL:[[[1.5 2]][[3 4]]]\n;k__print__;__KL:[[0.5][-1][2]]\n",
		want: []item{
			vt(1, "k", "__KL:", 0, 0, 1, 2, 3, 4).exact(1, 2, 3, 4),
			vt(2, "k", "__KL:", 0, 0, 1.5, 2, 3, 4),
			vt(3, "k", "__KL:", 0, 0, 0.5, -1, 2),
		},
		counts: valueCounts{ValueRecords: 3, Values: 11},
	},
	{
		name:   "empty tensors give one empty chunk",
		o:      kl,
		in:     ";k__print__;__KL:[]\n;k__print__;__KL:[[][]]\n",
		want:   []item{vt(1, "k", "__KL:", 0, 0).exact(), vt(2, "k", "__KL:", 0, 0).exact()},
		counts: valueCounts{ValueRecords: 2},
	},
	{
		name: "number spellings",
		o:    kl,
		in:   ";k__print__;__KL:[0 -0 2.4e-05 1E+10 nan -nan inf -inf NaN +5 1e50 -1e-50 0x1p-2 .5 5. 16777217]\n",
		want: []item{vt(1, "k", "__KL:", 0, 0,
			0, negZ, 2.4e-05, 1e10, nan, nan, inf, negInf, nan, 5, inf, negZ, 0.25, 0.5, 5, 16777216)},
		counts: valueCounts{ValueRecords: 1, Values: 16, NonFinite: 6},
	},
	{
		name: "integers beyond float32 precision",
		o:    kl,
		in:   ";k__print__;__KL:[16777217 -2147483648 123456789012345]\n;k__print__;__KL:[1 1234567890123456]\n",
		want: []item{
			vt(1, "k", "__KL:", 0, 0, 16777217, -2147483648, 123456789012345).exact(16777217, -2147483648, 123456789012345),
			vt(2, "k", "__KL:", 0, 0, 1, 1234567890123456), // 16 digits: not kept exactly
		},
		counts: valueCounts{ValueRecords: 2, Values: 5},
	},
	{
		name:   "a float makes the tensor inexact",
		o:      kl,
		in:     ";k__print__;__KL:[1 2 2.5 3]\n",
		want:   []item{vt(1, "k", "__KL:", 0, 0, 1, 2, 2.5, 3)},
		counts: valueCounts{ValueRecords: 1, Values: 4},
	},
	{
		name:   "separators",
		o:      kl,
		in:     ";k__print__;__KL:[ 1  2\t3\r4\v5\f6 ]\n",
		want:   []item{vt(1, "k", "__KL:", 0, 0, 1, 2, 3, 4, 5, 6).exact(1, 2, 3, 4, 5, 6)},
		counts: valueCounts{ValueRecords: 1, Values: 6},
	},
	{
		name: "truncated by summarize",
		o:    kl,
		in: ";k__print__;__KL:[1 2 3...]\n;k__print__;__KL:[[1 2][3...]...]\n" +
			";k__print__;__KL:[...]\n;k__print__;__KL:[1.5...]\n;k__print__;__KL:[1 2]\n",
		want: []item{
			vt(1, "k", "__KL:", 0, 0, 1, 2, 3).exact(1, 2, 3).truncated(),
			vt(2, "k", "__KL:", 0, 0, 1, 2, 3).exact(1, 2, 3).truncated(),
			vt(3, "k", "__KL:", 0, 0).exact().truncated(),
			vt(4, "k", "__KL:", 0, 0, 1.5).truncated(),
			vt(5, "k", "__KL:", 0, 0, 1, 2).exact(1, 2),
		},
		counts: valueCounts{ValueRecords: 5, Values: 9, Truncated: 4},
	},
	{
		name: "CRLF",
		o:    kl,
		in:   ";k__print__;__KL:[1 2]\r\n;k__print__;__KL:[3]\r\n",
		want: []item{
			vt(1, "k", "__KL:", 0, 0, 1, 2).exact(1, 2),
			vt(2, "k", "__KL:", 0, 0, 3).exact(3),
		},
		counts: valueCounts{ValueRecords: 2, Values: 3},
	},
	{
		name: "text after the tensor",
		o:    kl,
		in:   ";k__print__;__KL:[1 2]junk [3]\n;k__print__;__KL:[4] [5]\n;k__print__;__KL:[6]]\n",
		want: []item{
			vt(1, "k", "__KL:", 0, 0, 1, 2).exact(1, 2),
			vt(2, "k", "__KL:", 0, 0, 4).exact(4),
			vt(3, "k", "__KL:", 0, 0, 6).exact(6),
		},
		counts: valueCounts{ValueRecords: 3, Values: 4},
	},
	{
		name: "several outputs",
		o:    kl,
		in:   ";k__print__;__KL:[1 2][3][4.5 5]\n",
		want: []item{
			vt(1, "k", "__KL:", 0, 0, 1, 2).exact(1, 2),
			vt(1, "k", "__KL:", 1, 0, 3).exact(3),
			vt(1, "k", "__KL:", 2, 0, 4.5, 5),
		},
		counts: valueCounts{ValueRecords: 3, Values: 5},
	},
	{
		name: "quantized data with its min and max",
		o:    kl,
		in:   ";q__print__;__KL:[-3 0 127 2147483647 -2147483648][-1.5][2.25]\n",
		want: []item{
			vt(1, "q", "__KL:", 0, 0, -3, 0, 127, 2147483647, -2147483648).exact(-3, 0, 127, 2147483647, -2147483648),
			vt(1, "q", "__KL:", 1, 0, -1.5),
			vt(1, "q", "__KL:", 2, 0, 2.25),
		},
		counts: valueCounts{ValueRecords: 3, Values: 7},
	},
	{
		name: "joined with range records",
		o:    kl,
		in:   ";a__print__;__requant_min_max:[0][6.29];k__print__;__KL:[1 2];b__print__;__min:[-1]\n",
		want: []item{
			rq(1, "a", 0, 6.29),
			vt(1, "k", "__KL:", 0, 0, 1, 2).exact(1, 2),
			rec(1, Min, "b", -1, 0),
		},
		counts: valueCounts{ValueRecords: 1, Values: 2},
	},
	{
		name: "joined value records",
		o:    kl,
		in:   ";a__print__;__KL:[1];b__print__;__KL:[2 3][4]\n",
		want: []item{
			vt(1, "a", "__KL:", 0, 0, 1).exact(1),
			vt(1, "b", "__KL:", 0, 0, 2, 3).exact(2, 3),
			vt(1, "b", "__KL:", 1, 0, 4).exact(4),
		},
		counts: valueCounts{ValueRecords: 3, Values: 4},
	},
	{
		name: "a tensor runs into the next record's name",
		o:    kl,
		in:   ";a__print__;__KL:[1]b__print__;__min:[2]\n",
		want: []item{
			vt(1, "a", "__KL:", 0, 0, 1).exact(1),
			rec(1, Min, "__KL:[1]b", 2, 0), // as for range records: the name is the text since the last ';'
		},
		counts: valueCounts{ValueRecords: 1, Values: 1},
	},
	{
		name:   "other messages stay other",
		o:      kl,
		in:     ";u__print__;hello [1][2]\n;e__print__;\n;k__print__;__KLX:[1]\n",
		counts: valueCounts{OtherPrints: 3},
	},
	{
		name: "bad value",
		o:    kl,
		in:   ";k__print__;__KL:[1 2x 3]\n;m__print__;__min:[1]\n",
		want: []item{
			vt(1, "k", "__KL:", 0, 0, 1).exact(1).bad(),
			serr(1, `bad value "2x" in "__KL:" tensor 0 for node "k"`),
			rec(2, Min, "m", 1, 0),
		},
		counts: valueCounts{ValueRecords: 1, Values: 1, Malformed: 1},
	},
	{
		name: "bad value in a later output",
		o:    kl,
		in:   ";k__print__;__KL:[1][x][2]\n",
		want: []item{
			vt(1, "k", "__KL:", 0, 0, 1).exact(1),
			vt(1, "k", "__KL:", 1, 0).exact().bad(),
			serr(1, `bad value "x" in "__KL:" tensor 1 for node "k"`),
		},
		counts: valueCounts{ValueRecords: 2, Values: 1, Malformed: 1},
	},
	{
		name: "bad truncation marks",
		o:    kl,
		in:   ";k__print__;__KL:[1 ....]\n;k__print__;__KL:[1...2]\n",
		want: []item{
			vt(1, "k", "__KL:", 0, 0, 1).exact(1).bad().truncated(),
			serr(1, `bad value "." in "__KL:" tensor 0 for node "k"`),
			vt(2, "k", "__KL:", 0, 0).exact().bad(),
			serr(2, `bad value "1...2" in "__KL:" tensor 0 for node "k"`),
		},
		counts: valueCounts{ValueRecords: 2, Values: 1, Malformed: 2, Truncated: 1},
	},
	{
		name: "unterminated",
		o:    kl,
		in:   ";k__print__;__KL:[1 2\n;k__print__;__KL:[[3]\r\n;k__print__;__KL:[4",
		want: []item{
			vt(1, "k", "__KL:", 0, 0, 1, 2).exact(1, 2).bad(),
			serr(1, `unterminated "__KL:" tensor 0 for node "k"`),
			vt(2, "k", "__KL:", 0, 0, 3).exact(3).bad(),
			serr(2, `unterminated "__KL:" tensor 0 for node "k"`),
			vt(3, "k", "__KL:", 0, 0, 4).exact(4).bad(),
			serr(3, `unterminated "__KL:" tensor 0 for node "k"`),
		},
		counts: valueCounts{ValueRecords: 3, Values: 4, Malformed: 3},
	},
	{
		name: "a record inside a tensor",
		o:    kl,
		in:   ";a__print__;__KL:[1 2;b__print__;__min:[3]\n",
		want: []item{
			vt(1, "a", "__KL:", 0, 0, 1, 2).exact(1, 2).bad(),
			serr(1, `unterminated "__KL:" tensor 0 for node "a"`),
			rec(1, Min, "b", 3, 0),
		},
		counts: valueCounts{ValueRecords: 1, Values: 2, Malformed: 1},
	},
	{
		name: "missing tensor",
		o:    kl,
		in:   ";k__print__;__KL:\n;k__print__;__KL: x\n;k__print__;__KL:;m__print__;__min:[1]\n",
		want: []item{
			serr(1, `missing tensor in "__KL:" message for node "k"`),
			serr(2, `missing tensor in "__KL:" message for node "k"`),
			serr(3, `missing tensor in "__KL:" message for node "k"`),
			rec(3, Min, "m", 1, 0),
		},
		counts: valueCounts{Malformed: 3},
	},
	{
		name:   "empty node name",
		o:      kl,
		in:     ";__print__;__KL:[1]\n",
		want:   []item{serr(1, `empty node name in "__KL:" message`)},
		counts: valueCounts{Malformed: 1},
	},
	{
		name: "value of 65 and 64 bytes",
		o:    kl,
		in:   ";k__print__;__KL:[1 " + long65 + "]\n;k__print__;__KL:[" + long64 + "]\n",
		want: []item{
			vt(1, "k", "__KL:", 0, 0, 1).exact(1).bad(),
			serr(1, `value longer than 64 bytes in "__KL:" tensor 0 for node "k"`),
			vt(2, "k", "__KL:", 0, 0, 10), // 64 digits: not kept exactly
		},
		counts: valueCounts{ValueRecords: 2, Values: 2, Malformed: 1},
	},
	{
		name: "all values",
		o:    readerOpts{allValues: true},
		in: ";u__print__;hello [1][2]\n;e__print__;\n;k__print__;__KL:[1]\n;r__print__;__requant_min_max:[1][2]\n" +
			";x__print__;__requant_min_max [3]\n",
		want: []item{
			vt(1, "u", "hello ", 0, 0, 1).exact(1),
			vt(1, "u", "hello ", 1, 0, 2).exact(2),
			vt(3, "k", "__KL:", 0, 0, 1).exact(1),
			rq(4, "r", 1, 2),
			vt(5, "x", "__requant_min_max ", 0, 0, 3).exact(3),
		},
		counts: valueCounts{ValueRecords: 4, Values: 4, OtherPrints: 1},
	},
	{
		name: "message text up to 128 bytes",
		o:    readerOpts{allValues: true, values: []string{"aaa"}},
		in:   ";u__print__;" + text128 + "[1]\n;u__print__;" + text128 + "a[1]\n;u__print__;b" + text128 + "[1]\n",
		want: []item{
			vt(1, "u", text128, 0, 0, 1).exact(1),
			serr(2, `missing tensor in "aaa" message for node "u"`),
		},
		counts: valueCounts{ValueRecords: 1, Values: 1, Malformed: 1, OtherPrints: 1},
	},
	{
		name:   "a prefix selects longer messages",
		o:      readerOpts{values: []string{"__KL", "x\n"}},
		in:     ";k__print__;__KL:[1]\n;k__print__;x\n[2]\n",
		want:   []item{vt(1, "k", "__KL:", 0, 0, 1).exact(1)},
		counts: valueCounts{ValueRecords: 1, Values: 1, OtherPrints: 1},
	},
}

func TestValueSpellings(t *testing.T) {
	for _, c := range valueCases {
		t.Run(c.name, func(t *testing.T) {
			for _, bs := range blockSizes() {
				o := c.o
				o.block = bs
				got, counts, err := readAll(t, []byte(c.in), o)
				if err != nil {
					t.Fatalf("block %d: Err() = %v", bs, err)
				}
				if d := diffItems(got, c.want); d != "" {
					t.Fatalf("block %d:\n%s", bs, d)
				}
				if vc := valueCountsOf(counts); vc != c.counts {
					t.Fatalf("block %d: counts\n got %+v\nwant %+v", bs, vc, c.counts)
				}
				checkAgainstReference(t, []byte(c.in), o)
				// TFCompat ignores value messages whatever the options.
				o.tf = true
				checkAgainstReference(t, []byte(c.in), o)
			}
			// Chunks of 1, 2 and 3 values, against the reference.
			for _, chunk := range []int{1, 2, 3} {
				for _, bs := range []int{1, 2, 5, 64, 0} {
					o := c.o
					o.block, o.chunk = bs, chunk
					checkAgainstReference(t, []byte(c.in), o)
				}
			}
		})
	}
}

// TestValuesOff checks that without Values and AllValues value messages
// are counted in OtherPrints, in default and TFCompat modes, as before.
func TestValuesOff(t *testing.T) {
	for _, c := range valueCases {
		for _, tf := range []bool{false, true} {
			o := readerOpts{tf: tf}
			got, counts, err := readAll(t, []byte(c.in), o)
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range got {
				if it.Kind == Values {
					t.Fatalf("%s: value record without Values: %v", c.name, it)
				}
			}
			if counts.ValueRecords != 0 || counts.Values != 0 || counts.Truncated != 0 {
				t.Fatalf("%s: counts %+v", c.name, counts)
			}
			checkAgainstReference(t, []byte(c.in), o)
		}
	}
}

// tensorText writes a tensor of n values: integers ("int"), integers then
// a final float ("intfloat": Values64 stops at the last chunk), or floats
// ("float"); nested in rows of 5 when nested is set.
func tensorText(n int, kind string, nested bool) (string, []float32) {
	var b strings.Builder
	var vals []float32
	b.WriteByte('[')
	for i := range n {
		if nested && i%5 == 0 {
			if i > 0 {
				b.WriteByte(']')
			}
			b.WriteByte('[')
		} else if i > 0 {
			b.WriteByte(' ')
		}
		switch {
		case kind == "float" || kind == "intfloat" && i == n-1:
			b.WriteString(strconv.Itoa(i))
			b.WriteString(".5")
			vals = append(vals, float32(i)+0.5)
		default:
			b.WriteString(strconv.Itoa(-i))
			vals = append(vals, float32(-i))
		}
	}
	if nested && n > 0 {
		b.WriteByte(']')
	}
	b.WriteByte(']')
	return b.String(), vals
}

// TestValueChunks reads tensors of 0, 1, N-1, N, N+1 and 10N values at
// many block sizes and checks their chunks against the rules directly (and
// the reference).
func TestValueChunks(t *testing.T) {
	type setup struct {
		chunk  int
		blocks []int
	}
	var small []int
	for b := 1; b <= 64; b++ {
		small = append(small, b)
	}
	setups := []setup{
		{1, []int{1, 2, 3, 7, 64, 0}},
		{4, append(small, 4096, 0)},
		{7, []int{1, 3, 13, 64, 4096, 0}},
		{MaxChunk, []int{1, 3, 64, 4096, 1 << 20, 0}},
	}
	if testing.Short() {
		setups = setups[1:2]
	}
	for _, s := range setups {
		n := s.chunk
		for _, size := range []int{0, 1, n - 1, n, n + 1, 10 * n} {
			for _, kind := range []string{"int", "intfloat", "float"} {
				for _, nested := range []bool{false, true} {
					text, vals := tensorText(size, kind, nested)
					in := "head\n;k__print__;__KL:" + text + "[7];m__print__;__min:[1]\n"
					name := fmt.Sprintf("N=%d/size=%d/%s/nested=%v", n, size, kind, nested)
					for _, bs := range s.blocks {
						o := kl
						o.block, o.chunk = bs, n
						got, c, err := readAll(t, []byte(in), o)
						if err != nil {
							t.Fatal(err)
						}
						if err := checkChunks(got, vals, kind, n); err != "" {
							t.Fatalf("%s block %d: %s", name, bs, err)
						}
						if c.Values != int64(len(vals))+1 || c.ValueRecords != 2 || c.Records != 1 {
							t.Fatalf("%s block %d: counts %+v", name, bs, c)
						}
						if bs <= 7 || bs == 4096 {
							checkAgainstReference(t, []byte(in), o)
						}
					}
				}
			}
		}
	}
}

// checkChunks checks that items are the chunks of one tensor holding
// vals, then the tensor [7] as output 1, then the __min record.
func checkChunks(items []item, vals []float32, kind string, n int) string {
	chunks := max(1, (len(vals)+n-1)/n)
	if len(items) != chunks+2 {
		return fmt.Sprintf("%d items, want %d chunks + 2", len(items), chunks)
	}
	var all []float32
	for i, it := range items[:chunks] {
		if it.Kind != Values || it.Node != "k" || it.VMsg != "__KL:" || it.Line != 2 || it.Output != 0 || it.Chunk != i ||
			it.Last != (i == chunks-1) || it.Bad || it.Trunc {
			return fmt.Sprintf("chunk %d: %v", i, it)
		}
		vs := unhex32(it.Vals)
		if len(vs) != n && !it.Last || len(vs) > n {
			return fmt.Sprintf("chunk %d: %d values", i, len(vs))
		}
		// Values64 is set while every value so far is an integer.
		firstFloat := map[string]int{"int": len(vals), "intfloat": len(vals) - 1, "float": 0}[kind]
		if len(vals) == 0 {
			firstFloat = 0
		}
		wantInts := firstFloat >= min((i+1)*n, len(vals))
		if (it.Ints != "-") != wantInts {
			return fmt.Sprintf("chunk %d of a %s tensor: Values64 %q", i, kind, it.Ints)
		}
		all = append(all, vs...)
	}
	if hex32(all) != hex32(vals) {
		return fmt.Sprintf("values differ: got %d values, want %d", len(all), len(vals))
	}
	if want := vt(2, "k", "__KL:", 1, 0, 7).exact(7); items[chunks] != want {
		return fmt.Sprintf("second tensor %v, want %v", items[chunks], want)
	}
	if want := rec(2, Min, "m", 1, 0); items[chunks+1] != want {
		return fmt.Sprintf("record %v, want %v", items[chunks+1], want)
	}
	return ""
}

// TestValueRecordReuse checks that chunks reuse their buffers (no
// allocation per chunk) and that a chunk's slices cannot be appended to in
// place.
func TestValueRecordReuse(t *testing.T) {
	for _, kind := range []string{"int", "float"} {
		text, _ := tensorText(40000, kind, false)
		in := ";k__print__;__KL:" + text + "\n"
		w := startWatch()
		rd := newTestReader(strings.NewReader(in), "x", readerOpts{values: []string{"__KL:"}, chunk: 4})
		var first *float32
		chunks := 0
		for rd.Scan() {
			r := rd.Record()
			if first == nil {
				first = &r.Values[0]
			} else if &r.Values[0] != first {
				t.Fatalf("chunk %d does not reuse the buffer", r.Chunk)
			}
			if cap(r.Values) != len(r.Values) || cap(r.Values64) != len(r.Values64) {
				t.Fatalf("chunk %d: cap > len: appending would overwrite the buffer", r.Chunk)
			}
			if (r.Values64 != nil) != (kind == "int") {
				t.Fatalf("%s chunk %d: Values64 %v", kind, r.Chunk, r.Values64)
			}
			chunks++
		}
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		if chunks != 10000 {
			t.Fatalf("%d chunks, want 10000", chunks)
		}
		if m := ms.Mallocs - w.mallocs; m > 100 { // the Reader's buffers and maps, once
			t.Errorf("%s: %d allocations for %d chunks", kind, m, chunks)
		}
	}
}

func TestTruncationWarning(t *testing.T) {
	if w := (Counts{}).TruncationWarning(); w != "" {
		t.Errorf("no truncation: %q", w)
	}
	want := "2 tensor(s) truncated by the Print op's summarize limit; log with -summarize -1"
	if w := (Counts{Truncated: 2}).TruncationWarning(); w != want {
		t.Errorf("got %q, want %q", w, want)
	}
}

func TestValuesKindString(t *testing.T) {
	if s := Values.String(); s != "values" {
		t.Errorf("Values.String() = %q", s)
	}
}

// genValueLog builds a random log of value messages mixed with range
// records and noise, with every spelling, error and chunk boundary the
// value reader must cope with.
func genValueLog(rng *rand.Rand, lines int) []byte {
	var b bytes.Buffer
	pick := func(s ...string) string { return s[rng.IntN(len(s))] }
	token := func() string {
		switch rng.IntN(40) {
		case 0:
			return pick("nan", "-nan", "inf", "-inf", "-0", "+5", "1e50", "-1e-50", "0x1p-2", ".5", "5.", "1E+10")
		case 1:
			if rng.IntN(4) == 0 {
				return pick("12x", "1_0", "abc", ".", "1...2", "-", long65, long64, "\x00")
			}
			return long64
		case 2:
			return pick("...", "3...", "1.5...")
		case 3, 4, 5:
			return tfFloat(float32(rng.NormFloat64() * 10))
		case 6:
			return strconv.FormatInt(rng.Int64N(1<<31), 10)
		case 7:
			return strconv.FormatInt(rng.Int64N(1e17), 10) // around Values64's 15 digits
		default:
			return strconv.Itoa(rng.IntN(256) - 128)
		}
	}
	tensor := func() string {
		var t strings.Builder
		n := rng.IntN(12)
		if rng.IntN(10) == 0 {
			n = rng.IntN(40)
		}
		t.WriteByte('[')
		depth := 1
		for i := range n {
			if i > 0 {
				if rng.IntN(50) != 0 { // else two tokens run together
					t.WriteString(pick(" ", " ", " ", "  ", "\t"))
				}
			}
			switch rng.IntN(12) {
			case 0:
				t.WriteByte('[')
				depth++
			case 1:
				if depth > 1 {
					t.WriteByte(']')
					depth--
				}
			}
			t.WriteString(token())
		}
		for ; depth > 0; depth-- {
			t.WriteByte(']')
		}
		s := t.String()
		if rng.IntN(15) == 0 {
			s = s[:rng.IntN(len(s)+1)] // unterminated, or cut anywhere
		}
		return s
	}
	message := func() string {
		switch rng.IntN(12) {
		case 0:
			return "__requant_min_max:[" + tfFloat(float32(-rng.ExpFloat64())) + "][" + tfFloat(float32(rng.ExpFloat64())) + "]"
		case 1:
			return pick("__min:[1]", "__max:[x]", "hello", "", "__KL:", "__KL: x")
		case 2:
			return pick("hello ", "__KLX:", "__KL", "") + tensor()
		}
		m := "__KL:"
		for k := 1 + rng.IntN(2)*rng.IntN(3); k > 0; k-- {
			m += tensor()
		}
		return m + pick("", "", "", "junk", " [1]", "]")
	}
	for l := range lines {
		switch rng.IntN(8) {
		case 0:
			const alphabet = "abc019 _:.[];\r\t_____"
			for range rng.IntN(60) {
				b.WriteByte(alphabet[rng.IntN(len(alphabet))])
			}
		default:
			if rng.IntN(4) == 0 {
				b.WriteString("I0108 10:22:14.123 12345 logging_ops.cc:79] ")
			}
			for n := 1 + rng.IntN(3)*rng.IntN(2); n > 0; n-- {
				b.WriteByte(';')
				b.WriteString(pick("k", "conv/Conv2D", "q_eightbit", "", strings.Repeat("n", rng.IntN(30))))
				b.WriteString("__print__;")
				b.WriteString(message())
			}
		}
		if l == lines-1 && rng.IntN(3) == 0 {
			break
		}
		b.WriteString(pick("\n", "\n", "\r\n"))
	}
	return b.Bytes()
}

// TestValuesDifferential compares the Reader with the reference on many
// generated logs, at several block sizes, chunk sizes and name limits.
func TestValuesDifferential(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 2024))
	n := 300
	if testing.Short() {
		n = 40
	}
	opts := []readerOpts{
		{block: 1, async: -1, chunk: 1}, {block: 2, async: -1, chunk: 3}, {block: 3, async: -1},
		{block: 7, async: -1, chunk: 5}, {block: 61, async: -1, chunk: 2}, {block: 256, async: 1, chunk: 4},
		{block: 4096, async: 1}, {block: 1 << 20, chunk: 7}, {block: 5, maxName: 8, async: -1, chunk: 3},
		{block: 64, maxName: 20, async: 1}, {block: 13, async: -1, tf: true},
	}
	selects := []readerOpts{
		{values: []string{"__KL:"}},
		{values: []string{"__KL", "hello"}},
		{allValues: true},
		{allValues: true, values: []string{"__KL:"}},
	}
	var sum Counts
	for i := range n {
		data := genValueLog(rng, 1+rng.IntN(30))
		for k, o := range opts {
			s := selects[(i+k)%len(selects)]
			o.values, o.allValues = s.values, s.allValues
			checkAgainstReference(t, data, o)
			if t.Failed() {
				t.Fatalf("input %d failed", i)
			}
		}
		_, c := refParseOpts(string(data), readerOpts{values: []string{"__KL:"}, chunk: 3})
		sum = addValueCounts(sum, c)
	}
	t.Logf("totals %+v", sum)
	if sum.ValueRecords == 0 || sum.Truncated == 0 || sum.Malformed == 0 || sum.NonFinite == 0 || sum.Records == 0 ||
		sum.OtherPrints == 0 {
		t.Errorf("generator misses a category: %+v", sum)
	}
}

func addValueCounts(a, b Counts) Counts {
	a = addCounts(a, b)
	a.ValueRecords += b.ValueRecords
	a.Values += b.Values
	a.Truncated += b.Truncated
	return a
}

// valueLine is an io.Reader producing head, then the tensor body repeated
// reps times, then tail: a log line of any length, never held in memory.
func valueLine(head, body, tail string, reps int64) *synthLog {
	return &synthLog{head: []byte(head), body: []byte(body), n: reps * int64(len(body)), tail: []byte(tail)}
}

// TestMemoryFlatValueLine reads a single 120 MB line of values, generated
// on the fly, with flat memory, and checks the number and sum of the
// values and that chunks do not allocate.
func TestMemoryFlatValueLine(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 120 MB lines")
	}
	for _, c := range []struct {
		name string
		body string  // values, each followed by a space
		sum  float64 // of one body; exact: the values are dyadic or integers
		ints bool    // Values64 expected
	}{
		{"floats", "1.5 -0.25 3 0.125 -2.5e-1 ", 1.5 - 0.25 + 3 + 0.125 - 0.25, false},
		{"quantized", "-3 127 0 65535 -32768 ", -3 + 127 + 65535 - 32768, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			const size = 120 << 20
			reps := int64(size / len(c.body))
			perBody := int64(len(strings.Fields(c.body)))
			src := valueLine("start\n;big__print__;__KL:[[", c.body, "]][1.5][2.5]\n;m__print__;__min:[1]\nend\n", reps)
			w := startWatch()
			rd := NewReader(src, "line.log")
			rd.Values = []string{"__KL:"}
			var n, chunks int64
			var sum, sum64 float64
			exact := true
			var tail []item
			for rd.Scan() {
				r := rd.Record()
				if r == nil {
					t.Fatalf("unexpected %v", rd.SyntaxError())
				}
				if r.Kind != Values || r.Output != 0 {
					tail = append(tail, item{Kind: r.Kind, Node: r.Node, Output: r.Output, Vals: hex32(r.Values), Line: r.Line})
					continue
				}
				if r.Line != 2 || r.Node != "big" || r.Chunk != int(chunks) || r.Bad || r.Truncated {
					t.Fatalf("chunk %d: %+v", chunks, r)
				}
				chunks++
				n += int64(len(r.Values))
				for _, v := range r.Values {
					sum += float64(v)
				}
				if r.Values64 == nil {
					exact = false
				}
				for _, d := range r.Values64 {
					sum64 += d
				}
				if chunks%1000 == 0 {
					w.sample()
				}
			}
			w.sample()
			counts := rd.Counts()
			if rd.Err() != nil {
				t.Fatal(rd.Err())
			}
			if want := int64(len("start\n;big__print__;__KL:[[")) + reps*int64(len(c.body)) +
				int64(len("]][1.5][2.5]\n;m__print__;__min:[1]\nend\n")); counts.Bytes != want {
				t.Fatalf("read %d bytes, want %d", counts.Bytes, want)
			}
			if n != reps*perBody || sum != float64(reps)*c.sum || exact != c.ints || c.ints && sum64 != sum {
				t.Fatalf("%d values summing to %v (exact %v, %v), want %d summing to %v (exact %v)",
					n, sum, exact, sum64, reps*perBody, float64(reps)*c.sum, c.ints)
			}
			if len(tail) != 3 || tail[0].Output != 1 || tail[1].Output != 2 || tail[2].Kind != Min || tail[2].Line != 3 {
				t.Fatalf("after the long tensor: %v", tail)
			}
			if counts.Lines != 4 || counts.ValueRecords != 3 || counts.Values != n+2 || counts.Records != 1 {
				t.Fatalf("counts %+v", counts)
			}
			var ms runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&ms)
			runtime.KeepAlive(rd)
			t.Logf("%d MB line, %d values in %d chunks: heap in use %d KiB after GC, max heap growth %d KiB, %d mallocs",
				counts.Bytes>>20, n, chunks, ms.HeapInuse>>10, (w.maxAlloc-w.base)>>10, ms.Mallocs-w.mallocs)
			if ms.HeapInuse > 32<<20 || w.maxAlloc-w.base > 32<<20 {
				t.Errorf("heap in use %d MiB, growth %d MiB; want < 32 MiB", ms.HeapInuse>>20, (w.maxAlloc-w.base)>>20)
			}
			if m := ms.Mallocs - w.mallocs; m > 2000 {
				t.Errorf("%d allocations for %d chunks", m, chunks)
			}
		})
	}
}

// FuzzValues checks, on arbitrary input read with value records on at a
// fuzzed block and chunk size: no panic, and the items and counts equal
// the reference's.
func FuzzValues(f *testing.F) {
	for _, c := range valueCases {
		f.Add([]byte(c.in), uint8(0), uint8(0), c.o.allValues)
		f.Add([]byte(c.in), uint8(5), uint8(2), !c.o.allValues)
	}
	f.Add(genValueLog(rand.New(rand.NewPCG(1, 2)), 20), uint8(3), uint8(1), false)
	f.Fuzz(func(t *testing.T, data []byte, block, chunk uint8, all bool) {
		o := readerOpts{block: int(block%64) + 1, async: -1, chunk: int(chunk%8) + 1}
		if block >= 128 {
			o.async = 1 // small blocks through the prefetching goroutine
		}
		if block >= 192 {
			o.block, o.async = 0, 0 // default size, prefetching goroutine
		}
		if chunk >= 128 {
			o.chunk = 0 // MaxChunk
		}
		o.values = []string{"__KL:", "hello"}
		o.allValues = all
		if len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b {
			return // gzip: not the reference's input
		}
		got, c, err := readAll(t, data, o)
		if err != nil {
			t.Fatalf("%+v: Err() = %v", o, err)
		}
		want, wc := reference(data, o)
		if d := diffItems(got, want); d != "" {
			t.Fatalf("%+v: reader and reference differ on %q:\n%s", o, data, d)
		}
		if c != wc {
			t.Fatalf("%+v: counts differ on %q:\n got %+v\nwant %+v", o, data, c, wc)
		}
	})
}

// BenchmarkReaderValues reads 64 MiB of value lines (a Conv2D output of
// 56×56×64 floats per line, as `insert-logging -message "__KL:"
// -summarize -1` logs it) and reports values per second.
func BenchmarkReaderValues(b *testing.B) {
	for _, c := range []struct {
		name string
		gen  func() ([]byte, int64)
	}{
		{"6digits", func() ([]byte, int64) { return genValueLines(64<<20, 6, false, 1, 3) }},
		{"9digits", func() ([]byte, int64) { return genValueLines(64<<20, 9, false, 2, 3) }},
		{"9digits-small", func() ([]byte, int64) { return genValueLines(64<<20, 9, false, 5, 1e-4) }},
		{"nested", func() ([]byte, int64) { return genValueLines(64<<20, 6, true, 3, 3) }},
		{"quantized", func() ([]byte, int64) { return genValueLines(64<<20, 0, false, 4, 3) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			data, values := c.gen()
			runtime.GC() // not during the timed loop
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				rd := NewReader(bytes.NewReader(data), "bench.log")
				rd.Values = []string{"__KL:"}
				var n int64
				for rd.Scan() {
					if r := rd.Record(); r != nil {
						n += int64(len(r.Values))
					}
				}
				if n != values || rd.Err() != nil {
					b.Fatalf("%d values, want %d (%v)", n, values, rd.Err())
				}
			}
			b.ReportMetric(float64(values)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mvalues/s")
		})
	}
}

// genValueLines builds about size bytes of value lines and returns them
// with their number of values. digits is 6 for values that round-trip
// with %.6g (TF prints 6 digits), 9 for arbitrary float32 (TF then prints
// 9), 0 for quantized int32 data followed by [min][max]. The values of a
// tensor are normal with a standard deviation drawn around scale (below
// about 1e-4 %g writes exponents).
func genValueLines(size, digits int, nested bool, seed uint64, scale float64) ([]byte, int64) {
	rng := rand.New(rand.NewPCG(seed, 11))
	var b bytes.Buffer
	b.Grow(size + 4<<20)
	var values int64
	const perLine, channels = 56 * 56 * 64, 64
	for l := 0; b.Len() < size; l++ {
		b.WriteString("I0108 10:22:14.123 12345 logging_ops.cc:79] ;")
		b.WriteString(noisyNames[l%len(noisyNames)])
		b.WriteString("__print__;__KL:[")
		sd := rng.ExpFloat64() * scale
		for i := range perLine {
			if nested && i%channels == 0 {
				if i > 0 {
					b.WriteByte(']')
				}
				b.WriteByte('[')
			} else if i > 0 {
				b.WriteByte(' ')
			}
			x := float32(rng.NormFloat64() * sd)
			switch digits {
			case 0:
				b.WriteString(strconv.Itoa(int(x * 1e6)))
			case 6:
				s := strconv.FormatFloat(float64(x), 'g', 6, 32)
				b.WriteString(s) // TF's Print writes this when it round-trips
			default:
				b.WriteString(tfFloat(x))
			}
		}
		if nested {
			b.WriteByte(']')
		}
		b.WriteByte(']')
		values += perLine
		if digits == 0 {
			b.WriteString("[-" + tfFloat(float32(sd)) + "][" + tfFloat(float32(sd)) + "]")
			values += 2
		}
		b.WriteByte('\n')
		if l%4 == 0 {
			b.WriteString(noiseLines[l%len(noiseLines)])
			b.WriteByte('\n')
		}
	}
	return b.Bytes(), values
}

// TestValueLinesGenerator checks the benchmark input parses as intended.
func TestValueLinesGenerator(t *testing.T) {
	for _, digits := range []int{0, 6, 9} {
		data, values := genValueLines(1<<20, digits, digits == 6, 5, 3)
		_, c, err := readAll(t, data, kl)
		if err != nil || c.Values != values || c.Malformed != 0 {
			t.Errorf("digits %d: %+v, want %d values (%v)", digits, c, values, err)
		}
		per := float64(len(data)) / float64(values)
		t.Logf("digits %d: %.1f bytes per value", digits, per)
		if math.IsNaN(per) || per < 3 || per > 16 {
			t.Errorf("digits %d: %.1f bytes per value", digits, per)
		}
	}
}

// TestScanRun checks the tensor loop's fast number paths against the
// reference number rule on edge cases and random spellings: whenever they
// accept a value, the value is strconv's.
func TestScanRun(t *testing.T) {
	check := func(tok string) bool {
		for _, term := range []string{" ", "]"} {
			s := []byte(tok + term + strings.Repeat("9", scanRunRoom))
			var dst [1]float32
			var dst64 [1]float64
			n, j := scanRun(s, 0, 1, dst[:])
			if ni, ji := scanIntRun(s, 0, 1, dst[:], dst64[:]); ni == 1 {
				if n == 1 && j != ji {
					t.Fatalf("scanRun and scanIntRun end %q at %d and %d", s, j, ji)
				}
				if d, _ := strconv.ParseFloat(tok, 64); math.Float64bits(d) != math.Float64bits(dst64[0]) || !refIsInt(tok) {
					t.Fatalf("scanIntRun(%q) = %v exactly, want %v", s, dst64[0], d)
				}
				n, j = ni, ji
			}
			if n != 1 {
				return false
			}
			f := dst[0]
			want, wok := refNumber(tok)
			wantJ := len(tok) // after a ' ', at a ']'
			if term == " " {
				wantJ++
			}
			if !wok || j != wantJ || math.Float32bits(f) != math.Float32bits(want) {
				t.Fatalf("scanValue(%q) = %v, %d; want %v (ok %v), %d", s, f, j, want, wok, wantJ)
			}
		}
		return true
	}
	for _, tok := range []string{"0", "-0", "0.0", "-0.000", "5.", ".5", "1.5", "-2.25", "16777217", "16777216.5",
		"0.123456791", "-0.00123456791", "1234567.12345678", "12345678", "0.1234567890123456", "0.00000000000000001",
		"9999999.999999999", "1.17549435e-38", "0.0000000000000000000000000000000000000117549435", "3.40282347e+38",
		"340282356779733661637539395458142568448", "-12345678", "99999999", "+5", "007", "-",
		"1e-05", "-1.23457e-05", "1.5e+10", "9.99999e-23", "1e+22", "1e+23", "1e-22", "1e-23", "4.2e+38", "1.17549e-38",
		"16777217e+00", "1.23456788e-14", "2.5E-03", "1e5", "1e-5", "1e-005", "1.5e+1x"} {
		check(tok)
	}
	rng := rand.New(rand.NewPCG(3, 5))
	accepted := 0
	for range 200000 {
		var tok string
		switch rng.IntN(5) {
		case 4:
			tok = strconv.FormatInt(rng.Int64N(1<<31)-1<<30, 10)
		case 0:
			tok = tfFloat(math.Float32frombits(rng.Uint32()))
		case 1:
			tok = tfFloat(float32(rng.NormFloat64() * math.Pow(10, float64(rng.IntN(14)-7))))
		case 2:
			tok = strconv.FormatFloat(rng.NormFloat64()*1e3, 'f', rng.IntN(18), 64)
		default: // halfway cases and their neighbours
			v := float64(rng.Uint32()>>8) + 0.5
			tok = strconv.FormatFloat(v*math.Pow(2, float64(rng.IntN(20)-10)), 'f', -1, 64)
		}
		if check(tok) {
			accepted++
		}
	}
	if accepted < 60000 {
		t.Errorf("fast paths took only %d of 200000 values, want at least 60000", accepted)
	}
}

// BenchmarkScanRun times scanRun alone, the pure Go inner loop of value
// parsing, over 1M values as TF's Print writes them: "%.6g" (6digits),
// "%.9g" (9digits), and small values written with exponents. It reports
// values per second on one core.
func BenchmarkScanRun(b *testing.B) { benchScan(b, scanRun) }

// BenchmarkScanFloats is BenchmarkScanRun for scanFloats, the loop the
// reader uses (SSSE3 assembly on amd64).
func BenchmarkScanFloats(b *testing.B) { benchScan(b, scanFloats) }

func benchScan(b *testing.B, scanRunF func([]byte, int, int, []float32) (int, int)) {
	for _, c := range []struct {
		name   string
		digits int
		scale  float64
	}{{"6digits", 6, 3}, {"9digits", 9, 3}, {"exponents", 6, 1e-5}} {
		b.Run(c.name, func(b *testing.B) {
			rng := rand.New(rand.NewPCG(uint64(c.digits), 5))
			const count = 1 << 20
			var buf []byte
			for i := range count {
				if i > 0 {
					buf = append(buf, ' ')
				}
				x := float32(rng.NormFloat64() * c.scale)
				if c.digits == 6 {
					buf = strconv.AppendFloat(buf, float64(x), 'g', 6, 32)
				} else {
					buf = strconv.AppendFloat(buf, float64(x), 'g', 9, 32)
				}
			}
			buf = append(buf, ']')
			lim := len(buf)
			buf = append(buf, make([]byte, scanRunRoom)...)
			dst := make([]float32, 4096)
			b.SetBytes(int64(lim))
			b.ReportAllocs()
			for b.Loop() {
				total := 0
				for p := 0; p < lim-1; {
					n, q := scanRunF(buf, p, lim, dst)
					if n == 0 {
						b.Fatalf("scanRun stopped at %q", buf[p:min(p+20, lim)])
					}
					total, p = total+n, q
				}
				if total != count {
					b.Fatalf("%d values, want %d", total, count)
				}
			}
			b.ReportMetric(float64(count)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mvalues/s")
		})
	}
}
