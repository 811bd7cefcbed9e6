package logparse

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// stepDefault examines the ';' bytes in buf[pos:lim]. A ';' preceded by
// "__print__" starts a message; a record message becomes the current item
// and stepDefault returns true. It returns false when it needs more data.
func (r *Reader) stepDefault() bool {
	if r.val.state != tensorIdle {
		if r.stepValues() {
			return true
		}
		if r.val.state != tensorIdle {
			return false // the tensor goes on in the next block
		}
	}
	buf := r.buf[:r.lim]
	for r.pos < len(buf) {
		i := bytes.IndexByte(buf[r.pos:], ';')
		if i < 0 {
			r.pos = len(buf)
			return false
		}
		q := r.pos + i
		r.pos = q + 1
		if q >= len(printSuffix) && string(buf[q-len(printSuffix):q]) == printSuffix {
			if r.message(q) {
				return true
			}
			if r.val.state != tensorIdle {
				return false // a tensor started and goes on in the next block
			}
		}
		r.segFloor, r.segExact = q+1, true
	}
	return false
}

// The record prefixes as little-endian words, for matchKind.
var (
	requantW0 = binary.LittleEndian.Uint64([]byte(requantKey[0:8]))
	requantW1 = binary.LittleEndian.Uint64([]byte(requantKey[8:16]))
	minW      = binary.LittleEndian.Uint32([]byte(minKey[0:4]))
	maxW      = binary.LittleEndian.Uint32([]byte(maxKey[0:4]))
)

// matchKind reports which record message b starts with and the length of
// its prefix; kind 0 means none.
func matchKind(b []byte) (Kind, int) {
	if len(b) >= len(requantKey) {
		if binary.LittleEndian.Uint64(b) == requantW0 && binary.LittleEndian.Uint64(b[8:]) == requantW1 &&
			b[16] == requantKey[16] && b[17] == requantKey[17] {
			return RequantMinMax, len(requantKey)
		}
	}
	if len(b) >= len(minKey) && b[5] == ':' {
		switch binary.LittleEndian.Uint32(b) {
		case minW:
			if b[4] == minKey[4] {
				return Min, len(minKey)
			}
		case maxW:
			if b[4] == maxKey[4] {
				return Max, len(maxKey)
			}
		}
	}
	return 0, 0
}

// valStatus says how reading a bracketed value went.
type valStatus uint8

const (
	valOK           valStatus = iota
	valMissing                // no '[' where a value must start
	valUnterminated           // the line ends before ']'
	valTooLong                // no ']' within maxValueLen bytes
	valBad                    // not a number
)

// message handles the message after the "__print__;" whose ';' is at q.
// It reports whether it set the current item; if so it has also moved past
// the ';' at q.
func (r *Reader) message(q int) bool {
	buf := r.buf[:r.end]
	m := q + 1
	kind, klen := matchKind(buf[m:])
	if kind == 0 {
		if r.valuesOn {
			return r.valueMessage(q)
		}
		r.counts.OtherPrints++
		return false
	}
	nameStart, nameEnd, exact, line := r.nodeName(q)
	if !exact || nameEnd-nameStart > r.maxName {
		r.emitError(line, fmt.Sprintf("node name longer than %d bytes in %s record", r.maxName, kind))
		return true
	}
	if nameEnd == nameStart {
		r.emitError(line, fmt.Sprintf("empty node name in %s record", kind))
		return true
	}
	name := buf[nameStart:nameEnd]

	v1, next, ok := bracketFast(buf, m+klen)
	var v2 float32
	if ok && kind == RequantMinMax {
		v2, next, ok = bracketFast(buf, next)
	}
	if !ok {
		return r.messageSlow(kind, m+klen, name, line)
	}
	if kind == Max {
		v1, v2 = 0, v1
	}
	r.emitRecord(kind, r.intern(name), v1, v2, line)
	r.skipToNextLine(next)
	return true
}

// skipToNextLine moves past a record that ended at next (its text holds no
// ';'). When the next line starts with ';' right away, as record lines do,
// that ';' is consumed here, saving a search.
func (r *Reader) skipToNextLine(next int) {
	r.pos = next
	buf := r.buf[:r.lim]
	p := next
	if p < len(buf) && buf[p] == '\r' {
		p++
	}
	if p+1 < len(buf) && buf[p] == '\n' && buf[p+1] == ';' {
		r.line++
		r.nlPos = p + 1
		r.pos = p + 2
		r.segFloor, r.segExact = p+2, true
	}
}

// bracketFast reads "[v]" at buf[i] when v is a plain decimal the fast
// path converts; it returns the value and the index after the ']'.
func bracketFast(buf []byte, i int) (float32, int, bool) {
	if i >= len(buf) || buf[i] != '[' {
		return 0, 0, false
	}
	f, j, ok := scanDecimal(buf, i+1)
	if !ok || j >= len(buf) || buf[j] != ']' || j-(i+1) > maxValueLen {
		return 0, 0, false
	}
	return f, j + 1, true
}

// messageSlow reads the values of a record message starting at i (just
// after the message prefix) when the fast path failed, reporting the first
// problem as a SyntaxError.
func (r *Reader) messageSlow(kind Kind, i int, name []byte, line int64) bool {
	v1, next, st, raw := r.value(i)
	switch kind {
	case Min:
		if st != valOK {
			r.emitError(line, valueMsg(st, "", raw, kind, name))
			return true
		}
		r.emitRecord(kind, r.intern(name), v1, 0, line)
	case Max:
		if st != valOK {
			r.emitError(line, valueMsg(st, "", raw, kind, name))
			return true
		}
		r.emitRecord(kind, r.intern(name), 0, v1, line)
	default:
		if st != valOK {
			r.emitError(line, valueMsg(st, "min ", raw, kind, name))
			return true
		}
		var v2 float32
		v2, next, st, raw = r.value(next)
		if st != valOK {
			r.emitError(line, valueMsg(st, "max ", raw, kind, name))
			return true
		}
		r.emitRecord(kind, r.intern(name), v1, v2, line)
	}
	r.skipToNextLine(next)
	return true
}

// value reads the bracketed value whose '[' should be at buf[i]. It returns
// the number and the index after its ']', or a status and the raw text for
// the error message.
func (r *Reader) value(i int) (f float32, next int, st valStatus, raw []byte) {
	buf := r.buf[:r.end]
	if i >= len(buf) || buf[i] != '[' {
		return 0, 0, valMissing, nil
	}
	a := i + 1
	w := buf[a:min(a+maxValueLen+2, len(buf))]
	if j := bytes.IndexByte(w[:min(len(w), maxValueLen+1)], ']'); j >= 0 {
		v := w[:j]
		if f, ok := parseDecimalFast(v); ok {
			return f, a + j + 1, valOK, nil
		}
		if bytes.IndexByte(v, '\n') < 0 {
			if f, ok := parseNumberSlow(v); ok {
				return f, a + j + 1, valOK, nil
			}
			return 0, 0, valBad, v
		}
		// The line ends before the ']'.
	}
	var content []byte
	if k := bytes.IndexByte(w, '\n'); k >= 0 {
		content = w[:k]
	} else if a+len(w) == len(buf) && r.eof {
		content = w
	} else {
		return 0, 0, valTooLong, nil
	}
	if n := len(content); n > 0 && content[n-1] == '\r' {
		content = content[:n-1]
	}
	if len(content) > maxValueLen {
		return 0, 0, valTooLong, nil
	}
	return 0, 0, valUnterminated, content
}

// valueMsg formats the SyntaxError message for a value that could not be
// read; which is "min ", "max " or "" (single-value records).
func valueMsg(st valStatus, which string, raw []byte, kind Kind, name []byte) string {
	switch st {
	case valMissing:
		return fmt.Sprintf("missing %svalue in %s record for node %q", which, kind, name)
	case valUnterminated:
		return fmt.Sprintf("unterminated %svalue %q in %s record for node %q", which, raw, kind, name)
	case valTooLong:
		return fmt.Sprintf("%svalue longer than %d bytes in %s record for node %q", which, maxValueLen, kind, name)
	}
	return fmt.Sprintf("bad %svalue %q in %s record for node %q", which, raw, kind, name)
}
