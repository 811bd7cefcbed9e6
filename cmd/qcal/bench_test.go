package main

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"qcal/internal/synth"
)

// BenchmarkRanges measures `qcal ranges` (tf strategy) end to end on a
// 64 MiB noisy log of a 250-node model read from a file in page cache: the
// issue's 1 GiB target scaled down (go run ./internal/synth/genlog writes
// the full-size log for /usr/bin/time).
func BenchmarkRanges(b *testing.B) {
	path := filepath.Join(b.TempDir(), "noisy.log")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := synth.NoisyLog(f, synth.ModelLayers(250), 64<<20, 1); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(st.Size())
	b.ReportAllocs()
	for b.Loop() {
		if code := run([]string{"ranges", path}, nil, io.Discard, io.Discard); code != 0 {
			b.Fatalf("exit %d", code)
		}
	}
}
