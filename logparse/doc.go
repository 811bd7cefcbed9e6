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
// Counts.OtherPrints and skipped, unless their tensors are asked for (see
// Tensor values). Text after a record's last ']' is not
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
// # Tensor values
//
// Print messages other than the range records can carry whole tensors, as
// logged by `qcal insert-logging -op Conv2D -message "__KL:" -summarize -1`:
//
//	;NAME__print__;__KL:[v v v ...]
//	;NAME__print__;__KL:[[1 2][3 4]]            newer TF nests per dimension
//	;NAME__print__;__KL:[1 2 3...]              truncated at summarize
//	;NAME__print__;__KL:[q q q ...][min][max]   a quantized op's 3 outputs
//
// With Reader.Values (message prefixes such as "__KL:") or
// Reader.AllValues set, such messages are returned as Values records, in
// default mode only. The message text before the first '[' (at most 128
// bytes, without ';') is Record.Msg. Each bracket group that directly
// follows is a tensor (Record.Output 0, 1, ...), its nested brackets
// flattened; its values are delivered in order in chunks of at most
// MaxChunk values (Record.Values, reused from chunk to chunk: nothing but
// one chunk is held, so a line of 100 MB of values is read with flat
// memory). The last chunk of a tensor has Record.Last set; a tensor
// without values gives one empty Last chunk.
//
// Values are separated by white space (' ', '\t', '\r', '\v', '\f') or
// brackets, and parsed by the rule above (at most 64 bytes each); NaN and
// ±Inf are delivered and counted in Counts.NonFinite. A value or bare
// token ending in "..." marks the tensor as truncated by the Print op's
// summarize limit: its Last chunk has Record.Truncated set and it is
// counted in Counts.Truncated (see Counts.TruncationWarning). While every
// value of a tensor is an integer of at most 15 digits (the data of TF's
// quantized types), Record.Values64 holds the values exactly. Text after
// a tensor's last ']' that is not another '[' ends the message.
//
// A malformed tensor (a bad or too long value, or a ';' or the end of the
// line before its last ']') ends with a Last chunk flagged Record.Bad,
// holding the values read before the damage, followed by a *SyntaxError
// naming the node, the message and the tensor; the message's other
// tensors are not read, and reading goes on with the next "__print__;".
//
// Counts.ValueRecords counts tensors, Counts.Values their values;
// Records, RecordLines and JoinedLines count range records only.
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
// node last time is tried first. Reading a Record allocates nothing, nor
// does a chunk of tensor values, whose usual spellings are converted by a
// loop of their own (eight digits at a time, the '.' squeezed out). With
// more than one CPU the next block is read (or decompressed) by a second
// goroutine while the current one is parsed.
package logparse
