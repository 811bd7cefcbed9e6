package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// refF32 is the obvious triple loop in float64: it returns the exact-ish
// product (float64 sums of float32 products: the product of two float32
// is exact in float64, each sum rounds at 2⁻⁵³, far below float32's) and
// bound[i·n+j] = Σ_p |a[i][p]|·|b[p][j]|, the scale of the rounding error.
func refF32(m, n, k int, a []float32, lda int, b []float32, ldb int) (c, bound []float64) {
	c = make([]float64, m*n)
	bound = make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s, t float64
			for p := 0; p < k; p++ {
				x := float64(a[i*lda+p]) * float64(b[p*ldb+j])
				s += x
				t += math.Abs(x)
			}
			c[i*n+j], bound[i*n+j] = s, t
		}
	}
	return c, bound
}

// refU8 is the obvious triple loop for quint8 A and int8 or quint8 B, in
// int64, wrapped to int32 at the end (as int32 sums would wrap: addition
// modulo 2³² is associative).
func refU8[B int8 | uint8](m, n, k int, a []uint8, lda int, b []B, ldb int) []int32 {
	c := make([]int32, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s int64
			for p := 0; p < k; p++ {
				s += int64(a[i*lda+p]) * int64(b[p*ldb+j])
			}
			c[i*n+j] = int32(s)
		}
	}
	return c
}

// shape is a test case: sizes, leading dimensions beyond the row (pads).
type shape struct {
	m, n, k          int
	padA, padB, padC int
}

func (s shape) String() string {
	return fmt.Sprintf("%dx%dx%d+%d,%d,%d", s.m, s.n, s.k, s.padA, s.padB, s.padC)
}

// shapes are the edge cases of the blocking: empty and single rows,
// columns and depths; tails shorter than a register tile (MR=6 rows,
// NR=16 columns) and than a k group (2, 4); each cache block's size and
// one past it (KC = 256 and 512, MC = 192, NC = 2048); leading dimensions
// beyond the row (filled with random bytes, as are the bytes past k that
// the in-place int8 kernel reads against B's zero padding: k%4 ≠ 0 with
// and without padA); last panels that cannot be read in place because
// the read would run past the end of A (12×32×2: rows 6..11 would read
// to byte 26 of 24); and the shapes the executor will run.
var shapes = []shape{
	{0, 0, 0, 0, 0, 0}, {0, 5, 3, 0, 0, 0}, {5, 0, 3, 0, 0, 0},
	{3, 4, 0, 0, 0, 0}, {3, 4, 0, 2, 1, 3},
	{1, 1, 1, 0, 0, 0}, {1, 1, 7, 0, 0, 0}, {1, 17, 1, 0, 0, 0}, {7, 1, 1, 0, 0, 0},
	{1, 50, 450, 0, 0, 0},
	{5, 15, 3, 0, 0, 0}, {6, 16, 4, 0, 0, 0}, {7, 17, 5, 0, 0, 0},
	{12, 32, 2, 0, 0, 0}, {13, 33, 9, 1, 2, 3}, {11, 31, 6, 5, 7, 1},
	{17, 23, 255, 0, 0, 0}, {17, 23, 256, 0, 0, 0}, {17, 23, 257, 3, 0, 0},
	{9, 20, 511, 0, 0, 0}, {9, 20, 512, 0, 0, 0}, {9, 20, 513, 0, 1, 0}, {6, 16, 1025, 0, 0, 0},
	{191, 19, 30, 0, 0, 0}, {192, 19, 30, 0, 0, 0}, {193, 19, 31, 1, 1, 1}, {400, 3, 2, 0, 0, 0},
	{5, 2049, 3, 0, 0, 0}, {7, 2100, 5, 1, 3, 2},
	{784, 32, 9, 0, 0, 0},   // MNIST CNN first convolution, one image
	{484, 64, 288, 0, 0, 0}, // a 3×3×32→64 convolution on 22×22, one image
	{64, 64, 64, 1, 1, 1},
}

// sentinels fill C before a call: it must overwrite every element of C
// and leave the gaps between rows (ldc > n) alone.
const (
	sentF32  = float32(-12345.5)
	sentU8S8 = int32(-1234567)
)

func randF32(r *rand.Rand, n int, ints bool) []float32 {
	s := make([]float32, n)
	for i := range s {
		if ints {
			s[i] = float32(r.IntN(17) - 8)
		} else {
			s[i] = float32(r.NormFloat64())
		}
	}
	return s
}

// checkF32 runs f on shape s and compares C with the reference: exactly
// when the inputs are small integers (every partial sum is an integer
// below 2²⁴ in magnitude, k·8·8 ≤ 1025·64, so float32 sums it exactly in
// any order), else within the bound of recursive summation:
// |c − ref| ≤ γ_{k+1}·Σ|a||b| with γ_j = j·u/(1−j·u), u = 2⁻²⁴ (Higham,
// Accuracy and Stability, §3.1: at most k+1 roundings along each
// product's path, the product's own included; blocking over k adds
// partial sums but no extra rounding on any path beyond k+1).
func checkF32(t *testing.T, s shape, ints bool, f func(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int)) {
	t.Helper()
	r := rand.New(rand.NewPCG(uint64(s.m*1000003+s.n*1009+s.k), 1))
	lda, ldb, ldc := s.k+s.padA, s.n+s.padB, s.n+s.padC
	a := randF32(r, max(0, (s.m-1)*lda+s.k), ints)
	b := randF32(r, max(0, (s.k-1)*ldb+s.n), ints)
	c := make([]float32, max(0, (s.m-1)*ldc+s.n))
	for i := range c {
		c[i] = sentF32
	}
	f(s.m, s.n, s.k, a, lda, b, ldb, c, ldc)
	want, bound := refF32(s.m, s.n, s.k, a, lda, b, ldb)
	u := 0x1p-24
	gamma := float64(s.k+1) * u / (1 - float64(s.k+1)*u)
	bad := 0
	for i := 0; i < s.m; i++ {
		for j := 0; j < ldc && i*ldc+j < len(c); j++ {
			got := c[i*ldc+j]
			if j >= s.n {
				if got != sentF32 {
					t.Fatalf("%v: c[%d][%d] (past n) = %g, want it untouched", s, i, j, got)
				}
				continue
			}
			w := want[i*s.n+j]
			tol := gamma * bound[i*s.n+j]
			if ints {
				tol = 0
			}
			if d := math.Abs(float64(got) - w); !(d <= tol) {
				if bad++; bad <= 5 {
					t.Errorf("%v: c[%d][%d] = %g, want %g ± %g", s, i, j, got, w, tol)
				}
			}
		}
	}
}

func checkU8S8(t *testing.T, s shape, f func(m, n, k int, a []uint8, lda int, b []int8, ldb int, c []int32, ldc int), fill func(r *rand.Rand) (uint8, int8)) {
	t.Helper()
	r := rand.New(rand.NewPCG(uint64(s.m*1000003+s.n*1009+s.k), 2))
	lda, ldb, ldc := s.k+s.padA, s.n+s.padB, s.n+s.padC
	a := make([]uint8, max(0, (s.m-1)*lda+s.k))
	b := make([]int8, max(0, (s.k-1)*ldb+s.n))
	for i := range a {
		a[i], _ = fill(r)
	}
	for i := range b {
		_, b[i] = fill(r)
	}
	c := make([]int32, max(0, (s.m-1)*ldc+s.n))
	for i := range c {
		c[i] = sentU8S8
	}
	f(s.m, s.n, s.k, a, lda, b, ldb, c, ldc)
	want := refU8(s.m, s.n, s.k, a, lda, b, ldb)
	bad := 0
	for i := 0; i < s.m; i++ {
		for j := 0; j < ldc && i*ldc+j < len(c); j++ {
			got := c[i*ldc+j]
			if j >= s.n {
				if got != sentU8S8 {
					t.Fatalf("%v: c[%d][%d] (past n) = %d, want it untouched", s, i, j, got)
				}
				continue
			}
			if w := want[i*s.n+j]; got != w {
				if bad++; bad <= 5 {
					t.Errorf("%v: c[%d][%d] = %d, want %d", s, i, j, got, w)
				}
			}
		}
	}
}

func randU8S8(r *rand.Rand) (uint8, int8) { return uint8(r.Uint32()), int8(r.Uint32()) }

// TestF32Kernels runs every FP32 kernel this machine has (the portable one
// always; AVX2/FMA on amd64 when the CPU has it) on every shape, with 1 to
// 3 goroutines.
func TestF32Kernels(t *testing.T) {
	for _, kern := range f32Kernels {
		for _, nw := range []int{1, 2, 3} {
			for _, ints := range []bool{false, true} {
				for _, direct := range []bool{false, true} {
					t.Run(fmt.Sprintf("%s/nw=%d/ints=%v/direct=%v", kern.name, nw, ints, direct), func(t *testing.T) {
						for _, s := range shapes {
							checkF32(t, s, ints, func(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
								f32Blocked(kern, direct, nw, m, n, k, a, lda, b, ldb, c, ldc)
							})
						}
					})
				}
			}
		}
	}
}

// TestU8S8Kernels runs every int8 kernel on every shape, with random
// bytes and with the extremes: 255·(−128) and 255·127 in every product
// would saturate 16-bit pair sums (2·255·128 = 65280 > 32767), as
// VPMADDUBSW's do; the kernels must not.
func TestU8S8Kernels(t *testing.T) {
	fills := []struct {
		name string
		f    func(r *rand.Rand) (uint8, int8)
	}{
		{"random", randU8S8},
		{"255x-128", func(*rand.Rand) (uint8, int8) { return 255, -128 }},
		{"255x127", func(*rand.Rand) (uint8, int8) { return 255, 127 }},
	}
	for _, kern := range u8s8Runners {
		for _, nw := range []int{1, 2, 3} {
			for _, fill := range fills {
				t.Run(fmt.Sprintf("%s/nw=%d/%s", kern.kernelName(), nw, fill.name), func(t *testing.T) {
					for _, s := range shapes {
						checkU8S8(t, s, func(m, n, k int, a []uint8, lda int, b []int8, ldb int, c []int32, ldc int) {
							kern.run(nw, m, n, k, a, lda, b, ldb, c, ldc)
						}, fill.f)
					}
				})
			}
		}
	}
}

// TestU8S8Extreme checks one sum by hand: k = 4096 products of 255 and
// −128 are −4096·32640 = −133693440, exactly.
func TestU8S8Extreme(t *testing.T) {
	const k = 4096
	a := make([]uint8, k)
	b := make([]int8, k)
	for i := range a {
		a[i], b[i] = 255, -128
	}
	for _, kern := range u8s8Runners {
		var c [1]int32
		kern.run(1, 1, 1, k, a, k, b, 1, c[:], 1)
		if c[0] != -133693440 {
			t.Errorf("%s: 4096·255·(−128) = %d, want −133693440", kern.kernelName(), c[0])
		}
	}
}

// TestExported runs F32 and U8S8 (the best kernel, as many goroutines as
// GOMAXPROCS) on every shape and on the shape, 7744×50×450.
func TestExported(t *testing.T) {
	all := shapes
	if !testing.Short() {
		all = append(all[:len(all):len(all)], shape{7744, 50, 450, 0, 0, 0})
	}
	for _, s := range all {
		checkF32(t, s, false, F32)
		checkF32(t, s, true, F32)
		checkU8S8(t, s, U8S8, randU8S8)
	}
}

// TestDeterministic checks that neither the number of goroutines nor
// reading A in place changes a single bit of the FP32 result, and that
// the assembly kernels (AVX2 and AVX-512: the same FMA steps in the same
// order, in tiles of other sizes) agree bit for bit, so that F32's choice
// of kernel by n does not change results either.
func TestDeterministic(t *testing.T) {
	const m, n, k = 301, 50, 450
	r := rand.New(rand.NewPCG(7, 7))
	a, b := randF32(r, m*k, false), randF32(r, k*n, false)
	var fma []float32 // the first assembly kernel's result
	for _, kern := range f32Kernels {
		one := make([]float32, m*n)
		f32Blocked(kern, false, 1, m, n, k, a, k, b, n, one, n)
		if kern.name != "go" {
			if fma == nil {
				fma = one
			}
			for i := range one {
				if math.Float32bits(one[i]) != math.Float32bits(fma[i]) {
					t.Fatalf("%s: c[%d] = %g, the first assembly kernel gave %g", kern.name, i, one[i], fma[i])
				}
			}
		}
		for _, nw := range []int{1, 2, 3, 8} {
			c := make([]float32, m*n)
			f32Blocked(kern, true, nw, m, n, k, a, k, b, n, c, n)
			for i := range c {
				if math.Float32bits(c[i]) != math.Float32bits(one[i]) {
					t.Fatalf("%s: %d goroutines, in place: c[%d] = %g, one goroutine packed gave %g", kern.name, nw, i, c[i], one[i])
				}
			}
		}
	}
}

// TestF32Worked checks a product worked by hand: [1 2 3; 4 5 6]·[7 8; 9 10;
// 11 12] = [58 64; 139 154].
func TestF32Worked(t *testing.T) {
	a := []float32{1, 2, 3, 4, 5, 6}
	b := []float32{7, 8, 9, 10, 11, 12}
	c := make([]float32, 4)
	F32(2, 2, 3, a, 3, b, 2, c, 2)
	if want := []float32{58, 64, 139, 154}; fmt.Sprint(c) != fmt.Sprint(want) {
		t.Errorf("F32 = %v, want %v", c, want)
	}
	ci := make([]int32, 4)
	U8S8(2, 2, 3, []uint8{1, 2, 3, 4, 5, 255}, 3, []int8{7, 8, 9, 10, 11, -12}, 2, ci, 2)
	// By hand: 1·7+2·9+3·11 = 58; 1·8+2·10+3·(−12) = −8;
	// 4·7+5·9+255·11 = 2878; 4·8+5·10+255·(−12) = −2978.
	if want := []int32{58, -8, 2878, -2978}; fmt.Sprint(ci) != fmt.Sprint(want) {
		t.Errorf("U8S8 = %v, want %v", ci, want)
	}
}

// TestCheckDims checks that short slices panic with the package's prefix.
func TestCheckDims(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    func()
		msg  string
	}{
		{"short a", func() { F32(2, 2, 2, make([]float32, 3), 2, make([]float32, 4), 2, make([]float32, 4), 2) }, "gemm: F32: slice too short"},
		{"lda<k", func() { F32(2, 2, 2, make([]float32, 4), 1, make([]float32, 4), 2, make([]float32, 4), 2) }, "gemm: F32: leading dimension"},
		{"negative", func() { U8S8(-1, 2, 2, nil, 2, nil, 2, nil, 2) }, "gemm: U8S8: negative"},
		{"short c", func() { U8S8(2, 2, 2, make([]uint8, 4), 2, make([]int8, 4), 2, make([]int32, 3), 2) }, "gemm: U8S8: slice too short"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if s, _ := r.(string); !strings.HasPrefix(s, tc.msg) {
					t.Errorf("panic %v, want one starting %q", r, tc.msg)
				}
			}()
			tc.f()
		})
	}
}

// TestU8U8 runs U8U8 on every shape with random bytes and with 255·255
// in every product (k = 1025: 1025·65025 = 66650625, by hand), exactly.
func TestU8U8(t *testing.T) {
	for _, fill := range []string{"random", "255x255"} {
		for _, s := range shapes {
			r := rand.New(rand.NewPCG(uint64(s.m*1000003+s.n*1009+s.k), 3))
			lda, ldb, ldc := s.k+s.padA, s.n+s.padB, s.n+s.padC
			a := make([]uint8, max(0, (s.m-1)*lda+s.k))
			b := make([]uint8, max(0, (s.k-1)*ldb+s.n))
			for _, x := range [][]uint8{a, b} {
				for i := range x {
					x[i] = 255
					if fill == "random" {
						x[i] = uint8(r.Uint32())
					}
				}
			}
			c := make([]int32, max(0, (s.m-1)*ldc+s.n))
			for i := range c {
				c[i] = sentU8S8
			}
			U8U8(s.m, s.n, s.k, a, lda, b, ldb, c, ldc)
			want := refU8(s.m, s.n, s.k, a, lda, b, ldb)
			if fill == "255x255" && s.k == 1025 && want[0] != 66650625 {
				t.Fatalf("reference: 1025·255·255 = %d, want 66650625", want[0])
			}
			for i := 0; i < s.m; i++ {
				for j := 0; j < ldc && i*ldc+j < len(c); j++ {
					got, w := c[i*ldc+j], sentU8S8
					if j < s.n {
						w = want[i*s.n+j]
					}
					if got != w {
						t.Fatalf("%s %v: c[%d][%d] = %d, want %d", fill, s, i, j, got, w)
					}
				}
			}
		}
	}
}

// TestU8S8PackedKernels: every int8 kernel on B packed once (pack, then
// runPacked) gives what checkU8S8 wants on every shape, fills as
// TestU8S8Kernels; and the exported PackU8S8 + U8S8Packed, with the packed
// B used twice, equal U8S8.
func TestU8S8PackedKernels(t *testing.T) {
	for _, kern := range u8s8Runners {
		for _, nw := range []int{1, 2} {
			t.Run(fmt.Sprintf("%s/nw=%d", kern.kernelName(), nw), func(t *testing.T) {
				for _, s := range shapes {
					checkU8S8(t, s, func(m, n, k int, a []uint8, lda int, b []int8, ldb int, c []int32, ldc int) {
						kern.runPacked(nw, m, n, k, a, lda, kern.pack(k, n, b, ldb), c, ldc)
					}, randU8S8)
				}
			})
		}
	}
	for _, s := range shapes {
		checkU8S8(t, s, func(m, n, k int, a []uint8, lda int, b []int8, ldb int, c []int32, ldc int) {
			p := PackU8S8(k, n, b, ldb)
			if pk, pn := p.Dims(); pk != k || pn != n {
				t.Fatalf("Dims() = %d, %d; want %d, %d", pk, pn, k, n)
			}
			U8S8Packed(m, a, lda, p, c, ldc)
			if m > 0 && n > 0 {
				want := append([]int32(nil), c...)
				U8S8Packed(m, a, lda, p, c, ldc) // the packed B is not consumed
				for i := range want {
					if c[i] != want[i] {
						t.Fatalf("second U8S8Packed differs at %d", i)
					}
				}
			}
		}, randU8S8)
	}
}

// TestF32Packed runs PackF32 + F32Packed on every shape against the
// reference (checkF32) and bit for bit against F32 on the same inputs
// (the same kernel, blocking and order), and packs B once for several
// products, as a layer's weights are.
func TestF32Packed(t *testing.T) {
	packed := func(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
		F32Packed(m, a, lda, PackF32(k, n, b, ldb), c, ldc)
	}
	for _, s := range shapes {
		checkF32(t, s, false, packed)
		checkF32(t, s, true, packed)
		r := rand.New(rand.NewPCG(uint64(s.m), uint64(s.n*7+s.k)))
		lda, ldb, ldc := s.k+s.padA, s.n+s.padB, s.n+s.padC
		b := randF32(r, max(0, (s.k-1)*ldb+s.n), false)
		pb := PackF32(s.k, s.n, b, ldb)
		for range 2 {
			a := randF32(r, max(0, (s.m-1)*lda+s.k), false)
			want := make([]float32, max(0, (s.m-1)*ldc+s.n))
			got := make([]float32, len(want))
			F32(s.m, s.n, s.k, a, lda, b, ldb, want, ldc)
			F32Packed(s.m, a, lda, pb, got, ldc)
			for i := range want {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("%v: c[%d] = %g, F32 gives %g", s, i, got[i], want[i])
				}
			}
		}
	}
}
