//go:build amd64 && !purego

package kernels

// The int8 loops' AVX2 assembly (int8_amd64.s), run when useAVX2
// (cpu_amd64.go) says the CPU has it.

// epilogueU8AVX2 writes the quint8 codes of (float32(acc[i]) + bias[i])·
// scale[i] for i < n rounded down to a multiple of 8.
//
//go:noescape
func epilogueU8AVX2(acc *int32, bias, scale *float32, out *uint8, n int)

// quantizeU8AVX2 writes the quint8 codes of src[i]·scale for i < n
// rounded down to a multiple of 8.
//
//go:noescape
func quantizeU8AVX2(src *float32, out *uint8, n int, scale float32)

// minMaxAVX2 returns the extremes of v[:n] (n a positive multiple of 8)
// as numbers, the sign of a zero result undefined, and whether a NaN was
// seen.
//
//go:noescape
func minMaxAVX2(v *float32, n int) (mn, mx float32, nan bool)

// maxU8AVX2 sets dst[i] = max(dst[i], src[i]) for i < n rounded down to a
// multiple of 32.
//
//go:noescape
func maxU8AVX2(dst, src *uint8, n int)

// maxI8AVX2 is maxU8AVX2 for the bytes of int8 codes (signed compare).
//
//go:noescape
func maxI8AVX2(dst, src *byte, n int)

// madU8RowsAVX2 adds x[p·xstep + c]·int16(w[c]) to acc[p·ch + c] for
// p < npix, c < ch (a multiple of 8); w[c] must be uint16(int16 weight),
// the high half zero.
//
//go:noescape
func madU8RowsAVX2(acc *int32, x *uint8, w *int32, ch, npix, xstep int)

// dwRunU8AVX2 is a depthwise convolution (multiplier 1) of npix output
// pixels with the quint8 epilogue fused: blocks blocks of 8 channels, the
// taps' offsets in xoff (bytes of x) and woff (elements of w), bs each
// block's 8 biases then 8 scales; pixel p reads x from p·xstep on and
// writes out from p·ostep on.
//
//go:noescape
func dwRunU8AVX2(out, x *uint8, w *int32, bs *float32, xoff, woff *int, taps, blocks, npix, ostep, xstep int)

// epilogueRowsU8AVX2 is epilogueU8AVX2 over rows rows of n elements (n a
// positive multiple of 8) laid end to end, every row with the same n
// biases and scales.
//
//go:noescape
func epilogueRowsU8AVX2(acc *int32, bias, scale *float32, out *uint8, n, rows int)

// dwRun4U8AVX2 is dwRunU8AVX2 for ngroups groups of 4 pixels, one block
// of all four at a time (the tap's weights and offsets read once for
// them).
//
//go:noescape
func dwRun4U8AVX2(out, x *uint8, w *int32, bs *float32, xoff, woff *int, taps, blocks, ngroups, ostep, xstep int)
