//go:build amd64 && !purego

package kernels

import "golang.org/x/sys/cpu"

// hasAVX reports whether the CPU runs AVX and the OS saves the YMM
// registers: the depthwise and epilogue assembly (depthwise_amd64.s) needs
// nothing more (no FMA: the sums must round each product, as the Go code does).
var hasAVX = cpu.X86.HasAVX

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
