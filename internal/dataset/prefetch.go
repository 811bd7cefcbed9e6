package dataset

// Decoding a JPEG photograph costs more than running a small network on
// it (MobileNet v1 0.25/128: 11 ms against 5 ms), so the image folder and
// TFRecord readers decode the records the stream will want a few ahead,
// each on its own goroutine, and hand them out in record order: the same
// examples, and the same errors at the same records, as decoding one at a
// time.

// decoding is one record being decoded on its own goroutine; ex, data and
// err belong to that goroutine until done is closed.
type decoding struct {
	rec  int
	ex   example
	data []byte // the job's input bytes, reused from record to record
	err  error
	done chan struct{}
}

// ahead is the decodings under way, in record order.
type ahead struct {
	max     int         // the most decodings at once; < 2 turns read-ahead off
	pending []*decoding // started, in record order
	free    []*decoding // handed out: buffers to reuse
}

func (a *ahead) full() bool { return len(a.pending) >= a.max }

// start runs setup on the calling goroutine (to copy what the job needs
// before the caller moves on), then job on a goroutine of its own, for
// record rec.
func (a *ahead) start(rec int, setup func(d *decoding), job func(d *decoding) error) {
	var d *decoding
	if n := len(a.free); n > 0 {
		d, a.free = a.free[n-1], a.free[:n-1]
	} else {
		d = &decoding{}
	}
	d.rec, d.err, d.done = rec, nil, make(chan struct{})
	if setup != nil {
		setup(d)
	}
	go func() {
		defer close(d.done)
		d.err = job(d)
	}()
	a.pending = append(a.pending, d)
}

// drop forgets the decodings of records before rec (waiting for them).
func (a *ahead) drop(rec int) {
	for len(a.pending) > 0 && a.pending[0].rec < rec {
		d := a.pending[0]
		a.pending = a.pending[1:]
		<-d.done
		a.free = append(a.free, d)
	}
}

// take waits for record rec's decoding when it is the first pending (after
// dropping those before it) and hands its example to ex, swapping
// buffers; it reports whether rec was pending, and its error.
func (a *ahead) take(rec int, ex *example) (bool, error) {
	a.drop(rec)
	if len(a.pending) == 0 || a.pending[0].rec != rec {
		return false, nil
	}
	d := a.pending[0]
	a.pending = a.pending[1:]
	<-d.done
	*ex, d.ex = d.ex, *ex
	a.free = append(a.free, d)
	return true, d.err
}

// wait waits for every decoding under way and forgets them.
func (a *ahead) wait() {
	for _, d := range a.pending {
		<-d.done
	}
	a.pending = nil
}
