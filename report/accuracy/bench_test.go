package accuracy

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"
)

// benchLog is 10,000 lines of calibration noise with an IntelAI accuracy
// line every 100 lines (about 1.1 MB).
func benchLog() []byte {
	b, _ := io.ReadAll(&noisyLog{n: 10_000})
	return b
}

func BenchmarkExtractAccuracy(b *testing.B) {
	data := benchLog()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Extract(bytes.NewReader(data), "bench.log", ExtractOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkExtractAccuracyMetric(b *testing.B) {
	data := append(benchLog(), "val mAP: 0.352\n"...)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Extract(bytes.NewReader(data), "bench.log", ExtractOptions{Metric: "mAP"}); err != nil {
			b.Fatal(err)
		}
	}
}

// benchPredictions is a 100,000-row prediction file (CSV, top-5 lists).
func benchPredictions(int8 bool) []byte {
	d, _ := io.ReadAll(&predStream{n: 100_000, int8: int8})
	return d
}

func BenchmarkReadPredictions(b *testing.B) {
	data := benchPredictions(false)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ReadPredictions(bytes.NewReader(data), "fp32.csv"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadPredictionsJSONL(b *testing.B) {
	var sb strings.Builder
	for i := range 100_000 {
		fmt.Fprintf(&sb, `{"id": "img%07d", "label": %d, "top5": [%d, 1, 2, 3, 4]}`+"\n", i, i%1000, i%1000)
	}
	data := []byte(sb.String())
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ReadPredictions(bytes.NewReader(data), "fp32.jsonl"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPair(b *testing.B) {
	fp, err := ReadPredictions(bytes.NewReader(benchPredictions(false)), "fp32.csv")
	if err != nil {
		b.Fatal(err)
	}
	data := benchPredictions(true)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := fp.Pair(bytes.NewReader(data), "int8.csv", 1); err != nil {
			b.Fatal(err)
		}
	}
}
