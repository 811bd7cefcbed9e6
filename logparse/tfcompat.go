package logparse

import (
	"bytes"
	"fmt"
)

// TensorFlow's rule (freeze_requantization_ranges.cc, ExtractMinMaxRecords),
// which TFCompat reproduces on a stream:
//
//  1. split the file on '\n' (a '\r' stays part of the line);
//  2. skip a line not containing "__print__;__requant_min_max:";
//  3. split it on ';' (empty pieces kept); take the last piece with index
//     >= 1 that starts with "__requant_min_max:";
//  4. that piece must split on '[' into exactly 3 parts, the first being
//     exactly "__requant_min_max:";
//  5. parts 2 and 3 must each split on ']' into exactly 2 parts; the first
//     halves are parsed with safe_strtof (min, then max);
//  6. the piece before must end with "__print__"; the node name is the
//     rest of it (it may be empty);
//  7. a line failing a check is skipped silently.
//
// The Reader sees each piece starting with "__requant_min_max:" after a ';'
// and runs a small automaton over it up to the next ';' or '\n' (the piece
// can be long: text without brackets may follow the last ']'), so it never
// needs the whole line. At the end of the line the last piece decides.

type tfReason uint8

const (
	tfOK tfReason = iota
	tfMissingMin
	tfMissingMax
	tfExtraOpen
	tfUntermMin
	tfExtraCloseMin
	tfLongMin
	tfBadMin
	tfUntermMax
	tfExtraCloseMax
	tfLongMax
	tfBadMax
	tfNoPrint
	tfLongName
)

type tfName uint8

const (
	tfNameOK   tfName = iota
	tfNameNone        // the piece before does not end with "__print__"
	tfNameLong        // longer than maxName (TF would accept it)
)

// tfPiece is the state of the automaton over one "__requant_min_max:" piece
// (after the prefix).
type tfPiece struct {
	name   tfName
	seg0   bool  // text between the prefix and the first '['
	opens  uint8 // '[' seen, capped at 3
	close1 uint8 // ']' seen after the first '[', capped at 2
	close2 uint8 // ']' seen after the second '[', capped at 2
	na, nb uint8 // bytes of the min/max text before its ']', capped at 32
	a, b   [tfMaxNumberLen]byte
}

// feed runs the automaton over b up to the first ';' or '\n' and returns
// how many bytes it consumed.
func (p *tfPiece) feed(b []byte) int {
	for i, c := range b {
		switch c {
		case ';', '\n':
			return i
		case '[':
			if p.opens < 3 {
				p.opens++
			}
		case ']':
			switch p.opens {
			case 0:
				p.seg0 = true
			case 1:
				if p.close1 < 2 {
					p.close1++
				}
			case 2:
				if p.close2 < 2 {
					p.close2++
				}
			}
		default:
			switch p.opens {
			case 0:
				p.seg0 = true
			case 1:
				if p.close1 == 0 && p.na < tfMaxNumberLen {
					p.a[p.na] = c
					p.na++
				}
			case 2:
				if p.close2 == 0 && p.nb < tfMaxNumberLen {
					p.b[p.nb] = c
					p.nb++
				}
			}
		}
	}
	return len(b)
}

// eval applies TF's checks, in TF's order, to a finished piece.
func (p *tfPiece) eval() (reason tfReason, min, max float32) {
	switch {
	case p.seg0 || p.opens == 0:
		return tfMissingMin, 0, 0
	case p.opens == 1 && p.close1 == 0:
		return tfUntermMin, 0, 0
	case p.opens == 1:
		return tfMissingMax, 0, 0
	case p.opens > 2:
		return tfExtraOpen, 0, 0
	case p.close1 == 0:
		return tfUntermMin, 0, 0
	case p.close1 > 1:
		return tfExtraCloseMin, 0, 0
	case p.na >= tfMaxNumberLen:
		return tfLongMin, 0, 0
	}
	min, ok := tfStrtof(p.a[:p.na])
	if !ok {
		return tfBadMin, 0, 0
	}
	switch {
	case p.close2 == 0:
		return tfUntermMax, 0, 0
	case p.close2 > 1:
		return tfExtraCloseMax, 0, 0
	case p.nb >= tfMaxNumberLen:
		return tfLongMax, 0, 0
	}
	max, ok = tfStrtof(p.b[:p.nb])
	if !ok {
		return tfBadMax, 0, 0
	}
	switch p.name {
	case tfNameNone:
		return tfNoPrint, 0, 0
	case tfNameLong:
		return tfLongName, 0, 0
	}
	return tfOK, min, max
}

// tfState is the TFCompat state of the current line.
type tfState struct {
	inPiece bool  // the automaton is running over cur
	pending bool  // the line holds at least one piece
	marker  bool  // the line contains "__print__;__requant_min_max:"
	good    int   // well-formed pieces on the line
	line    int64 // the line's number

	cur      tfPiece
	curNode  string  // cur's node name, interned
	last     tfPiece // the line's last finished piece
	lastRes  tfReason
	lastMin  float32
	lastMax  float32
	lastNode string
}

// stepTF is stepDefault for TFCompat: it returns true when the current
// item is set and false when it needs more data.
func (r *Reader) stepTF() bool {
	t := &r.tf
	for {
		if t.inPiece {
			if r.pos < r.lim {
				r.pos += t.cur.feed(r.buf[r.pos:r.lim])
			}
			if r.pos >= r.lim && !r.eof {
				return false
			}
			t.inPiece = false
			r.finishPiece()
			continue
		}
		buf := r.buf[:r.lim]
		if r.pos >= len(buf) {
			if r.eof && t.pending {
				return r.finishLine()
			}
			return false
		}
		stop := len(buf)
		i := bytes.IndexByte(buf[r.pos:], ';')
		if i >= 0 {
			stop = r.pos + i
		}
		if t.pending {
			if k := bytes.IndexByte(buf[r.pos:stop], '\n'); k >= 0 {
				p := r.pos + k
				r.pos = p + 1
				r.segFloor, r.segExact = p+1, true
				if r.finishLine() {
					return true
				}
				continue
			}
		}
		if i < 0 {
			r.pos = len(buf)
			continue
		}
		q := stop
		r.pos = q + 1
		if bytes.HasPrefix(r.buf[q+1:r.end], []byte(requantKey)) {
			r.startPiece(q)
			r.pos = q + 1 + len(requantKey)
			if !r.pieceFast() {
				t.inPiece = true
			}
		}
		r.segFloor, r.segExact = q+1, true
	}
}

// pieceFast finishes the common well-formed piece "[A][B]" directly
// followed by ';', '\n', "\r\n" or the end of the input, where A and B are
// plain decimals shorter than 32 bytes. scanDecimal's syntax is a subset of
// safe_strtof's and both round correctly, so the result is what the
// automaton and TF's checks would give. It reports whether it did.
func (r *Reader) pieceFast() bool {
	buf := r.buf[:r.end]
	p := r.pos
	v1, n1, ok := bracketFast(buf, p)
	if !ok || n1-p-2 >= tfMaxNumberLen {
		return false
	}
	v2, n2, ok := bracketFast(buf, n1)
	if !ok || n2-n1-2 >= tfMaxNumberLen {
		return false
	}
	e := n2
	if e < len(buf) && buf[e] == '\r' && e+1 < len(buf) && buf[e+1] == '\n' {
		e++ // the '\r' is part of TF's piece and harmless
	}
	if !(e < len(buf) && (buf[e] == '\n' || buf[e] == ';') || e == len(buf) && r.eof) {
		return false
	}
	t := &r.tf
	r.pos = e
	t.lastRes, t.lastMin, t.lastMax = tfOK, v1, v2
	switch t.cur.name {
	case tfNameNone:
		t.lastRes = tfNoPrint
	case tfNameLong:
		t.lastRes = tfLongName
	default:
		t.good++
	}
	t.last = t.cur
	t.lastNode = t.curNode
	return true
}

// startPiece starts the automaton on the piece after the ';' at q.
func (r *Reader) startPiece(q int) {
	t := &r.tf
	hasPrint := q >= len(printSuffix) && string(r.buf[q-len(printSuffix):q]) == printSuffix
	segEnd := q
	if hasPrint {
		segEnd = q - len(printSuffix)
	}
	start, exact := r.segmentStart(segEnd)
	line := r.countLines(start)
	if !t.pending {
		t.pending, t.marker, t.good, t.line = true, false, 0, line
	}
	t.cur = tfPiece{}
	t.curNode = ""
	switch {
	case !hasPrint:
		t.cur.name = tfNameNone
	case !exact || segEnd-start > r.maxName:
		t.cur.name = tfNameLong
		t.marker = true
	default:
		t.curNode = r.intern(bytes.TrimPrefix(r.buf[start:segEnd], bom))
		t.marker = true
	}
}

func (r *Reader) finishPiece() {
	t := &r.tf
	t.lastRes, t.lastMin, t.lastMax = t.cur.eval()
	if t.lastRes == tfOK {
		t.good++
	}
	t.last = t.cur
	t.lastNode = t.curNode
}

// finishLine decides the line once it has ended; it reports whether it set
// the current item.
func (r *Reader) finishLine() bool {
	t := &r.tf
	t.pending = false
	if t.good >= 2 {
		r.counts.JoinedLines++
	}
	if t.lastRes == tfOK {
		r.counts.Ignored += int64(t.good - 1)
		r.emitRecord(RequantMinMax, t.lastNode, t.lastMin, t.lastMax, t.line)
		return true
	}
	r.counts.Ignored += int64(t.good)
	if !t.marker {
		return false
	}
	r.emitError(t.line, tfMessage(t.lastRes, &t.last, t.lastNode, r.maxName, t.good))
	return true
}

// tfMessage explains why TensorFlow skips a line whose last
// __requant_min_max piece failed with reason.
func tfMessage(reason tfReason, p *tfPiece, name string, maxName, dropped int) string {
	const rec = "__requant_min_max record"
	node := ""
	if p.name == tfNameOK {
		node = fmt.Sprintf(" for node %q", name)
	}
	var msg string
	switch reason {
	case tfMissingMin:
		msg = "missing min value in " + rec + node
	case tfMissingMax:
		msg = "missing max value in " + rec + node
	case tfExtraOpen:
		msg = "extra '[' in " + rec + node
	case tfUntermMin:
		msg = "unterminated min value in " + rec + node
	case tfExtraCloseMin:
		msg = "extra ']' after min value in " + rec + node
	case tfLongMin:
		msg = fmt.Sprintf("min value longer than %d bytes in %s%s", tfMaxNumberLen-1, rec, node)
	case tfBadMin:
		msg = fmt.Sprintf("bad min value %q in %s%s", p.a[:p.na], rec, node)
	case tfUntermMax:
		msg = "unterminated max value in " + rec + node
	case tfExtraCloseMax:
		msg = "extra ']' after max value in " + rec + node
	case tfLongMax:
		msg = fmt.Sprintf("max value longer than %d bytes in %s%s", tfMaxNumberLen-1, rec, node)
	case tfBadMax:
		msg = fmt.Sprintf("bad max value %q in %s%s", p.b[:p.nb], rec, node)
	case tfNoPrint:
		msg = rec + " not preceded by NAME__print__"
	case tfLongName:
		msg = fmt.Sprintf("node name longer than %d bytes in %s", maxName, rec)
	}
	if dropped > 0 {
		msg += fmt.Sprintf(" (TensorFlow skips the whole line, dropping %d well-formed record(s) before it)", dropped)
	}
	return msg
}
