package logparse

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"unsafe"
)

var (
	inf    = float32(math.Inf(1))
	negInf = float32(math.Inf(-1))
	nan    = float32(math.NaN())
	negZ   = float32(math.Copysign(0, -1))
)

// spellingCase is one input with the items both modes must produce. The
// expected values are the literal text of the input rounded to float32 (Go
// constant conversion rounds correctly), so each expectation's source is
// the input line next to it.
type spellingCase struct {
	name   string
	in     string
	want   []item // default mode
	counts Counts // default mode; Bytes and Lines are checked separately
	tf     []item // TFCompat
}

var long70k = strings.Repeat("noise ", 70000/6) // a line over 64 KiB

var spellingCases = []spellingCase{
	{
		name: "plain",
		in:   ";v0/resnet_v10/conv2/conv2d/Conv2D_eightbit_requant_range__print__;__requant_min_max:[-5.75943518][3.43590856]\n",
		want: []item{rq(1, "v0/resnet_v10/conv2/conv2d/Conv2D_eightbit_requant_range", -5.75943518, 3.43590856)},
		tf:   []item{rq(1, "v0/resnet_v10/conv2/conv2d/Conv2D_eightbit_requant_range", -5.75943518, 3.43590856)},
	},
	{
		name: "glog prefix",
		in:   "I0108 10:22:14.123 12345 logging_ops.cc:79] ;conv/Conv2D_eightbit_requant_range__print__;__requant_min_max:[-20.887871][22.274715]\n",
		want: []item{rq(1, "conv/Conv2D_eightbit_requant_range", -20.887871, 22.274715)},
		tf:   []item{rq(1, "conv/Conv2D_eightbit_requant_range", -20.887871, 22.274715)},
	},
	{
		name: "prefix without semicolon is part of the name",
		in:   "I0108 logging_ops.cc:79] conv__print__;__requant_min_max:[1][2]\n",
		want: []item{rq(1, "I0108 logging_ops.cc:79] conv", 1, 2)},
		tf:   []item{rq(1, "I0108 logging_ops.cc:79] conv", 1, 2)},
	},
	{
		name: "joined 2",
		in:   ";A__print__;__requant_min_max:[0][6.29];B__print__;__requant_min_max:[0][3.73]\n",
		want: []item{rq(1, "A", 0, 6.29), rq(1, "B", 0, 3.73)},
		tf:   []item{rq(1, "B", 0, 3.73)},
	},
	{
		name: "joined 3",
		in: "noise\n;A__print__;__requant_min_max:[1][2];B__print__;__requant_min_max:[3][4];" +
			"C__print__;__requant_min_max:[5][6]\n",
		want: []item{rq(2, "A", 1, 2), rq(2, "B", 3, 4), rq(2, "C", 5, 6)},
		tf:   []item{rq(2, "C", 5, 6)},
	},
	{
		name: "zero and negative zero",
		in:   ";n__print__;__requant_min_max:[-0][0]\n",
		want: []item{rq(1, "n", negZ, 0)},
		tf:   []item{rq(1, "n", negZ, 0)},
	},
	{
		name: "integers",
		in:   ";n__print__;__requant_min_max:[-3][12]\n;n__print__;__requant_min_max:[+7][16777217]\n",
		want: []item{rq(1, "n", -3, 12), rq(2, "n", 7, 16777216)},
		tf:   []item{rq(1, "n", -3, 12), rq(2, "n", 7, 16777216)},
	},
	{
		name: "exponents",
		in:   ";n__print__;__requant_min_max:[2.4e-05][1E+10]\n;n__print__;__requant_min_max:[-1.5e3][3.4028235e38]\n",
		want: []item{rq(1, "n", 2.4e-05, 1e10), rq(2, "n", -1500, math.MaxFloat32)},
		tf:   []item{rq(1, "n", 2.4e-05, 1e10), rq(2, "n", -1500, math.MaxFloat32)},
	},
	{
		name: "nan and inf",
		in: ";n__print__;__requant_min_max:[nan][inf]\n;n__print__;__requant_min_max:[-inf][NaN]\n" +
			";n__print__;__requant_min_max:[-nan][INF]\n",
		want: []item{rq(1, "n", nan, inf), rq(2, "n", negInf, nan), rq(3, "n", nan, inf)},
		tf:   []item{rq(1, "n", nan, inf), rq(2, "n", negInf, nan), rq(3, "n", nan, inf)},
	},
	{
		name: "out of float32 range",
		in:   ";n__print__;__requant_min_max:[-1e50][1e-50]\n",
		want: []item{rq(1, "n", negInf, 0)},
		tf:   []item{rq(1, "n", negInf, 0)},
	},
	{
		name: "CRLF",
		in:   ";a__print__;__requant_min_max:[1.5][2.5]\r\n;b__print__;__min:[-1]\r\n",
		want: []item{rq(1, "a", 1.5, 2.5), rec(2, Min, "b", -1, 0)},
		tf:   []item{rq(1, "a", 1.5, 2.5)},
	},
	{
		name: "bare CR progress text before a record",
		in:   "(Reading database ... \r(Reading database ... 5%\r;n__print__;__requant_min_max:[0][1]\n",
		want: []item{rq(1, "n", 0, 1)},
		tf:   []item{rq(1, "n", 0, 1)},
	},
	{
		name: "progress text without semicolon joins the name",
		in:   "50%\rn__print__;__requant_min_max:[0][1]\n",
		want: []item{rq(1, "50%\rn", 0, 1)},
		tf:   []item{rq(1, "50%\rn", 0, 1)},
	},
	{
		name: "line over 64 KiB",
		in:   long70k + ";n__print__;__requant_min_max:[1][2]\n;m__print__;__requant_min_max:[3][4]\n",
		want: []item{rq(1, "n", 1, 2), rq(2, "m", 3, 4)},
		tf:   []item{rq(1, "n", 1, 2), rq(2, "m", 3, 4)},
	},
	{
		name: "noise lines",
		in: "WARNING:tensorflow:From x.py:35: deprecated; use y [instead]\nKMP_AFFINITY=granularity=fine\n" +
			";;;\n[1][2]\n__requant_min_max:[1][2]\n;n;__requant_min_max:[1][2]\n__print__\n",
		want: nil,
		tf:   nil,
	},
	{
		name: "min and max records",
		in:   ";m_eightbit_min__print__;__min:[-1.5]\n;m_eightbit_max__print__;__max:[2.5]\n",
		want: []item{rec(1, Min, "m_eightbit_min", -1.5, 0), rec(2, Max, "m_eightbit_max", 0, 2.5)},
		tf:   nil,
	},
	{
		name:   "other prefixes are skipped",
		in:     ";k__print__;__KL:[1 2 3]\n;u__print__;hello [1][2]\n;e__print__;\n;__print__;__KL:[0]\n",
		want:   nil,
		counts: Counts{OtherPrints: 4},
		tf:     nil,
	},
	{
		name: "final line without newline",
		in:   "start\n;n__print__;__requant_min_max:[1][2]",
		want: []item{rq(2, "n", 1, 2)},
		tf:   []item{rq(2, "n", 1, 2)},
	},
	{
		name: "spaces inside brackets",
		in:   ";n__print__;__requant_min_max:[ 1.5 ][\t-2\t]\n;m__print__;__requant_min_max:[ 1 ][2]\n",
		want: []item{rq(1, "n", 1.5, -2), rq(2, "m", 1, 2)},
		tf:   []item{rq(1, "n", 1.5, -2), rq(2, "m", 1, 2)},
	},
	{
		name: "names with spaces and slashes",
		in:   ";a b/c:0 d__print__;__requant_min_max:[1][2]\n",
		want: []item{rq(1, "a b/c:0 d", 1, 2)},
		tf:   []item{rq(1, "a b/c:0 d", 1, 2)},
	},
	{
		name: "text after the record",
		in:   ";n__print__;__requant_min_max:[1][2]junk\n;m__print__;__requant_min_max:[3][4]]\n",
		want: []item{rq(1, "n", 1, 2), rq(2, "m", 3, 4)},
		tf:   []item{rq(1, "n", 1, 2), serr(2, `extra ']' after max value in __requant_min_max record for node "m"`)},
	},
	{
		name: "bad max value",
		in:   ";n__print__;__requant_min_max:[1.5][abc]\n;ok__print__;__requant_min_max:[1][2]\n",
		want: []item{serr(1, `bad max value "abc" in __requant_min_max record for node "n"`), rq(2, "ok", 1, 2)},
		tf:   []item{serr(1, `bad max value "abc" in __requant_min_max record for node "n"`), rq(2, "ok", 1, 2)},
	},
	{
		name: "bad min value",
		in:   "x\n;n__print__;__requant_min_max:[12x][1]\n",
		want: []item{serr(2, `bad min value "12x" in __requant_min_max record for node "n"`)},
		tf:   []item{serr(2, `bad min value "12x" in __requant_min_max record for node "n"`)},
	},
	{
		name: "missing max value",
		in:   ";n__print__;__requant_min_max:[1.5]\n",
		want: []item{serr(1, `missing max value in __requant_min_max record for node "n"`)},
		tf:   []item{serr(1, `missing max value in __requant_min_max record for node "n"`)},
	},
	{
		name: "unterminated at end of line",
		in:   ";n__print__;__requant_min_max:[1.5][2\n;n__print__;__requant_min_max:[1.5][2\r\n",
		want: []item{
			serr(1, `unterminated max value "2" in __requant_min_max record for node "n"`),
			serr(2, `unterminated max value "2" in __requant_min_max record for node "n"`),
		},
		tf: []item{
			serr(1, `unterminated max value in __requant_min_max record for node "n"`),
			serr(2, `unterminated max value in __requant_min_max record for node "n"`),
		},
	},
	{
		name: "unterminated at end of input",
		in:   ";n__print__;__requant_min_max:[1.5",
		want: []item{serr(1, `unterminated min value "1.5" in __requant_min_max record for node "n"`)},
		tf:   []item{serr(1, `unterminated min value in __requant_min_max record for node "n"`)},
	},
	{
		name: "no brackets",
		in:   ";n__print__;__requant_min_max:\n;n__print__;__requant_min_max: [1][2]\n",
		want: []item{
			serr(1, `missing min value in __requant_min_max record for node "n"`),
			serr(2, `missing min value in __requant_min_max record for node "n"`),
		},
		tf: []item{
			serr(1, `missing min value in __requant_min_max record for node "n"`),
			serr(2, `missing min value in __requant_min_max record for node "n"`),
		},
	},
	{
		name: "empty node name",
		in:   ";__print__;__requant_min_max:[1][2]\n",
		want: []item{serr(1, "empty node name in __requant_min_max record")},
		tf:   []item{rq(1, "", 1, 2)}, // TF accepts an empty name
	},
	{
		name: "value longer than 64 bytes",
		in:   ";n__print__;__requant_min_max:[1][" + strings.Repeat("1", 65) + "]\n",
		want: []item{serr(1, `max value longer than 64 bytes in __requant_min_max record for node "n"`)},
		tf:   []item{serr(1, `max value longer than 31 bytes in __requant_min_max record for node "n"`)},
	},
	{
		name: "value of 64 bytes",
		in:   ";n__print__;__requant_min_max:[1][" + strings.Repeat("0", 62) + "10]\n",
		want: []item{rq(1, "n", 1, 10)},
		tf:   []item{serr(1, `max value longer than 31 bytes in __requant_min_max record for node "n"`)},
	},
	{
		name: "single-value errors",
		in:   ";a__print__;__min:[x]\n;b__print__;__max:\n;c__print__;__min:[1\n",
		want: []item{
			serr(1, `bad value "x" in __min record for node "a"`),
			serr(2, `missing value in __max record for node "b"`),
			serr(3, `unterminated value "1" in __min record for node "c"`),
		},
		tf: nil,
	},
	{
		name: "malformed record swallowing the next one",
		in:   ";a__print__;__requant_min_max:[1.5;b__print__;__requant_min_max:[1][2]\n",
		want: []item{
			serr(1, `bad min value "1.5;b__print__;__requant_min_max:[1" in __requant_min_max record for node "a"`),
			rq(1, "b", 1, 2),
		},
		tf: []item{rq(1, "b", 1, 2)},
	},
	{
		name: "TF drops a line whose last record is malformed",
		in:   ";a__print__;__requant_min_max:[1][2];b__print__;__requant_min_max:[3][x]\n",
		want: []item{rq(1, "a", 1, 2), serr(1, `bad max value "x" in __requant_min_max record for node "b"`)},
		tf: []item{serr(1, `bad max value "x" in __requant_min_max record for node "b"`+
			" (TensorFlow skips the whole line, dropping 1 well-formed record(s) before it)")},
	},
	{
		name: "TF takes the last piece even without __print__ before it",
		in:   ";a__print__;__requant_min_max:[1][2];junk;__requant_min_max:[3][4]\n",
		want: []item{rq(1, "a", 1, 2)},
		tf: []item{serr(1, "__requant_min_max record not preceded by NAME__print__"+
			" (TensorFlow skips the whole line, dropping 1 well-formed record(s) before it)")},
	},
	{
		name: "TF number spellings",
		in: ";a__print__;__requant_min_max:[ ][0x1A]\n;b__print__;__requant_min_max:[1_0][infinity]\n" +
			";c__print__;__requant_min_max:[0x1p-2][.5]\n",
		want: []item{
			serr(1, `bad min value " " in __requant_min_max record for node "a"`),
			rq(2, "b", 10, inf),   // strconv.ParseFloat accepts both
			rq(3, "c", 0.25, 0.5), // and hex floats
		},
		tf: []item{
			rq(1, "a", 0, 26), // safe_strtof: blank is 0, hex integers allowed
			serr(2, `bad min value "1_0" in __requant_min_max record for node "b"`),
			serr(3, `bad min value "0x1p-2" in __requant_min_max record for node "c"`),
		},
	},
	{
		name: "empty input",
		in:   "",
	},
}

// wantCounts completes a case's expected default-mode counts: Bytes and
// Lines from the input, the rest from the expected items (OtherPrints is
// given literally).
func (c spellingCase) wantCounts() Counts {
	w := c.counts
	w.Bytes = int64(len(c.in))
	w.Lines = int64(len(refLines(c.in)))
	perLine := map[int64]int{}
	for _, it := range c.want {
		if it.Err {
			w.Malformed++
			continue
		}
		w.Records++
		perLine[it.Line]++
		if !(&Record{Min: math.Float32frombits(it.Min), Max: math.Float32frombits(it.Max)}).Finite() {
			w.NonFinite++
		}
	}
	for _, n := range perLine {
		w.RecordLines++
		if n >= 2 {
			w.JoinedLines++
		}
	}
	return w
}

// blockSizes are the read sizes every spelling is tried with, so that block
// boundaries fall at every position of the short inputs.
func blockSizes() []int {
	var s []int
	for b := 1; b <= 64; b++ {
		s = append(s, b)
	}
	return append(s, 1<<20, 0) // 0 = default
}

func TestSpellings(t *testing.T) {
	for _, c := range spellingCases {
		t.Run(c.name, func(t *testing.T) {
			for _, bs := range blockSizes() {
				got, counts, err := readAll(t, []byte(c.in), readerOpts{block: bs})
				if err != nil {
					t.Fatalf("block %d: Err() = %v", bs, err)
				}
				if d := diffItems(got, c.want); d != "" {
					t.Fatalf("block %d: default mode:\n%s", bs, d)
				}
				if w := c.wantCounts(); counts != w {
					t.Fatalf("block %d: counts\n got %+v\nwant %+v", bs, counts, w)
				}
				got, _, err = readAll(t, []byte(c.in), readerOpts{block: bs, tf: true})
				if err != nil {
					t.Fatalf("block %d: TFCompat Err() = %v", bs, err)
				}
				if d := diffItems(got, c.tf); d != "" {
					t.Fatalf("block %d: TFCompat:\n%s", bs, d)
				}
				for _, tf := range []bool{false, true} {
					checkAgainstReference(t, []byte(c.in), readerOpts{block: bs, tf: tf})
				}
			}
		})
	}
}

// TestSpellingsSmallNames reruns the spellings with tiny name limits so
// that the "name too long" paths and the buffer's dropped-segment logic run
// at every block boundary; the reference applies the same limit.
func TestSpellingsSmallNames(t *testing.T) {
	for _, c := range spellingCases {
		t.Run(c.name, func(t *testing.T) {
			for _, maxName := range []int{1, 2, 9, 20} {
				for _, bs := range []int{1, 2, 3, 5, 8, 13, 64, 1 << 20} {
					for _, tf := range []bool{false, true} {
						checkAgainstReference(t, []byte(c.in), readerOpts{block: bs, maxName: maxName, tf: tf})
					}
				}
			}
		})
	}
}

func TestNameTooLong(t *testing.T) {
	name := strings.Repeat("n", 21)
	in := ";" + name + "__print__;__requant_min_max:[1][2]\n;" + name[:20] + "__print__;__requant_min_max:[1][2]\n"
	for _, tf := range []bool{false, true} {
		for _, bs := range []int{1, 7, 1 << 20} {
			got, _, _ := readAll(t, []byte(in), readerOpts{block: bs, maxName: 20, tf: tf})
			want := []item{
				serr(1, "node name longer than 20 bytes in __requant_min_max record"),
				rq(2, name[:20], 1, 2),
			}
			if d := diffItems(got, want); d != "" {
				t.Errorf("tf=%v block %d:\n%s", tf, bs, d)
			}
		}
	}
}

// TestRecordAtEndOfLongLine puts a record at the end of a 10 MiB line of
// noise (and of a 10 MiB line with no ';', whose name is then too long).
func TestRecordAtEndOfLongLine(t *testing.T) {
	noise := bytes.Repeat([]byte("progress 42% [=====>     ] eta 1s\r"), 10<<20/35)
	good := append(append([]byte("head\n"), noise...), ";n__print__;__requant_min_max:[1][2]\nx\n"...)
	bad := append(append([]byte("head\n"), noise...), "n__print__;__requant_min_max:[1][2]\nx\n"...)
	for _, bs := range []int{4096, 65536, 1 << 20, 0} {
		for _, tf := range []bool{false, true} {
			o := readerOpts{block: bs, tf: tf}
			got, c, err := readAll(t, good, o)
			if err != nil || diffItems(got, []item{rq(2, "n", 1, 2)}) != "" || c.Lines != 3 {
				t.Errorf("%+v: got %v, %+v, %v", o, got, c, err)
			}
			got, _, _ = readAll(t, bad, o)
			want := []item{serr(2, "node name longer than 65536 bytes in __requant_min_max record")}
			if d := diffItems(got, want); d != "" {
				t.Errorf("%+v: no ';' in the line:\n%s", o, d)
			}
		}
	}
}

func TestRecordValidUntilNextScan(t *testing.T) {
	rd := NewReader(strings.NewReader(";a__print__;__min:[1]\n;b__print__;__min:[2]\n"), "x")
	if !rd.Scan() {
		t.Fatal("no first record")
	}
	first := rd.Record()
	node := first.Node
	if !rd.Scan() {
		t.Fatal("no second record")
	}
	if rd.Record() != first || first.Node != "b" || node != "a" {
		t.Errorf("Record is not the reused struct, or Node strings changed: %v %q", first, node)
	}
}

func TestInternedNames(t *testing.T) {
	rd := NewReader(strings.NewReader(";abc__print__;__min:[1]\n;abc__print__;__min:[2]\n"), "x")
	var names []string
	for rd.Scan() {
		names = append(names, rd.Record().Node)
	}
	if len(names) != 2 || names[0] != "abc" || unsafe.StringData(names[0]) != unsafe.StringData(names[1]) {
		t.Errorf("names %q not interned", names)
	}
}

func TestGzip(t *testing.T) {
	var plain bytes.Buffer
	for _, c := range spellingCases {
		plain.WriteString(c.in)
		plain.WriteString("\n")
	}
	data := plain.Bytes()
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(data[:len(data)/2])
	zw.Close()
	zw = gzip.NewWriter(&z) // a second member: gzip streams may be concatenated
	zw.Write(data[len(data)/2:])
	zw.Close()
	for _, tf := range []bool{false, true} {
		for _, bs := range []int{1, 3, 4096, 0} {
			o := readerOpts{block: bs, tf: tf}
			want, wc, _ := readAll(t, data, o)
			got, gc, err := readAll(t, z.Bytes(), o)
			if err != nil {
				t.Fatalf("%+v: %v", o, err)
			}
			if d := diffItems(got, want); d != "" || gc != wc {
				t.Fatalf("%+v: gzip differs: %s\n%+v\n%+v", o, d, gc, wc)
			}
		}
	}

	// A truncated stream: the records before the damage are returned, then
	// Err names the input and wraps the cause.
	cut := z.Bytes()[:z.Len()/3]
	rd := NewReader(bytes.NewReader(cut), "cut.log.gz")
	n := 0
	for rd.Scan() {
		n++
	}
	if err := rd.Err(); !errors.Is(err, io.ErrUnexpectedEOF) || !strings.HasPrefix(err.Error(), "cut.log.gz: ") {
		t.Errorf("truncated gzip: Err() = %v", err)
	}
	if n == 0 {
		t.Errorf("truncated gzip: no items before the damage")
	}

	// A bad header after the magic bytes.
	rd = NewReader(bytes.NewReader([]byte{0x1f, 0x8b, 0, 0}), "bad.gz")
	if rd.Scan() || rd.Err() == nil || !strings.Contains(rd.Err().Error(), "bad.gz") {
		t.Errorf("bad gzip header: Err() = %v", rd.Err())
	}
}

type errAfter struct {
	data []byte
	err  error
}

func (e *errAfter) Read(p []byte) (int, error) {
	if len(e.data) == 0 {
		return 0, e.err
	}
	n := copy(p, e.data)
	e.data = e.data[n:]
	return n, nil
}

func TestIOError(t *testing.T) {
	boom := errors.New("boom")
	for _, bs := range []int{1, 5, 0} {
		src := &errAfter{data: []byte(";a__print__;__min:[1]\n;b__print__;__min:[2]\n;c__pr"), err: boom}
		got, c, err := collect(t, newTestReader(src, "broken.log", readerOpts{block: bs}))
		want := []item{rec(1, Min, "a", 1, 0), rec(2, Min, "b", 2, 0)}
		if d := diffItems(got, want); d != "" {
			t.Errorf("block %d: %s", bs, d)
		}
		if !errors.Is(err, boom) || err.Error() != "broken.log: boom" {
			t.Errorf("block %d: Err() = %v", bs, err)
		}
		if c.Lines != 3 {
			t.Errorf("block %d: Lines = %d, want 3", bs, c.Lines)
		}
	}
	// An error on the very first read (while looking for the gzip magic).
	rd := NewReader(&errAfter{err: boom}, "x")
	if rd.Scan() || !errors.Is(rd.Err(), boom) {
		t.Errorf("first read error: Err() = %v", rd.Err())
	}
}

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.log")
	if err := os.WriteFile(path, []byte(";a__print__;__max:[3]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rd, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := collect(t, rd)
	if err != nil || diffItems(got, []item{rec(1, Max, "a", 0, 3)}) != "" || rd.name != path {
		t.Errorf("Open(%q): %v %v", path, got, err)
	}
	if err := rd.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if rd.Scan() {
		t.Errorf("Scan after Close returned true")
	}

	missing := filepath.Join(dir, "missing.log")
	if _, err := Open(missing); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Errorf("Open(missing) error = %v", err)
	}
	if _, err := Open(dir); !errors.Is(err, syscall.EISDIR) || !strings.Contains(err.Error(), dir) {
		t.Errorf("Open(dir) error = %v", err)
	}
	if os.Getuid() != 0 { // root reads anything
		unreadable := filepath.Join(dir, "secret.log")
		os.WriteFile(unreadable, nil, 0)
		if _, err := Open(unreadable); !errors.Is(err, fs.ErrPermission) || !strings.Contains(err.Error(), unreadable) {
			t.Errorf("Open(unreadable) error = %v", err)
		}
	}
}

func TestOpenStdin(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "stdin")
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("noise\n;s__print__;__requant_min_max:[-1][1]\n")
	f.Seek(0, io.SeekStart)
	old := os.Stdin
	os.Stdin = f
	t.Cleanup(func() { os.Stdin = old; f.Close() })

	rd, err := Open("-")
	if err != nil {
		t.Fatal(err)
	}
	if !rd.Scan() {
		t.Fatalf("no record from stdin: %v", rd.Err())
	}
	if r := rd.Record(); r.File != "<stdin>" || r.Line != 2 || r.Node != "s" {
		t.Errorf("stdin record = %+v", r)
	}
	if err := rd.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if _, err := f.Stat(); err != nil {
		t.Errorf("Close closed stdin: %v", err)
	}
}

func TestSyntaxErrorString(t *testing.T) {
	rd := NewReader(strings.NewReader(strings.Repeat("\n", 18232)+";n__print__;__requant_min_max:[12x][1]\n"), "resnet50.log")
	if !rd.Scan() || rd.SyntaxError() == nil {
		t.Fatal("no SyntaxError")
	}
	want := `resnet50.log:18233: bad min value "12x" in __requant_min_max record for node "n"`
	if got := rd.SyntaxError().Error(); got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

// TestTruncatedGzip: a gzip log cut short (in its header or in its data)
// is an error that says so, naming the file; the records before the cut
// are read.
func TestTruncatedGzip(t *testing.T) {
	var plain strings.Builder
	for i := range 20000 {
		plain.WriteString(";n" + strings.Repeat("x", i%7) + "__print__;__requant_min_max:[-" + string(rune('1'+i%9)) + ".25][" + string(rune('1'+i*7%9)) + ".5]\n")
	}
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write([]byte(plain.String()))
	w.Close()
	for _, cut := range []int{5, gz.Len() / 2, gz.Len() - 4} {
		r := NewReader(bytes.NewReader(gz.Bytes()[:cut]), "cut.log.gz")
		n := 0
		for r.Scan() {
			n++
		}
		err := r.Err()
		if err == nil || !strings.HasPrefix(err.Error(), "cut.log.gz: truncated gzip stream") || !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("cut at %d of %d bytes: %v after %d records, want \"cut.log.gz: truncated gzip stream\"", cut, gz.Len(), err, n)
		}
	}
	// A plain log cut short is no error: the last line simply ends early.
	r := NewReader(strings.NewReader(plain.String()[:1000]), "cut.log")
	for r.Scan() {
	}
	if err := r.Err(); err != nil {
		t.Errorf("plain log cut short: %v", err)
	}
}

// TestBOMBeforeName: a UTF-8 byte order mark at the start of a log (an
// editor's) is not part of the first node's name, with or without the ';'
// before it, in the default and the tf-compat parser.
func TestBOMBeforeName(t *testing.T) {
	for _, text := range []string{
		"\xef\xbb\xbfa__print__;__requant_min_max:[-1][1]\n",
		"\xef\xbb\xbf;a__print__;__requant_min_max:[-1][1]\n",
	} {
		for _, tf := range []bool{false, true} {
			r := NewReader(strings.NewReader(text), "bom.log")
			r.TFCompat = tf
			if !r.Scan() || r.Record() == nil || r.Record().Node != "a" {
				var got any
				if r.Record() != nil {
					got = r.Record().Node
				}
				t.Errorf("%q (tf-compat %v): node %q, want \"a\"", text, tf, got)
			}
		}
	}
}
