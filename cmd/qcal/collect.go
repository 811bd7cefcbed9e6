package main

import (
	"flag"
	"fmt"
	"strings"
	"time"

	"qcal/logparse"
	"qcal/stats"
)

// calibFlags are the flags of every command that reads calibration logs.
type calibFlags struct {
	strategy       string
	minPct, maxPct float64
	tfCompat       bool
	dropBad        bool
}

func (c *calibFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.strategy, "strategy", "tf", "range strategy: "+stats.Strategies)
	fs.Float64Var(&c.minPct, "min-percentile", 5, "tf strategy: percentile of the per-batch mins to take (TF's min_percentile)")
	fs.Float64Var(&c.maxPct, "max-percentile", 5, "tf strategy: percentile taken off the top of the per-batch maxes (TF's max_percentile)")
	fs.BoolVar(&c.tfCompat, "tf-compat", false, "parse logs exactly as TensorFlow does: of a line holding several records only the last counts")
	fs.BoolVar(&c.dropBad, "drop-bad", false, "skip records with NaN/Inf values or min > max instead of failing")
}

func (c *calibFlags) parseStrategy() (stats.Strategy, error) {
	s, err := stats.ParseStrategy(c.strategy, float32(c.minPct), float32(c.maxPct))
	if err != nil {
		return nil, &usageError{err.Error()}
	}
	return s, nil
}

// calibration is what the logs of one command held.
type calibration struct {
	acc      *stats.Accumulator
	counts   logparse.Counts // summed over the logs
	logs     []string
	dropped  int // bad records skipped by -drop-bad
	strategy stats.Strategy
	start    time.Time
}

const maxShown = 5

// readLogs streams every log into one accumulator, checking each record.
// Malformed fragments are warnings; NaN/Inf values and min > max are errors
// (naming node and line) unless -drop-bad is set.
func readLogs(e *env, logs []string, c *calibFlags) (*calibration, error) {
	st, err := c.parseStrategy()
	if err != nil {
		return nil, err
	}
	if len(logs) == 0 {
		return nil, usagef("no calibration log given")
	}
	cal := &calibration{acc: stats.NewAccumulator(), logs: logs, strategy: st, start: time.Now()}
	var syntax, bad []string
	var nSyntax, nBad int
	for _, path := range logs {
		var r *logparse.Reader
		name := path
		if path == "-" {
			name = "<stdin>"
			r = logparse.NewReader(e.stdin, name)
		} else if r, err = logparse.Open(path); err != nil {
			return nil, err
		}
		r.TFCompat = c.tfCompat
		err := scanAsync(r, func(it *item) error {
			if se := it.se; se != nil {
				nSyntax++
				if len(syntax) < maxShown {
					syntax = append(syntax, se.Error())
				}
				return nil
			}
			rec := &it.rec
			if msg := checkRecord(rec); msg != "" {
				if c.dropBad {
					cal.dropped++
					return nil
				}
				nBad++
				if len(bad) < maxShown {
					bad = append(bad, fmt.Sprintf("%s:%d: node %q: %s", rec.File, rec.Line, rec.Node, msg))
				}
				return nil
			}
			return cal.acc.Add(rec.Node, side(rec.Kind), rec.Min, rec.Max, rec.File, rec.Line)
		})
		if err != nil {
			r.Close()
			return nil, err
		}
		err = r.Err()
		r.Close()
		if err != nil {
			return nil, err
		}
		n := r.Counts()
		if n.Records == 0 {
			return nil, fmt.Errorf("%s: No min/max range logs were found in the log file (%d lines read); "+
				"a record looks like `;NODE__print__;__requant_min_max:[-1.5][2.25]`, written by a graph logged with "+
				"`qcal insert-logging` (TF: insert_logging(op=RequantizationRange, show_name=true, message=\"__requant_min_max:\"))",
				name, n.Lines)
		}
		addCounts(&cal.counts, n)
	}
	if nSyntax > 0 {
		for _, s := range syntax {
			fmt.Fprintf(e.stderr, "qcal: warning: %s (skipped)\n", s)
		}
		if nSyntax > len(syntax) {
			fmt.Fprintf(e.stderr, "qcal: warning: (and %d more malformed records skipped)\n", nSyntax-len(syntax))
		}
	}
	if nBad > 0 {
		more := ""
		if nBad > len(bad) {
			more = fmt.Sprintf("\n\t(and %d more)", nBad-len(bad))
		}
		return nil, fmt.Errorf("%d record(s) unusable for calibration (use -drop-bad to skip them):\n\t%s%s",
			nBad, strings.Join(bad, "\n\t"), more)
	}
	if cal.dropped > 0 {
		fmt.Fprintf(e.stderr, "qcal: warning: %d record(s) with NaN/Inf values or min > max skipped (-drop-bad)\n", cal.dropped)
	}
	if cal.acc.Len() == 0 {
		return nil, fmt.Errorf("no usable records left in %s", strings.Join(logs, ", "))
	}
	return cal, nil
}

// checkRecord returns why a record cannot be used, or "".
func checkRecord(r *logparse.Record) string {
	if !r.Finite() {
		return fmt.Sprintf("non-finite value in %s record (min %v, max %v)", r.Kind, r.Min, r.Max)
	}
	if r.Kind == logparse.RequantMinMax && r.Min > r.Max {
		return fmt.Sprintf("min %v > max %v", r.Min, r.Max)
	}
	return ""
}

func side(k logparse.Kind) stats.Side {
	switch k {
	case logparse.Min:
		return stats.MinOnly
	case logparse.Max:
		return stats.MaxOnly
	}
	return stats.Both
}

func addCounts(dst *logparse.Counts, n logparse.Counts) {
	dst.Bytes += n.Bytes
	dst.Lines += n.Lines
	dst.Records += n.Records
	dst.RecordLines += n.RecordLines
	dst.JoinedLines += n.JoinedLines
	dst.Malformed += n.Malformed
	dst.NonFinite += n.NonFinite
	dst.Ignored += n.Ignored
}

// summary prints the one-line summary of a calibration to stderr.
func (cal *calibration) summary(e *env, tfCompat bool) {
	n := cal.counts
	joined := fmt.Sprintf("%d joined lines split", n.JoinedLines)
	if tfCompat {
		joined = fmt.Sprintf("tf-compat: %d records on joined lines ignored", n.Ignored)
	}
	logs := "1 log"
	if len(cal.logs) != 1 {
		logs = fmt.Sprintf("%d logs", len(cal.logs))
	}
	fmt.Fprintf(e.stderr, "qcal: %d records from %s (%d lines, %s), %d nodes, strategy %s, %s\n",
		n.Records, logs, n.Lines, joined, cal.acc.Len(), cal.strategy.Name(),
		time.Since(cal.start).Round(time.Millisecond))
}

// item is a record or a malformed fragment handed from the scanning
// goroutine to the accumulating one.
type item struct {
	rec logparse.Record
	se  *logparse.SyntaxError
}

// batchLen is how many items the scanning goroutine hands over at a time.
const batchLen = 4096

// scanAsync scans r in a goroutine and calls f for each item in log order on
// the calling goroutine, so that parsing and accumulating run on two cores.
// When f returns an error, scanning stops and that error is returned; r's
// own errors are left for r.Err.
func scanAsync(r *logparse.Reader, f func(*item) error) error {
	full := make(chan []item, 4)
	free := make(chan []item, 4)
	stop := make(chan struct{})
	go func() {
		defer close(full)
		for {
			var b []item
			select {
			case b = <-free:
				b = b[:0]
			default:
				b = make([]item, 0, batchLen)
			}
			more := true
			for len(b) < batchLen {
				if more = r.Scan(); !more {
					break
				}
				if se := r.SyntaxError(); se != nil {
					b = append(b, item{se: se})
				} else {
					b = append(b, item{rec: *r.Record()})
				}
			}
			if len(b) > 0 {
				select {
				case full <- b:
				case <-stop:
					return
				}
			}
			if !more {
				return
			}
		}
	}()
	var err error
	for b := range full {
		for i := 0; err == nil && i < len(b); i++ {
			if err = f(&b[i]); err != nil {
				close(stop)
			}
		}
		select {
		case free <- b:
		default:
		}
	}
	return err
}
