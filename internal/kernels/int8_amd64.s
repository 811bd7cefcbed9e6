//go:build amd64 && !purego

#include "textflag.h"

// AVX2 loops of the int8 kernels (declared in int8_stubs_amd64.go; the
// portable forms are in int8_fast.go). Operands in Go's order: the last
// is the destination, VOP b, a, dst is Intel's VOP dst, a, b.

// SAT_U8_8 turns the 8 floats in Y0 into 8 quint8 codes in the low 8
// bytes of X0: max with 0 (Y6; VMAXPS returns its second source, 0, for
// a NaN), min with 255 (Y7), round half to even (VCVTPS2DQ under the
// default MXCSR), pack with unsigned saturation.
#define SAT_U8_8 \
	VMAXPS       Y6, Y0, Y0 \
	VMINPS       Y7, Y0, Y0 \
	VCVTPS2DQ    Y0, Y0     \
	VEXTRACTI128 $1, Y0, X1 \
	VPACKUSDW    X1, X0, X0 \
	VPACKUSWB    X0, X0, X0

#define CONSTS_U8 \
	VXORPS        Y6, Y6, Y6 \
	MOVL          $0x437f0000, AX \
	VMOVD         AX, X7     \
	VBROADCASTSS  X7, Y7

// func epilogueU8AVX2(acc *int32, bias, scale *float32, out *uint8, n int)
TEXT ·epilogueU8AVX2(SB), NOSPLIT, $0-40
	MOVQ acc+0(FP), SI
	MOVQ bias+8(FP), BX
	MOVQ scale+16(FP), CX
	MOVQ out+24(FP), DI
	MOVQ n+32(FP), DX
	CONSTS_U8
	SHRQ $3, DX
	JZ   epidone

epiloop:
	VCVTDQ2PS (SI), Y0
	VADDPS    (BX), Y0, Y0
	VMULPS    (CX), Y0, Y0
	SAT_U8_8
	VMOVQ     X0, (DI)
	ADDQ      $32, SI
	ADDQ      $32, BX
	ADDQ      $32, CX
	ADDQ      $8, DI
	DECQ      DX
	JNZ       epiloop

epidone:
	VZEROUPPER
	RET

// func quantizeU8AVX2(src *float32, out *uint8, n int, scale float32)
TEXT ·quantizeU8AVX2(SB), NOSPLIT, $0-28
	MOVQ         src+0(FP), SI
	MOVQ         out+8(FP), DI
	MOVQ         n+16(FP), DX
	VBROADCASTSS scale+24(FP), Y5
	CONSTS_U8
	SHRQ         $3, DX
	JZ           qdone

qloop:
	VMULPS (SI), Y5, Y0
	SAT_U8_8
	VMOVQ  X0, (DI)
	ADDQ   $32, SI
	ADDQ   $8, DI
	DECQ   DX
	JNZ    qloop

qdone:
	VZEROUPPER
	RET

// func minMaxAVX2(v *float32, n int) (mn, mx float32, nan bool)
// n is a positive multiple of 8. mn and mx are the extremes as numbers
// (either zero's sign); nan reports whether a NaN was seen, in which
// case mn and mx mean nothing.
TEXT ·minMaxAVX2(SB), NOSPLIT, $0-25
	MOVQ    v+0(FP), SI
	MOVQ    n+8(FP), DX
	VMOVUPS (SI), Y0
	VMOVUPS Y0, Y1
	VCMPPS  $3, Y0, Y0, Y2
	ADDQ    $32, SI
	SHRQ    $3, DX
	DECQ    DX
	JZ      mmreduce

mmloop:
	VMOVUPS (SI), Y3
	VMINPS  Y3, Y0, Y0
	VMAXPS  Y3, Y1, Y1
	VCMPPS  $3, Y3, Y3, Y4
	VORPS   Y4, Y2, Y2
	ADDQ    $32, SI
	DECQ    DX
	JNZ     mmloop

mmreduce:
	VEXTRACTF128 $1, Y0, X3
	VMINPS       X3, X0, X0
	VPSHUFD      $0x4e, X0, X3
	VMINPS       X3, X0, X0
	VPSHUFD      $0xb1, X0, X3
	VMINPS       X3, X0, X0
	VMOVSS       X0, mn+16(FP)
	VEXTRACTF128 $1, Y1, X3
	VMAXPS       X3, X1, X1
	VPSHUFD      $0x4e, X1, X3
	VMAXPS       X3, X1, X1
	VPSHUFD      $0xb1, X1, X3
	VMAXPS       X3, X1, X1
	VMOVSS       X1, mx+20(FP)
	VPTEST       Y2, Y2
	SETNE        nan+24(FP)
	VZEROUPPER
	RET

// func maxU8AVX2(dst, src *uint8, n int)
// dst[i] = max(dst[i], src[i]) for i < n rounded down to a multiple of 32.
TEXT ·maxU8AVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), DX
	SHRQ $5, DX
	JZ   mxudone

mxuloop:
	VMOVDQU (SI), Y0
	VPMAXUB (DI), Y0, Y0
	VMOVDQU Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	DECQ    DX
	JNZ     mxuloop

mxudone:
	VZEROUPPER
	RET

// func maxI8AVX2(dst, src *byte, n int)
// The signed form of maxU8AVX2.
TEXT ·maxI8AVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), DX
	SHRQ $5, DX
	JZ   mxsdone

mxsloop:
	VMOVDQU (SI), Y0
	VPMAXSB (DI), Y0, Y0
	VMOVDQU Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	DECQ    DX
	JNZ     mxsloop

mxsdone:
	VZEROUPPER
	RET

// func madU8RowsAVX2(acc *int32, x *uint8, w *int32, ch, npix, xstep int)
// For p < npix and c < ch (a positive multiple of 8): acc[p·ch + c] +=
// x[p·xstep + c]·w[c], where w[c] holds a weight as its low 16 bits
// (uint16(int16(w))), the high 16 zero: VPMADDWD of the zero-extended
// code with it is x·w + 0·0. The pixels of a strided
// depthwise tap: their inputs xstep bytes apart, their accumulators
// side by side.
TEXT ·madU8RowsAVX2(SB), NOSPLIT, $0-48
	MOVQ acc+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ w+16(FP), BX
	MOVQ ch+24(FP), CX
	MOVQ npix+32(FP), DX
	MOVQ xstep+40(FP), R8
	SHRQ $3, CX
	JZ   mrdone

mrpix:
	TESTQ DX, DX
	JZ    mrdone
	MOVQ  SI, R9
	MOVQ  BX, R10
	MOVQ  CX, R11

mrblk:
	VPMOVZXBD (R9), Y0
	VPMADDWD  (R10), Y0, Y0
	VPADDD    (DI), Y0, Y0
	VMOVDQU   Y0, (DI)
	ADDQ      $8, R9
	ADDQ      $32, R10
	ADDQ      $32, DI
	DECQ      R11
	JNZ       mrblk
	ADDQ      R8, SI
	DECQ      DX
	JMP       mrpix

mrdone:
	VZEROUPPER
	RET

// func dwRunU8AVX2(out, x *uint8, w *int32, bs *float32, xoff, woff *int, taps, blocks, npix, ostep, xstep int)
//
// A depthwise convolution (channel multiplier 1) with oneDNN's quint8
// epilogue fused, for npix output pixels p, b < blocks and i < 8, c =
// 8b+i:
//
//	acc = Σ_t x[p·xstep + xoff[t] + c]·w[woff[t] + c]
//	out[p·ostep + c] = satU8((float32(acc) + bias[c])·scale[c])
//
// where bs holds, for each block, its 8 biases then its 8 scales. The int32
// sums are exact (wrapping) whatever the order; the epilogue is
// epilogueU8AVX2's, operation for operation. Four blocks at a time keep
// four sums in registers across the taps; the accumulators never reach
// memory.
TEXT ·dwRunU8AVX2(SB), NOSPLIT, $0-88
	MOVQ out+0(FP), R12
	MOVQ x+8(FP), R13
	MOVQ xoff+32(FP), R8
	MOVQ woff+40(FP), R9
	CONSTS_U8

dwpixel:
	MOVQ npix+64(FP), AX
	CMPQ AX, $0
	JLE  dwdone
	DECQ AX
	MOVQ AX, npix+64(FP)
	MOVQ R12, DI
	MOVQ R13, SI
	MOVQ w+16(FP), DX
	MOVQ bs+24(FP), R10
	MOVQ blocks+56(FP), R11

dwloop4:
	CMPQ   R11, $4
	JLT    dwloop1
	VPXOR  Y8, Y8, Y8
	VPXOR  Y9, Y9, Y9
	VPXOR  Y10, Y10, Y10
	VPXOR  Y11, Y11, Y11
	XORQ   CX, CX

dwtap4:
	CMPQ      CX, taps+48(FP)
	JGE       dwstore4
	MOVQ      (R8)(CX*8), AX
	MOVQ      (R9)(CX*8), BX
	ADDQ      SI, AX
	LEAQ      (DX)(BX*4), BX
	VPMOVZXBD (AX), Y4
	VPMADDWD  (BX), Y4, Y4
	VPADDD    Y4, Y8, Y8
	VPMOVZXBD 8(AX), Y5
	VPMADDWD  32(BX), Y5, Y5
	VPADDD    Y5, Y9, Y9
	VPMOVZXBD 16(AX), Y4
	VPMADDWD  64(BX), Y4, Y4
	VPADDD    Y4, Y10, Y10
	VPMOVZXBD 24(AX), Y5
	VPMADDWD  96(BX), Y5, Y5
	VPADDD    Y5, Y11, Y11
	INCQ      CX
	JMP       dwtap4

dwstore4:
	VCVTDQ2PS Y8, Y0
	VADDPS    (R10), Y0, Y0
	VMULPS    32(R10), Y0, Y0
	SAT_U8_8
	VMOVQ     X0, (DI)
	VCVTDQ2PS Y9, Y0
	VADDPS    64(R10), Y0, Y0
	VMULPS    96(R10), Y0, Y0
	SAT_U8_8
	VMOVQ     X0, 8(DI)
	VCVTDQ2PS Y10, Y0
	VADDPS    128(R10), Y0, Y0
	VMULPS    160(R10), Y0, Y0
	SAT_U8_8
	VMOVQ     X0, 16(DI)
	VCVTDQ2PS Y11, Y0
	VADDPS    192(R10), Y0, Y0
	VMULPS    224(R10), Y0, Y0
	SAT_U8_8
	VMOVQ     X0, 24(DI)
	ADDQ      $32, DI
	ADDQ      $32, SI
	ADDQ      $128, DX
	ADDQ      $256, R10
	SUBQ      $4, R11
	JMP       dwloop4

dwloop1:
	CMPQ  R11, $1
	JLT   dwnext
	VPXOR Y8, Y8, Y8
	XORQ  CX, CX

dwtap1:
	CMPQ      CX, taps+48(FP)
	JGE       dwstore1
	MOVQ      (R8)(CX*8), AX
	MOVQ      (R9)(CX*8), BX
	ADDQ      SI, AX
	LEAQ      (DX)(BX*4), BX
	VPMOVZXBD (AX), Y4
	VPMADDWD  (BX), Y4, Y4
	VPADDD    Y4, Y8, Y8
	INCQ      CX
	JMP       dwtap1

dwstore1:
	VCVTDQ2PS Y8, Y0
	VADDPS    (R10), Y0, Y0
	VMULPS    32(R10), Y0, Y0
	SAT_U8_8
	VMOVQ     X0, (DI)
	ADDQ      $8, DI
	ADDQ      $8, SI
	ADDQ      $32, DX
	ADDQ      $64, R10
	DECQ      R11
	JMP       dwloop1

dwnext:
	ADDQ ostep+72(FP), R12
	ADDQ xstep+80(FP), R13
	JMP  dwpixel

dwdone:
	VZEROUPPER
	RET

// packOrder<> puts the dwords of VPACKUSWB's in-lane result back in
// order: after two VPACKUSDW and one VPACKUSWB of four vectors A, B, C, D
// of 8 codes each, the dwords hold A0 B0 C0 D0 A1 B1 C1 D1 (X0 = codes
// 0-3 of X, X1 = codes 4-7).
DATA packOrder<>+0(SB)/4, $0
DATA packOrder<>+4(SB)/4, $4
DATA packOrder<>+8(SB)/4, $1
DATA packOrder<>+12(SB)/4, $5
DATA packOrder<>+16(SB)/4, $2
DATA packOrder<>+20(SB)/4, $6
DATA packOrder<>+24(SB)/4, $3
DATA packOrder<>+28(SB)/4, $7
GLOBL packOrder<>(SB), RODATA|NOPTR, $32

// EPI_I32(OFF, R) sets R to the clamped, rounded int32 codes of acc,
// bias and scale at byte offset OFF: SAT_U8_8's steps before the packs.
#define EPI_I32(OFF, R) \
	VCVTDQ2PS OFF(SI), R \
	VADDPS    OFF(BX), R, R \
	VMULPS    OFF(CX), R, R \
	VMAXPS    Y6, R, R \
	VMINPS    Y7, R, R \
	VCVTPS2DQ R, R

// func epilogueRowsU8AVX2(acc *int32, bias, scale *float32, out *uint8, n, rows int)
//
// epilogueU8AVX2 over rows rows of n (a positive multiple of 8) side by
// side in acc and out, each row with the same bias and scale. A row of a
// multiple of 32 goes 32 codes at a time, packed together (three packs
// and a permute for 32 codes instead of three packs for 8): the same
// saturating packs of the same clamped values.
TEXT ·epilogueRowsU8AVX2(SB), NOSPLIT, $0-48
	MOVQ    acc+0(FP), SI
	MOVQ    out+24(FP), DI
	MOVQ    rows+40(FP), R8
	CONSTS_U8
	VMOVDQU packOrder<>(SB), Y5

errow:
	TESTQ R8, R8
	JZ    erdone
	MOVQ  bias+8(FP), BX
	MOVQ  scale+16(FP), CX
	MOVQ  n+32(FP), DX
	TESTQ $31, DX
	JNZ   er8
	SHRQ  $5, DX
	JZ    erdone

er32:
	EPI_I32(0, Y0)
	EPI_I32(32, Y1)
	EPI_I32(64, Y2)
	EPI_I32(96, Y3)
	VPACKUSDW Y1, Y0, Y0
	VPACKUSDW Y3, Y2, Y2
	VPACKUSWB Y2, Y0, Y0
	VPERMD    Y0, Y5, Y0
	VMOVDQU   Y0, (DI)
	ADDQ      $128, SI
	ADDQ      $128, BX
	ADDQ      $128, CX
	ADDQ      $32, DI
	DECQ      DX
	JNZ       er32
	DECQ      R8
	JMP       errow

er8:
	SHRQ $3, DX
	JZ   erdone

erloop:
	VCVTDQ2PS (SI), Y0
	VADDPS    (BX), Y0, Y0
	VMULPS    (CX), Y0, Y0
	SAT_U8_8
	VMOVQ     X0, (DI)
	ADDQ      $32, SI
	ADDQ      $32, BX
	ADDQ      $32, CX
	ADDQ      $8, DI
	DECQ      DX
	JNZ       erloop
	DECQ      R8
	JMP       errow

erdone:
	VZEROUPPER
	RET

// func dwRun4U8AVX2(out, x *uint8, w *int32, bs *float32, xoff, woff *int, taps, blocks, ngroups, ostep, xstep int)
//
// dwRunU8AVX2 for ngroups·4 pixels (same taps, pixel p's inputs p·xstep
// bytes on, its outputs p·ostep bytes on), four pixels of one block at a
// time: each tap's weights are loaded once for the four, and its offsets
// read once, which for few channels (MobileNet's first layers: 1 or 2
// blocks) cost more than the products. The same sums and epilogue.
TEXT ·dwRun4U8AVX2(SB), NOSPLIT, $0-88

// DW4_PIX adds tap products for one pixel: the 8 codes at AX widened,
// times the weights in Y12, into ACC; AX moves on to the next pixel.
#define DW4_PIX(ACC) \
	VPMOVZXBD (AX), Y4 \
	VPMADDWD  Y12, Y4, Y4 \
	VPADDD    Y4, ACC, ACC \
	ADDQ      xstep+80(FP), AX

// DW4_OUT writes the codes of ACC's 8 sums (bias Y13, scale Y14) at BX
// and moves BX on to the next pixel.
#define DW4_OUT(ACC) \
	VCVTDQ2PS ACC, Y0 \
	VADDPS    Y13, Y0, Y0 \
	VMULPS    Y14, Y0, Y0 \
	SAT_U8_8 \
	VMOVQ     X0, (BX) \
	ADDQ      ostep+72(FP), BX

	MOVQ out+0(FP), R12
	MOVQ x+8(FP), R13
	MOVQ xoff+32(FP), R8
	MOVQ woff+40(FP), R9
	CONSTS_U8

d4group:
	MOVQ ngroups+64(FP), AX
	CMPQ AX, $0
	JLE  d4done
	DECQ AX
	MOVQ AX, ngroups+64(FP)
	MOVQ R12, DI
	MOVQ R13, SI
	MOVQ w+16(FP), DX
	MOVQ bs+24(FP), R10
	MOVQ blocks+56(FP), R11

d4block:
	CMPQ  R11, $0
	JLE   d4next
	VPXOR Y8, Y8, Y8
	VPXOR Y9, Y9, Y9
	VPXOR Y10, Y10, Y10
	VPXOR Y11, Y11, Y11
	XORQ  CX, CX

d4tap:
	CMPQ    CX, taps+48(FP)
	JGE     d4store
	MOVQ    (R8)(CX*8), AX
	MOVQ    (R9)(CX*8), BX
	ADDQ    SI, AX
	VMOVDQU (DX)(BX*4), Y12
	DW4_PIX(Y8)
	DW4_PIX(Y9)
	DW4_PIX(Y10)
	DW4_PIX(Y11)
	INCQ    CX
	JMP     d4tap

d4store:
	VMOVUPS (R10), Y13
	VMOVUPS 32(R10), Y14
	MOVQ    DI, BX
	DW4_OUT(Y8)
	DW4_OUT(Y9)
	DW4_OUT(Y10)
	DW4_OUT(Y11)
	ADDQ    $8, DI
	ADDQ    $8, SI
	ADDQ    $32, DX
	ADDQ    $64, R10
	DECQ    R11
	JMP     d4block

d4next:
	MOVQ ostep+72(FP), AX
	LEAQ (R12)(AX*4), R12
	MOVQ xstep+80(FP), AX
	LEAQ (R13)(AX*4), R13
	JMP  d4group

d4done:
	VZEROUPPER
	RET
