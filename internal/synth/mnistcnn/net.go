package mnistcnn

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Config is the network's size: an H×W×1 input, two 3×3 SAME convolutions
// of Conv1 and Conv2 filters, each followed by Relu and a 2×2 max pool, and
// a dense layer to Classes logits.
type Config struct {
	Height, Width int
	Conv1, Conv2  int
	Classes       int
}

// MNIST is the configuration of the committed model: 28×28 → 8 → 16 → 10,
// 9,098 parameters.
var MNIST = Config{Height: 28, Width: 28, Conv1: 8, Conv2: 16, Classes: 10}

// check reports a configuration the network cannot be built from.
func (c Config) check() error {
	if c.Height <= 0 || c.Width <= 0 || c.Height%4 != 0 || c.Width%4 != 0 {
		return fmt.Errorf("mnistcnn: input %dx%d: want positive multiples of 4 (two 2×2 pools)", c.Height, c.Width)
	}
	if c.Conv1 <= 0 || c.Conv2 <= 0 || c.Classes <= 1 {
		return fmt.Errorf("mnistcnn: conv1 %d, conv2 %d, classes %d: want positive filter counts and at least 2 classes", c.Conv1, c.Conv2, c.Classes)
	}
	return nil
}

// Features is the length of the flattened second pool: (H/4)·(W/4)·Conv2.
func (c Config) Features() int { return c.Height / 4 * c.Width / 4 * c.Conv2 }

// Params are the network's weights, laid out as TensorFlow stores them:
// conv kernels HWIO ([3,3,in,out]), the dense kernel [in,out].
type Params struct {
	Config
	Conv1W, Conv1B []float32 // [3,3,1,Conv1], [Conv1]
	Conv2W, Conv2B []float32 // [3,3,Conv1,Conv2], [Conv2]
	DenseW, DenseB []float32 // [Features, Classes], [Classes]
}

// tensors lists the parameter slices in a fixed order (initialisation,
// optimiser state, gradient checks).
func (p *Params) tensors() [][]float32 {
	return [][]float32{p.Conv1W, p.Conv1B, p.Conv2W, p.Conv2B, p.DenseW, p.DenseB}
}

// Count returns the number of parameters.
func (p *Params) Count() int {
	n := 0
	for _, t := range p.tensors() {
		n += len(t)
	}
	return n
}

func zeroParams(c Config) *Params {
	return &Params{Config: c,
		Conv1W: make([]float32, 9*c.Conv1), Conv1B: make([]float32, c.Conv1),
		Conv2W: make([]float32, 9*c.Conv1*c.Conv2), Conv2B: make([]float32, c.Conv2),
		DenseW: make([]float32, c.Features()*c.Classes), DenseB: make([]float32, c.Classes),
	}
}

// NewParams returns freshly initialised weights: He-uniform kernels
// (U(−√(6/fan_in), √(6/fan_in))) and zero biases, drawn from PCG(seed, 0)
// in the order conv1, conv2, dense. It panics on an impossible Config.
func NewParams(c Config, seed uint64) *Params {
	if err := c.check(); err != nil {
		panic(err)
	}
	p := zeroParams(c)
	r := rand.NewPCG(seed, 0)
	for _, k := range []struct {
		w     []float32
		fanIn int
	}{{p.Conv1W, 9}, {p.Conv2W, 9 * c.Conv1}, {p.DenseW, c.Features()}} {
		limit := math.Sqrt(6 / float64(k.fanIn))
		for i := range k.w {
			k.w[i] = float32((2*uniform(r) - 1) * limit)
		}
	}
	return p
}

// uniform returns a float64 in [0, 1) from the top 53 bits of the next
// PCG output. PCG's output is fixed by its definition, unlike the
// helpers of math/rand/v2 whose algorithms may change between releases.
func uniform(r *rand.PCG) float64 { return float64(r.Uint64()>>11) * 0x1p-53 }

// The arithmetic below is plain loops in float32. Each product is written
// float32(a*b): Go's spec lets a compiler fuse x += a*b into one FMA
// (arm64, ppc64 and s390x do), and an explicit conversion forbids it, so
// the same inputs give the same bits on every architecture. This is why
// the trainer does not call internal/gemm, whose fast paths may fuse and
// block differently from one release to the next: the committed model's
// bytes must stay reproducible.

// mul sets c = a·b, where a is m×k, b is k×n and c is m×n, row-major.
func mul(m, n, k int, a, b, c []float32) {
	for i := range m {
		ci := c[i*n : i*n+n]
		clear(ci)
		for p, av := range a[i*k : i*k+k] {
			if av == 0 {
				continue
			}
			for j, bv := range b[p*n : p*n+n] {
				ci[j] += float32(av * bv)
			}
		}
	}
}

// mulTA sets c = aᵀ·b, where a is k×m, b is k×n and c is m×n.
func mulTA(m, n, k int, a, b, c []float32) {
	clear(c[:m*n])
	for p := range k {
		bp := b[p*n : p*n+n]
		for i, av := range a[p*m : p*m+m] {
			if av == 0 {
				continue
			}
			ci := c[i*n : i*n+n]
			for j, bv := range bp {
				ci[j] += float32(av * bv)
			}
		}
	}
}

// mulTB sets c = a·bᵀ, where a is m×k, b is n×k and c is m×n.
func mulTB(m, n, k int, a, b, c []float32) {
	for i := range m {
		ai := a[i*k : i*k+k]
		for j := range n {
			bj := b[j*k : j*k+k]
			var s float32
			for p, av := range ai {
				s += float32(av * bj[p])
			}
			c[i*n+j] = s
		}
	}
}

// im2col lays out the 3×3 SAME neighbourhoods of x (n×h×w×ch, NHWC) as
// rows: row (b,y,x) holds x[b, y+dy, x+dx, c] at column ((dy+1)·3+dx+1)·ch+c,
// zero outside the image. TF's SAME rule for a 3×3 window at stride 1:
// pad_total = 2, one row and column before, one after. The rows times an
// HWIO kernel reshaped to [9·ch, out] are the convolution.
func im2col(x []float32, n, h, w, ch int, col []float32) {
	k := 9 * ch
	for b := range n {
		for y := range h {
			for xx := range w {
				row := col[((b*h+y)*w+xx)*k:][:k]
				for dy := -1; dy <= 1; dy++ {
					for dx := -1; dx <= 1; dx++ {
						dst := row[((dy+1)*3+dx+1)*ch:][:ch]
						sy, sx := y+dy, xx+dx
						if sy < 0 || sy >= h || sx < 0 || sx >= w {
							clear(dst)
							continue
						}
						copy(dst, x[((b*h+sy)*w+sx)*ch:][:ch])
					}
				}
			}
		}
	}
}

// col2im adds the rows of col back onto dx (n×h×w×ch), the transpose of
// im2col.
func col2im(col []float32, n, h, w, ch int, dx []float32) {
	clear(dx[:n*h*w*ch])
	k := 9 * ch
	for b := range n {
		for y := range h {
			for xx := range w {
				row := col[((b*h+y)*w+xx)*k:][:k]
				for dy := -1; dy <= 1; dy++ {
					for dx2 := -1; dx2 <= 1; dx2++ {
						sy, sx := y+dy, xx+dx2
						if sy < 0 || sy >= h || sx < 0 || sx >= w {
							continue
						}
						src := row[((dy+1)*3+dx2+1)*ch:][:ch]
						d := dx[((b*h+sy)*w+sx)*ch:][:ch]
						for c, v := range src {
							d[c] += v
						}
					}
				}
			}
		}
	}
}

// maxPool2 takes the maximum of each 2×2 window at stride 2 (VALID) of x
// (n×h×w×ch) into y (n×h/2×w/2×ch) and records in arg the index in x of
// each maximum: the first of equal values in row-major window order.
func maxPool2(x []float32, n, h, w, ch int, y []float32, arg []int32) {
	oh, ow := h/2, w/2
	for b := range n {
		for oy := range oh {
			for ox := range ow {
				for c := range ch {
					best := int32(((b*h+2*oy)*w+2*ox)*ch + c)
					for _, d := range [3][2]int{{0, 1}, {1, 0}, {1, 1}} {
						i := int32(((b*h+2*oy+d[0])*w+2*ox+d[1])*ch + c)
						if x[i] > x[best] {
							best = i
						}
					}
					o := ((b*oh+oy)*ow+ox)*ch + c
					y[o] = x[best]
					arg[o] = best
				}
			}
		}
	}
}

// addBias adds bias to each row of x (rows of len(bias)).
func addBias(x, bias []float32) {
	for i := 0; i < len(x); i += len(bias) {
		for j, b := range bias {
			x[i+j] += b
		}
	}
}

// sumRows sets db to the sum of the rows of d (rows of len(db)), row
// by row in order.
func sumRows(d, db []float32) {
	clear(db)
	for i := 0; i < len(d); i += len(db) {
		for j := range db {
			db[j] += d[i+j]
		}
	}
}

// work holds one batch's activations and gradients.
type work struct {
	n                    int
	col1, z1, a1, p1     []float32
	arg1                 []int32
	col2, z2, a2, p2     []float32
	arg2                 []int32
	logits, dlogits      []float32
	dp2, da2, dcol2, dp1 []float32
	da1                  []float32
	grad                 *Params
}

func newWork(c Config, n int) *work {
	h, w := c.Height, c.Width
	h2, w2 := h/2, w/2
	return &work{n: n,
		col1: make([]float32, n*h*w*9), z1: make([]float32, n*h*w*c.Conv1), a1: make([]float32, n*h*w*c.Conv1),
		p1: make([]float32, n*h2*w2*c.Conv1), arg1: make([]int32, n*h2*w2*c.Conv1),
		col2: make([]float32, n*h2*w2*9*c.Conv1), z2: make([]float32, n*h2*w2*c.Conv2), a2: make([]float32, n*h2*w2*c.Conv2),
		p2: make([]float32, n*c.Features()), arg2: make([]int32, n*c.Features()),
		logits: make([]float32, n*c.Classes), dlogits: make([]float32, n*c.Classes),
		dp2: make([]float32, n*c.Features()), da2: make([]float32, n*h2*w2*c.Conv2),
		dcol2: make([]float32, n*h2*w2*9*c.Conv1), dp1: make([]float32, n*h2*w2*c.Conv1),
		da1:  make([]float32, n*h*w*c.Conv1),
		grad: zeroParams(c),
	}
}

func relu(z, a []float32) {
	for i, v := range z {
		a[i] = max(v, 0)
	}
}

// forward computes the logits of the n = w.n images in x (n×H×W×1) into
// w.logits, keeping what backward needs. Its steps are the graph's nodes.
func (p *Params) forward(x []float32, w *work) {
	c, n := p.Config, w.n
	h, wd := c.Height, c.Width
	h2, w2 := h/2, wd/2
	// conv1/Conv2D, conv1/BiasAdd, conv1/Relu
	im2col(x, n, h, wd, 1, w.col1)
	mul(n*h*wd, c.Conv1, 9, w.col1, p.Conv1W, w.z1)
	addBias(w.z1, p.Conv1B)
	relu(w.z1, w.a1)
	// pool1/MaxPool
	maxPool2(w.a1, n, h, wd, c.Conv1, w.p1, w.arg1)
	// conv2/Conv2D, conv2/BiasAdd, conv2/Relu
	im2col(w.p1, n, h2, w2, c.Conv1, w.col2)
	mul(n*h2*w2, c.Conv2, 9*c.Conv1, w.col2, p.Conv2W, w.z2)
	addBias(w.z2, p.Conv2B)
	relu(w.z2, w.a2)
	// pool2/MaxPool; flatten/Reshape is the NHWC layout as it is
	maxPool2(w.a2, n, h2, w2, c.Conv2, w.p2, w.arg2)
	// logits/MatMul, logits/BiasAdd
	mul(n, c.Classes, c.Features(), w.p2, p.DenseW, w.logits)
	addBias(w.logits, p.DenseB)
}

// loss sets w.dlogits to the gradient of the mean softmax cross-entropy
// of w.logits against labels, and returns that mean loss and the number
// of examples whose largest logit is their label (the first largest on
// ties, as TF's ArgMax and in_top_k's ordering do for distinct values).
func (w *work) loss(labels []uint8, classes int) (loss float64, correct int) {
	inv := 1 / float64(w.n)
	for i := range w.n {
		l := w.logits[i*classes : i*classes+classes]
		d := w.dlogits[i*classes : i*classes+classes]
		best := 0
		for j, v := range l {
			if v > l[best] {
				best = j
			}
		}
		y := int(labels[i])
		if best == y {
			correct++
		}
		m := float64(l[best])
		var sum float64
		for _, v := range l {
			sum += exp(float64(v) - m)
		}
		loss += math.Log(sum) - (float64(l[y]) - m)
		for j, v := range l {
			g := exp(float64(v)-m) / sum
			if j == y {
				g--
			}
			d[j] = float32(g * inv)
		}
	}
	return loss * inv, correct
}

// exp returns eˣ for the x ≤ 0 of a softmax, to within 2⁻⁵² relative.
// The trainer does not call math.Exp: on amd64 it runs FMA instructions
// on CPUs that have them and plain ones elsewhere, so its last bit depends
// on the machine; this one is the same everywhere. x = k·ln2 + r with
// |r| ≤ ln2/2 (ln2 split in two so k·ln2Hi is exact), eʳ by its Taylor
// series to r¹³/13! (the next term is below 3e-18), times 2ᵏ exactly.
// Every product is rounded explicitly, as in mul.
func exp(x float64) float64 {
	const (
		ln2Hi = 6.93147180369123816490e-01 // fdlibm's: the low 32 bits are zero
		ln2Lo = 1.90821492927058770002e-10
		log2e = 1.44269504088896338700e+00
	)
	if x < -746 { // e⁻⁷⁴⁶ is below half the smallest subnormal
		return 0
	}
	k := math.Floor(float64(x*log2e) + 0.5)
	r := float64(x-float64(k*ln2Hi)) - float64(k*ln2Lo)
	inv := [...]float64{1, 1, 1.0 / 2, 1.0 / 6, 1.0 / 24, 1.0 / 120, 1.0 / 720, 1.0 / 5040, 1.0 / 40320,
		1.0 / 362880, 1.0 / 3628800, 1.0 / 39916800, 1.0 / 479001600, 1.0 / 6227020800}
	p := inv[13]
	for i := 12; i >= 0; i-- {
		p = float64(p*r) + inv[i]
	}
	return math.Ldexp(p, int(k))
}

// backward sets w.grad to the gradient of the loss whose logit gradient
// w.dlogits holds, for the batch forward last saw.
func (p *Params) backward(w *work) {
	c, n, g := p.Config, w.n, w.grad
	h, wd := c.Height, c.Width
	h2, w2 := h/2, wd/2
	// logits: dW = p2ᵀ·dlogits, db = Σ rows, dp2 = dlogits·Wᵀ
	mulTA(c.Features(), c.Classes, n, w.p2, w.dlogits, g.DenseW)
	sumRows(w.dlogits, g.DenseB)
	mulTB(n, c.Features(), c.Classes, w.dlogits, p.DenseW, w.dp2)
	// pool2 routes each gradient to its window's maximum; Relu passes it
	// where its input was positive.
	unpool(w.dp2, w.arg2, w.da2)
	reluGrad(w.z2, w.da2)
	mulTA(9*c.Conv1, c.Conv2, n*h2*w2, w.col2, w.da2, g.Conv2W)
	sumRows(w.da2, g.Conv2B)
	mulTB(n*h2*w2, 9*c.Conv1, c.Conv2, w.da2, p.Conv2W, w.dcol2)
	col2im(w.dcol2, n, h2, w2, c.Conv1, w.dp1)
	unpool(w.dp1, w.arg1, w.da1)
	reluGrad(w.z1, w.da1)
	mulTA(9, c.Conv1, n*h*wd, w.col1, w.da1, g.Conv1W)
	sumRows(w.da1, g.Conv1B)
}

func unpool(dy []float32, arg []int32, dx []float32) {
	clear(dx)
	for i, v := range dy {
		dx[arg[i]] += v
	}
}

// reluGrad zeroes d where z ≤ 0 (TF's ReluGrad: gradient where the
// input is positive).
func reluGrad(z, d []float32) {
	for i, v := range z {
		if v <= 0 {
			d[i] = 0
		}
	}
}
