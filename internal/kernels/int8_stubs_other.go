//go:build !amd64 || purego

package kernels

// Without assembly the Go loops of int8_fast.go are the only ones
// (useAVX2 is false, cpu_other.go).

func epilogueU8AVX2(acc *int32, bias, scale *float32, out *uint8, n int) {
	panic("kernels: no AVX2 assembly in this build")
}

func quantizeU8AVX2(src *float32, out *uint8, n int, scale float32) {
	panic("kernels: no AVX2 assembly in this build")
}

func minMaxAVX2(v *float32, n int) (mn, mx float32, nan bool) {
	panic("kernels: no AVX2 assembly in this build")
}

func maxU8AVX2(dst, src *uint8, n int) { panic("kernels: no AVX2 assembly in this build") }

func maxI8AVX2(dst, src *byte, n int) { panic("kernels: no AVX2 assembly in this build") }

func madU8RowsAVX2(acc *int32, x *uint8, w *int32, ch, npix, xstep int) {
	panic("kernels: no AVX2 assembly in this build")
}

func dwRunU8AVX2(out, x *uint8, w *int32, bs *float32, xoff, woff *int, taps, blocks, npix, ostep, xstep int) {
	panic("kernels: no AVX2 assembly in this build")
}

func epilogueRowsU8AVX2(acc *int32, bias, scale *float32, out *uint8, n, rows int) {
	panic("kernels: no AVX2 assembly in this build")
}

func dwRun4U8AVX2(out, x *uint8, w *int32, bs *float32, xoff, woff *int, taps, blocks, ngroups, ostep, xstep int) {
	panic("kernels: no AVX2 assembly in this build")
}
