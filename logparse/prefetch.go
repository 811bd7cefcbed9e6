package logparse

import (
	"io"
	"runtime"
	"sync"
)

// The prefetcher reads the next block in its own goroutine while the
// current one is parsed, so that copying (or decompressing) the input and
// parsing it use both cores. Buffers circulate between the two goroutines
// through channels: each holds keepRoom bytes of room in front, into which
// the parser copies the small tail it still needs (the current segment and
// the lookahead) before parsing on, so no block is copied twice.

const prefetchBuffers = 3

type chunk struct {
	buf []byte // data at buf[room : room+n]
	n   int
	err error // io.EOF at the end; the last chunk of the stream
}

type stopper struct {
	once sync.Once
	done chan struct{}
}

func (s *stopper) stop() { s.once.Do(func() { close(s.done) }) }

type prefetcher struct {
	room   int
	free   chan []byte
	filled chan chunk
	stop   *stopper
}

func (r *Reader) startPrefetch() {
	room := r.keepRoom()
	pf := &prefetcher{
		room:   room,
		free:   make(chan []byte, prefetchBuffers),
		filled: make(chan chunk, prefetchBuffers),
		stop:   &stopper{done: make(chan struct{})},
	}
	for range prefetchBuffers - 1 {
		pf.free <- make([]byte, room+r.blockSize)
	}
	r.pf = pf
	r.buf = make([]byte, room+r.blockSize)[:0]
	// The goroutine must not refer to r, so that an abandoned Reader can
	// be collected; its cleanup then stops the goroutine.
	go pf.run(r.in, r.blockSize)
	runtime.AddCleanup(r, func(s *stopper) { s.stop() }, pf.stop)
}

// run reads whole blocks until the input ends or the Reader stops it.
func (pf *prefetcher) run(in io.Reader, block int) {
	for {
		var b []byte
		select {
		case b = <-pf.free:
		case <-pf.stop.done:
			return
		}
		n, err := readBlock(in, b[pf.room:pf.room+block])
		select {
		case pf.filled <- chunk{buf: b, n: n, err: err}:
		case <-pf.stop.done:
			return
		}
		if err != nil {
			return
		}
	}
}

// readBlock fills p unless the input ends (io.EOF, possibly with n > 0) or
// fails first.
func readBlock(in io.Reader, p []byte) (n int, err error) {
	empty := 0
	for n < len(p) {
		m, err := in.Read(p[n:])
		n += m
		if err != nil {
			return n, err
		}
		if m == 0 {
			if empty++; empty > maxEmptyRead {
				return n, io.ErrNoProgress
			}
		}
	}
	return n, nil
}

// fillAsync switches to the next prefetched buffer, carrying over what is
// still needed from the current one.
func (r *Reader) fillAsync() {
	from, exact := r.keepFrom()
	c := <-r.pf.filled
	carry := r.buf[from:r.end]
	dst := r.pf.room - len(carry)
	copy(c.buf[dst:r.pf.room], carry)
	// The bytes before the carry are stale text from the buffer's last
	// use. A ';' less than len("__print__") bytes into the carry makes
	// the parsers look back into them for "__print__": clear them.
	clear(c.buf[max(0, dst-len(printSuffix)):dst])
	delta := dst - from
	if cap(r.buf) > 0 {
		r.pf.free <- r.buf[:cap(r.buf)] // never blocks: the channel holds every buffer
	}
	r.buf = c.buf
	r.end = r.pf.room + c.n
	r.pos += delta
	r.nlPos += delta
	r.segFloor, r.segExact = dst, exact
	if c.n > 0 {
		r.counts.Bytes += int64(c.n)
		r.last = r.buf[r.end-1]
	}
	if c.err != nil {
		if c.err != io.EOF {
			r.setErr(c.err)
		} else if r.pendErr != nil {
			r.setErr(r.pendErr)
		}
		r.eof = true
		r.lim = r.end
		return
	}
	r.lim = max(r.end-lookahead, r.pos)
}
