package logparse

import (
	"bytes"
	"testing"
)

// FuzzReader checks, on arbitrary input, read at a fuzzed block size and
// name limit, with or without the prefetching goroutine: no panic; in
// both modes the items and counts equal the reference parsers'; every
// SyntaxError's line lies within the input.
func FuzzReader(f *testing.F) {
	for _, c := range spellingCases {
		f.Add([]byte(c.in), uint8(0), false)
		f.Add([]byte(c.in), uint8(3), true)
	}
	f.Add([]byte(";a__print__;__requant_min_max:[1][2];b__print__;__requant_min_max:[3][x]\r\n"), uint8(7), false)
	f.Add([]byte("x__print__;__min:[1]\n__print__;__max:[ 2 ]"), uint8(1), true)
	f.Fuzz(func(t *testing.T, data []byte, block uint8, smallNames bool) {
		o := readerOpts{block: int(block%64) + 1, async: -1}
		if block >= 128 {
			o.async = 1 // small blocks through the prefetching goroutine
		}
		if block >= 192 {
			o = readerOpts{} // default size, prefetching goroutine
		}
		if smallNames {
			o.maxName = 12
		}
		gz := len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b
		for _, tf := range []bool{false, true} {
			o.tf = tf
			got, c, err := collect(t, newTestReader(bytes.NewReader(data), "fuzz.log", o))
			for _, it := range got {
				if it.Err && (it.Line < 1 || it.Line > c.Lines) {
					t.Fatalf("%+v: SyntaxError on line %d of %d", o, it.Line, c.Lines)
				}
				if !it.Err && (it.Line < 1 || it.Line > c.Lines) {
					t.Fatalf("%+v: record on line %d of %d", o, it.Line, c.Lines)
				}
			}
			if gz {
				continue // decompressed (or a gzip error): not the reference's input
			}
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
		}
	})
}
