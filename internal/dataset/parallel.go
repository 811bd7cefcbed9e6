package dataset

import (
	"io"
	"runtime"
	"sync"
)

// Encoded images (JPEG, PNG) cost far more to decode than a small network
// costs to run: MobileNet v1 0.25/128 on the 1000 ImageNet sample photographs
// spent its whole evaluation decoding them one at a time. A Stream over a
// reader that can hand out an example's encoded bytes (a rawReader) therefore
// decodes and preprocesses examples on several goroutines, ahead of Next,
// and hands them out in data set order: the batches are the same, byte for
// byte, as a sequential read gives, and so is the first error.

// rawReader is a reader whose examples can be read (cheaply, in order) apart
// from being decoded (expensively, in any order).
type rawReader interface {
	reader
	// fetch reads the next example's encoded bytes and facts into rec (its
	// data a slice rec owns), or only passes over the example when take is
	// false. It returns io.EOF when no example is left; any other error
	// names the file and record.
	fetch(rec *rawExample, take bool) error
}

// rawExample is an example before decoding.
type rawExample struct {
	data  []byte
	label int
	id    string
	file  string
	rec   int
}

// decode decodes r into ex.
func (r *rawExample) decode(ex *example) error {
	if err := decodeImage(r.data, ex); err != nil {
		return &Error{File: r.file, Record: r.rec, Err: err}
	}
	ex.label, ex.id, ex.file, ex.rec = r.label, r.id, r.file, r.rec
	return nil
}

// ready is one example decoded and preprocessed by a worker.
type ready struct {
	x          []float32
	oh, ow, oc int
	ex         example // label, id, file, rec (its pixel buffers are the worker's)
	err        error   // reading or decoding failed
	sizeErr    error   // the preprocessed size could not be worked out (Stream.accept)
}

// pipeline decodes the examples of a rawReader on workers goroutines.
type pipeline struct {
	order chan chan *ready // one result channel per example, in data set order
	quit  chan struct{}
	wg    sync.WaitGroup
	free  chan []float32 // buffers of delivered examples, for the workers
}

// decodeWorkers is how many goroutines decode: one a core. Tests lower it.
var decodeWorkers = runtime.GOMAXPROCS(0)

// startPipeline starts the reading goroutine and the decoding workers. The
// reading goroutine applies the stream's limit, shard and sample exactly as
// the sequential Next does.
func (s *Stream) startPipeline(r rawReader) {
	workers := max(decodeWorkers, 1)
	p := &pipeline{order: make(chan chan *ready, 2*workers), quit: make(chan struct{}), free: make(chan []float32, 4*workers)}
	type job struct {
		raw rawExample
		res chan *ready
	}
	jobs := make(chan job, workers)
	for range workers {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			var ex example
			var work []float32
			for j := range jobs {
				d := &ready{}
				if d.err = j.raw.decode(&ex); d.err == nil {
					d.ex = example{label: ex.label, id: ex.id, file: ex.file, rec: ex.rec}
					if d.oh, d.ow, d.oc, d.sizeErr = s.opt.Preprocess.outSize(ex.h, ex.w, ex.c); d.sizeErr == nil {
						var buf []float32
						select {
						case buf = <-p.free:
						default:
						}
						d.x = grow(buf[:0], d.oh*d.ow*d.oc)
						work = s.opt.Preprocess.apply(d.x, work, &ex)
					}
				}
				j.res <- d
			}
		}()
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		defer close(p.order)
		defer close(jobs)
		index := 0
		for {
			select {
			case <-p.quit: // closed: read nothing more
				return
			default:
			}
			take, more := s.wants(index)
			if !more {
				return
			}
			var raw rawExample
			err := r.fetch(&raw, take)
			if err == io.EOF {
				return
			}
			res := make(chan *ready, 1)
			if err != nil {
				res <- &ready{err: err}
			}
			select {
			case p.order <- res:
			case <-p.quit:
				return
			}
			if err != nil {
				return
			}
			index++
			if !take {
				res <- nil
				continue
			}
			select {
			case jobs <- job{raw, res}:
			case <-p.quit:
				return
			}
		}
	}()
	s.pipe = p
}

// nextReady returns the next taken example from the pipeline, or io.EOF.
func (p *pipeline) nextReady() (*ready, error) {
	for res := range p.order {
		d := <-res
		if d == nil { // passed over
			continue
		}
		if d.err != nil {
			return nil, d.err
		}
		return d, nil
	}
	return nil, io.EOF
}

// release takes back a delivered example's buffer.
func (p *pipeline) release(d *ready) {
	select {
	case p.free <- d.x[:0]:
	default:
	}
}

// stop ends the goroutines and waits for them.
func (p *pipeline) stop() {
	close(p.quit)
	// Drain what the reading goroutine has queued, so that no worker is
	// left blocked on a result nobody reads (each result channel has room
	// for its one result, so workers never block; draining lets the reader
	// see quit).
	for range p.order {
	}
	p.wg.Wait()
}

// nextParallel is Next over the pipeline.
func (s *Stream) nextParallel(b *Batch) (int, error) {
	n := 0
	for n < s.opt.BatchSize {
		d, err := s.pipe.nextReady()
		if err == nil {
			if err = s.addReady(b, d); err == nil {
				s.pipe.release(d)
				n++
				continue
			}
		}
		// The read ends here (io.EOF or an error): so do the goroutines,
		// which would otherwise keep reading ahead until Close.
		s.done = true
		s.pipe.stop()
		s.pipe = nil
		if err == io.EOF {
			break
		}
		return 0, err
	}
	return n, nil
}

// addReady appends a decoded example to b, with add's checks.
func (s *Stream) addReady(b *Batch, d *ready) error {
	ex := &d.ex
	if err := s.accept(ex, d.oh, d.ow, d.oc, d.sizeErr); err != nil {
		return err
	}
	b.X = append(b.X, d.x...)
	b.Labels = append(b.Labels, ex.label)
	b.IDs = append(b.IDs, ex.id)
	return nil
}
