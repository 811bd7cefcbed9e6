package mnistcnn

import (
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"

	"qcal/internal/dataset"
)

// Scale maps a pixel byte to the network's input: x = float32(b)·Scale,
// the product package dataset computes with Preprocess.Scale = 1.0/255
// (float32(1/255), as TF's convert_image_dtype multiplies).
const Scale = float32(1.0 / 255)

// Data is a labelled image set held as bytes (60,000 MNIST images take
// 47 MB rather than 188 MB as float32).
type Data struct {
	Height, Width int
	Images        []uint8 // N×Height×Width
	Labels        []uint8
}

// Len returns the number of examples.
func (d *Data) Len() int { return len(d.Labels) }

// Load reads an IDX file of byte images and its labels file (found by
// name beside it, "images-idx3" → "labels-idx1") with package dataset.
// Every example must be labelled, in [0, classes), with 2 ≤ classes ≤ 256.
func Load(path string, classes int) (*Data, error) {
	if classes < 2 || classes > 256 {
		return nil, fmt.Errorf("mnistcnn: %d classes: want 2 to 256 (labels are bytes)", classes)
	}
	s, err := dataset.Open(path, dataset.Options{Format: "idx", BatchSize: 1000, Classes: classes})
	if err != nil {
		return nil, err
	}
	defer s.Close()
	d := &Data{}
	var b dataset.Batch
	for {
		n, err := s.Next(&b)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if len(b.Shape) != 4 || b.Shape[3] != 1 {
			return nil, fmt.Errorf("%s: examples of shape %v: want one-channel images", path, b.Shape[1:])
		}
		if d.Height == 0 {
			d.Height, d.Width = b.Shape[1], b.Shape[2]
		}
		for i := range n {
			if b.Labels[i] < 0 {
				return nil, fmt.Errorf("%s: example %s has no label", path, b.IDs[i])
			}
			d.Labels = append(d.Labels, uint8(b.Labels[i]))
		}
		size := b.Shape[1] * b.Shape[2]
		for i, v := range b.X { // Scale 1: the values as the file has them
			if v < 0 || v > 255 || v != float32(uint8(v)) {
				return nil, fmt.Errorf("%s: example %s: value %v is not a byte (want a uint8 IDX file)", path, b.IDs[i/size], v)
			}
			d.Images = append(d.Images, uint8(v))
		}
	}
	if d.Len() == 0 {
		return nil, fmt.Errorf("%s: no examples", path)
	}
	return d, nil
}

// batch writes examples idx of d into x as network input.
func (d *Data) batch(idx []int, x []float32, labels []uint8) {
	size := d.Height * d.Width
	for i, e := range idx {
		for j, v := range d.Images[e*size : e*size+size] {
			x[i*size+j] = float32(v) * Scale
		}
		labels[i] = d.Labels[e]
	}
}

// Options say how to train.
type Options struct {
	// Seed fixes the initial weights (PCG(Seed, 0)) and the order of the
	// examples (PCG(Seed, 1)).
	Seed uint64
	// Epochs is the number of passes over the data; each visits the
	// examples in a fresh random order and drops the last partial batch.
	Epochs int
	// Steps, when > 0, stops after that many batches (tests).
	Steps int
	// BatchSize is the number of examples per step.
	BatchSize int
	// LearningRate is Adam's step size α in the first epoch (β1 0.9,
	// β2 0.999, ε 1e-7, the Keras defaults); each later epoch multiplies
	// it by Decay (0 means 1: constant).
	LearningRate, Decay float64
	// Log, when set, receives a line every LogEvery steps (default 100)
	// and one at the end of each epoch.
	Log      io.Writer
	LogEvery int
}

// Default is the recipe of the committed model.
var Default = Options{Seed: 14, Epochs: 2, BatchSize: 64, LearningRate: 2e-3, Decay: 0.5, LogEvery: 100}

// Train trains a network of configuration c on d with Adam, from the
// initial weights NewParams(c, opt.Seed). The result depends only on d and
// opt: the same inputs give the same bits.
func Train(c Config, d *Data, opt Options) (*Params, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	if d.Height != c.Height || d.Width != c.Width {
		return nil, fmt.Errorf("mnistcnn: data of %dx%d images for a %dx%d network", d.Height, d.Width, c.Height, c.Width)
	}
	if opt.BatchSize <= 0 || opt.BatchSize > d.Len() {
		return nil, fmt.Errorf("mnistcnn: batch size %d for %d examples", opt.BatchSize, d.Len())
	}
	if opt.Epochs < 1 || opt.LearningRate <= 0 || opt.Decay < 0 {
		return nil, fmt.Errorf("mnistcnn: %d epochs, learning rate %g, decay %g: want at least one epoch and positive rates", opt.Epochs, opt.LearningRate, opt.Decay)
	}
	for i, l := range d.Labels {
		if int(l) >= c.Classes {
			return nil, fmt.Errorf("mnistcnn: example %d: label %d for %d classes", i, l, c.Classes)
		}
	}
	if opt.LogEvery <= 0 {
		opt.LogEvery = 100
	}
	p := NewParams(c, opt.Seed)
	adam := newAdam(p, opt.LearningRate)
	w := newWork(c, opt.BatchSize)
	x := make([]float32, opt.BatchSize*c.Height*c.Width)
	labels := make([]uint8, opt.BatchSize)
	order := make([]int, d.Len())
	for i := range order {
		order[i] = i
	}
	shuffler := rand.NewPCG(opt.Seed, 1)
	perEpoch := d.Len() / opt.BatchSize
	step := 0
	if opt.Decay == 0 {
		opt.Decay = 1
	}
	for epoch := 1; epoch <= opt.Epochs; epoch++ {
		if epoch > 1 {
			adam.lr *= opt.Decay
		}
		shuffle(order, shuffler)
		var lossSum float64
		var correct, seen int
		for s := range perEpoch {
			d.batch(order[s*opt.BatchSize:(s+1)*opt.BatchSize], x, labels)
			p.forward(x, w)
			l, ok := w.loss(labels, c.Classes)
			p.backward(w)
			adam.step(p, w.grad)
			step++
			lossSum += l
			correct += ok
			seen++
			if opt.Log != nil && step%opt.LogEvery == 0 {
				fmt.Fprintf(opt.Log, "epoch %d step %d: loss %.4f, train top-1 %.2f%% (last %d steps)\n",
					epoch, step, lossSum/float64(seen), 100*float64(correct)/float64(seen*opt.BatchSize), seen)
				lossSum, correct, seen = 0, 0, 0
			}
			if opt.Steps > 0 && step >= opt.Steps {
				return p, nil
			}
		}
		if opt.Log != nil {
			fmt.Fprintf(opt.Log, "epoch %d done after %d steps\n", epoch, step)
		}
	}
	return p, nil
}

// shuffle permutes order by Fisher–Yates with indices drawn from r as
// Uint64 mod (i+1) (a bias below 2⁻⁴⁸ for 60,000 examples), fixed by
// PCG's definition.
func shuffle(order []int, r *rand.PCG) {
	for i := len(order) - 1; i > 0; i-- {
		j := int(r.Uint64() % uint64(i+1))
		order[i], order[j] = order[j], order[i]
	}
}

// adam is Adam's state (Kingma & Ba, with the ε-hat form TF's
// ApplyAdam uses: α_t = α·√(1−β2ᵗ)/(1−β1ᵗ), θ −= α_t·m/(√v + ε)).
type adam struct {
	lr, b1, b2, eps float64
	b1t, b2t        float64 // β1ᵗ, β2ᵗ by repeated multiplication
	m, v            [][]float32
}

func newAdam(p *Params, lr float64) *adam {
	a := &adam{lr: lr, b1: 0.9, b2: 0.999, eps: 1e-7, b1t: 1, b2t: 1}
	for _, t := range p.tensors() {
		a.m = append(a.m, make([]float32, len(t)))
		a.v = append(a.v, make([]float32, len(t)))
	}
	return a
}

func (a *adam) step(p, g *Params) {
	a.b1t *= a.b1
	a.b2t *= a.b2
	lrT := float32(a.lr * math.Sqrt(1-a.b2t) / (1 - a.b1t))
	b1, b2 := float32(a.b1), float32(a.b2)
	c1, c2 := float32(1-a.b1), float32(1-a.b2)
	eps := float32(a.eps)
	grads := g.tensors()
	for k, t := range p.tensors() {
		m, v := a.m[k], a.v[k]
		for i, gi := range grads[k] {
			m[i] = float32(b1*m[i]) + float32(c1*gi)
			v[i] = float32(b2*v[i]) + float32(c2*float32(gi*gi))
			t[i] -= float32(lrT*m[i]) / (float32(math.Sqrt(float64(v[i]))) + eps)
		}
	}
}

// Evaluation is the trainer's own count of a data set's predictions.
type Evaluation struct {
	N, Top1 int
	Loss    float64 // mean softmax cross-entropy
}

// forwardBatches runs the network over d in order, bs examples at a time
// (fewer in the last batch), and calls f with the work holding each
// batch's logits and the batch's labels.
func (p *Params) forwardBatches(d *Data, bs int, f func(w *work, labels []uint8)) {
	idx := make([]int, 0, bs)
	x := make([]float32, bs*p.Height*p.Width)
	labels := make([]uint8, bs)
	var w *work
	for start := 0; start < d.Len(); start += bs {
		idx = idx[:0]
		for i := start; i < min(start+bs, d.Len()); i++ {
			idx = append(idx, i)
		}
		if w == nil || w.n != len(idx) {
			w = newWork(p.Config, len(idx))
		}
		d.batch(idx, x, labels)
		p.forward(x[:len(idx)*p.Height*p.Width], w)
		f(w, labels[:len(idx)])
	}
}

// Evaluate runs the network over d in batches of 100 and counts the
// examples whose largest logit is their label.
func (p *Params) Evaluate(d *Data) Evaluation {
	var ev Evaluation
	p.forwardBatches(d, 100, func(w *work, labels []uint8) {
		l, ok := w.loss(labels, p.Classes)
		ev.N += len(labels)
		ev.Top1 += ok
		ev.Loss += l * float64(len(labels))
	})
	if ev.N > 0 {
		ev.Loss /= float64(ev.N)
	}
	return ev
}
