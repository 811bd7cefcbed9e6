package dataset

import (
	"fmt"
	"image"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"
)

// goroutinesBack waits (up to a second) for the goroutine count to fall to
// at most want and reports whether it did.
func goroutinesBack(want int) bool {
	for i := 0; i < 100; i++ {
		if runtime.NumGoroutine() <= want {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return false
}

// TestPipelineEdges: the parallel decoding's goroutines end in every way a
// read can stop (an error in the middle, a limit, an example that does not
// fit, closing before the first Next or twice), and Next after an error or
// after Close gives io.EOF, as the sequential read does. 40 PNGs of 2×2
// gray; the 3×2 one at record 5 does not fit the first's size.
func TestPipelineEdges(t *testing.T) {
	defer func(w int) { decodeWorkers = w }(decodeWorkers)
	decodeWorkers = 3
	good := pngBytes(t, image.NewGray(image.Rect(0, 0, 2, 2)))
	big := pngBytes(t, image.NewGray(image.Rect(0, 0, 3, 2)))
	okDir, cutDir, bigDir := t.TempDir(), t.TempDir(), t.TempDir()
	for i := range 40 {
		name := fmt.Sprintf("%02d.png", i)
		writeFile(t, okDir, name, good)
		switch {
		case i == 5:
			writeFile(t, cutDir, name, good[:len(good)-20])
			writeFile(t, bigDir, name, big)
		default:
			writeFile(t, cutDir, name, good)
			writeFile(t, bigDir, name, good)
		}
	}
	before := runtime.NumGoroutine()
	var b Batch

	// A bad image: records 0-3 come in two batches, then the error; the
	// goroutines end without Close; Next again is io.EOF.
	s, err := Open(cutDir, Options{BatchSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if n, err := s.Next(&b); n != 2 || err != nil {
			t.Fatalf("cut: batch %d: %d, %v", i, n, err)
		}
	}
	if _, err := s.Next(&b); err == nil || !strings.Contains(err.Error(), "05.png: record 5") {
		t.Fatalf("cut: error %v, want one naming 05.png: record 5", err)
	}
	if _, err := s.Next(&b); err != io.EOF {
		t.Errorf("cut: Next after the error: %v, want io.EOF", err)
	}
	if !goroutinesBack(before) {
		t.Errorf("cut: %d goroutines left after the error (no Close), %d before", runtime.NumGoroutine(), before)
	}
	s.Close()
	s.Close()

	// A size that does not fit (found by Next, not the workers): the
	// reading ahead ends with the error, without Close; Close twice is
	// harmless.
	s, err = Open(bigDir, Options{BatchSize: 4})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := s.Next(&b); n != 4 || err != nil {
		t.Fatalf("big: first batch: %d, %v", n, err)
	}
	if _, err := s.Next(&b); err == nil || !strings.Contains(err.Error(), "05.png: record 5: example is 2×3×1") {
		t.Fatalf("big: error %v", err)
	}
	if !goroutinesBack(before) {
		t.Errorf("big: %d goroutines left after the error (no Close), %d before", runtime.NumGoroutine(), before)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// A limit below a batch: one batch of 3, then io.EOF; no Close needed.
	s, err = Open(okDir, Options{BatchSize: 8, Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := s.Next(&b); n != 3 || err != nil {
		t.Fatalf("limit: %d, %v; want 3 examples", n, err)
	}
	if _, err := s.Next(&b); err != io.EOF {
		t.Fatalf("limit: second Next: %v, want io.EOF", err)
	}
	if !goroutinesBack(before) {
		t.Errorf("limit: %d goroutines left at io.EOF, %d before", runtime.NumGoroutine(), before)
	}
	s.Close()

	// Close before the first Next, then Next: io.EOF, as after a Close
	// midway (TestParallelDecodeClose), and no goroutine started.
	s, err = Open(okDir, Options{BatchSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Next(&b); err != io.EOF {
		t.Errorf("Next after an early Close: %d, %v; want io.EOF", n, err)
	}
	if !goroutinesBack(before) {
		t.Errorf("early Close: %d goroutines, %d before", runtime.NumGoroutine(), before)
	}
}
