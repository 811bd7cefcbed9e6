package logparse

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"strings"
	"unsafe"
)

// Value records: the tensors of Print messages other than the range
// records, such as `;NAME__print__;__KL:[v v v ...]`, streamed value by
// value. A tensor can be far longer than a block (a line of 100 MB is
// normal with -summarize -1), so it is parsed as a state machine that
// stops at the block's limit and resumes after the next fill: nothing but
// the current chunk of values (MaxChunk float32 and float64) is kept.
//
// The grammar, on one line (TF-FORMATS §2):
//
//	message  = text tensor {tensor}     text: no '[', ';' or '\n', at most 128 bytes
//	tensor   = '[' {sep | tensor' | token} ']'   tensor' is a nested group, flattened
//	sep      = ' ' | '\t' | '\r' | '\v' | '\f'
//	token    = number ["..."] | "..."   at most 64 bytes; "..." marks truncation
//
// A token is a maximal run of bytes other than separators, brackets, ';'
// and '\n'; its number is parsed as range values are (parseNumber). A ';'
// or '\n' before the tensor's last ']' leaves it unterminated. Tensors
// that directly follow one another are the Print's outputs 0, 1, ...;
// anything else after a tensor ends the message and is only searched for
// the next "__print__;", as after a range record.

// maxMsg bounds a value message's text before its tensor's first '['.
// It must stay well within the lookahead, which message() can rely on.
const maxMsg = 128

// tensorPhase is where the Reader is in a value message.
type tensorPhase uint8

const (
	tensorIdle  tensorPhase = iota // not in a value message
	tensorIn                       // inside a tensor's brackets
	tensorAfter                    // a tensor ended; another may follow at once
	tensorErr                      // a Bad chunk was returned; its SyntaxError is due
)

// tensorState is the state of the tensor being read.
type tensorState struct {
	state  tensorPhase
	node   string
	msg    string
	line   int64
	output int
	chunk  int
	depth  int  // open brackets
	n      int  // values in f32 (and in f64 while allInt)
	allInt bool // every value so far is a short integer: f64 is exact
	trunc  bool // "..." seen
	next   bool // a full chunk was returned; the next one starts with the carry
	carry  float32
	carry2 float64
	f32    []float32
	f64    []float64
	errMsg string
}

// tokenEnd marks the bytes that end a value token.
var tokenEnd = [256]bool{' ': true, '\t': true, '\r': true, '\v': true, '\f': true,
	'[': true, ']': true, ';': true, '\n': true}

// beginValues sets up value records at the first Scan.
func (r *Reader) beginValues() {
	for _, p := range r.Values {
		if len(p) <= maxMsg && !strings.ContainsAny(p, "\r\n") {
			r.prefixes = append(r.prefixes, p)
		}
	}
	r.allValues = r.AllValues
	r.valuesOn = r.allValues || len(r.prefixes) > 0
	if !r.valuesOn {
		return
	}
	if r.chunkMax <= 0 {
		r.chunkMax = MaxChunk
	}
	r.val.f32 = make([]float32, r.chunkMax)
	r.val.f64 = make([]float64, r.chunkMax)
	r.msgs = make(map[string]string)
}

// valueMessage handles a message after the "__print__;" whose ';' is at q
// that is not a range record, when value records are on. It reports
// whether it set the current item. A message that is not a value message
// is counted in OtherPrints.
func (r *Reader) valueMessage(q int) bool {
	buf := r.buf[:r.end]
	m := q + 1
	open := -1
	for i, c := range buf[m:min(m+maxMsg+1, len(buf))] {
		if c == '[' {
			open = m + i
			break
		}
		if c == ';' || c == '\n' {
			break
		}
	}
	prefix, matched := "", false
	for _, p := range r.prefixes {
		if len(buf)-m >= len(p) && string(buf[m:m+len(p)]) == p {
			prefix, matched = p, true
			break
		}
	}
	if !matched && (!r.allValues || open < 0) {
		r.counts.OtherPrints++
		return false
	}
	nameStart, nameEnd, exact, line := r.nodeName(q)
	msg := prefix
	if open >= 0 {
		msg = r.internMsg(buf[m:open])
	}
	if !exact || nameEnd-nameStart > r.maxName {
		r.emitError(line, fmt.Sprintf("node name longer than %d bytes in %q message", r.maxName, msg))
		return true
	}
	if nameEnd == nameStart {
		r.emitError(line, fmt.Sprintf("empty node name in %q message", msg))
		return true
	}
	name := r.intern(buf[nameStart:nameEnd])
	if open < 0 {
		r.emitError(line, fmt.Sprintf("missing tensor in %q message for node %q", msg, name))
		return true
	}
	v := &r.val
	v.node, v.msg, v.line, v.output = name, msg, line, 0
	v.start()
	r.pos = open + 1
	return r.stepValues()
}

// nodeName locates the node name of the message whose "__print__;" ends
// with the ';' at q, counts the lines up to it and returns the name's
// bounds and line; exact is false when the name's start was dropped from
// the buffer (it is then longer than maxName). It makes q+1 the start of
// the next segment.
func (r *Reader) nodeName(q int) (start, end int, exact bool, line int64) {
	buf := r.buf
	end = q - len(printSuffix)
	start, exact = r.segFloor, r.segExact
	r.segFloor, r.segExact = q+1, true // for the next ';'
	if c := bytes.Count(buf[r.nlPos:end], newline); c > 0 {
		r.line += int64(c)
		if i := bytes.IndexByte(buf[start:end], '\n'); i >= 0 {
			j := start + i + 1
			if k := bytes.LastIndexByte(buf[j:end], '\n'); k >= 0 {
				j += k + 1
			}
			start, exact = j, true
		}
	}
	r.nlPos = end
	if bytes.HasPrefix(buf[start:end], bom) {
		start += len(bom) // a file saved by an editor that marks UTF-8
	}
	return start, end, exact, r.line + 1
}

// bom is the UTF-8 byte order mark, stripped from the start of a node name.
var bom = []byte("\xef\xbb\xbf")

// internMsg returns b as a string, the same string for the same text for
// the life of the Reader (as intern does for node names).
func (r *Reader) internMsg(b []byte) string {
	if s, ok := r.msgs[string(b)]; ok {
		return s
	}
	s := string(b)
	r.msgs[s] = s
	return s
}

// start resets the state for a tensor whose '[' has been read.
func (v *tensorState) start() {
	v.state = tensorIn
	v.chunk, v.depth, v.n = 0, 1, 0
	v.allInt, v.trunc, v.next = true, false, false
}

// stepValues goes on with the current value message: it returns true when
// it set the current item (a chunk or a SyntaxError) and false when it
// needs more data (state still not idle) or the message has ended (idle).
func (r *Reader) stepValues() bool {
	v := &r.val
	switch v.state {
	case tensorErr:
		v.state = tensorIdle
		r.emitError(v.line, v.errMsg)
		return true
	case tensorAfter:
		// The buffer holds the byte after a tensor's ']' unless the input
		// has ended: a token or bracket before lim ends by lim+maxValueLen.
		if r.pos >= r.end || r.buf[r.pos] != '[' {
			v.state = tensorIdle
			return false
		}
		r.pos++
		v.output++
		v.start()
	}
	if v.next {
		v.next = false
		v.chunk++
		v.f32[0] = v.carry
		v.f64[0] = v.carry2 // used only while allInt
		v.n = 1
	}

	buf := r.buf[:r.end]
	lim := r.lim
	p := r.pos
	n := v.n
	f32, f64 := v.f32, v.f64
	depth := v.depth
	allInt := v.allInt
	for p < lim {
		switch buf[p] {
		case ' ', '\t', '\r', '\v', '\f':
			p++
			continue
		case '[':
			depth++
			p++
			continue
		case ']':
			p++
			if depth--; depth > 0 {
				continue
			}
			v.n, v.allInt = n, allInt
			v.state = tensorAfter
			r.pos = p
			r.emitChunk(n, true, false)
			return true
		case ';', '\n':
			v.n, v.allInt = n, allInt
			r.failTensor(p, fmt.Sprintf("unterminated %q tensor %d for node %q", v.msg, v.output, v.node))
			return true
		}
		// A value. The common cases, a run of float values written
		// "%.6g"-style or of integers, are converted in one call.
		if !allInt {
			if k, q := scanFloats(buf, p, lim, f32[n:]); k > 0 {
				n, p = n+k, q
				continue
			}
		} else if k, q := scanInts(buf, p, lim, f32[n:], f64[n:]); k > 0 {
			n, p = n+k, q
			continue
		}
		// Any other token (or a full chunk): the general rule.
		e, stop := p, min(len(buf), p+maxValueLen+1)
		for e < stop && !tokenEnd[buf[e]] {
			e++
		}
		if e-p > maxValueLen {
			v.n, v.allInt = n, allInt
			r.failTensor(e, fmt.Sprintf("value longer than %d bytes in %q tensor %d for node %q",
				maxValueLen, v.msg, v.output, v.node))
			return true
		}
		tok := buf[p:e]
		p = e
		if k := len(tok) - 3; k >= 0 && tok[k] == '.' && tok[k+1] == '.' && tok[k+2] == '.' {
			v.trunc = true
			tok = tok[:k]
		}
		if len(tok) == 0 {
			continue
		}
		var f float32
		var d float64
		isInt := false
		if allInt {
			if mant, neg, j, ok := scanInt(tok, 0); ok && j == len(tok) {
				f, d = intValue(mant, neg)
				isInt = true
			}
		}
		if !isInt {
			var ok bool
			if f, ok = parseNumber(tok); !ok {
				v.n, v.allInt = n, allInt
				r.failTensor(e, fmt.Sprintf("bad value %q in %q tensor %d for node %q", tok, v.msg, v.output, v.node))
				return true
			}
			const expMask = 0x7f800000 // all exponent bits set: ±Inf or NaN
			if math.Float32bits(f)&expMask == expMask {
				r.counts.NonFinite++
			}
		}
		if n == len(f32) {
			// The chunk is full and the tensor goes on: return the chunk
			// and start the next one with this value.
			v.n, v.allInt, v.depth = n, allInt, depth
			r.pos = p
			r.emitChunk(n, false, false)
			v.carry, v.carry2 = f, d
			v.allInt = allInt && isInt
			return true
		}
		f32[n] = f
		if allInt {
			if isInt {
				f64[n] = d
			} else {
				allInt = false
			}
		}
		n++
	}
	v.n, v.allInt, v.depth = n, allInt, depth
	r.pos = p
	if r.eof {
		r.failTensor(p, fmt.Sprintf("unterminated %q tensor %d for node %q", v.msg, v.output, v.node))
		return true
	}
	// A long tensor makes the segment (the text after the message's ';')
	// longer than any node name: drop its start rather than carry the
	// last maxName bytes of it from block to block (keepFrom). A name
	// ending in this segment ends at p-len("__print__") or later (the
	// token before p may end with "__print__" and a ';').
	if p-r.segFloor > r.maxName+10 {
		r.segFloor, r.segExact = p-len(printSuffix), false
	}
	return false
}

// failTensor ends the tensor as malformed: it returns its last chunk,
// flagged Bad, and makes msg the next item. Reading goes on at p.
func (r *Reader) failTensor(p int, msg string) {
	v := &r.val
	r.pos = p
	v.state = tensorErr
	v.errMsg = msg
	r.emitChunk(v.n, true, true)
}

// emitChunk makes the first n values of the chunk buffers the current
// item.
func (r *Reader) emitChunk(n int, last, bad bool) {
	v := &r.val
	r.rec = Record{Kind: Values, Node: v.node, File: r.name, Line: v.line, Msg: v.msg,
		Values: v.f32[:n:n], Output: v.output, Chunk: v.chunk, Last: last, Bad: bad}
	if v.allInt {
		r.rec.Values64 = v.f64[:n:n]
	}
	r.hasRec = true
	r.counts.Values += int64(n)
	if last {
		r.rec.Truncated = v.trunc
		r.counts.ValueRecords++
		if v.trunc {
			r.counts.Truncated++
		}
	} else {
		v.next = true
	}
}

// scanRunRoom is how many bytes scanRun and scanIntRun may read from the
// start of a value.
const scanRunRoom = 32

// scanRun converts the run of values at s[p:] written as decimals
// [-]digits[.digits][e±dd], each followed by ' ' or ']', to the correctly
// rounded float32 (strconv.ParseFloat(v, 32)) in dst. It stops at a value
// that starts at lim or later, when dst is full, and before anything
// else: another spelling, a ']', or a value the fast conversion cannot
// guarantee (as in decimalToFloat32). It returns how many values it
// stored and where it stopped (after a value's ' ', or at its ']').
// s[q:q+scanRunRoom] must exist for every q < lim.
//
// It is scanDecimal cut down to what TF's Print writes for float tensors
// ("%.6g" or "%.9g": at most 7 integer digits, 15 digits in all, and an
// exponent of a sign and two digits) and tuned for long runs of them,
// which are bound by the number of instructions per value: the digits are
// read eight bytes at a time with the '.' squeezed out, so that most
// values take one conversion, and the bytes are loaded without slicing
// (the loads stay within s[p:p+23]).
func scanRun(s []byte, p, lim int, dst []float32) (n, q int) {
	lim = min(lim, len(s)-scanRunRoom)
	base := unsafe.Pointer(unsafe.SliceData(s))
	for ; n < len(dst) && p < lim; n++ {
		sign := 0
		if load8(base, p) == '-' {
			sign = 1
		}
		b := p + sign // the first digit
		v := load64(base, b)
		ik := digitCount(v) // integer digits
		mant, fk, end := uint64(0), 0, 0
		if ik < 8 && load8(base, b+ik) == '.' {
			// The 8 bytes from b with the '.' squeezed out hold the first
			// 8 digits; more follow from b+9.
			m := uint64(1)<<(8*ik&63) - 1
			lo := v&m | load64(base, b+1)&^m
			k := digitCount(lo)
			mant = digitValue(lo, k)
			if k == 8 {
				hi := load64(base, b+9)
				k2 := digitCount(hi)
				if k2 == 8 {
					break
				}
				mant = mant*pow10u[k2] + digitValue(hi, k2)
				k += k2
			}
			fk, end = k-ik, b+k+1
		} else {
			if ik == 8 {
				break
			}
			mant, end = digitValue(v, ik), b+ik
		}
		t := load8(base, end)
		exp := -fk
		if t|0x20 == 'e' {
			// An exponent as %g writes it: a sign and two digits.
			es, d1, d2 := load8(base, end+1), load8(base, end+2)-'0', load8(base, end+3)-'0'
			if es != '-' && es != '+' || d1 > 9 || d2 > 9 {
				break
			}
			if es == '-' {
				exp -= int(d1)*10 + int(d2)
			} else {
				exp += int(d1)*10 + int(d2)
			}
			end += 4
			t = load8(base, end)
		}
		if t != ' ' && t != ']' || ik+fk == 0 || mant >= 1<<53 || exp < -22 || exp > 22 {
			break
		}
		// As in decimalToFloat32: x is within 2 ulps of the exact value,
		// and rounding it to float32 gives the exact value's float32
		// unless a float32 halfway point lies that close, or x is outside
		// the normal float32 range; zero is exact.
		x := float64(int64(mant)) * pow10pm[exp+22]
		xb := math.Float64bits(x)
		e := int(xb>>52) & 0x7ff
		if low := xb & (1<<29 - 1); (e < 1023-126 || e >= 1023+127 || low-(1<<28-4) <= 8) && mant != 0 {
			break
		}
		dst[n] = math.Float32frombits(math.Float32bits(float32(x)) | uint32(sign)<<31)
		p = end
		if t == ' ' {
			p++
		}
	}
	return n, p
}

// pow10pm[22+e] is 10^e, exact for e >= 0 and the nearest double for
// e < 0.
var pow10pm = func() (t [45]float64) {
	for e := range 23 {
		t[22+e], t[22-e] = pow10f64[e], pow10neg64[e]
	}
	return t
}()

// scanIntRun is scanRun for integers [-]digits of at most 15 digits
// (maxIntDigits; the data of TF's quantized types has at most 10), which
// it stores in dst (rounded) and dst64 (exactly).
func scanIntRun(s []byte, p, lim int, dst []float32, dst64 []float64) (n, q int) {
	lim = min(lim, len(s)-scanRunRoom)
	base := unsafe.Pointer(unsafe.SliceData(s))
	dst64 = dst64[:len(dst)]
	for ; n < len(dst) && p < lim; n++ {
		sign := 0
		if load8(base, p) == '-' {
			sign = 1
		}
		v := load64(base, p+sign)
		k := digitCount(v)
		mant := digitValue(v, k)
		if k == 8 {
			v2 := load64(base, p+sign+8)
			k2 := digitCount(v2)
			if k2 == 8 { // 16 digits or more: not kept exactly
				break
			}
			mant = mant*pow10u[k2] + digitValue(v2, k2)
			k += k2
		}
		end := p + sign + k
		t := load8(base, end)
		if k == 0 || t != ' ' && t != ']' {
			break
		}
		d := float64(int64(mant))
		if sign != 0 {
			d = -d
		}
		dst[n], dst64[n] = float32(d), d
		p = end
		if t == ' ' {
			p++
		}
	}
	return n, p
}

// load64 returns the 8 bytes at base+off as a little-endian word.
func load64(base unsafe.Pointer, off int) uint64 {
	return binary.LittleEndian.Uint64((*[8]byte)(unsafe.Add(base, off))[:])
}

func load8(base unsafe.Pointer, off int) byte {
	return *(*byte)(unsafe.Add(base, off))
}

// digitCount returns how many of the bytes of v (8 bytes, little-endian:
// the first in the low byte) are decimal digits before the first other
// byte: 8 if all are.
func digitCount(v uint64) int {
	const ones = 0x0101010101010101
	// A byte b is not a digit when b+0x46 or b-0x30 has its high bit
	// set; carries and borrows only reach the bytes after such a byte.
	other := ((v + 0x46*ones) | (v - 0x30*ones)) & (0x80 * ones)
	return bits.TrailingZeros64(other) >> 3
}

// digitValue returns the value of the first k (0-8) bytes of v, which
// are decimal digits.
func digitValue(v uint64, k int) uint64 {
	const ones = 0x0101010101010101
	// Keep the k digit values, moved to the top so that missing leading
	// digits are zeros (the mask clears all for k == 0; "& 63" spares the
	// compiler's handling of shifts by 64 or more), then combine
	// neighbours: pairs, quads, then all eight.
	x := (v - 0x30*ones) << ((64 - 8*k) & 63) & -uint64((k+7)>>3)
	x = (x * (10<<8 + 1)) >> 8 & 0x00FF00FF00FF00FF
	x = (x * (100<<16 + 1)) >> 16 & 0x0000FFFF0000FFFF
	return (x * (10000<<32 + 1)) >> 32
}

// maxIntDigits is the most digits an integer may have to be kept exactly
// in Values64: 10^15 < 2^53.
const maxIntDigits = 15

// scanInt reads the integer [+-]digits at s[i] (at most maxIntDigits
// digits) and returns its magnitude, sign and end; ok is false when there
// is no such integer there or it is longer. What follows is not checked.
func scanInt(s []byte, i int) (mant uint64, neg bool, j int, ok bool) {
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		neg = s[i] == '-'
		i++
	}
	start := i
	if i+8 <= len(s) {
		// Most integers have fewer than 8 digits: one load converts them.
		v, k := leadingDigits(binary.LittleEndian.Uint64(s[i:]))
		if k < 8 {
			return v, neg, i + k, k > 0
		}
	}
	for ; i < len(s); i++ {
		d := s[i] - '0'
		if d > 9 {
			break
		}
		mant = mant*10 + uint64(d)
		if i-start >= maxIntDigits {
			return 0, neg, i, false
		}
	}
	return mant, neg, i, i > start
}

// intValue returns ±mant, which is below 10^15, as float32 (correctly
// rounded: float64(mant) is exact) and exactly as float64.
func intValue(mant uint64, neg bool) (float32, float64) {
	d := float64(mant)
	if neg {
		d = -d
	}
	return float32(d), d
}
