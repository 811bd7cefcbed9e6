//go:build !amd64 || purego

package kernels

// Without assembly the Go loops are the only ones.
const hasAVX = false

func dwPixelAVX(out, x, f *float32, xoff, foff *int, taps, blocks int) {
	panic("kernels: dwPixelAVX without assembly")
}

func biasActAVX(y, b *float32, n, act int) { panic("kernels: biasActAVX without assembly") }
