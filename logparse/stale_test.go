package logparse

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// TestStaleBytesBeforeCarry is a regression test: with the prefetching
// goroutine, the data carried into a reused buffer is preceded by stale
// text from its last use, and a ';' fewer than 9 bytes into the carry made
// the parsers compare those bytes with "__print__". A false match
// miscounted OtherPrints, or made the name's start lie after its end and
// panicked. The inputs are made of pieces that end in parts of
// "__print__".
func TestStaleBytesBeforeCarry(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	pieces := []string{"a__print__;__min:[1]", "_print__;__min:[2]", "print__;__min:[3]", "__;__max:[4]", "_;", "x",
		"__print__", "__;__KL:[1 2]"}
	n := 200
	if testing.Short() {
		n = 30
	}
	for range n {
		var b strings.Builder
		for k := rng.IntN(40); k > 0; k-- {
			b.WriteString(pieces[rng.IntN(len(pieces))])
			b.WriteString([]string{"\n", ";", ""}[rng.IntN(3)])
		}
		for bs := 1; bs <= 24; bs++ {
			o := readerOpts{block: bs, async: 1, maxName: 1 + rng.IntN(30)}
			for _, mode := range []readerOpts{{}, {tf: true}, {allValues: true}} {
				o.tf, o.allValues = mode.tf, mode.allValues
				func() {
					defer func() {
						if e := recover(); e != nil {
							t.Fatalf("%+v: panic on %q: %v", o, b.String(), e)
						}
					}()
					checkAgainstReference(t, []byte(b.String()), o)
				}()
			}
		}
	}
}
