//go:build amd64 && !purego

package kernels

import "golang.org/x/sys/cpu"

// The CPU features this package's assembly needs, probed here once (a
// binary built here runs on an older CPU through the Go loops).
var (
	// hasAVX reports whether the CPU runs AVX and the OS saves the YMM
	// registers: the depthwise and epilogue assembly (depthwise_amd64.s)
	// needs nothing more (no FMA: the sums must round each product, as
	// the Go code does).
	hasAVX = cpu.X86.HasAVX
	// useAVX2 reports whether the int8 loops run the AVX2 assembly of
	// int8_amd64.s (declared in int8_stubs_amd64.go).
	useAVX2 = cpu.X86.HasAVX2
)

// dwRunAVX computes blocks·8 output channels of npix depthwise output
// pixels (multiplier 1), ostep elements apart in out, from one list of
// taps in order: xoff and foff hold each tap's offset into x (for the
// first pixel; each next pixel's is xstep further) and into f
// (depthwise_amd64.s).
//
//go:noescape
func dwRunAVX(out, x, f *float32, xoff, foff *int, taps, blocks, npix, ostep, xstep int)

// biasActAVX adds b (c elements) to each of rows rows of c elements of y
// and applies act (0 none, 1 Relu, 2 Relu6); c is a positive multiple of
// 8 and rows > 0 (depthwise_amd64.s).
//
//go:noescape
func biasActAVX(y, b *float32, c, rows, act int)
