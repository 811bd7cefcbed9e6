//go:build amd64 && !purego

package gemm

// cpuid returns the registers CPUID leaves for leaf and sub-leaf.
func cpuid(leaf, sub uint32) (eax, ebx, ecx, edx uint32)

// xgetbv0 returns XCR0, the register states the OS saves on a switch.
func xgetbv0() uint32

// f32TileAVX2 is the f32Kernel tile in AVX2/FMA assembly (f32_amd64.s).
//
//go:noescape
func f32TileAVX2(kb int, a *float32, rs, ps int, b, c *float32, ldc int, acc bool)

// The CPU's features, read once: AVX2 and FMA, and the OS saving the YMM
// registers (CPUID.1:ECX OSXSAVE bit 27, XCR0 bits 1 and 2); AVX-512F
// (CPUID.7:EBX bit 16) and the OS saving the opmask and ZMM state too
// (XCR0 bits 5–7); AVX-512 VNNI (ECX bit 11) with VL (EBX bit 31: EVEX
// instructions on YMM, VPDPBUSD).
var hasAVX2FMA, hasAVX512, hasVNNI = func() (avx2fma, avx512, vnni bool) {
	_, _, c1, _ := cpuid(1, 0)
	if c1&(1<<27) == 0 || c1&(1<<28) == 0 {
		return false, false, false
	}
	xcr0 := xgetbv0()
	_, b7, c7, _ := cpuid(7, 0)
	avx2fma = xcr0&6 == 6 && c1&(1<<12) != 0 && b7&(1<<5) != 0
	avx512 = avx2fma && xcr0&0xe6 == 0xe6 && b7&(1<<16) != 0
	vnni = avx512 && b7&(1<<31) != 0 && c7&(1<<11) != 0
	return avx2fma, avx512, vnni
}()

// f32TileAVX512 is the f32Kernel tile of 12×32 in AVX-512 assembly
// (f32_avx512_amd64.s).
//
//go:noescape
func f32TileAVX512(kb int, a *float32, rs, ps int, b, c *float32, ldc int, acc bool)

var f32AVX512 = f32Kernel{"avx512", 12, 32, func(kb int, a []float32, rs, ps int, b, c []float32, ldc int, acc bool) {
	_ = a[(kb-1)*ps+11*rs]
	_ = b[kb*32-1]
	_ = c[11*ldc+31]
	f32TileAVX512(kb, &a[0], rs, ps, &b[0], &c[0], ldc, acc)
}}

var f32AVX2 = f32Kernel{"avx2", f32MR, f32NR, func(kb int, a []float32, rs, ps int, b, c []float32, ldc int, acc bool) {
	_ = a[(kb-1)*ps+(f32MR-1)*rs]
	_ = b[kb*f32NR-1]
	_ = c[(f32MR-1)*ldc+f32NR-1]
	f32TileAVX2(kb, &a[0], rs, ps, &b[0], &c[0], ldc, acc)
}}

// u8s8TileAVX2 is the u8s8Kernel tile on int16 pairs (g = 2) in AVX2
// assembly (u8s8_amd64.s).
//
//go:noescape
func u8s8TileAVX2(kq int, a *int16, rs, ps int, b *int16, c *int32, ldc int, acc bool)

// u8s8TileVNNI is the u8s8Kernel tile on groups of 4 bytes with AVX-512
// VNNI's VPDPBUSD on YMM registers (u8s8_amd64.s).
//
//go:noescape
func u8s8TileVNNI(kq int, a *uint8, rs, ps int, b *int8, c *int32, ldc int, acc bool)

var u8s8AVX2 u8s8Runner = u8s8Kernel[int16, int16]{"avx2", 2, u8s8MR, u8s8NR, false, func(kq int, a []int16, rs, ps int, b []int16, c []int32, ldc int, acc bool) {
	_ = a[(kq-1)*ps+(u8s8MR-1)*rs+1]
	_ = b[kq*u8s8NR*2-1]
	_ = c[(u8s8MR-1)*ldc+u8s8NR-1]
	u8s8TileAVX2(kq, &a[0], rs, ps, &b[0], &c[0], ldc, acc)
}}

var u8s8VNNI u8s8Runner = u8s8Kernel[uint8, int8]{"vnni", 4, u8s8MR, u8s8NR, true, func(kq int, a []uint8, rs, ps int, b []int8, c []int32, ldc int, acc bool) {
	_ = a[(kq-1)*ps+(u8s8MR-1)*rs+3]
	_ = b[kq*u8s8NR*4-1]
	_ = c[(u8s8MR-1)*ldc+u8s8NR-1]
	u8s8TileVNNI(kq, &a[0], rs, ps, &b[0], &c[0], ldc, acc)
}}

// u8s8TileVNNI512 is the u8s8Kernel tile of 12×32 on groups of 4 bytes
// with VPDPBUSD on ZMM registers (u8s8_avx512_amd64.s).
//
//go:noescape
func u8s8TileVNNI512(kq int, a *uint8, rs, ps int, b *int8, c *int32, ldc int, acc bool)

var u8s8VNNI512 u8s8Runner = u8s8Kernel[uint8, int8]{"vnni512", 4, 12, 32, true, func(kq int, a []uint8, rs, ps int, b []int8, c []int32, ldc int, acc bool) {
	_ = a[(kq-1)*ps+11*rs+3]
	_ = b[kq*32*4-1]
	_ = c[11*ldc+31]
	u8s8TileVNNI512(kq, &a[0], rs, ps, &b[0], &c[0], ldc, acc)
}}

var (
	f32Kernels  = []f32Kernel{f32Go}
	u8s8Runners = []u8s8Runner{u8s8Go}
)

func init() {
	if hasAVX2FMA {
		f32Kernels = append(f32Kernels, f32AVX2)
		f32Best, f32Narrow = f32AVX2, f32AVX2
		u8s8Runners = append(u8s8Runners, u8s8AVX2)
		u8s8Best, u8s8Narrow = u8s8AVX2, u8s8AVX2
	}
	if hasAVX512 {
		f32Kernels = append(f32Kernels, f32AVX512)
		f32Best = f32AVX512
	}
	if hasVNNI {
		u8s8Runners = append(u8s8Runners, u8s8VNNI, u8s8VNNI512)
		u8s8Best, u8s8Narrow = u8s8VNNI512, u8s8VNNI
	}
}
