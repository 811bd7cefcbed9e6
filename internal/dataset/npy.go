package dataset

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

const npyMagic = "\x93NUMPY"

// maxNPYHeader bounds the header length a file may claim (numpy's own
// reader refuses more than 10000 bytes by default).
const maxNPYHeader = 1 << 20

// NPYHeader is the header of a .npy file.
type NPYHeader struct {
	Major, Minor int
	Descr        string // numpy's dtype string, e.g. "<f4", "|u1"
	FortranOrder bool
	Shape        []int // () is a scalar: one element
	Kind         byte  // 'f', 'i', 'u' or 'b', from Descr
	Size         int   // bytes per element, from Descr
	BigEndian    bool  // from Descr
}

// ReadNPYHeader reads a .npy header: magic, version, header length and
// the Python dict literal with the keys descr, fortran_order and shape.
// The error does not name the file.
func ReadNPYHeader(r io.Reader) (NPYHeader, error) {
	var pre [10]byte
	if _, err := io.ReadFull(r, pre[:8]); err != nil {
		return NPYHeader{}, fmt.Errorf("npy header: %w", truncated(err))
	}
	if string(pre[:6]) != npyMagic {
		return NPYHeader{}, fmt.Errorf("not an NPY file: magic %q, want %q", pre[:6], npyMagic)
	}
	h := NPYHeader{Major: int(pre[6]), Minor: int(pre[7])}
	var n int
	switch h.Major {
	case 1:
		if _, err := io.ReadFull(r, pre[8:10]); err != nil {
			return NPYHeader{}, fmt.Errorf("npy header length: %w", truncated(err))
		}
		n = int(binary.LittleEndian.Uint16(pre[8:10]))
	case 2, 3:
		var b [4]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return NPYHeader{}, fmt.Errorf("npy header length: %w", truncated(err))
		}
		n = int(binary.LittleEndian.Uint32(b[:]))
	default:
		return NPYHeader{}, fmt.Errorf("npy version %d.%d not supported (want 1, 2 or 3)", h.Major, h.Minor)
	}
	if n > maxNPYHeader {
		return NPYHeader{}, fmt.Errorf("npy header length %d is over %d", n, maxNPYHeader)
	}
	text := make([]byte, n)
	if _, err := io.ReadFull(r, text); err != nil {
		return NPYHeader{}, fmt.Errorf("npy header (%d bytes): %w", n, truncated(err))
	}
	if err := h.parseDict(string(text)); err != nil {
		return NPYHeader{}, fmt.Errorf("npy header %q: %w", strings.TrimRight(string(text), " \n"), err)
	}
	return h, nil
}

// parseDict parses the header's dict literal.
func (h *NPYHeader) parseDict(s string) error {
	p := &pyParser{s: s}
	p.space()
	if !p.eat('{') {
		return fmt.Errorf("want '{' at offset %d", p.i)
	}
	seen := map[string]bool{}
	for {
		p.space()
		if p.eat('}') {
			break
		}
		key, err := p.str()
		if err != nil {
			return err
		}
		p.space()
		if !p.eat(':') {
			return fmt.Errorf("want ':' after key %q at offset %d", key, p.i)
		}
		p.space()
		switch key {
		case "descr":
			h.Descr, err = p.str()
		case "fortran_order":
			h.FortranOrder, err = p.boolean()
		case "shape":
			h.Shape, err = p.tuple()
		default:
			return fmt.Errorf("unknown key %q", key)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		if seen[key] {
			return fmt.Errorf("key %q twice", key)
		}
		seen[key] = true
		p.space()
		if p.eat(',') {
			continue
		}
		p.space()
		if !p.eat('}') {
			return fmt.Errorf("want ',' or '}' at offset %d", p.i)
		}
		break
	}
	if rest := strings.TrimRight(s[p.i:], " \n"); rest != "" {
		return fmt.Errorf("text after the dict at offset %d", p.i)
	}
	for _, k := range []string{"descr", "fortran_order", "shape"} {
		if !seen[k] {
			return fmt.Errorf("missing key %q", k)
		}
	}
	return h.parseDescr()
}

// parseDescr reads byte order, kind and size from a simple dtype string.
func (h *NPYHeader) parseDescr() error {
	d := h.Descr
	if len(d) < 3 {
		return fmt.Errorf("descr %q not supported (want e.g. '<f4', '|u1')", d)
	}
	switch d[0] {
	case '<', '|', '=':
	case '>':
		h.BigEndian = true
	default:
		return fmt.Errorf("descr %q: unknown byte order %q", d, d[0])
	}
	h.Kind = d[1]
	size, err := strconv.Atoi(d[2:])
	if err != nil {
		return fmt.Errorf("descr %q not supported (want e.g. '<f4', '|u1')", d)
	}
	h.Size = size
	ok := false
	switch h.Kind {
	case 'f':
		ok = size == 4 || size == 8
	case 'i', 'u':
		ok = size == 1 || size == 2 || size == 4 || size == 8
	case 'b':
		ok = size == 1
	}
	if !ok {
		return fmt.Errorf("descr %q not supported (float32/64, integers, bool)", d)
	}
	return nil
}

// pyParser reads the few Python literals an NPY header holds.
type pyParser struct {
	s string
	i int
}

func (p *pyParser) space() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\n' || p.s[p.i] == '\t') {
		p.i++
	}
}

func (p *pyParser) eat(c byte) bool {
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *pyParser) str() (string, error) {
	if p.i >= len(p.s) || p.s[p.i] != '\'' && p.s[p.i] != '"' {
		return "", fmt.Errorf("want a string at offset %d", p.i)
	}
	q := p.s[p.i]
	end := strings.IndexByte(p.s[p.i+1:], q)
	if end < 0 {
		return "", fmt.Errorf("unterminated string at offset %d", p.i)
	}
	v := p.s[p.i+1 : p.i+1+end]
	p.i += end + 2
	return v, nil
}

func (p *pyParser) boolean() (bool, error) {
	switch {
	case strings.HasPrefix(p.s[p.i:], "True"):
		p.i += 4
		return true, nil
	case strings.HasPrefix(p.s[p.i:], "False"):
		p.i += 5
		return false, nil
	}
	return false, fmt.Errorf("want True or False at offset %d", p.i)
}

// tuple reads "(2, 3)", "(5,)" or "()"; Python 2's "2L" is accepted.
func (p *pyParser) tuple() ([]int, error) {
	if !p.eat('(') {
		return nil, fmt.Errorf("want '(' at offset %d", p.i)
	}
	dims := []int{}
	total := 1
	for {
		p.space()
		if p.eat(')') {
			return dims, nil
		}
		start := p.i
		for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
			p.i++
		}
		if start == p.i {
			return nil, fmt.Errorf("want a dimension at offset %d", p.i)
		}
		d, err := strconv.Atoi(p.s[start:p.i])
		if err != nil || d > math.MaxInt32 {
			return nil, fmt.Errorf("dimension %q too large", p.s[start:p.i])
		}
		if d > 0 && total > math.MaxInt32/d {
			return nil, fmt.Errorf("%v elements overflow", append(dims, d))
		}
		total *= d
		dims = append(dims, d)
		p.eat('L')
		p.space()
		if p.eat(',') {
			continue
		}
		p.space()
		if !p.eat(')') {
			return nil, fmt.Errorf("want ',' or ')' at offset %d", p.i)
		}
		return dims, nil
	}
}

// decodeLittle converts NPY elements to float32 per the header.
func (h *NPYHeader) decode(dst []float32, raw []byte) {
	var order binary.ByteOrder = binary.LittleEndian
	if h.BigEndian {
		order = binary.BigEndian
	}
	for i := range dst {
		b := raw[i*h.Size:]
		var v float32
		switch {
		case h.Kind == 'f' && h.Size == 4:
			v = math.Float32frombits(order.Uint32(b))
		case h.Kind == 'f':
			v = float32(math.Float64frombits(order.Uint64(b)))
		default:
			v = float32(h.integer(b, order))
		}
		dst[i] = v
	}
}

// integer reads one integer element.
func (h *NPYHeader) integer(b []byte, order binary.ByteOrder) int64 {
	switch h.Size {
	case 1:
		if h.Kind == 'i' {
			return int64(int8(b[0]))
		}
		return int64(b[0])
	case 2:
		if h.Kind == 'i' {
			return int64(int16(order.Uint16(b)))
		}
		return int64(order.Uint16(b))
	case 4:
		if h.Kind == 'i' {
			return int64(int32(order.Uint32(b)))
		}
		return int64(order.Uint32(b))
	}
	return int64(order.Uint64(b))
}

// openNPYHeader opens an NPY file and reads its header, refusing what
// cannot be streamed example by example.
func openNPYHeader(file string) (io.Reader, io.Closer, NPYHeader, error) {
	r, c, err := openMaybeGzip(file)
	if err != nil {
		return nil, nil, NPYHeader{}, err
	}
	h, err := ReadNPYHeader(r)
	if err == nil && h.FortranOrder && len(h.Shape) > 1 {
		err = fmt.Errorf("fortran_order arrays cannot be streamed by example; save the array in C order")
	}
	if err == nil && len(h.Shape) == 0 {
		err = fmt.Errorf("a scalar array has no examples; want shape (N, ...)")
	}
	if err != nil {
		c.Close()
		return nil, nil, NPYHeader{}, &Error{File: file, Record: -1, Err: err}
	}
	return r, c, h, nil
}

func openNPY(file, labels string) (reader, error) {
	r, c, hdr, err := openNPYHeader(file)
	if err != nil {
		return nil, err
	}
	u8 := hdr.Size == 1 && (hdr.Kind == 'u' || hdr.Kind == 'b')
	return newArrayReader(file, r, c, hdr.Shape, hdr.Size, u8, hdr.decode, labels)
}

// npyLabels streams a 1-D integer NPY array of labels.
type npyLabels struct {
	file string
	r    io.Reader
	c    io.Closer
	hdr  NPYHeader
	buf  [8]byte
	i    int
}

func newNPYLabels(file string, r io.Reader, c io.Closer) (*npyLabels, error) {
	h, err := ReadNPYHeader(r)
	if err != nil {
		return nil, &Error{File: file, Record: -1, Err: err}
	}
	if len(h.Shape) != 1 {
		return nil, fileErr(file, "labels array has shape %v, want (N,)", h.Shape)
	}
	if h.Kind == 'f' {
		return nil, fileErr(file, "labels array holds %s floats, want integers", h.Descr)
	}
	return &npyLabels{file: file, r: r, c: c, hdr: h}, nil
}

func (l *npyLabels) count() int { return l.hdr.Shape[0] }

func (l *npyLabels) next() (int, error) {
	b := l.buf[:l.hdr.Size]
	if _, err := io.ReadFull(l.r, b); err != nil {
		return 0, &Error{File: l.file, Record: l.i, Err: fmt.Errorf("%w (the header says %d labels)", truncated(err), l.hdr.Shape[0])}
	}
	var order binary.ByteOrder = binary.LittleEndian
	if l.hdr.BigEndian {
		order = binary.BigEndian
	}
	v := l.hdr.integer(b, order)
	rec := l.i
	l.i++
	if v < 0 || v > math.MaxInt32 {
		return 0, &Error{File: l.file, Record: rec, Err: fmt.Errorf("%w: label %d", ErrLabel, v)}
	}
	return int(v), nil
}

func (l *npyLabels) close() error { return l.c.Close() }
