//go:build amd64 && !purego

#include "textflag.h"

// func cpuid(leaf, sub uint32) (eax, ebx, ecx, edx uint32)
TEXT ·cpuid(SB), NOSPLIT, $0-24
	MOVL leaf+0(FP), AX
	MOVL sub+4(FP), CX
	CPUID
	MOVL AX, eax+8(FP)
	MOVL BX, ebx+12(FP)
	MOVL CX, ecx+16(FP)
	MOVL DX, edx+20(FP)
	RET

// func xgetbv0() uint32
TEXT ·xgetbv0(SB), NOSPLIT, $0-4
	XORL CX, CX
	XGETBV
	MOVL AX, ret+0(FP)
	RET

// func f32TileAVX2(kb int, a *float32, rs, ps int, b, c *float32, ldc int, acc bool)
//
// The 6×16 tile of C lives in Y0..Y11 (row r in Y(2r), Y(2r+1)). Each
// step of k loads 16 floats of the B panel (Y12, Y13) and broadcasts each
// of the 6 floats of the A panel (Y14, Y15 in turn) into two FMAs: 12
// independent FMA chains, enough to keep both FMA ports busy through
// their 4-cycle latency. A's element (row i, step p) is at a + i·rs + p·ps
// floats: packed (rs = 1, ps = 6) or read in place (rs = lda, ps = 1).
// AX = row 0 and R10 = row 3 of the step, R9 = rs and R11 = ps in bytes,
// BX = b, CX = steps left, DI = c, R8 = ldc in bytes.
TEXT ·f32TileAVX2(SB), NOSPLIT, $0-57
	MOVQ kb+0(FP), CX
	MOVQ a+8(FP), AX
	MOVQ rs+16(FP), R9
	SHLQ $2, R9
	MOVQ ps+24(FP), R11
	SHLQ $2, R11
	LEAQ (AX)(R9*2), R10
	ADDQ R9, R10
	MOVQ b+32(FP), BX
	MOVQ c+40(FP), DI
	MOVQ ldc+48(FP), R8
	SHLQ $2, R8

	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11

loop:
	VMOVUPS      (BX), Y12
	VMOVUPS      32(BX), Y13
	VBROADCASTSS (AX), Y14
	VBROADCASTSS (AX)(R9*1), Y15
	VFMADD231PS  Y12, Y14, Y0
	VFMADD231PS  Y13, Y14, Y1
	VFMADD231PS  Y12, Y15, Y2
	VFMADD231PS  Y13, Y15, Y3
	VBROADCASTSS (AX)(R9*2), Y14
	VBROADCASTSS (R10), Y15
	VFMADD231PS  Y12, Y14, Y4
	VFMADD231PS  Y13, Y14, Y5
	VFMADD231PS  Y12, Y15, Y6
	VFMADD231PS  Y13, Y15, Y7
	VBROADCASTSS (R10)(R9*1), Y14
	VBROADCASTSS (R10)(R9*2), Y15
	VFMADD231PS  Y12, Y14, Y8
	VFMADD231PS  Y13, Y14, Y9
	VFMADD231PS  Y12, Y15, Y10
	VFMADD231PS  Y13, Y15, Y11
	ADDQ         R11, AX
	ADDQ         R11, R10
	ADDQ         $64, BX
	DECQ         CX
	JNZ          loop

	CMPB acc+56(FP), $0
	JEQ  store

	VADDPS (DI), Y0, Y0
	VADDPS 32(DI), Y1, Y1
	VADDPS (DI)(R8*1), Y2, Y2
	VADDPS 32(DI)(R8*1), Y3, Y3
	LEAQ   (DI)(R8*2), SI
	VADDPS (SI), Y4, Y4
	VADDPS 32(SI), Y5, Y5
	VADDPS (SI)(R8*1), Y6, Y6
	VADDPS 32(SI)(R8*1), Y7, Y7
	LEAQ   (SI)(R8*2), SI
	VADDPS (SI), Y8, Y8
	VADDPS 32(SI), Y9, Y9
	VADDPS (SI)(R8*1), Y10, Y10
	VADDPS 32(SI)(R8*1), Y11, Y11

store:
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, (DI)(R8*1)
	VMOVUPS Y3, 32(DI)(R8*1)
	LEAQ    (DI)(R8*2), SI
	VMOVUPS Y4, (SI)
	VMOVUPS Y5, 32(SI)
	VMOVUPS Y6, (SI)(R8*1)
	VMOVUPS Y7, 32(SI)(R8*1)
	LEAQ    (SI)(R8*2), SI
	VMOVUPS Y8, (SI)
	VMOVUPS Y9, 32(SI)
	VMOVUPS Y10, (SI)(R8*1)
	VMOVUPS Y11, 32(SI)(R8*1)
	VZEROUPPER
	RET
