package calib

import (
	"qcal/logparse"
)

// item is a record or a malformed fragment handed from the scanning
// goroutine to the accumulating one: the fields of a logparse.Record that
// readLogs uses (the record's file is the reader's), kept small because
// every record of the log passes through one. A Values chunk's values live
// in its batch's arena, vals[lo:hi], since the Reader reuses its buffer.
type item struct {
	kind      logparse.Kind
	last, bad bool
	output    int32
	min, max  float32
	line      int64
	node      string
	se        *logparse.SyntaxError
	lo, hi    int32
	ints      bool // the tensor's values so far are integers (vals64[lo:hi] holds them exactly)
	chunk     int32
	values    []float32 // set on the accumulating side
	values64  []float64 // set on the accumulating side when ints
}

// batch is a group of items and the values of their Values records.
type batch struct {
	items  []item
	vals   []float32
	vals64 []float64 // parallel to vals, for integer tensors
	// bytes is how far the reader had read when the batch was full and
	// records how many of its items are records (set for progress only).
	bytes, records int64
}

// batchLen is how many items the scanning goroutine hands over at a time;
// batchVals bounds the values a batch holds.
const (
	batchLen  = 4096
	batchVals = 1 << 16
)

// scanAsync scans r in a goroutine and calls f for each item in log order on
// the calling goroutine, so that parsing and accumulating run on two cores.
// When f returns an error, scanning stops and that error is returned; r's
// own errors are left for r.Err. When progress is not nil it is called on
// the calling goroutine after each batch with the bytes and records the
// batch took the reader through.
func scanAsync(r *logparse.Reader, f func(*item) error, progress func(bytes, records int64)) error {
	full := make(chan *batch, 4)
	free := make(chan *batch, 4)
	stop := make(chan struct{})
	go func() {
		defer close(full)
		for {
			var b *batch
			select {
			case b = <-free:
				b.items, b.vals, b.vals64, b.records = b.items[:0], b.vals[:0], b.vals64[:0], 0
			default:
				b = &batch{items: make([]item, 0, batchLen)}
			}
			more := true
			for len(b.items) < batchLen && len(b.vals) < batchVals {
				if more = r.Scan(); !more {
					break
				}
				if se := r.SyntaxError(); se != nil {
					b.items = append(b.items, item{se: se})
					continue
				}
				rec := r.Record()
				it := item{kind: rec.Kind, node: rec.Node, min: rec.Min, max: rec.Max, line: rec.Line}
				if rec.Kind == logparse.Values {
					it.output, it.last, it.bad, it.chunk = int32(rec.Output), rec.Last, rec.Bad, int32(rec.Chunk)
					it.lo = int32(len(b.vals))
					b.vals = append(b.vals, rec.Values...)
					it.hi = int32(len(b.vals))
					if it.ints = rec.Values64 != nil; it.ints {
						// vals64 runs beside vals: float records before
						// this one left it shorter, so pad it to lo.
						for len(b.vals64) < int(it.lo) {
							b.vals64 = append(b.vals64, 0)
						}
						b.vals64 = append(b.vals64[:it.lo], rec.Values64...)
					}
				}
				b.items = append(b.items, it)
			}
			if progress != nil {
				b.bytes = r.Counts().Bytes
				for i := range b.items {
					if b.items[i].se == nil {
						b.records++
					}
				}
			}
			if len(b.items) > 0 {
				select {
				case full <- b:
				case <-stop:
					return
				}
			}
			if !more {
				return
			}
		}
	}()
	var err error
	var read int64
	for b := range full {
		for i := 0; err == nil && i < len(b.items); i++ {
			it := &b.items[i]
			if it.kind == logparse.Values {
				it.values = b.vals[it.lo:it.hi:it.hi]
				if it.ints {
					it.values64 = b.vals64[it.lo:it.hi:it.hi]
				}
			}
			if err = f(it); err != nil {
				close(stop)
			}
		}
		if progress != nil && err == nil {
			progress(b.bytes-read, b.records)
			read = b.bytes
		}
		select {
		case free <- b:
		default:
		}
	}
	return err
}
