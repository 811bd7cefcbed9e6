// Package atomicfile writes output files the way every qcal command must:
// through a temporary file in the same folder, renamed over the output
// only when the whole content is written, never over one of the command's
// inputs, and never over something that is not a regular file.
//
// Its place in qcal's flow: cmd/qcal and the packages that write outputs
// (predictions, logs, graphs: graphio.Save and graphio.WriteFile) create
// their files with Create.
//
// A temporary file not yet committed or aborted is removed when the process
// gets SIGINT or SIGTERM: the first Create installs a handler that removes
// every pending temporary file, then lets the signal kill the process as it
// would have (signal.Reset and the same signal sent again), so the exit
// status is the usual one for that signal.
package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"
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
	return CreateStdout(path, os.Stdout, inputs...)
}

// CreateStdout is Create with stdout as the writer for "-" and
// "/dev/stdout" (a command's own standard output, which tests replace).
func CreateStdout(path string, stdout io.Writer, inputs ...string) (*File, error) {
	if IsStdout(path) {
		return &File{path: path, w: stdout, closed: true}, nil
	}
	perm, err := check(path, inputs)
	if err != nil {
		return nil, err
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	installHandler()
	pendingMu.Lock()
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err == nil {
		pending[tmp.Name()] = struct{}{}
	}
	pendingMu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &File{path: path, tmp: tmp, w: tmp, perm: perm}, nil
}

// IsStdout reports whether path means standard output: "-" or
// "/dev/stdout" (written directly, never replaced by a regular file).
func IsStdout(path string) bool { return path == "-" || path == "/dev/stdout" }

// Check returns the error Create would give for path before anything is
// written: path exists and is not a regular file, or is one of inputs.
// Commands call it before doing any work, so that a refused output costs
// nothing. Standard output passes.
func Check(path string, inputs []string) error {
	if IsStdout(path) {
		return nil
	}
	_, err := check(path, inputs)
	return err
}

// check returns the permission bits the output will get.
func check(path string, inputs []string) (os.FileMode, error) {
	perm := os.FileMode(0o644)
	if fi, err := os.Stat(path); err == nil {
		if !fi.Mode().IsRegular() {
			return 0, fmt.Errorf("%s: refusing to write: it exists and is not a regular file (%s)", path, kind(fi.Mode()))
		}
		perm = fi.Mode().Perm()
	} else if !errors.Is(err, os.ErrNotExist) {
		return 0, err
	}
	if err := CheckNotInput(path, inputs); err != nil {
		return 0, err
	}
	return perm, nil
}

// WriteFile writes data to path through Create and Commit.
func WriteFile(path string, data []byte, inputs ...string) error {
	f, err := Create(path, inputs...)
	if err != nil {
		return err
	}
	defer f.Abort()
	if _, err := f.Write(data); err != nil {
		return err
	}
	return f.Commit()
}

// The temporary files not yet committed or aborted, removed on a signal.
var (
	pendingMu   sync.Mutex
	pending     = map[string]struct{}{}
	handlerOnce sync.Once
)

// installHandler starts the goroutine that cleans up on SIGINT or SIGTERM.
func installHandler() {
	handlerOnce.Do(func() {
		ch := make(chan os.Signal, 1)
		for _, sig := range []os.Signal{syscall.SIGINT, syscall.SIGTERM} {
			// A signal the process was started ignoring (a background job's
			// SIGINT) stays ignored: catching it would turn it on, and the
			// re-sent signal below, ignored again, would never end the process.
			if !signal.Ignored(sig) {
				signal.Notify(ch, sig)
			}
		}
		go func() {
			sig := <-ch
			pendingMu.Lock() // held until the process dies: no new temporary file
			for name := range pending {
				os.Remove(name)
			}
			signal.Reset(sig)
			if p, err := os.FindProcess(os.Getpid()); err == nil {
				p.Signal(sig)
			}
			time.Sleep(time.Second) // the signal ends the process;
			os.Exit(128 + int(sig.(syscall.Signal)))
		}()
	})
}

// TempFile creates a scratch file in dir (os.TempDir() when dir is "")
// that is removed on SIGINT or SIGTERM like an output's temporary file
// (calib keeps a copy of standard input in one). remove closes and removes
// it.
func TempFile(dir, pattern string) (f *os.File, remove func(), err error) {
	installHandler()
	pendingMu.Lock()
	f, err = os.CreateTemp(dir, pattern)
	if err == nil {
		pending[f.Name()] = struct{}{}
	}
	pendingMu.Unlock()
	if err != nil {
		return nil, nil, err
	}
	return f, func() {
		f.Close()
		os.Remove(f.Name())
		forget(f.Name())
	}, nil
}

// forget drops a temporary file from the pending set.
func forget(name string) {
	pendingMu.Lock()
	delete(pending, name)
	pendingMu.Unlock()
}

// Name returns the output's path (never the temporary file's).
func (f *File) Name() string { return f.path }

// TempName returns the temporary file's name, for reading back what was
// written before Commit ("" for standard output). It is valid until
// Commit or Abort.
func (f *File) TempName() string {
	if f.tmp == nil {
		return ""
	}
	return f.tmp.Name()
}

// Write writes to the temporary file (or standard output).
func (f *File) Write(p []byte) (int, error) {
	n, err := f.w.Write(p)
	if err != nil {
		err = fmt.Errorf("%s: %w", f.path, plain(err))
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
		forget(name)
		if err != nil {
			os.Remove(name)
			err = fmt.Errorf("%s: %w", f.path, plain(err))
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
	forget(f.tmp.Name())
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

// plain strips the temporary file's name from an error of the os package,
// so that messages name the output only.
func plain(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Op, pe.Err)
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return fmt.Errorf("%s: %w", le.Op, le.Err)
	}
	return err
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
