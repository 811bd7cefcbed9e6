package gemm

import (
	"encoding/binary"
	"sync"
	"unsafe"
)

// The int8 blocking, as for FP32 (f32.go) but with k in groups: a kernel
// reads g consecutive k of a row of A at once (g = 2 for the int16 kernels,
// whose VPMADDWD sums pairs; g = 4 for VPDPBUSD, which sums fours), so the
// packed panels of a kernel with an mr×nr tile hold, for each group q of k:
//
//	A panel: a[r][g·q+t] at q·mr·g + r·g + t   (r < mr, t < g)
//	B panel: b[g·q+t][j] at q·nr·g + j·g + t   (j < nr)
//
// k is padded with zeros to a multiple of g (and rows past m, columns past
// n with zeros), which adds nothing to any sum. Tiles: 6×16 for the Go,
// AVX2 and YMM VNNI kernels, 12×32 for the ZMM VNNI kernel.
//
// Tuned on the same shapes as f32.go: a B micro-panel u8s8KC×nr, 16 KiB
// as int16 (AVX2) or bytes (ZMM VNNI, nr = 32), stays in L1; an A block
// u8s8MC×u8s8KC, 192 KiB as int16, in L2.
const (
	u8s8MR = 6
	u8s8NR = 16
	u8s8KC = 512  // a multiple of every g
	u8s8MC = 192  // a multiple of every kernel's mr (6, 12)
	u8s8NC = 2048 // a multiple of every kernel's nr (16, 32)
)

// u8s8TileMax bounds mr·nr of every kernel.
const u8s8TileMax = 12 * 32

// u8s8Kernel computes the mr×nr tile
// T[i][j] = Σ_q Σ_t a[q·ps+i·rs+t]·b[q·nr·g+j·g+t] over kq groups, from a
// packed panel b (kq·nr·g) and a panel of A either packed (rs = g,
// ps = mr·g) or, if the kernel is direct, read in place (rs = lda,
// ps = g: TA is then uint8, A's own type), and sets c[i·ldc+j] = T[i][j],
// or adds T[i][j] to it if acc. kq ≥ 1; c holds (mr−1)·ldc+nr elements
// at least. u8s8MC is a multiple of every mr, u8s8NC of every nr.
type u8s8Kernel[TA int16 | uint8, TB int16 | int8] struct {
	name   string
	g      int
	mr, nr int
	direct bool
	tile   func(kq int, a []TA, rs, ps int, b []TB, c []int32, ldc int, acc bool)
}

// u8s8Runner runs U8S8 with one kernel: what the tests iterate over.
type u8s8Runner interface {
	kernelName() string
	tileWidth() int // nr
	run(nw, m, n, k int, a []uint8, lda int, b []int8, ldb int, c []int32, ldc int)
	// pack returns b packed into the kernel's panels (a []TB), which
	// runPacked takes instead of b.
	pack(k, n int, b []int8, ldb int) any
	runPacked(nw, m, n, k int, a []uint8, lda int, bp any, c []int32, ldc int)
}

func (kern u8s8Kernel[TA, TB]) kernelName() string { return kern.name }
func (kern u8s8Kernel[TA, TB]) tileWidth() int     { return kern.nr }

func (kern u8s8Kernel[TA, TB]) run(nw, m, n, k int, a []uint8, lda int, b []int8, ldb int, c []int32, ldc int) {
	u8s8Blocked(kern, nw, m, n, k, a, lda, b, ldb, c, ldc)
}

func (kern u8s8Kernel[TA, TB]) pack(k, n int, b []int8, ldb int) any {
	kp := (k + kern.g - 1) / kern.g * kern.g
	np := (n + kern.nr - 1) / kern.nr
	bp := make([]TB, np*kp*kern.nr)
	if k > 0 {
		u8s8PackB(bp, b, ldb, k, kp, n, kern.g, kern.nr)
	}
	return bp
}

func (kern u8s8Kernel[TA, TB]) runPacked(nw, m, n, k int, a []uint8, lda int, bp any, c []int32, ldc int) {
	u8s8BlockedPacked(kern, nw, m, n, k, a, lda, bp.([]TB), c, ldc)
}

// u8s8Go is the portable micro-kernel, on int16 pairs.
var u8s8Go u8s8Runner = u8s8Kernel[int16, int16]{"go", 2, u8s8MR, u8s8NR, false, u8s8TileGo}

// u8s8Best is the fastest kernel this CPU runs, and u8s8Narrow the
// fastest for n ≤ its tile width (set in stubs_*.go), as for F32.
var u8s8Best, u8s8Narrow = u8s8Go, u8s8Go

// u8s8TileGo is the micro-kernel in Go (g = 2): 2×4 sub-tiles.
func u8s8TileGo(kq int, a []int16, rs, ps int, b []int16, c []int32, ldc int, acc bool) {
	const g = 2
	a = a[:(kq-1)*ps+(u8s8MR-1)*rs+g]
	b = b[:kq*u8s8NR*g]
	for i := 0; i < u8s8MR; i += 2 {
		for j := 0; j < u8s8NR; j += 4 {
			var c00, c01, c02, c03, c10, c11, c12, c13 int32
			for q := 0; q < kq; q++ {
				a0 := a[q*ps+i*rs : q*ps+i*rs+2]
				a1 := a[q*ps+(i+1)*rs : q*ps+(i+1)*rs+2]
				bp := b[q*u8s8NR*g+j*g : q*u8s8NR*g+j*g+4*g]
				a00, a01, a10, a11 := int32(a0[0]), int32(a0[1]), int32(a1[0]), int32(a1[1])
				b00, b01 := int32(bp[0]), int32(bp[1])
				b10, b11 := int32(bp[2]), int32(bp[3])
				b20, b21 := int32(bp[4]), int32(bp[5])
				b30, b31 := int32(bp[6]), int32(bp[7])
				c00 += a00*b00 + a01*b01
				c01 += a00*b10 + a01*b11
				c02 += a00*b20 + a01*b21
				c03 += a00*b30 + a01*b31
				c10 += a10*b00 + a11*b01
				c11 += a10*b10 + a11*b11
				c12 += a10*b20 + a11*b21
				c13 += a10*b30 + a11*b31
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

// u8s8Blocked sets C = A·B with kernel kern on nw goroutines, each owning
// a range of rows of C (see f32Blocked).
func u8s8Blocked[TA int16 | uint8, TB int16 | int8](kern u8s8Kernel[TA, TB], nw, m, n, k int, a []uint8, lda int, b []int8, ldb int, c []int32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		for i := 0; i < m; i++ {
			clear(c[i*ldc : i*ldc+n])
		}
		return
	}
	g, nr := kern.g, kern.nr
	kp := (k + g - 1) / g * g
	np := (n + nr - 1) / nr
	pb := getBuf[TB](np * kp * nr)
	defer putBuf(pb)
	bp := *pb
	u8s8PackB(bp, b, ldb, k, kp, n, g, nr)
	u8s8BlockedPacked(kern, nw, m, n, k, a, lda, bp, c, ldc)
}

// u8s8BlockedPacked is u8s8Blocked on B already packed (u8s8PackB).
func u8s8BlockedPacked[TA int16 | uint8, TB int16 | int8](kern u8s8Kernel[TA, TB], nw, m, n, k int, a []uint8, lda int, bp []TB, c []int32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		for i := 0; i < m; i++ {
			clear(c[i*ldc : i*ldc+n])
		}
		return
	}
	kp := (k + kern.g - 1) / kern.g * kern.g
	mr := kern.mr
	rows := splitRows(m, mr, nw)
	if len(rows) == 1 {
		u8s8Rows(kern, 0, m, n, k, kp, a, lda, bp, c, ldc)
		return
	}
	var wg sync.WaitGroup
	for w := range rows {
		i0, i1 := rows[w][0], rows[w][1]
		wg.Go(func() { u8s8Rows(kern, i0, i1, n, k, kp, a, lda, bp, c, ldc) })
	}
	wg.Wait()
}

// u8s8PackB copies the k×n matrix b into panels of nr columns, each
// kp (k rounded up to a multiple of g) rows deep, in groups of g rows.
func u8s8PackB[TB int16 | int8](dst []TB, b []int8, ldb, k, kp, n, g, nr int) {
	for j0 := 0; j0 < n; j0 += nr {
		w := min(nr, n-j0)
		panel := dst[j0*kp : j0*kp+kp*nr]
		clear(panel)
		for p := 0; p < k; p++ {
			q, t := p/g, p%g
			row := b[p*ldb+j0 : p*ldb+j0+w]
			d := panel[q*nr*g:]
			for j, v := range row {
				d[j*g+t] = TB(v)
			}
		}
	}
}

// u8s8PackA copies rows i0..i0+mb-1, columns p0..p0+kb-1 of a into panels
// of mr rows, each kbp (kb rounded up to a multiple of g) deep.
func u8s8PackA[TA int16 | uint8](dst []TA, a []uint8, lda, i0, mb, p0, kb, kbp, g, mr int) {
	full := kb / g * g // columns in full groups; the rest, < g, in group full/g
	d8, _ := any(dst).([]uint8)
	d16, _ := any(dst).([]int16)
	for r0 := 0; r0 < mb; r0 += mr {
		h := min(mr, mb-r0)
		panel := dst[r0*kbp : r0*kbp+kbp*mr]
		if h < mr || kb < kbp {
			clear(panel)
		}
		for r := 0; r < h; r++ {
			row := a[(i0+r0+r)*lda+p0 : (i0+r0+r)*lda+p0+kb]
			switch {
			case g == 4 && d8 != nil: // a row's group is 4 contiguous bytes
				d := d8[r0*kbp:]
				for q := 0; q < full/4; q++ {
					binary.LittleEndian.PutUint32(d[q*mr*4+r*4:], binary.LittleEndian.Uint32(row[q*4:]))
				}
			case g == 2 && d16 != nil:
				// A pair of int16 as one little-endian uint32: the panel
				// starts at an even element of a pooled buffer (whose
				// start is 8-aligned), so the uint32s are aligned.
				d := d16[r0*kbp : r0*kbp+kbp*mr]
				d32 := unsafe.Slice((*uint32)(unsafe.Pointer(&d[0])), len(d)/2)
				src := row[:full]
				for q, o := 0, r; q+1 < len(src); q, o = q+2, o+mr {
					d32[o] = uint32(src[q]) | uint32(src[q+1])<<16
				}
			default:
				for p := 0; p < full; p++ {
					panel[(p/g)*mr*g+r*g+p%g] = TA(row[p])
				}
			}
			if full < kb {
				last := panel[(full/g)*mr*g+r*g:]
				for p := full; p < kb; p++ {
					last[p-full] = TA(row[p])
				}
			}
		}
	}
}

// u8s8Rows computes rows i0..i1-1 of C from a and the packed b. With a
// direct kernel, panels of A are read in place, a last group of fewer
// than g columns included: the bytes past the row's end that it reads
// (the next row's, or lda's padding) meet B's zero padding and add
// nothing. Only panels whose reading would run past the end of a (the
// last rows of A) and a last panel of fewer than mr rows are packed.
func u8s8Rows[TA int16 | uint8, TB int16 | int8](kern u8s8Kernel[TA, TB], i0, i1, n, k, kp int, a []uint8, lda int, bp []TB, c []int32, ldc int) {
	g, mr, nr := kern.g, kern.mr, kern.nr
	pa := getBuf[TA](u8s8MC * u8s8KC)
	defer putBuf(pa)
	ap := *pa
	src, _ := any(a).([]TA) // A in place: TA is uint8 when kern.direct
	var tmp [u8s8TileMax]int32
	for jc := 0; jc < n; jc += u8s8NC {
		nb := min(u8s8NC, n-jc)
		for pc := 0; pc < k; pc += u8s8KC {
			kb := min(u8s8KC, k-pc)
			kbp := min(u8s8KC, kp-pc)
			acc := pc > 0
			for ic := i0; ic < i1; ic += u8s8MC {
				mb := min(u8s8MC, i1-ic)
				// Rows from packFrom on are packed, those before read in place.
				packFrom := 0
				if kern.direct {
					packFrom = mb / mr * mr
					for packFrom > 0 && (ic+packFrom-1)*lda+pc+kbp > len(a) {
						packFrom -= mr
					}
				}
				if packFrom < mb {
					u8s8PackA(ap, a, lda, ic+packFrom, mb-packFrom, pc, kb, kbp, g, mr)
				}
				for jr := jc; jr < jc+nb; jr += nr {
					w := min(nr, n-jr)
					bm := bp[jr*kp+pc*nr : jr*kp+(pc+kbp)*nr]
					for ir := 0; ir < mb; ir += mr {
						h := min(mr, mb-ir)
						ci := (ic+ir)*ldc + jr
						dst, dldc, dacc := tmp[:], nr, false
						if h == mr && w == nr {
							dst, dldc, dacc = c[ci:ci+(mr-1)*ldc+nr], ldc, acc
						}
						if ir < packFrom {
							ai := (ic+ir)*lda + pc
							kern.tile(kbp/g, src[ai:ai+(mr-1)*lda+kbp], lda, g, bm, dst, dldc, dacc)
						} else {
							o := (ir - packFrom) * kbp
							kern.tile(kbp/g, ap[o:o+kbp*mr], g, mr*g, bm, dst, dldc, dacc)
						}
						if h == mr && w == nr {
							continue
						}
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
