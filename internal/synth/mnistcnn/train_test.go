package mnistcnn

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// quadrants is a learnable toy set: 8×8 images, noise in [0, 40], plus a
// bright 4×4 quadrant (200) whose index is the label.
func quadrants(n int, seed uint64) *Data {
	r := rand.NewPCG(seed, 5)
	d := &Data{Height: 8, Width: 8, Images: make([]uint8, n*64), Labels: make([]uint8, n)}
	for i := range n {
		q := int(r.Uint64() % 4)
		d.Labels[i] = uint8(q)
		for y := range 8 {
			for x := range 8 {
				v := uint8(r.Uint64() % 41)
				if y/4 == q/2 && x/4 == q%2 {
					v = 200
				}
				d.Images[i*64+y*8+x] = v
			}
		}
	}
	return d
}

func TestTrainLearnsAndRepeats(t *testing.T) {
	train, test := quadrants(512, 1), quadrants(200, 2)
	opt := Options{Seed: 3, Epochs: 3, BatchSize: 16, LearningRate: 1e-2}
	var log strings.Builder
	opt.Log, opt.LogEvery = &log, 32
	p, err := Train(tiny, train, opt)
	if err != nil {
		t.Fatal(err)
	}
	ev := p.Evaluate(test)
	// A bright quadrant is trivially separable: anything short of all
	// right means the trainer is broken (random guessing gives 25%).
	if ev.N != 200 || ev.Top1 != 200 {
		t.Errorf("test top-1 %d of %d, want 200 of 200 (loss %.4f)", ev.Top1, ev.N, ev.Loss)
	}
	// 512/16 = 32 steps an epoch, a log line every 32 steps plus one at
	// each epoch's end.
	if got := strings.Count(log.String(), "\n"); got != 6 {
		t.Errorf("%d log lines, want 6:\n%s", got, log.String())
	}
	opt.Log = nil
	again, _ := Train(tiny, train, opt)
	for k, tns := range p.tensors() {
		if !slices.Equal(tns, again.tensors()[k]) {
			t.Fatalf("parameter tensor %d differs between two runs with seed 3", k)
		}
	}
	opt.Seed = 4
	other, _ := Train(tiny, train, opt)
	if slices.Equal(p.DenseW, other.DenseW) {
		t.Error("seeds 3 and 4 gave the same weights")
	}
}

func TestTrainErrors(t *testing.T) {
	d := quadrants(10, 1)
	bad := quadrants(10, 1)
	bad.Labels[7] = 9
	for _, tc := range []struct {
		name string
		c    Config
		d    *Data
		opt  Options
		want string
	}{
		{"batch", tiny, d, Options{BatchSize: 11, Epochs: 1, LearningRate: 1}, "batch size 11 for 10 examples"},
		{"zero batch", tiny, d, Options{}, "batch size 0 for 10 examples"},
		{"epochs", tiny, d, Options{BatchSize: 2, LearningRate: 1}, "0 epochs, learning rate 1, decay 0: want at least one epoch"},
		{"rate", tiny, d, Options{BatchSize: 2, Epochs: 1}, "1 epochs, learning rate 0, decay 0: want"},
		{"size", MNIST, d, Options{BatchSize: 2, Epochs: 1, LearningRate: 1}, "data of 8x8 images for a 28x28 network"},
		{"label", Config{Height: 8, Width: 8, Conv1: 1, Conv2: 1, Classes: 4}, bad, Options{BatchSize: 2, Epochs: 1, LearningRate: 1}, "example 7: label 9 for 4 classes"},
		{"config", Config{Height: 6, Width: 8, Conv1: 1, Conv2: 1, Classes: 2}, d, Options{BatchSize: 2, Epochs: 1, LearningRate: 1}, "input 6x8: want positive multiples of 4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Train(tc.c, tc.d, tc.opt)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestShuffle checks the shuffle is a permutation and moves things.
func TestShuffle(t *testing.T) {
	order := make([]int, 100)
	for i := range order {
		order[i] = i
	}
	shuffle(order, rand.NewPCG(1, 1))
	sorted := slices.Sorted(slices.Values(order))
	for i, v := range sorted {
		if v != i {
			t.Fatalf("shuffled order holds %v, not 0..99 once each", sorted)
		}
	}
	fixed := 0
	for i, v := range order {
		if v == i {
			fixed++
		}
	}
	// A uniform permutation of 100 has on average 1 fixed point; P(≥ 10) < 1e-6.
	if fixed >= 10 {
		t.Errorf("%d of 100 examples kept their place: %v", fixed, order)
	}
}
