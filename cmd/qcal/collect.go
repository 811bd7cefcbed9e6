package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"qcal/internal/tfname"
	"qcal/logparse"
	"qcal/quant"
	"qcal/stats"
)

// calibFlags are the flags of every command that reads calibration logs.
type calibFlags struct {
	strategy       string
	minPct, maxPct float64
	tfCompat       bool
	dropBad        bool
	mapFile        string
}

func (c *calibFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.strategy, "strategy", "tf", "range strategy: per-batch extremes ("+stats.Strategies+
		") or logged tensor values ("+stats.HistStrategies+"); ranges takes a comma-separated list")
	fs.StringVar(&c.mapFile, "map", "", "file mapping value-logged node names to RequantizationRange names (`logged graph` per line); "+
		"default: NAME → NAME"+tfname.RequantRangeSuffix)
	fs.Float64Var(&c.minPct, "min-percentile", 5, "tf strategy: percentile of the per-batch mins to take (TF's min_percentile)")
	fs.Float64Var(&c.maxPct, "max-percentile", 5, "tf strategy: percentile taken off the top of the per-batch maxes (TF's max_percentile)")
	fs.BoolVar(&c.tfCompat, "tf-compat", false, "parse logs exactly as TensorFlow does: of a line holding several records only the last counts")
	fs.BoolVar(&c.dropBad, "drop-bad", false, "skip records with NaN/Inf values or min > max instead of failing")
}

// method is one requested strategy: a rule for per-batch extremes, for
// logged tensor values, or both (percentile:P reads the values of nodes that
// logged values and the per-batch extremes of the others).
type method struct {
	spec  string
	batch stats.Strategy
	hist  stats.HistStrategy
}

func (m method) name() string {
	if m.batch != nil {
		return m.batch.Name()
	}
	return m.hist.Name()
}

// parseMethods reads the comma-separated -strategy list.
func (c *calibFlags) parseMethods() ([]method, error) {
	var out []method
	for _, spec := range strings.Split(c.strategy, ",") {
		spec = strings.TrimSpace(spec)
		m := method{spec: spec}
		if b, err := stats.ParseStrategy(spec, float32(c.minPct), float32(c.maxPct)); err == nil {
			m.batch = b
		}
		if h, err := stats.ParseHistStrategy(spec); err == nil {
			m.hist = h
		}
		if m.batch == nil && m.hist == nil {
			_, err := stats.ParseStrategy(spec, float32(c.minPct), float32(c.maxPct))
			if stats.IsHistStrategy(spec) || strings.HasPrefix(spec, "vpercentile") {
				_, err = stats.ParseHistStrategy(spec)
			} else if strings.HasPrefix(err.Error(), "unknown strategy") {
				err = fmt.Errorf("unknown strategy %q (known: %s; for logged tensor values: %s)", spec, stats.Strategies, stats.HistStrategies)
			}
			return nil, &usageError{err.Error()}
		}
		out = append(out, m)
	}
	return out, nil
}

// wantsValues reports whether any method reads tensor values.
func wantsValues(ms []method) bool {
	for _, m := range ms {
		if m.hist != nil {
			return true
		}
	}
	return false
}

// calibration is what the logs of one command held.
type calibration struct {
	acc     *stats.Accumulator
	hist    *stats.HistogramSet // tensor values, by RequantizationRange name
	counts  logparse.Counts     // summed over the logs
	logs    []string
	dropped int // bad records skipped by -drop-bad
	methods []method
	start   time.Time
}

// ranges applies a method to every node that logged the data it reads:
// per-batch extremes first, in log order, then the nodes that logged only
// tensor values.
func (cal *calibration) ranges(m method) []stats.Range {
	var out []stats.Range
	if m.batch != nil {
		out = stats.Ranges(cal.acc, m.batch)
	}
	if m.hist == nil {
		return out
	}
	if m.batch != nil { // percentile:P: values only where no extremes were logged
		out = out[:0]
		for _, n := range cal.acc.Nodes() {
			if cal.hist.Node(n.Name) == nil {
				out = append(out, m.batch.Range(n))
			}
		}
	}
	for _, name := range cal.hist.Nodes() {
		h := cal.hist.Node(name)
		if h.Count() == 0 {
			continue // nothing finite was logged: no range
		}
		lo, hi := m.hist.Range(h)
		out = append(out, stats.Range{Node: name, Side: stats.Both, Min: lo, Max: hi, Count: int(h.Count())})
	}
	return out
}

// nodes counts the nodes that logged extremes, values or both.
func (cal *calibration) nodes() int {
	n := cal.acc.Len()
	for _, name := range cal.hist.Nodes() {
		if cal.acc.Node(name) == nil {
			n++
		}
	}
	return n
}

// methodNames joins the methods' names for summaries.
func (cal *calibration) methodNames() string {
	var names []string
	for _, m := range cal.methods {
		names = append(names, m.name())
	}
	return strings.Join(names, ",")
}

const maxShown = 5

// readLogs streams every log into one accumulator, checking each record.
// Malformed fragments are warnings; NaN/Inf values and min > max are errors
// (naming node and line) unless -drop-bad is set.
func readLogs(e *env, logs []string, c *calibFlags) (*calibration, error) {
	methods, err := c.parseMethods()
	if err != nil {
		return nil, err
	}
	if len(logs) == 0 {
		return nil, usagef("no calibration log given")
	}
	values := wantsValues(methods)
	if values && c.tfCompat {
		return nil, usagef("-tf-compat reads only __requant_min_max records; strategies on tensor values (%s) need the default parser", stats.HistStrategies)
	}
	nameMap := map[string]string{}
	if c.mapFile != "" {
		if nameMap, err = readNameMap(c.mapFile); err != nil {
			return nil, err
		}
	}
	cal := &calibration{acc: stats.NewAccumulator(), hist: stats.NewHistogramSet(), logs: logs, methods: methods, start: time.Now()}
	all := newPart(cal.acc, cal.hist, nameMap, c.dropBad)
	for _, path := range logs {
		var n logparse.Counts
		var err error
		if path == "-" {
			n, err = all.read(logparse.NewReader(e.stdin, "<stdin>"), "<stdin>", c, values)
		} else {
			n, err = readFile(all, path, c, values)
		}
		if err != nil {
			return nil, err
		}
		if n.Records == 0 && n.ValueRecords == 0 {
			name := path
			if path == "-" {
				name = "<stdin>"
			}
			return nil, fmt.Errorf("%s: No min/max range logs were found in the log file (%d lines read); "+
				"a record looks like `;NODE__print__;__requant_min_max:[-1.5][2.25]`, written by a graph logged with "+
				"`qcal insert-logging` (TF: insert_logging(op=RequantizationRange, show_name=true, message=\"__requant_min_max:\"))",
				name, n.Lines)
		}
		addCounts(&cal.counts, n)
	}
	if all.nSyntax > 0 {
		for _, se := range all.syntax {
			fmt.Fprintf(e.stderr, "qcal: warning: %s (skipped)\n", se.Error())
		}
		if all.nSyntax > len(all.syntax) {
			fmt.Fprintf(e.stderr, "qcal: warning: (and %d more malformed records skipped)\n", all.nSyntax-len(all.syntax))
		}
	}
	if all.nBad > 0 {
		var lines []string
		for _, b := range all.bad {
			lines = append(lines, fmt.Sprintf("%s:%d: node %q: %s", b.file, b.line, b.node, b.msg))
		}
		more := ""
		if all.nBad > len(all.bad) {
			more = fmt.Sprintf("\n\t(and %d more)", all.nBad-len(all.bad))
		}
		return nil, fmt.Errorf("%d record(s) unusable for calibration (use -drop-bad to skip them):\n\t%s%s",
			all.nBad, strings.Join(lines, "\n\t"), more)
	}
	cal.dropped = all.dropped
	if cal.dropped > 0 {
		fmt.Fprintf(e.stderr, "qcal: warning: %d record(s) with NaN/Inf values or min > max skipped (-drop-bad)\n", cal.dropped)
	}
	extraOutputs, badTensors := all.extraOutputs, all.badTensors
	if all.dequantized > 0 {
		fmt.Fprintf(e.stderr, "qcal: %d quantized tensor dump(s) (MSG[q ...][min][max]) dequantized as qint32 with TF's QuantizedToFloat rule\n", all.dequantized)
	}
	if w := cal.counts.TruncationWarning(); w != "" {
		fmt.Fprintf(e.stderr, "qcal: warning: %s\n", w)
	}
	if extraOutputs > 0 {
		fmt.Fprintf(e.stderr, "qcal: warning: %d logged tensor(s) beyond a Print's first output ignored: value strategies read output 0, "+
			"or outputs 0-2 of a quantized dump MSG[q ...][min][max]\n", extraOutputs)
	}
	if badTensors > 0 {
		fmt.Fprintf(e.stderr, "qcal: warning: %d tensor(s) malformed part-way; the values before the damage were used\n", badTensors)
	}
	if cal.acc.Len() == 0 && cal.hist.Len() == 0 {
		return nil, fmt.Errorf("no usable records left in %s", strings.Join(logs, ", "))
	}
	return cal, nil
}

// checkRecord returns why a range record cannot be used, or "".
func checkRecord(kind logparse.Kind, min, max float32) string {
	if !finite(min) || !finite(max) {
		return fmt.Sprintf("non-finite value in %s record (min %v, max %v)", kind, min, max)
	}
	if kind == logparse.RequantMinMax && min > max {
		return fmt.Sprintf("min %v > max %v", min, max)
	}
	return ""
}

func finite(f float32) bool { return f == f && f-f == 0 }

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
	dst.OtherPrints += n.OtherPrints
	dst.ValueRecords += n.ValueRecords
	dst.Values += n.Values
	dst.Truncated += n.Truncated
}

// readNameMap reads a -map file.
func readNameMap(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return stats.ParseNameMap(f, path)
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
	values := ""
	if n.ValueRecords > 0 {
		values = fmt.Sprintf(", %d values in %d tensors of %d nodes", n.Values, n.ValueRecords, cal.hist.Len())
	}
	fmt.Fprintf(e.stderr, "qcal: %d records from %s (%d lines, %s)%s, %d nodes, strategy %s, %s\n",
		n.Records, logs, n.Lines, joined, values, cal.nodes(), cal.methodNames(),
		time.Since(cal.start).Round(time.Millisecond))
}

// item is a record or a malformed fragment handed from the scanning
// goroutine to the accumulating one: the fields of a logparse.Record that
// readLogs uses (the record's file is the reader's), kept small because
// every record of the log passes through one. A Values chunk's values live
// in its batch's arena, vals[lo:hi], since the Reader reuses its buffer.
type item struct {
	kind      logparse.Kind
	last, bad bool
	output    int32
	min, max  float32
	line      int64
	node      string
	se        *logparse.SyntaxError
	lo, hi    int32
	ints      bool // the tensor's values so far are integers (vals64[lo:hi] holds them exactly)
	chunk     int32
	values    []float32 // set on the accumulating side
	values64  []float64 // set on the accumulating side when ints
}

// batch is a group of items and the values of their Values records.
type batch struct {
	items  []item
	vals   []float32
	vals64 []float64 // parallel to vals, for integer tensors
}

// batchLen is how many items the scanning goroutine hands over at a time;
// batchVals bounds the values a batch holds.
const (
	batchLen  = 4096
	batchVals = 1 << 16
)

// scanAsync scans r in a goroutine and calls f for each item in log order on
// the calling goroutine, so that parsing and accumulating run on two cores.
// When f returns an error, scanning stops and that error is returned; r's
// own errors are left for r.Err.
func scanAsync(r *logparse.Reader, f func(*item) error) error {
	full := make(chan *batch, 4)
	free := make(chan *batch, 4)
	stop := make(chan struct{})
	go func() {
		defer close(full)
		for {
			var b *batch
			select {
			case b = <-free:
				b.items, b.vals, b.vals64 = b.items[:0], b.vals[:0], b.vals64[:0]
			default:
				b = &batch{items: make([]item, 0, batchLen)}
			}
			more := true
			for len(b.items) < batchLen && len(b.vals) < batchVals {
				if more = r.Scan(); !more {
					break
				}
				if se := r.SyntaxError(); se != nil {
					b.items = append(b.items, item{se: se})
					continue
				}
				rec := r.Record()
				it := item{kind: rec.Kind, node: rec.Node, min: rec.Min, max: rec.Max, line: rec.Line}
				if rec.Kind == logparse.Values {
					it.output, it.last, it.bad, it.chunk = int32(rec.Output), rec.Last, rec.Bad, int32(rec.Chunk)
					it.lo = int32(len(b.vals))
					b.vals = append(b.vals, rec.Values...)
					it.hi = int32(len(b.vals))
					if it.ints = rec.Values64 != nil; it.ints {
						b.vals64 = append(b.vals64[:it.lo], rec.Values64...)
					}
				}
				b.items = append(b.items, it)
			}
			if len(b.items) > 0 {
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
		for i := 0; err == nil && i < len(b.items); i++ {
			it := &b.items[i]
			if it.kind == logparse.Values {
				it.values = b.vals[it.lo:it.hi:it.hi]
				if it.ints {
					it.values64 = b.vals64[it.lo:it.hi:it.hi]
				}
			}
			if err = f(it); err != nil {
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

// part accumulates a stretch of the logs: all of them, or the second half
// of a large file, read on the other core and merged in afterwards.
type part struct {
	acc                      *stats.Accumulator
	hist                     *stats.HistogramSet
	hists                    map[string]*stats.Histogram // by logged name
	nameMap                  map[string]string
	dropBad                  bool
	syntax                   []logparse.SyntaxError // the first maxShown
	bad                      []badRecord            // the first maxShown
	nSyntax, nBad, dropped   int
	extraOutputs, badTensors int64
	// quantized holds, per node, an integer tensor that may be the data of
	// a quantized dump MSG[q q ...][min][max]: kept until its min and max
	// arrive (then dequantized) or until it turns out to be a plain tensor.
	quantized   map[string]*qtensor
	qtype       quant.Type
	dequantized int64
	spare       []float64 // the codes buffer of the last tensor binned, for the next
	floats      []float32 // codes turned to floats, a chunk at a time
}

// qtensor is a tensor of integers waiting for its range.
type qtensor struct {
	codes    []float64
	min      float32
	haveMin  bool
	complete bool // output 0 has ended
}

// maxQuantized bounds the codes held for one quantized dump (128 MiB);
// a longer integer tensor is binned as plain values.
const maxQuantized = 1 << 24

// badRecord is a range record unusable for calibration.
type badRecord struct {
	file      string
	line      int64
	node, msg string
}

func newPart(acc *stats.Accumulator, hist *stats.HistogramSet, nameMap map[string]string, dropBad bool) *part {
	return &part{acc: acc, hist: hist, hists: map[string]*stats.Histogram{}, nameMap: nameMap, dropBad: dropBad,
		quantized: map[string]*qtensor{}, qtype: quant.QInt32}
}

// histogram returns the histogram a logged node's values go to.
func (p *part) histogram(node string) *stats.Histogram {
	h := p.hists[node]
	if h == nil {
		target, ok := p.nameMap[node]
		if !ok {
			target = stats.MapName(node)
		}
		h = p.hist.Histogram(target)
		p.hists[node] = h
	}
	return h
}

// flushQuantized bins a held integer tensor as plain values: no range came.
func (p *part) flushQuantized(node string) {
	q := p.quantized[node]
	if q == nil {
		return
	}
	delete(p.quantized, node)
	p.binCodes(node, q, func(dst []float32, codes []float64) int {
		n := min(len(dst), len(codes))
		for i, c := range codes[:n] {
			dst[i] = float32(c)
		}
		return n
	})
}

// binCodes bins the codes of q as conv turns them to floats, a chunk at a
// time, and keeps the codes buffer for the next tensor.
func (p *part) binCodes(node string, q *qtensor, conv func(dst []float32, codes []float64) int) {
	h := p.histogram(node)
	if p.floats == nil {
		p.floats = make([]float32, 4096)
	}
	for codes := q.codes; len(codes) > 0; {
		n := conv(p.floats, codes)
		h.AddSlice(p.floats[:n])
		codes = codes[n:]
	}
	if cap(q.codes) <= 1<<22 { // 32 MiB; a larger one is rare: let it go
		p.spare = q.codes[:0]
	}
	q.codes = nil
}

// flushAll bins every held integer tensor as plain values (end of input).
func (p *part) flushAll() {
	nodes := make([]string, 0, len(p.quantized))
	for n := range p.quantized {
		nodes = append(nodes, n)
	}
	slices.Sort(nodes)
	for _, n := range nodes {
		p.flushQuantized(n)
	}
}

// values takes one chunk of a logged tensor. Output 0 is binned; when it is
// all integers it is held, and if outputs 1 and 2 follow with one value
// each, it is a quantized dump (Intel's MSG[q ...][min][max]) and is
// dequantized with TF's QuantizedToFloat rule for p.qtype before binning.
func (p *part) values(it *item) {
	if it.output == 0 {
		if it.chunk == 0 {
			p.flushQuantized(it.node) // a previous integer tensor got no range
		}
		q := p.quantized[it.node]
		switch {
		case it.ints && (it.chunk == 0 || q != nil) && (q == nil || len(q.codes)+len(it.values64) <= maxQuantized):
			if q == nil {
				q = &qtensor{codes: p.spare}
				p.spare = nil
				p.quantized[it.node] = q
			}
			q.codes = append(q.codes, it.values64...)
			q.complete = it.last
		default:
			p.flushQuantized(it.node)
			p.histogram(it.node).AddSlice(it.values)
		}
		if it.bad {
			p.badTensors++
		}
		return
	}
	q := p.quantized[it.node]
	switch {
	case q != nil && q.complete && it.output == 1 && it.chunk == 0 && it.last && len(it.values) == 1:
		q.min, q.haveMin = it.values[0], true
	case q != nil && q.complete && q.haveMin && it.output == 2 && it.chunk == 0 && it.last && len(it.values) == 1:
		max := it.values[0]
		delete(p.quantized, it.node)
		p.binCodes(it.node, q, quant.NewDequantizer(p.qtype, q.min, max).Floats)
		p.dequantized++
	default:
		if it.last {
			p.extraOutputs++
		}
	}
}

// read scans r (named name) into the part and closes it.
func (p *part) read(r *logparse.Reader, name string, c *calibFlags, values bool) (logparse.Counts, error) {
	defer r.Close()
	r.TFCompat = c.tfCompat
	r.AllValues = values
	if err := scanAsync(r, func(it *item) error { return p.consume(it, name) }); err != nil {
		return logparse.Counts{}, err
	}
	p.flushAll()
	return r.Counts(), r.Err()
}

// consume takes one item, checking range records.
func (p *part) consume(it *item, file string) error {
	if se := it.se; se != nil {
		p.nSyntax++
		if len(p.syntax) < maxShown {
			p.syntax = append(p.syntax, *se)
		}
		return nil
	}
	if it.kind == logparse.Values {
		p.values(it)
		return nil
	}
	if msg := checkRecord(it.kind, it.min, it.max); msg != "" {
		if p.dropBad {
			p.dropped++
			return nil
		}
		p.nBad++
		if len(p.bad) < maxShown {
			p.bad = append(p.bad, badRecord{file, it.line, it.node, msg})
		}
		return nil
	}
	return p.acc.Add(it.node, side(it.kind), it.min, it.max, file, it.line)
}

// merge adds a part that read the lines after lineOffset of the same file.
func (p *part) merge(q *part, lineOffset int64) error {
	if err := p.acc.MergeShifted(q.acc, lineOffset); err != nil {
		return err
	}
	p.hist.Merge(q.hist)
	for _, se := range q.syntax {
		if len(p.syntax) < maxShown {
			se.Line += lineOffset
			p.syntax = append(p.syntax, se)
		}
	}
	for _, b := range q.bad {
		if len(p.bad) < maxShown {
			b.line += lineOffset
			p.bad = append(p.bad, b)
		}
	}
	p.nSyntax += q.nSyntax
	p.nBad += q.nBad
	p.dropped += q.dropped
	p.extraOutputs += q.extraOutputs
	p.badTensors += q.badTensors
	p.dequantized += q.dequantized
	return nil
}

// splitMin is the size from which a log file is read by two parsers, one
// per half, on the machine's two cores (a variable for tests).
var splitMin int64 = 64 << 20

// readFile reads one log file into p. A large plain file is split at the
// first line end after its middle and both halves are parsed at once, the
// second into its own part that is merged in after the first (line numbers
// shifted, samples appended in log order), so the result is the same as
// reading it from start to end.
func readFile(p *part, path string, c *calibFlags, values bool) (logparse.Counts, error) {
	split, err := splitPoint(path)
	if err != nil || split == 0 {
		r, err := logparse.Open(path)
		if err != nil {
			return logparse.Counts{}, err
		}
		return p.read(r, path, c, values)
	}
	f, err := os.Open(path)
	if err != nil {
		return logparse.Counts{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return logparse.Counts{}, err
	}
	tail := newPart(stats.NewAccumulator(), stats.NewHistogramSet(), p.nameMap, p.dropBad)
	var tailCounts logparse.Counts
	var tailErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		tailCounts, tailErr = tail.read(logparse.NewReader(io.NewSectionReader(f, split, fi.Size()-split), path), path, c, values)
	}()
	headCounts, headErr := p.read(logparse.NewReader(io.NewSectionReader(f, 0, split), path), path, c, values)
	<-done
	if headErr != nil {
		return logparse.Counts{}, headErr
	}
	if tailErr != nil {
		return logparse.Counts{}, fmt.Errorf("%w (in the second half of the file, from byte %d)", tailErr, split)
	}
	if err := p.merge(tail, headCounts.Lines); err != nil {
		return logparse.Counts{}, err
	}
	addCounts(&headCounts, tailCounts)
	return headCounts, nil
}

// splitPoint returns the offset just after the first '\n' at or after the
// middle of a plain (not gzip) regular file of at least splitMin bytes
// when the machine has two or more CPUs, else 0.
func splitPoint(path string) (int64, error) {
	if runtime.GOMAXPROCS(0) < 2 {
		return 0, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() || fi.Size() < splitMin {
		return 0, err
	}
	var magic [2]byte
	if _, err := f.ReadAt(magic[:], 0); err != nil || magic == [2]byte{0x1f, 0x8b} {
		return 0, nil
	}
	buf := make([]byte, 64<<10)
	for off := fi.Size() / 2; off < fi.Size(); off += int64(len(buf)) {
		n, err := f.ReadAt(buf, off)
		if i := bytes.IndexByte(buf[:n], '\n'); i >= 0 {
			if off+int64(i)+1 >= fi.Size() {
				return 0, nil
			}
			return off + int64(i) + 1, nil
		}
		if err != nil {
			return 0, nil
		}
	}
	return 0, nil
}
