//go:build !amd64 || purego

package kernels

// Without assembly the Go loops are the only ones.
const (
	hasAVX  = false
	useAVX2 = false
)

func dwRunAVX(out, x, f *float32, xoff, foff *int, taps, blocks, npix, ostep, xstep int) {
	panic("kernels: dwRunAVX without assembly")
}

func biasActAVX(y, b *float32, c, rows, act int) { panic("kernels: biasActAVX without assembly") }
