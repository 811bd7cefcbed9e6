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

// BenchmarkRangesValues measures `qcal ranges -strategy kl` end to end on a
// log of tensor values (8 nodes, 16 batches of 250,000 values each): parsing
// on one goroutine, histogramming on the other, then the KL search.
func BenchmarkRangesValues(b *testing.B) {
	nodes := []string{"n0/Conv2D", "n1/Conv2D", "n2/Conv2D", "n3/Conv2D", "n4/Conv2D", "n5/Conv2D", "n6/Conv2D", "n7/Conv2D"}
	text, _ := valueLog(nodes, 16, 250_000, 1)
	path := filepath.Join(b.TempDir(), "dump.log")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		b.Fatal(err)
	}
	values := float64(len(nodes) * 16 * 250_000)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		if code := run([]string{"ranges", "-strategy", "kl", path}, nil, io.Discard, io.Discard); code != 0 {
			b.Fatalf("exit %d", code)
		}
	}
	b.ReportMetric(values*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mvalues/s")
}
