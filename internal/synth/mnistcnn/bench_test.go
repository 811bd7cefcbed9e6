package mnistcnn

import (
	"testing"
)

// BenchmarkTrainStep measures one step of the committed recipe (forward,
// loss, backward and Adam on a batch of 64 MNIST-sized images): the
// training time of `go generate` is 1,874 of these.
func BenchmarkTrainStep(b *testing.B) {
	const n = 64
	p := NewParams(MNIST, 1)
	w := newWork(MNIST, n)
	opt := newAdam(p, 1e-3)
	x := make([]float32, n*MNIST.Height*MNIST.Width)
	for i := range x {
		x[i] = float32((i*37)%256) * Scale
	}
	labels := make([]uint8, n)
	for i := range labels {
		labels[i] = uint8(i % 10)
	}
	b.SetBytes(int64(len(x)) * 4)
	b.ReportAllocs()
	for b.Loop() {
		p.forward(x, w)
		w.loss(labels, MNIST.Classes)
		p.backward(w)
		opt.step(p, w.grad)
	}
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "images/s")
}

// BenchmarkForward measures inference on a batch of 100 (Evaluate's
// batch).
func BenchmarkForward(b *testing.B) {
	const n = 100
	p := NewParams(MNIST, 1)
	w := newWork(MNIST, n)
	x := make([]float32, n*MNIST.Height*MNIST.Width)
	for i := range x {
		x[i] = float32((i*37)%256) * Scale
	}
	b.SetBytes(int64(len(x)) * 4)
	b.ReportAllocs()
	for b.Loop() {
		p.forward(x, w)
	}
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "images/s")
}
