package calib

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"runtime"

	"qcal/logparse"
)

// defaultSplitMin is the size from which a log file is read by two
// parsers, one per half, on the machine's two cores (Options.SplitMin).
const defaultSplitMin = 64 << 20

// readFile reads one log file into p. A large plain file is split at the
// first line end after its middle and both halves are parsed at once, the
// second into its own part that is merged in after the first (line numbers
// shifted, samples appended in log order), so the result is the same as
// reading it from start to end.
func (p *part) readFile(path string) (logparse.Counts, error) {
	split, err := splitPoint(path, p.cfg.splitMin)
	if err != nil || split == 0 {
		r, err := logparse.Open(path)
		if err != nil {
			return logparse.Counts{}, err
		}
		return p.read(r, path, true)
	}
	f, err := os.Open(path)
	if err != nil {
		return logparse.Counts{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return logparse.Counts{}, err
	}
	tail := newPart(p.cfg)
	var tailCounts logparse.Counts
	var tailErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		tailCounts, tailErr = tail.read(logparse.NewReader(io.NewSectionReader(f, split, fi.Size()-split), path), path, false)
	}()
	headCounts, headErr := p.read(logparse.NewReader(io.NewSectionReader(f, 0, split), path), path, true)
	<-done
	if headErr != nil {
		return logparse.Counts{}, headErr
	}
	if tailErr != nil {
		return logparse.Counts{}, fmt.Errorf("%w (in the second half of the file, from byte %d)", tailErr, split)
	}
	if err := p.merge(tail, headCounts.Lines); err != nil {
		return logparse.Counts{}, err
	}
	addCounts(&headCounts, tailCounts)
	return headCounts, nil
}

// splitPoint returns the offset just after the first '\n' at or after the
// middle of a plain (not gzip) regular file of at least splitMin bytes
// when the machine has two or more CPUs, else 0.
func splitPoint(path string, splitMin int64) (int64, error) {
	if runtime.GOMAXPROCS(0) < 2 {
		return 0, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() || fi.Size() < splitMin {
		return 0, err
	}
	var magic [2]byte
	if _, err := f.ReadAt(magic[:], 0); err != nil || magic == [2]byte{0x1f, 0x8b} {
		return 0, nil
	}
	buf := make([]byte, 64<<10)
	for off := fi.Size() / 2; off < fi.Size(); off += int64(len(buf)) {
		n, err := f.ReadAt(buf, off)
		if i := bytes.IndexByte(buf[:n], '\n'); i >= 0 {
			if off+int64(i)+1 >= fi.Size() {
				return 0, nil
			}
			return off + int64(i) + 1, nil
		}
		if err != nil {
			return 0, nil
		}
	}
	return 0, nil
}
