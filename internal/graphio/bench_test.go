package graphio

import (
	"os"
	"testing"

	"qcal/internal/tfpb"
)

// largestRealGraph returns the bytes of the largest binary graph in the
// real-data folder.
func largestRealGraph(b *testing.B) ([]byte, *tfpb.GraphDef) {
	b.Helper()
	var best []byte
	for _, path := range realGraphs(b) {
		data, err := os.ReadFile(path)
		if err != nil {
			b.Fatal(err)
		}
		if len(data) > len(best) {
			if _, f, err := Decode(data, path); err == nil && f == Binary {
				best = data
			}
		}
	}
	if best == nil {
		b.Skip("no binary graph in the real-data folder")
	}
	g, _, err := Decode(best, "largest")
	if err != nil {
		b.Fatal(err)
	}
	return best, g
}

func BenchmarkDecodeBinary(b *testing.B) {
	data, _ := largestRealGraph(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Decode(data, "bench"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeBinary(b *testing.B) {
	data, g := largestRealGraph(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Encode(g, Binary); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeText(b *testing.B) {
	_, g := largestRealGraph(b)
	text, err := Encode(g, Text)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Encode(g, Text); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeText(b *testing.B) {
	_, g := largestRealGraph(b)
	text, err := Encode(g, Text)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Decode(text, "bench"); err != nil {
			b.Fatal(err)
		}
	}
}
