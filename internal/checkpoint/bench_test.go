package checkpoint

import "testing"

// BenchmarkReadCheckpoint reads and checks every tensor of the real Estimator
// checkpoint (181 tensors, 2,188,504 bytes of data).
func BenchmarkReadCheckpoint(b *testing.B) {
	prefix := estimator(b)
	r, err := Open(prefix)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	var total int64
	for _, name := range r.Names() {
		e, _ := r.Entry(name)
		total += e.GetSize()
	}
	b.SetBytes(total)
	b.ReportAllocs()
	for b.Loop() {
		for _, name := range r.Names() {
			if _, err := r.Tensor(name); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkOpen parses and checks the Estimator checkpoint's index (6575
// bytes, 182 entries).
func BenchmarkOpen(b *testing.B) {
	prefix := estimator(b)
	b.SetBytes(6575)
	b.ReportAllocs()
	for b.Loop() {
		r, err := Open(prefix)
		if err != nil {
			b.Fatal(err)
		}
		r.Close()
	}
}
