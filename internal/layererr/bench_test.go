package layererr

import "testing"

// BenchmarkAdd accumulates one batch of a 64×14×14×12 activation: the
// per-element cost Measure adds to running both graphs.
func BenchmarkAdd(b *testing.B) {
	n := 64 * 14 * 14 * 12
	x, y := make([]float32, n), make([]float32, n)
	for i := range x {
		x[i] = float32(i%97) / 13
		y[i] = x[i] + float32(i%7-3)/100
	}
	b.SetBytes(int64(8 * n))
	b.ReportAllocs()
	var l Layer
	for b.Loop() {
		l.add(x, y)
	}
	b.ReportMetric(float64(l.N)/b.Elapsed().Seconds()/1e6, "Melem/s")
}
