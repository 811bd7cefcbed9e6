package dataset

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// writeIDX100 writes 100 one-pixel images whose pixel is the index, and
// returns the images file.
func writeIDX100(t *testing.T) string {
	t.Helper()
	b := []byte{0, 0, 8, 3, 0, 0, 0, 100, 0, 0, 0, 1, 0, 0, 0, 1}
	for i := range 100 {
		b = append(b, byte(i))
	}
	p := filepath.Join(t.TempDir(), "x-images-idx3-ubyte")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func sampleIDs(t *testing.T, path string, opt Options) []int {
	t.Helper()
	s, err := Open(path, opt)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var ids []int
	var b Batch
	for {
		n, err := s.Next(&b)
		if n == 0 {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		for i, id := range b.IDs {
			k, _ := strconv.Atoi(id[strings.LastIndexByte(id, ':')+1:])
			// The pixel is the record's index: the example read is the one named.
			if int(b.X[i]) != k {
				t.Fatalf("example %s holds %g", id, b.X[i])
			}
			ids = append(ids, k)
		}
	}
	return ids
}

func TestSample(t *testing.T) {
	p := writeIDX100(t)
	a := sampleIDs(t, p, Options{BatchSize: 4, Sample: 10, Seed: 1})
	if len(a) != 10 {
		t.Fatalf("sample of 10 gave %d examples: %v", len(a), a)
	}
	for i := 1; i < len(a); i++ {
		if a[i] <= a[i-1] {
			t.Fatalf("sample not in data set order without repeats: %v", a)
		}
	}
	if b := sampleIDs(t, p, Options{BatchSize: 3, Sample: 10, Seed: 1}); !slices.Equal(a, b) {
		t.Errorf("same seed, other batch size: %v, then %v", a, b)
	}
	if c := sampleIDs(t, p, Options{BatchSize: 4, Sample: 10, Seed: 2}); slices.Equal(a, c) {
		t.Errorf("seeds 1 and 2 drew the same sample %v", a)
	}
	// Within a limit: only the first 20 examples are drawn from.
	for _, k := range sampleIDs(t, p, Options{BatchSize: 4, Sample: 10, Seed: 1, Limit: 20}) {
		if k >= 20 {
			t.Errorf("example %d drawn beyond the limit 20", k)
		}
	}
	// A sample at least as large as the data set is all of it.
	if all := sampleIDs(t, p, Options{BatchSize: 64, Sample: 500}); len(all) != 100 {
		t.Errorf("sample of 500 from 100 gave %d", len(all))
	}
	if _, err := Open(p, Options{Sample: 5, Shard: 1, Shards: 2}); err == nil {
		t.Error("a sharded sample was accepted")
	}
}

// TestSamplePickUniform checks Floyd's draw: over 20,000 draws of 3 from
// 10, each index is picked 6,000 times in expectation (3/10); within 5%.
func TestSamplePickUniform(t *testing.T) {
	var count [10]int
	for seed := range uint64(20000) {
		for i, p := range samplePick(10, 3, seed) {
			if p {
				count[i]++
			}
		}
	}
	for i, c := range count {
		if c < 5700 || c > 6300 {
			t.Errorf("index %d picked %d times, want 6000 ± 300", i, c)
		}
	}
}
