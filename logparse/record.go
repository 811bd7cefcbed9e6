package logparse

import "fmt"

// Kind says which Print message a record came from.
type Kind uint8

const (
	// RequantMinMax is a `__requant_min_max:[min][max]` record written by the
	// Print node after a RequantizationRange(PerChannel) op.
	RequantMinMax Kind = iota + 1
	// Min is a `__min:[v]` record written after a Min op (Intel's flow).
	Min
	// Max is a `__max:[v]` record written after a Max op (Intel's flow).
	Max
)

// String returns the message prefix of the kind without its colon.
func (k Kind) String() string {
	switch k {
	case RequantMinMax:
		return "__requant_min_max"
	case Min:
		return "__min"
	case Max:
		return "__max"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Record is one calibration record from a log.
//
// For RequantMinMax both Min and Max are set. For Min records only Min is
// set, for Max records only Max; the other field is zero.
// Values are parsed as float32, as TensorFlow parses them; NaN and ±Inf are
// passed through unchanged (see Record.Finite) so that callers can report
// them instead of using them.
type Record struct {
	Kind Kind
	// Node is the logged node's name: the text between the previous ';' (or
	// the start of the line) and "__print__". Names are interned: the same
	// name gives the same string for the life of the Reader.
	Node string
	Min  float32
	Max  float32
	// File is the name the Reader was given; Line is the 1-based number of
	// the '\n'-terminated line that holds the record.
	File string
	Line int64
}

// Finite reports whether the record's values are neither NaN nor infinite.
func (r *Record) Finite() bool {
	return finite32(r.Min) && finite32(r.Max)
}

func finite32(f float32) bool {
	return f == f && f-f == 0
}

// SyntaxError is a fragment of a line that looks like a record but is
// malformed. It is handed back in the stream while reading goes on.
type SyntaxError struct {
	File string
	Line int64
	Msg  string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}

// Counts are what a Reader has seen so far.
type Counts struct {
	Bytes       int64 // bytes of log text read (after gzip decompression)
	Lines       int64 // lines read ('\n'-terminated, plus a final unterminated one)
	Records     int64 // records returned by Scan (all kinds)
	RecordLines int64 // lines holding at least one record
	JoinedLines int64 // lines holding two or more records (concurrent Print ops)
	Malformed   int64 // malformed fragments returned as *SyntaxError
	NonFinite   int64 // records holding NaN or ±Inf
	Ignored     int64 // records skipped by TFCompat (all but the last of a joined line)
	OtherPrints int64 // "NAME__print__;" messages of other kinds (__KL:, user text); not records
}
