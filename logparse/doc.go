// Package logparse streams TensorFlow Print-op logs into calibration records.
//
// It is the first stage of qcal's flow: log text → logparse.Reader → Record
// → stats accumulators → a Strategy → ranges → freeze. The Reader never holds
// the whole log: it reads in fixed-size blocks, finds records with a cheap
// substring search, and returns each record (or each malformed fragment, as a
// *SyntaxError) in the order it appears. It knows nothing of graphs or
// strategies.
//
// Spellings read (TF-FORMATS §2): any prefix before the record (glog
// headers, progress bars ending in '\r'), several records on one line
// (concurrent Print ops), -0, integers, exponents, nan and ±inf (passed on as
// values and counted, never dropped silently), CRLF, lines of any length, and
// gzip-compressed logs (detected by magic bytes).
//
// # Records
//
// Lines end at '\n' only; one '\r' before it (CRLF) is not part of the line
// for record purposes, any other '\r' is ordinary text. Line numbers count
// '\n'-terminated lines from 1. Each occurrence of "__print__;" starts a
// message; the node name is the text between the previous ';' (or the start
// of the line) and "__print__". Messages starting with
//
//	__requant_min_max:[MIN][MAX]
//	__min:[V]
//	__max:[V]
//
// are records; other messages (__KL:, user text) are counted in
// Counts.OtherPrints and skipped. Text after a record's last ']' is not
// looked at, and every "__print__;" is examined on its own, so a damaged
// record does not hide the next one.
//
// A value is the text between '[' and the next ']' on the line, at most 64
// bytes. It is parsed as by strconv.ParseFloat(v, 32) after dropping
// surrounding white space (as TF's safe_strtof does); in addition a signed
// "nan" (TF prints "-nan") is accepted, and a value beyond the float32 range
// becomes ±Inf, as in TF. Whether min <= max is not checked here.
//
// A record message that breaks these rules is returned as a *SyntaxError
// with a precise message (missing, unterminated, too long or bad value,
// empty node name) and reading goes on. A node name longer than 64 KiB is
// reported as too long rather than buffered.
//
// # TensorFlow compatibility
//
// With Reader.TFCompat set, the Reader returns exactly the records that
// TensorFlow's freeze_requantization_ranges transform extracts, including
// its losses: of a line with several records only the last is kept (the
// others are counted in Counts.Ignored), and a line whose last record is
// malformed is dropped whole. Values are parsed as TF's safe_strtof does
// (length below 32, white space allowed around, "inf"/"nan" in any case,
// hex integers, a blank value is 0). Lines TF skips although they contain
// "__print__;__requant_min_max:" are reported as SyntaxErrors so that the
// loss is visible.
//
// # Performance
//
// Candidates are found with bytes.IndexByte over ';' and lines counted with
// bytes.Count, both vectorised, so noise costs little. Numbers in TF's usual
// spellings are converted without strconv and without allocating, with the
// same float32 result; node names are interned, and the name that followed a
// node last time is tried first. Reading a Record allocates nothing. With
// more than one CPU the next block is read (or decompressed) by a second
// goroutine while the current one is parsed.
package logparse
