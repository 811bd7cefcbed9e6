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
	// Values is a chunk of the values of a tensor printed by a Print op
	// with another message, such as `__KL:[v v v ...]`. Value records are
	// returned only when asked for (Reader.Values, Reader.AllValues).
	Values
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
	case Values:
		return "values"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Record is one calibration record from a log: a range record
// (RequantMinMax, Min, Max) or a chunk of a tensor's values (Values).
//
// For RequantMinMax both Min and Max are set. For Min records only Min is
// set, for Max records only Max; the other field is zero.
// Values are parsed as float32, as TensorFlow parses them; NaN and ±Inf are
// passed through unchanged (see Record.Finite) so that callers can report
// them instead of using them.
//
// A Values record is one chunk of a tensor: a tensor's values arrive in
// order over one or more consecutive records with the same Node, Msg, Line
// and Output, numbered by Chunk from 0; the last has Last set (a tensor
// without values gives one empty Last chunk). Only the fields from Msg on,
// and Kind, Node, File and Line, are set for Values records; Min and Max
// are zero.
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

	// Msg is the message of a Values record: the Print message's text
	// between "__print__;" and the tensor's first '[', such as "__KL:".
	// Like Node it is interned.
	Msg string
	// Values holds this chunk's values (at most MaxChunk), parsed as
	// float32 like range values, NaN and ±Inf included. The slice is
	// reused: it is valid until the next call to Scan.
	Values []float32
	// Values64 holds the same values exactly as float64 while every value
	// of the tensor so far (this chunk included) is written as an integer
	// of at most 15 digits, as the data of TF's quantized types (qint32,
	// quint8, ...) is; otherwise it is nil. Such integers are exact here
	// but not always in Values (float32 holds integers exactly only up to
	// 2^24). Valid until the next call to Scan.
	Values64 []float64
	// Output is the 0-based index of the tensor among the bracket groups
	// that directly follow one another after the message: a Print node
	// logging several tensors writes MSG[...][...][...]. Intel's dumps of a
	// quantized op write MSG[q q q ...][min][max]: the quantized data
	// (Output 0, integers, see Values64) then its float min and max
	// (Outputs 1 and 2, one value each), so a caller that dequantizes must
	// keep the integers (or a bounded summary of them, such as an integer
	// histogram) until Output 2 has arrived.
	Output int
	// Chunk is the 0-based index of this chunk within its tensor.
	Chunk int
	// Last is set on the final chunk of a tensor.
	Last bool
	// Truncated is set on the Last chunk of a tensor that the Print op
	// shortened to its summarize limit (its text holds "..."): the values
	// are only the first ones of the tensor.
	Truncated bool
	// Bad is set on the Last chunk of a tensor whose text turned out to be
	// malformed; the next item is a *SyntaxError saying why. The values
	// before the damage have been delivered; a caller that wants whole
	// tensors only discards the tensor.
	Bad bool
}

// MaxChunk is the most values a Values record holds.
const MaxChunk = 4096

// Finite reports whether the record's values are neither NaN nor infinite.
// It looks at Min and Max only, so it is always true for Values records.
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
	NonFinite   int64 // range records holding NaN or ±Inf, plus NaN and ±Inf tensor values
	Ignored     int64 // records skipped by TFCompat (all but the last of a joined line)
	OtherPrints int64 // "NAME__print__;" messages of other kinds (__KL:, user text) not returned as records

	// Tensors returned as Values records (see Reader.Values). Records,
	// RecordLines and JoinedLines count range records only.
	ValueRecords int64 // tensors returned (each ends with a Last chunk), Bad ones included
	Values       int64 // values returned in Values records
	Truncated    int64 // tensors shortened by the Print op's summarize limit
}

// TruncationWarning returns the warning to show when tensors were
// truncated by the Print op's summarize limit, or "" if none was.
func (c Counts) TruncationWarning() string {
	if c.Truncated == 0 {
		return ""
	}
	return fmt.Sprintf("%d tensor(s) truncated by the Print op's summarize limit; log with -summarize -1", c.Truncated)
}
