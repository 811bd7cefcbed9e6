package calib

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync/atomic"

	"qcal/internal/atomicfile"
	"qcal/logparse"
	"qcal/stats"
)

// BadPolicy says what Read does with a range record unusable for
// calibration: NaN or ±Inf values, or min > max.
type BadPolicy int

const (
	// FailBad makes such records an error naming the first few (file,
	// line, node, reason).
	FailBad BadPolicy = iota
	// DropBad skips them and counts them (Calibration.Dropped).
	DropBad
	// CountBad skips them and counts them per node (Calibration.Bad), as
	// findings of an audit.
	CountBad
)

// Options configure Read.
type Options struct {
	// Methods are the strategies the caller will apply; when one reads
	// tensor values, Read parses and bins them (the slower path).
	Methods []Method
	// TFCompat parses the logs exactly as TensorFlow does: of a line
	// holding several records only the last counts. It reads no values.
	TFCompat bool
	// Bad is the policy for unusable range records.
	Bad BadPolicy
	// NameMap maps value-logged node names to the RequantizationRange
	// names whose ranges they calibrate (ParseNameMap); a name it lacks is
	// mapped by MapName.
	NameMap map[string]string
	// KeepLines keeps the file and line of every range record
	// (stats.Accumulator.KeepLines), for the audit's positions.
	KeepLines bool
	// Stdin is read for the log named "-".
	Stdin io.Reader
	// Note, when not nil, is given what the user should be told, in order,
	// as Read learns it (before an error it returns): warnings, which
	// start with "warning: " (malformed records skipped, records dropped,
	// truncated logs), and facts about the input (dequantized dumps).
	Note func(string)
	// Progress, when not nil, is called on Read's goroutine every few
	// thousand records while a log is read, then once with Done set; it
	// should be quick (and draw at most a few times a second).
	Progress func(Progress)
	// SplitMin is the size from which a plain log file is read by two
	// parsers at once, one per half; 0 means 64 MiB. Splitting changes no
	// result.
	SplitMin int64
}

// Progress is how far the reading of one log has come.
type Progress struct {
	File string // as named to Read; "<stdin>" for "-"
	// Size is the file's size in bytes, -1 when unknown (stdin); Bytes
	// the bytes read so far (decompressed bytes for a gzip file).
	Size, Bytes int64
	Records     int64 // records read so far
	Done        bool
}

// BadRecords counts a node's records that cannot be used for calibration
// and where the first was (CountBad).
type BadRecords struct {
	NonFinite int64  `json:"non_finite"` // NaN or ±Inf values
	Inverted  int64  `json:"inverted"`   // min > max
	File      string `json:"file"`
	Line      int64  `json:"line"`
}

// Calibration is what the logs held.
type Calibration struct {
	Acc     *stats.Accumulator
	Hist    *stats.HistogramSet // tensor values, by RequantizationRange name
	Counts  logparse.Counts     // summed over the logs
	Logs    []string
	Methods []Method
	// Dropped counts the records skipped by DropBad; Bad the records
	// skipped by CountBad, by node.
	Dropped int
	Bad     map[string]*BadRecords
}

// maxShown is how many malformed or bad records are named before the rest
// are counted.
const maxShown = 5

// config is what every part of a reading shares.
type config struct {
	opt      *Options
	values   bool
	splitMin int64
	meter    *meter
	// fixedTh, set in the second pass of a kl reading, is max|v| of each
	// node's values (by RequantizationRange name): the ranges of Intel's
	// histograms.
	fixedTh map[string]float32
}

// Read streams every log into one Calibration, checking each record. A log
// named "-" is opt.Stdin. Malformed fragments become notes; unusable range
// records are handled by opt.Bad. A log without any record, I/O errors and
// (with FailBad) unusable records are errors.
func Read(logs []string, opt Options) (*Calibration, error) {
	if err := opt.Check(logs); err != nil {
		return nil, err
	}
	cfg := &config{opt: &opt, values: WantsValues(opt.Methods), splitMin: opt.SplitMin}
	if cfg.splitMin <= 0 {
		cfg.splitMin = defaultSplitMin
	}
	all := newPart(cfg)
	cal := &Calibration{Acc: all.acc, Hist: all.hist, Logs: logs, Methods: opt.Methods}
	// kl searches Intel's histogram, whose range is max|v| of all a node's
	// values: a second pass bins them once the first has found it. Standard
	// input is kept in a temporary file for that pass.
	twoPass := wantsFixed(opt.Methods)
	var spool *os.File
	if twoPass && slices.Contains(logs, "-") {
		var remove func()
		var err error
		if spool, remove, err = atomicfile.TempFile("", "qcal-stdin-*.log"); err != nil {
			return nil, fmt.Errorf("<stdin>: keeping a copy for kl's second pass: %w", err)
		}
		defer remove()
	}
	for _, path := range logs {
		name := path
		if path == "-" {
			name = "<stdin>"
		}
		if opt.Progress != nil {
			cfg.meter = newMeter(opt.Progress, name, path)
		}
		var n logparse.Counts
		var err error
		if path == "-" {
			in := opt.Stdin
			if spool != nil {
				in = io.TeeReader(in, spool)
			}
			n, err = all.read(logparse.NewReader(in, name), name, true)
		} else {
			n, err = all.readFile(path)
		}
		if cfg.meter != nil {
			cfg.meter.done()
		}
		if err != nil {
			return nil, err
		}
		if n.Records == 0 && n.ValueRecords == 0 {
			return nil, fmt.Errorf("%s: No min/max range logs were found in the log file (%d lines read); "+
				"a record looks like `;NODE__print__;__requant_min_max:[-1.5][2.25]`, written by a graph logged with "+
				"`qcal insert-logging` (TF: insert_logging(op=RequantizationRange, show_name=true, message=\"__requant_min_max:\"))",
				name, n.Lines)
		}
		addCounts(&cal.Counts, n)
	}
	for _, se := range all.syntax {
		opt.note("warning: %s (skipped)", se.Error())
	}
	if all.nSyntax > len(all.syntax) {
		opt.note("warning: (and %d more malformed records skipped)", all.nSyntax-len(all.syntax))
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
		return nil, &BadRecordsError{Count: all.nBad, Shown: lines, More: more}
	}
	cal.Dropped = all.dropped
	if cal.Dropped > 0 {
		opt.note("warning: %d record(s) with NaN/Inf values or min > max skipped (-drop-bad)", cal.Dropped)
	}
	if opt.Bad == CountBad {
		cal.Bad = all.counted
	}
	if all.dequantized > 0 {
		opt.note("%d quantized tensor dump(s) (MSG[q ...][min][max]) dequantized as qint32 with TF's QuantizedToFloat rule (per-channel ranges: code·max(|min_c|, |max_c|)/2^31)", all.dequantized)
	}
	if w := cal.Counts.TruncationWarning(); w != "" {
		opt.note("warning: %s", w)
	}
	if all.extraOutputs > 0 {
		opt.note("warning: %d logged tensor(s) beyond a Print's first output ignored: value strategies read output 0, "+
			"or outputs 0-2 of a quantized dump MSG[q ...][min][max]", all.extraOutputs)
	}
	if all.brokenDumps > 0 {
		opt.note("warning: %d quantized dump(s) left out, their min and max fitting no range of their codes (one value, or one per channel dividing the codes' count); the first: node %q", all.brokenDumps, all.brokenNode)
	}
	if all.badTensors > 0 {
		opt.note("warning: %d tensor(s) malformed part-way; the values before the damage were used", all.badTensors)
	}
	if cal.Acc.Len() == 0 && cal.Hist.Len() == 0 && len(cal.Bad) == 0 {
		return nil, fmt.Errorf("no usable records left in %s", strings.Join(logs, ", "))
	}
	for _, m := range opt.Methods {
		if m.Batch == nil && cal.Hist.Len() == 0 {
			return nil, &NoValuesError{Strategy: m.Name(), Logs: logs, Records: cal.Counts.Records, Nodes: cal.Acc.Len()}
		}
	}
	if twoPass && cal.Hist.Len() > 0 {
		if err := binFixed(cfg, cal, spool); err != nil {
			return nil, err
		}
	}
	return cal, nil
}

// wantsFixed reports whether a method searches Intel's fixed-range
// histogram (kl).
func wantsFixed(ms []Method) bool {
	for _, m := range ms {
		if _, ok := m.Values.(stats.KL); ok {
			return true
		}
	}
	return false
}

// binFixed is the second pass of a kl reading: every log is read again
// (standard input from spool), each node's values binned into Intel's
// histogram over [-max|v|, max|v|] (max|v| from the first pass), which is
// attached to the node's Histogram. Only tensor values are taken; the first
// pass has counted and checked the rest.
func binFixed(cfg *config, cal *Calibration, spool *os.File) error {
	second := *cfg
	second.meter = nil
	second.fixedTh = map[string]float32{}
	for _, name := range cal.Hist.Nodes() {
		if h := cal.Hist.Node(name); h.Count() > 0 {
			second.fixedTh[name] = h.AbsMax()
		}
	}
	p := newPart(&second)
	for _, path := range cal.Logs {
		var err error
		if path == "-" {
			if _, err = spool.Seek(0, io.SeekStart); err == nil {
				_, err = p.read(logparse.NewReader(spool, "<stdin>"), "<stdin>", true)
			}
		} else {
			_, err = p.readFile(path)
		}
		if err != nil {
			return fmt.Errorf("kl's second pass: %w", err)
		}
	}
	for name, f := range p.fixed {
		cal.Hist.Node(name).SetFixed(f)
	}
	return nil
}

// Check returns the error Read gives before reading anything when asked
// to read logs with opt: ErrNoLogs or ErrTFCompatValues.
func (opt *Options) Check(logs []string) error {
	if len(logs) == 0 {
		return ErrNoLogs
	}
	if opt.TFCompat && WantsValues(opt.Methods) {
		return ErrTFCompatValues
	}
	return nil
}

func (o *Options) note(format string, a ...any) {
	if o.Note != nil {
		o.Note(fmt.Sprintf(format, a...))
	}
}

// BadRecordsError is Read's error, with FailBad, for range records
// unusable for calibration.
type BadRecordsError struct {
	Count int
	Shown []string // "file:line: node "x": reason", the first few
	More  string   // "\n\t(and N more)" or ""
}

func (e *BadRecordsError) Error() string {
	return fmt.Sprintf("%d record(s) unusable for calibration (use -drop-bad to skip them):\n\t%s%s",
		e.Count, strings.Join(e.Shown, "\n\t"), e.More)
}

// NoValuesError is Read's error when a strategy that reads only tensor
// values (kl, entropy, mse, vpercentile) is asked of logs that hold none:
// a mistake in the request, not in the data.
type NoValuesError struct {
	Strategy string
	Logs     []string
	Records  int64 // per-batch range records the logs held
	Nodes    int
}

func (e *NoValuesError) Error() string {
	return fmt.Sprintf("strategy %s reads logged tensor values, but %s hold(s) only per-batch extremes "+
		"(%d range records of %d nodes, no tensor values); use a per-batch strategy (%s) or log the tensor values",
		e.Strategy, strings.Join(e.Logs, ", "), e.Records, e.Nodes, stats.Strategies)
}

// Errors in how Read was asked (Options.Check).
var (
	ErrNoLogs         = errors.New("no calibration log given")
	ErrTFCompatValues = errors.New("-tf-compat reads only __requant_min_max records; strategies on tensor values (" + stats.HistStrategies + ") need the default parser")
)

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

// meter sums the progress of the parts reading one log (two for a split
// file) and reports it from the head part's goroutine.
type meter struct {
	report         func(Progress)
	p              Progress
	bytes, records atomic.Int64
}

func newMeter(report func(Progress), name, path string) *meter {
	m := &meter{report: report, p: Progress{File: name, Size: -1}}
	if path != "-" {
		if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() {
			m.p.Size = fi.Size()
		}
	}
	return m
}

// add counts a batch of one part; the head part also reports.
func (m *meter) add(bytes, records int64, head bool) {
	b, r := m.bytes.Add(bytes), m.records.Add(records)
	if head {
		m.p.Bytes, m.p.Records = b, r
		m.report(m.p)
	}
}

func (m *meter) done() {
	m.p.Bytes, m.p.Records, m.p.Done = m.bytes.Load(), m.records.Load(), true
	m.report(m.p)
}
