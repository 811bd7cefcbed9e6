package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"qcal/internal/calib"
)

// newProgress returns a one-line progress bar drawn on w for
// calib.Options.Progress, or nil (silent) unless w is a character device,
// so that pipes, files and CI logs never see it.
func newProgress(w io.Writer) func(calib.Progress) {
	if !isTerminal(w) {
		return nil
	}
	return progressBar(w, 200*time.Millisecond)
}

// progressBar draws bytes read and records a second on one line of w,
// at most once every interval, from the second report of a log on (the
// first starts its clock), and clears the line when the log is done.
func progressBar(w io.Writer, every time.Duration) func(calib.Progress) {
	var start, last time.Time
	drawn := false
	return func(p calib.Progress) {
		now := time.Now()
		switch {
		case p.Done:
			if drawn {
				fmt.Fprint(w, "\r\033[K")
			}
			start, drawn = time.Time{}, false
			return
		case start.IsZero():
			start, last = now, now
			return
		case now.Sub(last) < every || !now.After(start):
			return
		}
		last = now
		rate := float64(p.Records) / now.Sub(start).Seconds()
		bar := ""
		if p.Size > 0 {
			bar = barText(float64(p.Bytes) / float64(p.Size))
		}
		fmt.Fprintf(w, "\r\033[Kqcal audit: %s %s%s read, %s records/s", p.File, bar, mib(p.Bytes), rateText(rate))
		drawn = true
	}
}

// barText draws a fraction done as "[######..........]  38% ".
func barText(frac float64) string {
	const width = 24
	frac = min(1, frac)
	full := int(frac * width)
	return fmt.Sprintf("[%s%s] %3.0f%% ", strings.Repeat("#", full), strings.Repeat(".", width-full), 100*frac)
}

func rateText(r float64) string {
	switch {
	case r >= 1e6:
		return fmt.Sprintf("%.2fM", r/1e6)
	case r >= 1e3:
		return fmt.Sprintf("%.1fk", r/1e3)
	}
	return fmt.Sprintf("%.0f", r)
}

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func mib(n int64) string {
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}
