//go:build amd64 && !purego

#include "textflag.h"

// func dwRunAVX(out, x, f *float32, xoff, foff *int, taps, blocks, npix, ostep, xstep int)
//
// For npix output pixels p, each b < blocks and i < 8:
//
//	out[p·ostep+8b+i] = Σ_t x[p·xstep+xoff[t]+8b+i]·f[foff[t]+8b+i]
//
// over t = 0..taps-1 in that order, from +0, each product rounded
// (VMULPS) before it is added (VADDPS, the sum the first operand): the
// Go loop's arithmetic. Four blocks at a time keep four sums in flight.
// A run of pixels whose windows lie inside the input shares one list of
// taps, moved xstep elements a pixel.
TEXT ·dwRunAVX(SB), NOSPLIT, $0-80
	MOVQ out+0(FP), R12
	MOVQ x+8(FP), R13
	MOVQ xoff+24(FP), R8
	MOVQ foff+32(FP), R9
	MOVQ taps+40(FP), R10

pixel:
	MOVQ npix+56(FP), AX
	CMPQ AX, $0
	JLE  done
	DECQ AX
	MOVQ AX, npix+56(FP)
	MOVQ R12, DI
	MOVQ R13, SI
	MOVQ f+16(FP), DX
	MOVQ blocks+48(FP), R11

loop4:
	CMPQ R11, $4
	JLT  loop1
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	XORQ CX, CX

tap4:
	CMPQ CX, R10
	JGE  store4
	MOVQ (R8)(CX*8), AX
	MOVQ (R9)(CX*8), BX
	LEAQ (SI)(AX*4), AX
	LEAQ (DX)(BX*4), BX
	VMOVUPS (AX), Y4
	VMULPS (BX), Y4, Y4
	VADDPS Y4, Y0, Y0
	VMOVUPS 32(AX), Y5
	VMULPS 32(BX), Y5, Y5
	VADDPS Y5, Y1, Y1
	VMOVUPS 64(AX), Y6
	VMULPS 64(BX), Y6, Y6
	VADDPS Y6, Y2, Y2
	VMOVUPS 96(AX), Y7
	VMULPS 96(BX), Y7, Y7
	VADDPS Y7, Y3, Y3
	INCQ CX
	JMP  tap4

store4:
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	ADDQ $128, DI
	ADDQ $128, SI
	ADDQ $128, DX
	SUBQ $4, R11
	JMP  loop4

loop1:
	CMPQ R11, $1
	JLT  next
	VXORPS Y0, Y0, Y0
	XORQ CX, CX

tap1:
	CMPQ CX, R10
	JGE  store1
	MOVQ (R8)(CX*8), AX
	MOVQ (R9)(CX*8), BX
	LEAQ (SI)(AX*4), AX
	LEAQ (DX)(BX*4), BX
	VMOVUPS (AX), Y4
	VMULPS (BX), Y4, Y4
	VADDPS Y4, Y0, Y0
	INCQ CX
	JMP  tap1

store1:
	VMOVUPS Y0, (DI)
	ADDQ $32, DI
	ADDQ $32, SI
	ADDQ $32, DX
	DECQ R11
	JMP  loop1

next:
	MOVQ ostep+64(FP), AX
	LEAQ (R12)(AX*4), R12
	MOVQ xstep+72(FP), AX
	LEAQ (R13)(AX*4), R13
	JMP  pixel

done:
	VZEROUPPER
	RET

DATA six<>+0(SB)/4, $0x40c00000 // 6.0
GLOBL six<>(SB), RODATA|NOPTR, $4
DATA absMask<>+0(SB)/4, $0x7fffffff
GLOBL absMask<>(SB), RODATA|NOPTR, $4

// func biasActAVX(y, b *float32, c, rows, act int)
//
// For rows rows of c elements (c a positive multiple of 8, rows > 0):
// y[j] = y[j] + b[j mod c], then for act 1 (Relu) max(·, 0) and for act 2
// (Relu6) min(max(·, 0), 6), with the bits of Go's max and min on amd64:
// max(v, 0) is +0 for v = ±0 and, for a NaN v, v with its sign bit
// cleared; min(m, 6) is m for a NaN m. VMAXPS returns its second source
// when either is NaN or both are zero, so with v second and the sign bit
// cleared after, every case agrees (a non-NaN maximum with 0 has no sign
// bit to clear); VMINPS with m second keeps a NaN m.
TEXT ·biasActAVX(SB), NOSPLIT, $0-40
	MOVQ y+0(FP), DI
	MOVQ rows+24(FP), R8
	MOVQ act+32(FP), AX
	VXORPS Y14, Y14, Y14
	VBROADCASTSS six<>(SB), Y15
	VBROADCASTSS absMask<>(SB), Y13

row:
	MOVQ b+8(FP), SI
	MOVQ c+16(FP), CX

loop:
	VMOVUPS (DI), Y0
	VADDPS (SI), Y0, Y0
	CMPQ AX, $0
	JEQ  store
	VMAXPS Y0, Y14, Y0
	VANDPS Y13, Y0, Y0
	CMPQ AX, $1
	JEQ  store
	VMINPS Y0, Y15, Y0

store:
	VMOVUPS Y0, (DI)
	ADDQ $32, DI
	ADDQ $32, SI
	SUBQ $8, CX
	JNZ  loop
	DECQ R8
	JNZ  row
	VZEROUPPER
	RET
