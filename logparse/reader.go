package logparse

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"runtime"
	"syscall"

	"qcal/internal/tfname"
)

const (
	// defaultBlockSize is how much the Reader asks its source for at a time:
	// small enough for a block to stay in a core's L2 cache, large enough
	// to make read calls and hand-offs negligible (BenchmarkReaderFile).
	defaultBlockSize = 256 << 10
	// defaultMaxName bounds a node name (the text between the previous ';'
	// or the start of the line and "__print__"). A longer name is reported
	// as a SyntaxError instead of being buffered without bound.
	defaultMaxName = 64 << 10
	// maxValueLen bounds the text between a record's brackets.
	maxValueLen = 64
	// lookahead is how many bytes past a ';' are kept in the buffer before
	// the ';' is examined: enough for the longest well-formed record
	// message (__requant_min_max: + two bracketed 64-byte values + CRLF).
	lookahead = 256

	printSuffix = tfname.PrintSuffix
	requantKey  = "__requant_min_max:"
	minKey      = "__min:"
	maxKey      = "__max:"
	stdinName   = "<stdin>"
	gzipMagic0  = 0x1f
	gzipMagic1  = 0x8b
	peekBufSize = 64 << 10
	// minAsyncBlock is the smallest block size read ahead in a goroutine
	// by default; smaller blocks would cost more in hand-offs than they save.
	minAsyncBlock = 64 << 10
	maxEmptyRead  = 100
)

type readerState uint8

const (
	stateNew readerState = iota
	stateScanning
	stateDone
)

// Reader reads calibration records from a TensorFlow Print log.
//
// It is used like bufio.Scanner: call Scan until it returns false, and
// after each successful Scan look at Record (a record) or SyntaxError (a
// malformed record, handed back while reading goes on). Err reports the
// first I/O error once Scan has returned false.
//
// The Reader reads its source in fixed-size blocks and keeps at most a
// block plus a bounded tail in memory (memory does not grow with the log or
// with its line lengths; interned node names are the only thing that
// accumulates). Input starting with the gzip magic bytes is decompressed
// transparently. With more than one CPU the Reader reads (and decompresses)
// ahead in a goroutine; Close stops it, as does garbage collection of an
// abandoned Reader.
//
// Default mode: every record on a line is returned; each occurrence of
// "NAME__print__;" followed by "__requant_min_max:", "__min:" or "__max:" is
// one record, whatever precedes or follows it. Messages with other prefixes
// are counted in Counts.OtherPrints and otherwise skipped, unless Values or
// AllValues asks for their tensors. See TFCompat for TensorFlow's stricter
// and lossy rule.
type Reader struct {
	// TFCompat makes the Reader return exactly the records TensorFlow's
	// freeze_requantization_ranges transform extracts from the log (set it
	// before the first Scan): only lines containing
	// "__print__;__requant_min_max:" count, and of each such line only the
	// last ';'-separated piece starting with "__requant_min_max:" is taken,
	// checked with TF's split rules and parsed with TF's safe_strtof; all
	// other records of the line are counted in Counts.Ignored. __min and
	// __max records are ignored. A line containing the marker that TF
	// skips is reported as a SyntaxError. The only difference from TF is
	// that a node name longer than 64 KiB is reported as a SyntaxError.
	TFCompat bool

	// Values lists message prefixes, such as "__KL:", whose tensors are
	// returned as Values records in default mode (set it before the first
	// Scan). A message starting with one of them must be followed by its
	// tensors, MSG[...][...]: a message without a '[' is reported as a
	// SyntaxError. Prefixes longer than 128 bytes or containing '\r' or
	// '\n' never match. Empty Values (and AllValues false) keeps such
	// messages counted in Counts.OtherPrints, at no cost.
	Values []string
	// AllValues returns the tensors of every Print message that is not a
	// range record (__requant_min_max:, __min:, __max:) and has a '['
	// within its first 128 bytes; messages without one are counted in
	// Counts.OtherPrints. Set it before the first Scan.
	AllValues bool

	name   string
	src    io.Reader
	in     io.Reader
	closer io.Closer
	gz     *gzip.Reader
	// gzipped: the input is gzip (an unexpected EOF is a truncated stream)
	gzipped bool

	blockSize int  // bytes asked of the source per Read (tests shrink it)
	maxName   int  // longest node name accepted (tests shrink it)
	async     int8 // prefetch in a goroutine: 0 auto, 1 always, -1 never (tests)
	pf        *prefetcher

	tfMode  bool // TFCompat as it was at the first Scan
	state   readerState
	buf     []byte
	end     int // buf[:end] holds data
	pos     int // next byte to examine
	lim     int // events before lim are examined; lim <= end-lookahead until EOF
	eof     bool
	err     error
	pendErr error // a read error seen while peeking for the gzip magic
	last    byte  // last byte read, to count a final unterminated line

	// The current segment (text after the last ';' or '\n') starts at or
	// after segFloor; segExact is false when its true start was dropped
	// because it lies more than maxName bytes back.
	segFloor int
	segExact bool
	nlPos    int   // newlines in buf[:nlPos] are counted in line
	line     int64 // number of '\n' before buf[nlPos]

	names       map[string]*nameEntry
	prevName    *nameEntry
	counts      Counts
	lastRecLine int64
	lineRecs    int

	rec    Record
	hasRec bool
	synErr *SyntaxError

	tf tfState

	// Value records (values.go).
	valuesOn  bool     // Values or AllValues, as at the first Scan
	allValues bool     // AllValues, as at the first Scan
	prefixes  []string // the usable Values prefixes
	chunkMax  int      // values per chunk (tests shrink it)
	msgs      map[string]string
	val       tensorState
}

// NewReader returns a Reader reading r. The name is used in records and
// errors (typically the file name). Gzip input (magic bytes 1f 8b) is
// detected at the first Scan and decompressed transparently. The Reader does
// not close r.
func NewReader(r io.Reader, name string) *Reader {
	return &Reader{name: name, src: r}
}

// Open opens the named log file for reading; "-" means standard input,
// named "<stdin>". The error names the file when it is missing, unreadable
// or a directory. Call Close when done.
func Open(path string) (*Reader, error) {
	if path == "-" {
		return NewReader(os.Stdin, stdinName), nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err // *fs.PathError: "open PATH: reason"
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if fi.IsDir() {
		f.Close()
		return nil, &fs.PathError{Op: "open", Path: path, Err: syscall.EISDIR}
	}
	r := NewReader(f, path)
	r.closer = f
	return r, nil
}

// Close closes the file Open opened. It is a no-op for Readers made by
// NewReader and for standard input. Scan returns false after Close.
func (r *Reader) Close() error {
	r.state = stateDone
	r.hasRec, r.synErr = false, nil
	if r.pf != nil {
		r.pf.stop.stop() // the prefetcher owns the gzip reader
		r.pf = nil
	} else if r.gz != nil {
		r.gz.Close()
	}
	r.gz = nil
	var err error
	if r.closer != nil {
		err = r.closer.Close()
		r.closer = nil
	}
	return err
}

// Scan advances to the next record or malformed record. It returns false at
// the end of the input or after an I/O error (see Err). Data read before an
// I/O error is parsed as if the input ended there.
func (r *Reader) Scan() bool {
	r.hasRec = false
	r.synErr = nil
	switch r.state {
	case stateNew:
		r.begin()
	case stateDone:
		return false
	}
	for {
		var ok bool
		if r.tfMode {
			ok = r.stepTF()
		} else {
			ok = r.stepDefault()
		}
		if ok {
			return true
		}
		if r.eof {
			r.finish()
			return false
		}
		r.fill()
	}
}

// Record returns the current record, or nil if the current item is a
// SyntaxError. The Record is reused: it is valid until the next call to
// Scan (its Node string stays valid forever).
func (r *Reader) Record() *Record {
	if r.hasRec {
		return &r.rec
	}
	return nil
}

// SyntaxError returns the current malformed record, or nil if the current
// item is a Record. The value is fresh and may be kept.
func (r *Reader) SyntaxError() *SyntaxError {
	return r.synErr
}

// Err returns the first I/O or decompression error, wrapped with the
// Reader's name; it is nil at a clean end of input.
func (r *Reader) Err() error {
	return r.err
}

// Counts returns what the Reader has seen so far. While reading, Lines is
// the number of newlines counted so far, which may lag behind the current
// item's line; Lines and Bytes are complete once Scan has returned false.
func (r *Reader) Counts() Counts {
	c := r.counts
	if r.state == stateScanning {
		c.Lines = r.line
	}
	return c
}

func (r *Reader) setErr(err error) {
	if r.err == nil {
		if r.gzipped && errors.Is(err, io.ErrUnexpectedEOF) {
			r.err = fmt.Errorf("%s: truncated gzip stream: %w", r.name, err)
			return
		}
		r.err = fmt.Errorf("%s: %w", r.name, err)
	}
}

func (r *Reader) begin() {
	r.state = stateScanning
	r.tfMode = r.TFCompat
	if !r.tfMode {
		r.beginValues()
	}
	if r.blockSize <= 0 {
		r.blockSize = defaultBlockSize
	}
	if r.maxName <= 0 {
		r.maxName = defaultMaxName
	}
	r.segExact = true
	r.names = make(map[string]*nameEntry)
	if r.src == nil {
		r.eof = true
		return
	}
	br := bufio.NewReaderSize(r.src, peekBufSize)
	head, err := br.Peek(2)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		r.pendErr = err
	}
	if len(head) == 2 && head[0] == gzipMagic0 && head[1] == gzipMagic1 {
		r.gzipped = true
		zr, err := gzip.NewReader(br)
		if err != nil {
			r.setErr(err)
			r.eof = true
			return
		}
		r.gz = zr
		r.in = zr
	} else {
		r.in = br
	}
	if r.async > 0 || r.async == 0 && r.blockSize >= minAsyncBlock && runtime.GOMAXPROCS(0) > 1 {
		r.startPrefetch()
	} else {
		r.buf = make([]byte, r.keepRoom()+r.blockSize+max(r.blockSize, 4096))
	}
}

// keepRoom is the most a buffer switch or compaction carries over: the
// current segment (up to maxName+10 bytes) and the lookahead.
func (r *Reader) keepRoom() int {
	return r.maxName + 16 + lookahead
}

// fill reads the next block. It is called only when every event before
// r.lim has been handled (r.pos == r.lim) and the input has not ended.
func (r *Reader) fill() {
	if r.pf != nil {
		r.fillAsync()
		return
	}
	if len(r.buf)-r.end < r.blockSize {
		r.compact()
	}
	want := r.end + r.blockSize
	for tries := 0; ; tries++ {
		n, err := r.in.Read(r.buf[r.end:want])
		if n > 0 {
			r.end += n
			r.counts.Bytes += int64(n)
			r.last = r.buf[r.end-1]
		}
		if err != nil {
			if err != io.EOF {
				r.setErr(err)
			} else if r.pendErr != nil {
				r.setErr(r.pendErr)
			}
			r.eof = true
			break
		}
		if n > 0 {
			break
		}
		if tries >= maxEmptyRead {
			r.setErr(io.ErrNoProgress)
			r.eof = true
			break
		}
	}
	if r.eof {
		r.lim = r.end
	} else {
		r.lim = max(r.end-lookahead, r.pos)
	}
}

// compact drops the data before keepFrom, moving the rest to the front.
func (r *Reader) compact() {
	from, exact := r.keepFrom()
	n := copy(r.buf, r.buf[from:r.end])
	r.end = n
	r.pos -= from
	r.lim -= from
	r.nlPos -= from
	r.segFloor, r.segExact = 0, exact
}

// keepFrom returns where the data still needed starts: the start of the
// current segment, or the last maxName+10 bytes of it (exact is then
// false). It counts the newlines before that point. Everything before
// r.pos has been examined.
func (r *Reader) keepFrom() (from int, exact bool) {
	from, exact = r.segFloor, r.segExact
	lo := r.pos - (r.maxName + 10)
	if lo > from {
		if k := bytes.LastIndexByte(r.buf[lo:r.pos], '\n'); k >= 0 {
			from, exact = lo+k+1, true
		} else {
			from, exact = lo, false
		}
	} else if k := bytes.LastIndexByte(r.buf[from:r.pos], '\n'); k >= 0 {
		from, exact = from+k+1, true
	}
	if r.nlPos < from {
		r.line += int64(bytes.Count(r.buf[r.nlPos:from], newline))
		r.nlPos = from
	}
	return from, exact
}

var newline = []byte{'\n'}

// finish counts the lines once the input is exhausted.
func (r *Reader) finish() {
	r.state = stateDone
	r.line += int64(bytes.Count(r.buf[r.nlPos:r.end], newline))
	r.nlPos = r.end
	r.counts.Lines = r.line
	if r.counts.Bytes > 0 && r.last != '\n' {
		r.counts.Lines++
	}
}

// segmentStart returns where the segment ending at end (exclusive) starts:
// after the last ';' or '\n' before it. exact is false when that start was
// dropped from the buffer (the segment is then longer than maxName).
func (r *Reader) segmentStart(end int) (start int, exact bool) {
	from := r.segFloor
	if i := bytes.IndexByte(r.buf[from:end], '\n'); i >= 0 {
		j := from + i + 1
		if k := bytes.LastIndexByte(r.buf[j:end], '\n'); k >= 0 {
			j += k + 1
		}
		return j, true
	}
	return from, r.segExact
}

// countLines advances the line count to position p and returns the 1-based
// number of the line holding p.
func (r *Reader) countLines(p int) int64 {
	if p > r.nlPos {
		r.line += int64(bytes.Count(r.buf[r.nlPos:p], newline))
		r.nlPos = p
	}
	return r.line + 1
}

// nameEntry is an interned node name. next holds the two names that most
// recently followed it: Print ops log in graph order every step, give or
// take concurrency, so the next record's name is usually one of them and a
// comparison replaces hashing (on the real logs, 64-98% of the time).
type nameEntry struct {
	name string
	next [2]*nameEntry
}

func (r *Reader) intern(b []byte) string {
	if prev := r.prevName; prev != nil {
		if e := prev.next[0]; e != nil && e.name == string(b) {
			r.prevName = e
			return e.name
		}
	}
	return r.internSlow(b)
}

func (r *Reader) internSlow(b []byte) string {
	prev := r.prevName
	if prev != nil {
		if e := prev.next[1]; e != nil && e.name == string(b) {
			prev.next[0], prev.next[1] = e, prev.next[0]
			r.prevName = e
			return e.name
		}
	}
	e, ok := r.names[string(b)]
	if !ok {
		e = &nameEntry{name: string(b)}
		r.names[e.name] = e
	}
	if prev != nil {
		prev.next[0], prev.next[1] = e, prev.next[0]
	}
	r.prevName = e
	return e.name
}

func (r *Reader) emitRecord(kind Kind, node string, min, max float32, line int64) {
	// Only the fields a range record uses are written, unless the previous
	// item was a Values chunk (or there was none): rewriting the whole
	// Record for every record was a fifth of the parse time.
	if r.rec.Kind == Values || r.rec.Kind == 0 {
		r.rec = Record{File: r.name}
	}
	r.rec.Kind, r.rec.Node, r.rec.Min, r.rec.Max, r.rec.Line = kind, node, min, max, line
	r.hasRec = true
	r.counts.Records++
	const expMask = 0x7f800000 // all exponent bits set: ±Inf or NaN
	if math.Float32bits(min)&expMask == expMask || math.Float32bits(max)&expMask == expMask {
		r.counts.NonFinite++
	}
	if line != r.lastRecLine {
		r.lastRecLine = line
		r.lineRecs = 1
		r.counts.RecordLines++
	} else {
		r.lineRecs++
		if r.lineRecs == 2 {
			r.counts.JoinedLines++
		}
	}
}

func (r *Reader) emitError(line int64, msg string) {
	r.synErr = &SyntaxError{File: r.name, Line: line, Msg: msg}
	r.counts.Malformed++
}
