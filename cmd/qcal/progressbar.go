package main

import (
	"fmt"
	"io"
	"time"
)

// countBar draws a one-line progress bar of examples done on a terminal
// (total known: a bar and a percentage; unknown: a count), at most five
// times a second. It is nil, and silent, unless w is a terminal, so pipes,
// files and CI logs never see it.
type countBar struct {
	w     io.Writer
	label string
	total int
	start time.Time
	last  time.Time
	drawn bool
}

func newCountBar(w io.Writer, label string, total int) *countBar {
	if !isTerminal(w) {
		return nil
	}
	now := time.Now()
	return &countBar{w: w, label: label, total: total, start: now}
}

// set redraws the bar for done examples.
func (b *countBar) set(done int) {
	if b == nil {
		return
	}
	now := time.Now()
	if now.Sub(b.last) < 200*time.Millisecond && done != b.total {
		return
	}
	b.last = now
	rate := float64(done) / now.Sub(b.start).Seconds()
	bar := ""
	if b.total > 0 {
		bar = barText(float64(done) / float64(b.total))
	}
	fmt.Fprintf(b.w, "\r\033[K%s %s%d examples, %s/s", b.label, bar, done, rateText(rate))
	b.drawn = true
}

// done clears the bar.
func (b *countBar) done() {
	if b != nil && b.drawn {
		fmt.Fprint(b.w, "\r\033[K")
	}
}
