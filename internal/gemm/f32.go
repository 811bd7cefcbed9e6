package gemm

import "sync"

// The FP32 blocking: every layout decision of F32 lives here.
//
// C is computed in tiles of mr×nr by a micro-kernel that keeps the tile
// in registers and runs over kb ≤ f32KC steps of k: 6×16 for the AVX2
// kernel (12 YMM accumulators, leaving 4 of the 16 registers for two B
// vectors and two A broadcasts) and the Go one; 12×32 for the AVX-512
// kernel (24 of its 32 ZMM registers). B is packed once per call into
// panels of nr columns (k×nr, contiguous, zero-padded past n); A is read
// in place (f32Direct) or packed per (row block, k block) into panels of
// mr rows (kb×mr, zero-padded past m).
//
// Tuned on the Keras MNIST CNN's second convolution as im2col + GEMM
// (m=7744, n=50, k=450) and 512³ on this machine's Xeon (48 KiB L1d,
// 2 MiB L2 per core): a B micro-panel f32KC×nr×4 B (16 KiB for AVX2,
// 32 KiB for AVX-512) stays in L1 beside the A micro-panel (6 or
// 12 KiB); an A block f32MC×f32KC×4 B = 192 KiB stays in L2 while every
// B panel of the column block passes by; a column block f32KC×f32NC×4 B
// = 2 MiB stays in L3.
const (
	f32MR = 6
	f32NR = 16
	f32KC = 256
	f32MC = 192  // a multiple of every kernel's mr (6, 12)
	f32NC = 2048 // a multiple of every kernel's nr (16, 32)
)

// f32TileMax bounds mr·nr of every kernel.
const f32TileMax = 12 * 32

// f32Kernel computes the mr×nr tile T[i][j] = Σ_p a[p·ps+i·rs]·b[p·nr+j]
// over p = 0..kb-1 in that order, from a packed panel b (kb·nr) and a
// panel of A either packed (rs = 1, ps = mr) or in place (rs = lda,
// ps = 1), and sets c[i·ldc+j] = T[i][j], or adds T[i][j] to it if acc.
// kb ≥ 1; c holds (mr−1)·ldc+nr elements at least. f32MC is a multiple
// of every mr.
type f32Kernel struct {
	name   string
	mr, nr int
	tile   func(kb int, a []float32, rs, ps int, b, c []float32, ldc int, acc bool)
}

// f32Go is the portable micro-kernel.
var f32Go = f32Kernel{"go", f32MR, f32NR, f32TileGo}

// f32Best is the fastest kernel this CPU runs, and f32Narrow the fastest
// for n ≤ its nr (set in stubs_*.go): on a dense layer of 10 classes
// (16×10×1600) the 32-wide AVX-512 tile computes and packs 22 columns
// of zeros, the 16-wide AVX2 tile 6: 14 GFLOP/s against 9 (CPU time,
// one core).
var f32Best, f32Narrow = f32Go, f32Go

// f32TileGo is the micro-kernel in Go: 2×4 sub-tiles, whose 8 sums the
// compiler keeps in registers.
func f32TileGo(kb int, a []float32, rs, ps int, b, c []float32, ldc int, acc bool) {
	a = a[:(kb-1)*ps+(f32MR-1)*rs+1]
	b = b[:kb*f32NR]
	for i := 0; i < f32MR; i += 2 {
		for j := 0; j < f32NR; j += 4 {
			var c00, c01, c02, c03, c10, c11, c12, c13 float32
			for p := 0; p < kb; p++ {
				a0, a1 := a[p*ps+i*rs], a[p*ps+(i+1)*rs]
				bp := b[p*f32NR+j : p*f32NR+j+4]
				b0, b1, b2, b3 := bp[0], bp[1], bp[2], bp[3]
				c00 += a0 * b0
				c01 += a0 * b1
				c02 += a0 * b2
				c03 += a0 * b3
				c10 += a1 * b0
				c11 += a1 * b1
				c12 += a1 * b2
				c13 += a1 * b3
			}
			r0 := c[i*ldc+j : i*ldc+j+4]
			r1 := c[(i+1)*ldc+j : (i+1)*ldc+j+4]
			if acc {
				r0[0] += c00
				r0[1] += c01
				r0[2] += c02
				r0[3] += c03
				r1[0] += c10
				r1[1] += c11
				r1[2] += c12
				r1[3] += c13
			} else {
				r0[0], r0[1], r0[2], r0[3] = c00, c01, c02, c03
				r1[0], r1[1], r1[2], r1[3] = c10, c11, c12, c13
			}
		}
	}
}

// f32Direct reports whether F32 lets the kernel read A in place rather
// than packing it: packing costs about as much per element of A as one
// tile row of the kernel, so it pays only when n is wide enough that the
// packed panel is read by many B panels. Measured on this machine with
// the AVX-512 kernel, one core, GFLOP/s packed → in place (wall time,
// best of two, a loaded machine): 7744×50×450 40 → 94, 784×32×9 14 → 62,
// 512³ 97 → 124, 3136×64×576 66 → 136, 784×512×4608 41 → 53, 1000³
// 81 → 79, 1024³ 81 → 138. Past f32DirectMaxN columns (not measured) A
// stays packed: rows far apart in memory read over many B panels risk
// cache-set and TLB conflicts that a contiguous panel does not.
func f32Direct(n int) bool { return n <= f32DirectMaxN }

const f32DirectMaxN = 1024

// f32Blocked sets C = A·B with kernel kern on nw goroutines, each owning
// a range of rows of C, reading A in place if direct (else packed). Every
// element of C is computed by one goroutine in the same order whatever nw
// and direct, so the result depends on neither.
func f32Blocked(kern f32Kernel, direct bool, nw, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		for i := 0; i < m; i++ {
			clear(c[i*ldc : i*ldc+n])
		}
		return
	}
	nr := kern.nr
	np := (n + nr - 1) / nr
	bp := getBuf[float32](np * k * nr)
	defer putBuf(bp)
	f32PackB(*bp, b, ldb, k, n, nr)
	f32Packed(kern, direct, nw, m, n, k, a, lda, *bp, c, ldc)
}

// f32Packed is f32Blocked after B's packing: bp holds B packed by
// f32PackB for kern. m, n, k > 0.
func f32Packed(kern f32Kernel, direct bool, nw, m, n, k int, a []float32, lda int, bp, c []float32, ldc int) {
	rows := splitRows(m, kern.mr, nw)
	if len(rows) == 1 {
		f32Rows(kern, direct, 0, m, n, k, a, lda, bp, c, ldc)
		return
	}
	var wg sync.WaitGroup
	for w := range rows {
		i0, i1 := rows[w][0], rows[w][1]
		wg.Go(func() { f32Rows(kern, direct, i0, i1, n, k, a, lda, bp, c, ldc) })
	}
	wg.Wait()
}

// splitRows cuts rows 0..m-1 into at most nw ranges of about equal size,
// each a multiple of mr rows except the last.
func splitRows(m, mr, nw int) [][2]int {
	tiles := (m + mr - 1) / mr
	nw = max(1, min(nw, tiles))
	per := (tiles + nw - 1) / nw * mr
	var r [][2]int
	for i := 0; i < m; i += per {
		r = append(r, [2]int{i, min(i+per, m)})
	}
	return r
}

// f32PackB copies the k×n matrix b into panels of nr columns: panel jp
// holds columns jp·nr.. as k rows of nr, zero past column n.
func f32PackB(dst, b []float32, ldb, k, n, nr int) {
	for j0 := 0; j0 < n; j0 += nr {
		w := min(nr, n-j0)
		panel := dst[j0*k : j0*k+k*nr]
		for p := 0; p < k; p++ {
			d := panel[p*nr : p*nr+nr]
			copy(d, b[p*ldb+j0:p*ldb+j0+w])
			clear(d[w:])
		}
	}
}

// f32PackA copies rows i0..i0+mb-1, columns p0..p0+kb-1 of a into panels
// of mr rows: panel ip holds kb columns of mr, zero past row i0+mb.
func f32PackA(dst, a []float32, lda, i0, mb, p0, kb, mr int) {
	for r0 := 0; r0 < mb; r0 += mr {
		h := min(mr, mb-r0)
		panel := dst[r0*kb : r0*kb+kb*mr]
		for r := 0; r < h; r++ {
			row := a[(i0+r0+r)*lda+p0 : (i0+r0+r)*lda+p0+kb]
			for p, v := range row {
				panel[p*mr+r] = v
			}
		}
		for r := h; r < mr; r++ {
			for p := 0; p < kb; p++ {
				panel[p*mr+r] = 0
			}
		}
	}
}

// f32Rows computes rows i0..i1-1 of C from a and the packed b. With
// direct, the kernel reads full panels of A in place and only a last
// panel of fewer than mr rows is packed.
func f32Rows(kern f32Kernel, direct bool, i0, i1, n, k int, a []float32, lda int, bp, c []float32, ldc int) {
	ap := getBuf[float32](f32MC * f32KC)
	defer putBuf(ap)
	mr, nr := kern.mr, kern.nr
	var tmp [f32TileMax]float32
	for jc := 0; jc < n; jc += f32NC {
		nb := min(f32NC, n-jc)
		for pc := 0; pc < k; pc += f32KC {
			kb := min(f32KC, k-pc)
			acc := pc > 0
			for ic := i0; ic < i1; ic += f32MC {
				mb := min(f32MC, i1-ic)
				full := mb / mr * mr // rows in full panels
				if !direct {
					f32PackA(*ap, a, lda, ic, mb, pc, kb, mr)
				} else if full < mb {
					f32PackA(*ap, a, lda, ic+full, mb-full, pc, kb, mr)
				}
				for jr := jc; jr < jc+nb; jr += nr {
					w := min(nr, n-jr)
					bm := bp[jr*k+pc*nr : jr*k+(pc+kb)*nr]
					for ir := 0; ir < mb; ir += mr {
						h := min(mr, mb-ir)
						var am []float32
						rs, ps := 1, mr
						switch {
						case !direct:
							am = (*ap)[ir*kb : ir*kb+kb*mr]
						case h < mr:
							am = (*ap)[:kb*mr]
						default:
							am = a[(ic+ir)*lda+pc : (ic+ir+mr-1)*lda+pc+kb]
							rs, ps = lda, 1
						}
						ci := (ic+ir)*ldc + jr
						if h == mr && w == nr {
							kern.tile(kb, am, rs, ps, bm, c[ci:ci+(mr-1)*ldc+nr], ldc, acc)
							continue
						}
						kern.tile(kb, am, rs, ps, bm, tmp[:], nr, false)
						for r := 0; r < h; r++ {
							cr := c[ci+r*ldc : ci+r*ldc+w]
							tr := tmp[r*nr : r*nr+w]
							if acc {
								for j, v := range tr {
									cr[j] += v
								}
							} else {
								copy(cr, tr)
							}
						}
					}
				}
			}
		}
	}
}
