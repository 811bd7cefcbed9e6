package logparse

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"testing"
)

// This file holds the slow, obviously-correct reference parsers the tests
// compare the Reader with. They work on whole strings with strings.Split,
// following the rules in doc.go (default mode) and TensorFlow's
// ExtractMinMaxRecords (TFCompat) literally, and share no code with the
// Reader except tfStrtof (TF's number syntax, tested on its own in
// number_test.go).

// item is one thing a Reader hands back, in comparable form.
type item struct {
	Err  bool
	Kind Kind
	Node string
	Min  uint32 // float32 bits, so that -0 and NaN compare exactly
	Max  uint32
	Line int64
	Msg  string

	// Values records (Kind == Values); see vt in values_ref_test.go.
	VMsg          string
	Output, Chunk int
	Last          bool
	Trunc, Bad    bool
	Vals          string // the float32 bits of Values, in hex
	Ints          string // the float64 bits of Values64, in hex; "-" when nil
}

func (it item) String() string {
	if it.Err {
		return fmt.Sprintf("line %d: error %q", it.Line, it.Msg)
	}
	if it.Kind == Values {
		return it.valuesString()
	}
	return fmt.Sprintf("line %d: %v %q [%v][%v]", it.Line, it.Kind, it.Node,
		math.Float32frombits(it.Min), math.Float32frombits(it.Max))
}

func rec(line int64, kind Kind, node string, min, max float32) item {
	return item{Kind: kind, Node: node, Min: math.Float32bits(min), Max: math.Float32bits(max), Line: line}
}

func rq(line int64, node string, min, max float32) item {
	return rec(line, RequantMinMax, node, min, max)
}

func serr(line int64, msg string) item {
	return item{Err: true, Line: line, Msg: msg}
}

// readerOpts are the unexported knobs tests turn.
type readerOpts struct {
	block   int
	maxName int
	tf      bool
	async   int8 // 0 auto, 1 always, -1 never

	values    []string // Reader.Values
	allValues bool     // Reader.AllValues
	chunk     int      // values per chunk; 0 = MaxChunk
}

func newTestReader(r io.Reader, name string, o readerOpts) *Reader {
	rd := NewReader(r, name)
	rd.blockSize = o.block
	rd.maxName = o.maxName
	rd.TFCompat = o.tf
	rd.async = o.async
	rd.Values = o.values
	rd.AllValues = o.allValues
	rd.chunkMax = o.chunk
	return rd
}

// collect reads everything and checks the Reader's item invariants.
func collect(t testing.TB, rd *Reader) ([]item, Counts, error) {
	t.Helper()
	var items []item
	for rd.Scan() {
		r, e := rd.Record(), rd.SyntaxError()
		switch {
		case r != nil && e != nil:
			t.Fatalf("both Record and SyntaxError set: %v, %v", r, e)
		case r != nil:
			if r.File != rd.name {
				t.Fatalf("record File = %q, want %q", r.File, rd.name)
			}
			if r.Kind == Values {
				items = append(items, valuesItem(t, rd, r))
				continue
			}
			items = append(items, item{Kind: r.Kind, Node: r.Node, Min: math.Float32bits(r.Min),
				Max: math.Float32bits(r.Max), Line: r.Line})
		case e != nil:
			if e.File != rd.name {
				t.Fatalf("error File = %q, want %q", e.File, rd.name)
			}
			items = append(items, item{Err: true, Line: e.Line, Msg: e.Msg})
		default:
			t.Fatalf("Scan returned true with neither Record nor SyntaxError")
		}
	}
	if rd.Record() != nil || rd.SyntaxError() != nil {
		t.Fatalf("current item still set after Scan returned false")
	}
	return items, rd.Counts(), rd.Err()
}

func readAll(t testing.TB, data []byte, o readerOpts) ([]item, Counts, error) {
	t.Helper()
	return collect(t, newTestReader(bytes.NewReader(data), "test.log", o))
}

// diffItems returns a description of the first difference, or "".
func diffItems(got, want []item) string {
	for i := 0; i < len(got) || i < len(want); i++ {
		switch {
		case i >= len(got):
			return fmt.Sprintf("item %d missing: want %v (got %d items, want %d)", i, want[i], len(got), len(want))
		case i >= len(want):
			return fmt.Sprintf("extra item %d: %v (got %d items, want %d)", i, got[i], len(got), len(want))
		case got[i] != want[i]:
			return fmt.Sprintf("item %d:\n got %v\nwant %v", i, got[i], want[i])
		}
	}
	return ""
}

// refLines splits data into '\n'-terminated lines plus a final
// unterminated one, as wc -l (+1 for a final line without '\n') counts.
func refLines(data string) []string {
	if data == "" {
		return nil
	}
	lines := strings.Split(data, "\n")
	if strings.HasSuffix(data, "\n") {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// refNumber is the default mode's number rule, written directly with
// strconv: surrounding white space ignored, ParseFloat(s, 32), a signed
// "nan" accepted, out-of-range values giving ±Inf.
func refNumber(v string) (float32, bool) {
	s := strings.Trim(v, " \t\r\v\f\n")
	if s == "" {
		return 0, false
	}
	if l := strings.ToLower(s); l == "-nan" || l == "+nan" {
		return float32(math.NaN()), true
	}
	f, err := strconv.ParseFloat(s, 32)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, false
	}
	return float32(f), true
}

// refValue reads "[v]" at the start of rest (the rest of the line).
func refValue(rest, which, kind, name string) (f float32, after string, msg string) {
	if !strings.HasPrefix(rest, "[") {
		return 0, "", fmt.Sprintf("missing %svalue in %s record for node %q", which, kind, name)
	}
	rest = rest[1:]
	j := strings.Index(rest, "]")
	if j < 0 && len(rest) <= 64 {
		return 0, "", fmt.Sprintf("unterminated %svalue %q in %s record for node %q", which, rest, kind, name)
	}
	if j < 0 || j > 64 {
		return 0, "", fmt.Sprintf("%svalue longer than 64 bytes in %s record for node %q", which, kind, name)
	}
	f, ok := refNumber(rest[:j])
	if !ok {
		return 0, "", fmt.Sprintf("bad %svalue %q in %s record for node %q", which, rest[:j], kind, name)
	}
	return f, rest[j+1:], ""
}

// refParse is the reference for the default mode.
func refParse(data string, maxName int) ([]item, Counts) {
	return refParseOpts(data, readerOpts{maxName: maxName})
}

// refParseOpts is the reference for the default mode with o's name limit
// and value-record options.
func refParseOpts(data string, o readerOpts) ([]item, Counts) {
	maxName := o.maxName
	if maxName <= 0 {
		maxName = defaultMaxName
	}
	var items []item
	var c Counts
	lines := refLines(data)
	c.Bytes = int64(len(data))
	c.Lines = int64(len(lines))
	for i, line := range lines {
		lineNo := int64(i + 1)
		line = strings.TrimSuffix(line, "\r")
		parts := strings.Split(line, ";")
		n := 0
		for j := 1; j < len(parts); j++ {
			if !strings.HasSuffix(parts[j-1], "__print__") {
				continue
			}
			name := strings.TrimSuffix(parts[j-1], "__print__")
			msg := strings.Join(parts[j:], ";")
			var kind Kind
			var rest string
			switch {
			case strings.HasPrefix(msg, "__requant_min_max:"):
				kind, rest = RequantMinMax, strings.TrimPrefix(msg, "__requant_min_max:")
			case strings.HasPrefix(msg, "__min:"):
				kind, rest = Min, strings.TrimPrefix(msg, "__min:")
			case strings.HasPrefix(msg, "__max:"):
				kind, rest = Max, strings.TrimPrefix(msg, "__max:")
			default:
				if its, ok := refValueMessage(name, msg, lineNo, maxName, o, &c); ok {
					items = append(items, its...)
				} else {
					c.OtherPrints++
				}
				continue
			}
			fail := func(m string) {
				items = append(items, serr(lineNo, m))
				c.Malformed++
			}
			if len(name) > maxName {
				fail(fmt.Sprintf("node name longer than %d bytes in %s record", maxName, kind))
				continue
			}
			if name == "" {
				fail(fmt.Sprintf("empty node name in %s record", kind))
				continue
			}
			var min, max float32
			var m string
			switch kind {
			case Min:
				min, _, m = refValue(rest, "", kind.String(), name)
			case Max:
				max, _, m = refValue(rest, "", kind.String(), name)
			default:
				min, rest, m = refValue(rest, "min ", kind.String(), name)
				if m == "" {
					max, _, m = refValue(rest, "max ", kind.String(), name)
				}
			}
			if m != "" {
				fail(m)
				continue
			}
			items = append(items, rec(lineNo, kind, name, min, max))
			c.Records++
			if !(&Record{Min: min, Max: max}).Finite() {
				c.NonFinite++
			}
			n++
		}
		if n >= 1 {
			c.RecordLines++
		}
		if n >= 2 {
			c.JoinedLines++
		}
	}
	return items, c
}

// refTFPiece applies TensorFlow's checks, in TensorFlow's order, to the
// piece taken from a line and the piece before it. It returns the message
// for a skipped line ("" if the record is kept).
func refTFPiece(prev, piece string, maxName int) (name string, min, max float32, msg string) {
	const prefix = "__requant_min_max:"
	const rec = "__requant_min_max record"
	node := ""
	if strings.HasSuffix(prev, "__print__") && len(prev)-len("__print__") <= maxName {
		node = fmt.Sprintf(" for node %q", strings.TrimSuffix(prev, "__print__"))
	}
	parts := strings.Split(piece, "[")
	if len(parts) != 3 || parts[0] != prefix {
		switch {
		case parts[0] != prefix || len(parts) == 1:
			return "", 0, 0, "missing min value in " + rec + node
		case len(parts) == 2 && !strings.Contains(parts[1], "]"):
			return "", 0, 0, "unterminated min value in " + rec + node
		case len(parts) == 2:
			return "", 0, 0, "missing max value in " + rec + node
		default:
			return "", 0, 0, "extra '[' in " + rec + node
		}
	}
	minParts := strings.Split(parts[1], "]")
	if len(minParts) == 1 {
		return "", 0, 0, "unterminated min value in " + rec + node
	}
	if len(minParts) > 2 {
		return "", 0, 0, "extra ']' after min value in " + rec + node
	}
	if len(minParts[0]) >= 32 {
		return "", 0, 0, "min value longer than 31 bytes in " + rec + node
	}
	min, ok := tfStrtof([]byte(minParts[0]))
	if !ok {
		return "", 0, 0, fmt.Sprintf("bad min value %q in %s%s", minParts[0], rec, node)
	}
	maxParts := strings.Split(parts[2], "]")
	if len(maxParts) == 1 {
		return "", 0, 0, "unterminated max value in " + rec + node
	}
	if len(maxParts) > 2 {
		return "", 0, 0, "extra ']' after max value in " + rec + node
	}
	if len(maxParts[0]) >= 32 {
		return "", 0, 0, "max value longer than 31 bytes in " + rec + node
	}
	max, ok = tfStrtof([]byte(maxParts[0]))
	if !ok {
		return "", 0, 0, fmt.Sprintf("bad max value %q in %s%s", maxParts[0], rec, node)
	}
	if !strings.HasSuffix(prev, "__print__") {
		return "", 0, 0, rec + " not preceded by NAME__print__"
	}
	name = strings.TrimSuffix(prev, "__print__")
	if len(name) > maxName {
		return "", 0, 0, fmt.Sprintf("node name longer than %d bytes in %s", maxName, rec)
	}
	return name, min, max, ""
}

// refTF is the reference for TFCompat: ExtractMinMaxRecords step by step.
func refTF(data string, maxName int) ([]item, Counts) {
	if maxName <= 0 {
		maxName = defaultMaxName
	}
	var items []item
	var c Counts
	lines := refLines(data)
	c.Bytes = int64(len(data))
	c.Lines = int64(len(lines))
	for i, line := range lines {
		lineNo := int64(i + 1)
		if !strings.Contains(line, "__print__;__requant_min_max:") {
			continue
		}
		parts := strings.Split(line, ";")
		last, good := -1, 0
		for j := 1; j < len(parts); j++ {
			if strings.HasPrefix(parts[j], "__requant_min_max:") {
				last = j
				if _, _, _, m := refTFPiece(parts[j-1], parts[j], maxName); m == "" {
					good++
				}
			}
		}
		if good >= 2 {
			c.JoinedLines++
		}
		name, min, max, msg := refTFPiece(parts[last-1], parts[last], maxName)
		if msg == "" {
			items = append(items, rq(lineNo, name, min, max))
			c.Records++
			c.RecordLines++
			c.Ignored += int64(good - 1)
			if !(&Record{Min: min, Max: max}).Finite() {
				c.NonFinite++
			}
			continue
		}
		c.Ignored += int64(good)
		if good > 0 {
			msg += fmt.Sprintf(" (TensorFlow skips the whole line, dropping %d well-formed record(s) before it)", good)
		}
		items = append(items, serr(lineNo, msg))
		c.Malformed++
	}
	return items, c
}

// reference runs the reference parser for the mode in o.
func reference(data []byte, o readerOpts) ([]item, Counts) {
	if o.tf {
		return refTF(string(data), o.maxName)
	}
	return refParseOpts(string(data), o)
}

// checkAgainstReference reads data with o and compares items and counts
// with the reference parser.
func checkAgainstReference(t testing.TB, data []byte, o readerOpts) {
	t.Helper()
	got, gc, err := readAll(t, data, o)
	if err != nil {
		t.Fatalf("%+v: Err() = %v", o, err)
	}
	want, wc := reference(data, o)
	if d := diffItems(got, want); d != "" {
		t.Fatalf("%+v: reader and reference differ on %q:\n%s", o, truncate(data), d)
	}
	if gc != wc {
		t.Fatalf("%+v: counts differ on %q:\n got %+v\nwant %+v", o, truncate(data), gc, wc)
	}
}

func truncate(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "..."
	}
	return string(b)
}
