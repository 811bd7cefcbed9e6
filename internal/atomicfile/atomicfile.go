// Package atomicfile writes output files the way every qcal command must:
// through a temporary file in the same folder, renamed over the output
// only when the whole content is written, never over one of the command's
// inputs, and never over something that is not a regular file.
//
// Its place in qcal's flow: cmd/qcal and the packages that write outputs
// (predictions, logs, graphs) create their files with Create.
package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// File is an output being written. Write to it, then Commit to put it in
// place, or Abort to leave no trace; Abort after Commit does nothing, so
// `defer f.Abort()` is the usual pattern.
type File struct {
	path   string
	tmp    *os.File // nil for standard output
	w      io.Writer
	perm   os.FileMode
	closed bool
}

// Create starts writing path. "-" and "/dev/stdout" mean standard output,
// written directly. Create refuses a path that exists and is not a regular
// file (a device, FIFO, directory or socket) and a path that is one of
// inputs (by cleaned absolute path, or as the same file through a link).
// An existing output keeps its permission bits; a new one gets 0644.
func Create(path string, inputs ...string) (*File, error) {
	if path == "-" || path == "/dev/stdout" {
		return &File{path: path, w: os.Stdout, closed: true}, nil
	}
	perm := os.FileMode(0o644)
	if fi, err := os.Stat(path); err == nil {
		if !fi.Mode().IsRegular() {
			return nil, fmt.Errorf("%s: refusing to write: it exists and is not a regular file (%s)", path, kind(fi.Mode()))
		}
		perm = fi.Mode().Perm()
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if err := CheckNotInput(path, inputs); err != nil {
		return nil, err
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &File{path: path, tmp: tmp, w: tmp, perm: perm}, nil
}

// Name returns the output's path (never the temporary file's).
func (f *File) Name() string { return f.path }

// Write writes to the temporary file (or standard output).
func (f *File) Write(p []byte) (int, error) {
	n, err := f.w.Write(p)
	if err != nil {
		err = fmt.Errorf("%s: %w", f.path, err)
	}
	return n, err
}

// Commit syncs the temporary file and renames it over the output.
func (f *File) Commit() (err error) {
	if f.closed {
		return nil
	}
	f.closed = true
	name := f.tmp.Name()
	defer func() {
		if err != nil {
			os.Remove(name)
			err = fmt.Errorf("%s: %w", f.path, err)
		}
	}()
	if err = f.tmp.Chmod(f.perm); err != nil {
		f.tmp.Close()
		return err
	}
	if err = f.tmp.Sync(); err != nil {
		f.tmp.Close()
		return err
	}
	if err = f.tmp.Close(); err != nil {
		return err
	}
	if err = os.Rename(name, f.path); err != nil {
		return err
	}
	if d, derr := os.Open(filepath.Dir(f.path)); derr == nil {
		d.Sync() // not every system can sync a folder; the data is safe already
		d.Close()
	}
	return nil
}

// Abort removes the temporary file; the output is left as it was.
func (f *File) Abort() {
	if f.closed {
		return
	}
	f.closed = true
	f.tmp.Close()
	os.Remove(f.tmp.Name())
}

// CheckNotInput returns an error when path is one of inputs, by cleaned
// absolute path or, for existing files, as the same file.
func CheckNotInput(path string, inputs []string) error {
	absOut, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	outInfo, outErr := os.Stat(path)
	for _, in := range inputs {
		if in == "" || in == "-" {
			continue
		}
		same := false
		if absIn, err := filepath.Abs(in); err == nil && absIn == absOut {
			same = true
		} else if outErr == nil {
			if inInfo, err := os.Stat(in); err == nil && os.SameFile(outInfo, inInfo) {
				same = true
			}
		}
		if same {
			return fmt.Errorf("%s: refusing to overwrite input file %s; choose a different output path", path, in)
		}
	}
	return nil
}

func kind(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&os.ModeNamedPipe != 0:
		return "a FIFO"
	case m&os.ModeSocket != 0:
		return "a socket"
	case m&os.ModeDevice != 0:
		return "a device"
	}
	return "not a regular file"
}
