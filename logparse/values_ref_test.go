package logparse

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
)

// The reference for value records: whole-line string processing following
// the rules in values.go's comment and Record's documentation literally,
// sharing no code with the Reader (refNumber is the reference number rule).

// valuesItem turns a Values record into an item, checking the record's
// invariants on the way.
func valuesItem(t testing.TB, rd *Reader, r *Record) item {
	t.Helper()
	limit := rd.chunkMax
	if limit <= 0 {
		limit = MaxChunk
	}
	if len(r.Values) > limit {
		t.Fatalf("chunk of %d values, limit %d", len(r.Values), limit)
	}
	if r.Values64 != nil && len(r.Values64) != len(r.Values) {
		t.Fatalf("Values64 has %d values, Values %d", len(r.Values64), len(r.Values))
	}
	if !r.Last && (r.Truncated || r.Bad || len(r.Values) != limit) {
		t.Fatalf("chunk not last but Truncated=%v Bad=%v or not full (%d values): %+v", r.Truncated, r.Bad, len(r.Values), r)
	}
	if r.Min != 0 || r.Max != 0 {
		t.Fatalf("Values record with Min/Max set: %+v", r)
	}
	for i, d := range r.Values64 {
		if float32(d) != r.Values[i] && !(d == 0 && r.Values[i] == 0) {
			t.Fatalf("Values64[%d] = %v but Values[%d] = %v", i, d, i, r.Values[i])
		}
	}
	return item{Kind: Values, Node: r.Node, Line: r.Line, VMsg: r.Msg, Output: r.Output, Chunk: r.Chunk,
		Last: r.Last, Trunc: r.Truncated, Bad: r.Bad, Vals: hex32(r.Values), Ints: hex64(r.Values64)}
}

func hex32(vs []float32) string {
	var b strings.Builder
	for i, v := range vs {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%08x", math.Float32bits(v))
	}
	return b.String()
}

func hex64(vs []float64) string {
	if vs == nil {
		return "-"
	}
	var b strings.Builder
	for i, v := range vs {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%016x", math.Float64bits(v))
	}
	return b.String()
}

func unhex32(s string) []float32 {
	var vs []float32
	for _, f := range strings.Fields(s) {
		u, _ := strconv.ParseUint(f, 16, 32)
		vs = append(vs, math.Float32frombits(uint32(u)))
	}
	return vs
}

func (it item) valuesString() string {
	flags := ""
	if it.Last {
		flags += " last"
	}
	if it.Trunc {
		flags += " truncated"
	}
	if it.Bad {
		flags += " bad"
	}
	vals := fmt.Sprint(unhex32(it.Vals))
	if len(vals) > 200 {
		vals = vals[:200] + "..."
	}
	ints := "-"
	if it.Ints != "-" {
		ints = "exact"
	}
	return fmt.Sprintf("line %d: values %q %q output %d chunk %d%s %s (Values64 %s)",
		it.Line, it.Node, it.VMsg, it.Output, it.Chunk, flags, vals, ints)
}

// vt is an expected Last chunk with the given values; see more, truncated,
// bad and exact for the other flags.
func vt(line int64, node, msg string, output, chunk int, vs ...float32) item {
	return item{Kind: Values, Node: node, Line: line, VMsg: msg, Output: output, Chunk: chunk,
		Last: true, Vals: hex32(vs), Ints: "-"}
}

func (it item) more() item      { it.Last = false; return it }
func (it item) truncated() item { it.Trunc = true; return it }
func (it item) bad() item       { it.Bad = true; return it }

// exact sets Values64 to ds.
func (it item) exact(ds ...float64) item {
	if ds == nil {
		ds = []float64{}
	}
	it.Ints = hex64(ds)
	return it
}

// refIsInt reports whether tok is an integer Values64 keeps: [+-] and 1 to
// 15 digits.
func refIsInt(tok string) bool {
	t := strings.TrimLeft(tok, "+-")
	if len(tok)-len(t) > 1 || len(t) == 0 || len(t) > 15 {
		return false
	}
	return strings.Trim(t, "0123456789") == ""
}

// refValueMessage applies the value-record rules to the message msg (the
// rest of the line after "NAME__print__;", without a final '\r') of node
// name. It reports false when msg is not a value message (the caller counts
// it in OtherPrints).
func refValueMessage(name, msg string, lineNo int64, maxName int, o readerOpts, c *Counts) ([]item, bool) {
	open := -1
	for i := 0; i < len(msg) && i <= 128; i++ {
		if msg[i] == '[' {
			open = i
			break
		}
		if msg[i] == ';' {
			break
		}
	}
	prefix, matched := "", false
	for _, p := range o.values {
		if len(p) <= 128 && !strings.ContainsAny(p, "\r\n") && strings.HasPrefix(msg, p) {
			prefix, matched = p, true
			break
		}
	}
	if !matched && (!o.allValues || open < 0) {
		return nil, false
	}
	text := prefix
	if open >= 0 {
		text = msg[:open]
	}
	fail := func(m string) []item {
		c.Malformed++
		return []item{serr(lineNo, m)}
	}
	switch {
	case len(name) > maxName:
		return fail(fmt.Sprintf("node name longer than %d bytes in %q message", maxName, text)), true
	case name == "":
		return fail(fmt.Sprintf("empty node name in %q message", text)), true
	case open < 0:
		return fail(fmt.Sprintf("missing tensor in %q message for node %q", text, name)), true
	}
	chunk := o.chunk
	if chunk <= 0 {
		chunk = MaxChunk
	}
	var items []item
	rest := msg[open:]
	for output := 0; ; output++ {
		vals, exact, trunc, after, errm := refTensor(rest)
		if errm != "" {
			errm = fmt.Sprintf(errm, text, output, name)
		}
		// Chunks of at most chunk values, at least one.
		allInt := true
		for k := 0; k == 0 || k*chunk < len(vals); k++ {
			lo, hi := k*chunk, min(len(vals), (k+1)*chunk)
			for i := lo; i < hi; i++ {
				allInt = allInt && !math.IsNaN(exact[i])
			}
			it := vt(lineNo, name, text, output, k, vals[lo:hi]...)
			if allInt {
				it = it.exact(exact[lo:hi]...)
			}
			if hi < len(vals) {
				it = it.more()
			} else {
				it.Trunc, it.Bad = trunc, errm != ""
			}
			items = append(items, it)
		}
		c.ValueRecords++
		c.Values += int64(len(vals))
		if trunc {
			c.Truncated++
		}
		for _, v := range vals {
			if !(&Record{Min: v}).Finite() {
				c.NonFinite++
			}
		}
		if errm != "" {
			return append(items, fail(errm)...), true
		}
		if !strings.HasPrefix(after, "[") {
			return items, true
		}
		rest = after
	}
}

// refTensor reads the tensor at the start of s (s[0] == '['): its values,
// their exact values for integers kept in Values64 (NaN for the others),
// whether "..." occurred, and the text after its ']'. On malformed text
// errm is a format with verbs for the message text, the output index and
// the node name.
func refTensor(s string) (vals []float32, exact []float64, trunc bool, after, errm string) {
	const seps = " \t\r\v\f"
	depth := 0
	for i := 0; ; {
		if i == len(s) {
			return vals, exact, trunc, "", "unterminated %q tensor %d for node %q"
		}
		switch c := s[i]; {
		case c == '[':
			depth++
			i++
		case c == ']':
			depth--
			i++
			if depth == 0 {
				return vals, exact, trunc, s[i:], ""
			}
		case strings.IndexByte(seps, c) >= 0:
			i++
		case c == ';':
			return vals, exact, trunc, "", "unterminated %q tensor %d for node %q"
		default:
			j := i
			for j < len(s) && strings.IndexByte(seps+"[];", s[j]) < 0 {
				j++
			}
			tok := s[i:j]
			if len(tok) > 64 {
				return vals, exact, trunc, "", "value longer than 64 bytes in %q tensor %d for node %q"
			}
			if t, ok := strings.CutSuffix(tok, "..."); ok {
				trunc = true
				tok = t
			}
			if tok != "" {
				f, ok := refNumber(tok)
				if !ok {
					q := strings.ReplaceAll(strconv.Quote(tok), "%", "%%") // errm is a format
					return vals, exact, trunc, "", "bad value " + q + " in %q tensor %d for node %q"
				}
				vals = append(vals, f)
				d := math.NaN()
				if refIsInt(tok) {
					d, _ = strconv.ParseFloat(tok, 64) // exact: at most 15 digits
				}
				exact = append(exact, d)
			}
			i = j
		}
	}
}
