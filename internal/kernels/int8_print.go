package kernels

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"sync"

	"qcal/internal/tensor"
	"qcal/internal/tfpb"
)

// Print is TensorFlow's Print op (tensorflow/core/kernels/logging_ops.cc,
// TF 1.15): output 0 is input 0, passed through; unless first_n (default
// -1: no limit) calls of this node have printed already, it writes one
// line: the message attr, then "[" + summary + "]" for each input from the
// second on, then a newline (TF-FORMATS §2). The summary is TF 1.15's
// Tensor::SummarizeValue(summarize) (attr default 3; insert_logging sets
// 1024; negative: all): elements space-separated, each dimension but the
// last in its own brackets ([[1 2][3 4]]), "..." where elements were cut.
// Floats are written as TF's FloatToBuffer writes them: %.6g, or %.9g when
// that does not read back as the same float32.
//
// A line is never built whole: qcal tune logs whole int32 tensors
// (summarize -1), and one ImageNet layer at batch 64 (64×112×112×64 values)
// makes a line of about 500 MB. The line is formatted in chunks of
// printChunk bytes, each written as soon as it is full, and the writer is
// locked from the first chunk to the newline so that the lines of Print
// nodes running concurrently (evaluate's batches on both cores) never
// interleave: a PrintLog's own lock, or for any other io.Writer one lock
// shared by all Print nodes of the process. Lines shorter than a chunk are
// formatted before the lock is taken and written with one Write, as before.
// With io.Discard (the executor's default) or a nil Log nothing is
// formatted at all (the inputs are still checked), and first_n needs no
// PrintLog.

func init() {
	Register(Def{Op: "Print", Run: printOp, Stateful: true})
}

// printChunk is the size of the pieces a Print line is written in: large
// enough that Write calls are few, small enough that a line of a whole
// tensor costs no more memory than this.
const printChunk = 64 << 10

// plainLogMu serializes the lines Print writes to a Context.Log that is not
// a *PrintLog: a line goes out in several Writes, and the lines of
// concurrent runs sharing one writer must not interleave.
var plainLogMu sync.Mutex

func printOp(c *Context) ([]*tensor.Tensor, error) {
	if err := c.WantInputsAtLeast(1); err != nil {
		return nil, err
	}
	msg, err := c.stringOr("message", "")
	if err != nil {
		return nil, err
	}
	firstN, summarize := -1, 3
	if c.Has("first_n") {
		if firstN, err = c.Int("first_n"); err != nil {
			return nil, err
		}
	}
	if c.Has("summarize") {
		if summarize, err = c.Int("summarize"); err != nil {
			return nil, err
		}
	}
	out := []*tensor.Tensor{c.Inputs[0]}
	log, ok := c.Log.(*PrintLog)
	// Where nothing is kept, nothing is formatted, and first_n needs no
	// count: no call would print anything.
	discard := !ok && (c.Log == nil || c.Log == io.Discard)
	if !ok && !discard && firstN >= 0 {
		return nil, c.Errorf("first_n = %d needs a *kernels.PrintLog as Context.Log to count calls across runs", firstN)
	}
	if ok && !log.take(c.Node.GetName(), int64(firstN)) {
		return out, nil
	}
	// Every input is checked before the first byte is written: a bad
	// input fails the node with no partial line in the log.
	sums := make([]summary, 0, len(c.Inputs)-1)
	for i := 1; i < len(c.Inputs); i++ {
		s, err := newSummary(c.Inputs[i], summarize)
		if err != nil {
			return nil, c.Errorf("input %d (%q): %w", i, c.inputName(i), err)
		}
		sums = append(sums, s)
	}
	var lw lineWriter
	switch {
	case ok:
		lw = lineWriter{w: log.w, mu: &log.mu, prefix: log.Prefix, log: log}
	case discard:
		return out, nil
	default:
		lw = lineWriter{w: c.Log, mu: &plainLogMu}
	}
	lw.chunk = printChunk
	if err := lw.writeLine(msg, sums); err != nil {
		return nil, c.Wrap(err)
	}
	return out, nil
}

// summary is one input of a Print node, ready to be written: TF 1.15's
// Tensor::SummarizeValue(maxEntries) of x.
type summary struct {
	shape []int
	n     int // elements in x
	limit int // elements written: min(maxEntries, n), or n
	elems elemFormatter
}

// elemFormatter appends elements lo, lo+1, ... (below hi) of a tensor, each
// followed by a space, and stops after the element that brings len(b) to
// stop or beyond. It returns b and the number of elements appended (at
// least one when lo < hi).
type elemFormatter func(b []byte, lo, hi, stop int) ([]byte, int)

func newSummary(x *tensor.Tensor, maxEntries int) (summary, error) {
	if x == nil {
		return summary{}, fmt.Errorf("no tensor")
	}
	elems, err := formatterOf(x)
	if err != nil {
		return summary{}, err
	}
	n, err := tensor.CheckShape(x.Shape)
	if err != nil {
		return summary{}, err
	}
	if got := x.Len(); got != n {
		return summary{}, fmt.Errorf("%s tensor of shape %s holds %d elements, not %d",
			tensor.TypeName(x.DType), tensor.ShapeString(x.Shape), got, n)
	}
	limit := n
	if maxEntries >= 0 {
		limit = min(maxEntries, n)
	}
	return summary{shape: x.Shape, n: n, limit: limit, elems: elems}, nil
}

// formatterOf returns the formatter of x's elements as TF's StrCat writes
// them.
func formatterOf(x *tensor.Tensor) (elemFormatter, error) {
	switch tensor.StorageOf(x.DType) {
	case tensor.StoreF32:
		return func(b []byte, lo, hi, stop int) ([]byte, int) {
			for k, v := range x.F32[lo:hi] {
				b = append(AppendTFFloat(b, v), ' ')
				if len(b) >= stop {
					return b, k + 1
				}
			}
			return b, hi - lo
		}, nil
	case tensor.StoreF64:
		return func(b []byte, lo, hi, stop int) ([]byte, int) {
			for k, v := range x.F64[lo:hi] {
				b = append(appendTFDouble(b, v), ' ')
				if len(b) >= stop {
					return b, k + 1
				}
			}
			return b, hi - lo
		}, nil
	case tensor.StoreI32:
		return intFormatter(x.I32), nil
	case tensor.StoreI64:
		return intFormatter(x.I64), nil
	case tensor.StoreU8:
		return intFormatter(x.U8), nil
	case tensor.StoreI8:
		return intFormatter(x.I8), nil
	case tensor.StoreI16:
		return intFormatter(x.I16), nil
	case tensor.StoreBool:
		return func(b []byte, lo, hi, stop int) ([]byte, int) {
			for k, v := range x.Bool[lo:hi] {
				if v {
					b = append(b, '1', ' ')
				} else {
					b = append(b, '0', ' ')
				}
				if len(b) >= stop {
					return b, k + 1
				}
			}
			return b, hi - lo
		}, nil
	case tensor.StoreStr:
		return func(b []byte, lo, hi, stop int) ([]byte, int) {
			for k, v := range x.Str[lo:hi] {
				b = append(append(b, v...), ' ')
				if len(b) >= stop {
					return b, k + 1
				}
			}
			return b, hi - lo
		}, nil
	}
	// half and bfloat16 share the uint16 storage but are not integers.
	if x.DType == tfpb.DataType_DT_UINT16 || x.DType == tfpb.DataType_DT_QUINT16 {
		return intFormatter(x.U16), nil
	}
	return nil, errUnprintable(x.DType)
}

func intFormatter[T int8 | int16 | int32 | int64 | uint8 | uint16](xs []T) elemFormatter {
	return func(b []byte, lo, hi, stop int) ([]byte, int) {
		for k, v := range xs[lo:hi] {
			b = append(strconv.AppendInt(b, int64(v), 10), ' ')
			if len(b) >= stop {
				return b, k + 1
			}
		}
		return b, hi - lo
	}
}

type errUnprintable tfpb.DataType

func (e errUnprintable) Error() string {
	return "Print of " + tensor.TypeName(tfpb.DataType(e)) + " tensors is not supported"
}

// lineWriter writes one Print line in chunks. The first chunk written
// takes the lock mu and writes prefix; the lock is held until the line's
// end.
type lineWriter struct {
	b      []byte
	chunk  int
	w      io.Writer
	mu     *sync.Mutex
	prefix string
	log    *PrintLog // nil for a plain writer
	held   bool
	err    error
}

// printBufs holds the chunk buffers of finished lines for the next ones.
var printBufs = sync.Pool{New: func() any { return new([]byte) }}

// writeLine writes msg, each summary in brackets and a newline.
func (lw *lineWriter) writeLine(msg string, sums []summary) error {
	defer lw.unlock()
	bp := printBufs.Get().(*[]byte)
	lw.b = append((*bp)[:0], msg...)
	defer func() {
		// A buffer that grew far past a chunk (a long string element)
		// is left to the collector.
		if cap(lw.b) <= 2*printChunk {
			*bp = lw.b[:0]
			printBufs.Put(bp)
		}
		lw.b = nil
	}()
	for _, s := range sums {
		lw.b = append(lw.b, '[')
		lw.summary(s)
		lw.b = append(lw.b, ']')
	}
	lw.b = append(lw.b, '\n')
	if !lw.held && lw.log != nil {
		// A line within one chunk: PrintLog.line writes it whole.
		return lw.log.line(lw.b)
	}
	lw.flush()
	if lw.err != nil && lw.log != nil {
		return fmt.Errorf("print log: %w", lw.err)
	}
	return lw.err
}

// summary writes s as TF's PrintOneDim does, row by row of the last
// dimension: within a row the elements are space-separated; each element
// of every other dimension is in brackets, so between two rows one "]"
// closes and one "[" opens per dimension whose index moves on (the
// row's dimension, and the outer ones the odometer carries into). Where
// the limit cuts a row of a tensor of rank 2 or more, "..." follows its
// last element; at the limit every open bracket closes. Then, when
// elements were cut, "..." once more.
func (lw *lineWriter) summary(s summary) {
	rank := len(s.shape)
	row := 1 // a scalar is one row of one element
	if rank > 0 {
		row = s.shape[rank-1]
	}
	outer := max(rank-1, 0) // bracketed dimensions
	pos := make([]int, outer)
	for i := 0; i < s.limit && lw.err == nil; {
		if i == 0 {
			lw.brackets('[', outer)
		}
		end := min(i+row, s.limit)
		for i < end && lw.err == nil {
			var k int
			lw.b, k = s.elems(lw.b, i, end, lw.chunk)
			i += k
			if i == end {
				lw.b = lw.b[:len(lw.b)-1] // the space after the row's last element
			}
			if len(lw.b) >= lw.chunk {
				lw.flush()
			}
		}
		if i == s.limit {
			if i%row != 0 && rank > 1 {
				lw.b = append(lw.b, "..."...)
			}
			lw.brackets(']', outer)
			break
		}
		// The odometer over the outer dimensions: the row's dimension
		// moves on, and carries into the dimensions outside it.
		moved := 1
		for d := outer - 1; d > 0; d-- {
			if pos[d]++; pos[d] < s.shape[d] {
				break
			}
			pos[d] = 0
			moved++
		}
		lw.brackets(']', moved)
		lw.brackets('[', moved)
	}
	if s.n > s.limit {
		lw.b = append(lw.b, "..."...)
	}
}

func (lw *lineWriter) brackets(c byte, n int) {
	for range n {
		lw.b = append(lw.b, c)
	}
}

// flush writes the buffered bytes, taking the lock and writing the prefix
// first if this is the line's first chunk. After a write error it only
// empties the buffer.
func (lw *lineWriter) flush() {
	if lw.err == nil && !lw.held {
		lw.mu.Lock()
		lw.held = true
		if lw.prefix != "" {
			_, lw.err = io.WriteString(lw.w, lw.prefix)
		}
	}
	if lw.err == nil {
		_, lw.err = lw.w.Write(lw.b)
	}
	lw.b = lw.b[:0]
}

func (lw *lineWriter) unlock() {
	if lw.held {
		lw.held = false
		lw.mu.Unlock()
	}
}

// AppendTFFloat appends v as TensorFlow's FloatToBuffer writes a float:
// printf("%.6g"), or "%.9g" when the 6-digit form does not parse back to
// v; NaN as "nan" or "-nan", infinities as "inf" and "-inf" (glibc's
// spellings).
func AppendTFFloat(b []byte, v float32) []byte {
	if s, ok := nonFinite(float64(v)); ok {
		return append(b, s...)
	}
	n := len(b)
	b = strconv.AppendFloat(b, float64(v), 'g', 6, 32)
	if f, err := strconv.ParseFloat(string(b[n:]), 32); err != nil || float32(f) != v {
		b = strconv.AppendFloat(b[:n], float64(v), 'g', 9, 32)
	}
	return b
}

// appendTFDouble is DoubleToBuffer: %.15g, or %.17g when that does not
// round-trip.
func appendTFDouble(b []byte, v float64) []byte {
	if s, ok := nonFinite(v); ok {
		return append(b, s...)
	}
	n := len(b)
	b = strconv.AppendFloat(b, v, 'g', 15, 64)
	if f, err := strconv.ParseFloat(string(b[n:]), 64); err != nil || f != v {
		b = strconv.AppendFloat(b[:n], v, 'g', 17, 64)
	}
	return b
}

func nonFinite(v float64) (string, bool) {
	switch {
	case math.IsNaN(v):
		if math.Signbit(v) {
			return "-nan", true
		}
		return "nan", true
	case math.IsInf(v, 1):
		return "inf", true
	case math.IsInf(v, -1):
		return "-inf", true
	}
	return "", false
}
