package dataset

import (
	"errors"
	"fmt"
)

// Error is a problem with one file of a data set, or one record of it.
type Error struct {
	File   string // the file, as given or found by a glob
	Record int    // the 0-based example (or TFRecord record) index; -1 for the file as a whole
	Err    error
}

func (e *Error) Error() string {
	if e.Record < 0 {
		return e.File + ": " + e.Err.Error()
	}
	return fmt.Sprintf("%s: record %d: %v", e.File, e.Record, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Sentinel errors, matched with errors.Is through an *Error.
var (
	// ErrTruncated: the file ends inside a header or an example.
	ErrTruncated = errors.New("unexpected end of file")
	// ErrChecksum: a TFRecord length or data CRC does not match.
	ErrChecksum = errors.New("checksum mismatch")
	// ErrLabel: a label is outside [0, Options.Classes).
	ErrLabel = errors.New("label out of range")
)

func fileErr(file string, format string, args ...any) error {
	return &Error{File: file, Record: -1, Err: fmt.Errorf(format, args...)}
}

func recordErr(file string, rec int, format string, args ...any) error {
	return &Error{File: file, Record: rec, Err: fmt.Errorf(format, args...)}
}
