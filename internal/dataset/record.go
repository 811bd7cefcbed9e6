package dataset

import (
	"errors"
	"fmt"
	"io"
	"slices"
)

// A Recording is a data set read once, decoded and preprocessed, and kept
// in memory, so that it can be read again without decoding: qcal tune
// evaluates the same images once per candidate graph, and decoding JPEG
// photographs costs more than running a small network on them.
type Recording struct {
	batches []Batch
	size    int64
}

// ErrTooLarge is returned by Record when the data set does not fit.
var ErrTooLarge = errors.New("data set larger than the memory allowed for it")

// Record reads s to its end into memory and closes it. It stops with an
// error wrapping ErrTooLarge once the values, labels and ids would take more
// than max bytes; any other error is the stream's.
func Record(s *Stream, max int64) (*Recording, error) {
	defer s.Close()
	r := &Recording{}
	for {
		var b Batch
		_, err := s.Next(&b)
		if err == io.EOF {
			return r, nil
		}
		if err != nil {
			return nil, err
		}
		r.size += int64(4*len(b.X) + 8*len(b.Labels))
		for _, id := range b.IDs {
			r.size += int64(len(id) + 16)
		}
		if r.size > max {
			return nil, fmt.Errorf("%w (%d bytes)", ErrTooLarge, max)
		}
		r.batches = append(r.batches, Batch{X: slices.Clone(b.X), Shape: b.Shape, Labels: b.Labels, IDs: b.IDs}) // no append slack beyond Size
	}
}

// Size is the memory the recording's batches take, in bytes (about).
func (r *Recording) Size() int64 { return r.size }

// Stream returns a Stream that gives the recorded batches, in order, as
// the stream they were read from gave them. Streams of one Recording may be
// read at the same time.
func (r *Recording) Stream() *Stream {
	return &Stream{replay: r.batches, started: true}
}

// nextReplay copies the next recorded batch into b.
func (s *Stream) nextReplay(b *Batch) (int, error) {
	if len(s.replay) == 0 {
		s.done = true
		return 0, io.EOF
	}
	r := &s.replay[0]
	s.replay = s.replay[1:]
	b.X = append(b.X, r.X...)
	b.Shape = append(b.Shape, r.Shape...)
	b.Labels = append(b.Labels, r.Labels...)
	b.IDs = append(b.IDs, r.IDs...)
	return r.Shape[0], nil
}
