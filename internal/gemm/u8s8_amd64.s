//go:build amd64 && !purego

#include "textflag.h"

// Both int8 kernels keep the 6×16 tile of int32 sums in Y0..Y11 (row r in
// Y(2r), Y(2r+1)), load a group of k of the B panel into Y12, Y13 and
// broadcast each row's group of A into Y14. Row i's group q of A is at
// a + i·rs + q·ps elements. AX = row 0 and R10 = row 3 of the group, R9 =
// rs and R11 = ps in bytes, BX = b, CX = groups left, DI = c, R8 = ldc in
// bytes. They end alike: add C if acc, store.

#define ZERO_TILE \
	VPXOR Y0, Y0, Y0 \
	VPXOR Y1, Y1, Y1 \
	VPXOR Y2, Y2, Y2 \
	VPXOR Y3, Y3, Y3 \
	VPXOR Y4, Y4, Y4 \
	VPXOR Y5, Y5, Y5 \
	VPXOR Y6, Y6, Y6 \
	VPXOR Y7, Y7, Y7 \
	VPXOR Y8, Y8, Y8 \
	VPXOR Y9, Y9, Y9 \
	VPXOR Y10, Y10, Y10 \
	VPXOR Y11, Y11, Y11

#define ADD_C \
	VPADDD (DI), Y0, Y0 \
	VPADDD 32(DI), Y1, Y1 \
	VPADDD (DI)(R8*1), Y2, Y2 \
	VPADDD 32(DI)(R8*1), Y3, Y3 \
	LEAQ   (DI)(R8*2), SI \
	VPADDD (SI), Y4, Y4 \
	VPADDD 32(SI), Y5, Y5 \
	VPADDD (SI)(R8*1), Y6, Y6 \
	VPADDD 32(SI)(R8*1), Y7, Y7 \
	LEAQ   (SI)(R8*2), SI \
	VPADDD (SI), Y8, Y8 \
	VPADDD 32(SI), Y9, Y9 \
	VPADDD (SI)(R8*1), Y10, Y10 \
	VPADDD 32(SI)(R8*1), Y11, Y11

#define STORE_C \
	VMOVDQU Y0, (DI) \
	VMOVDQU Y1, 32(DI) \
	VMOVDQU Y2, (DI)(R8*1) \
	VMOVDQU Y3, 32(DI)(R8*1) \
	LEAQ    (DI)(R8*2), SI \
	VMOVDQU Y4, (SI) \
	VMOVDQU Y5, 32(SI) \
	VMOVDQU Y6, (SI)(R8*1) \
	VMOVDQU Y7, 32(SI)(R8*1) \
	LEAQ    (SI)(R8*2), SI \
	VMOVDQU Y8, (SI) \
	VMOVDQU Y9, 32(SI) \
	VMOVDQU Y10, (SI)(R8*1) \
	VMOVDQU Y11, 32(SI)(R8*1)

// One row of the int16 kernel: Y14 = the row's pair (a0, a1) in every
// dword; VPMADDWD gives a0·b0 + a1·b1 per column as an exact int32
// (|each| ≤ 255·128, the pair ≤ 65280), VPADDD adds it to the sums.
#define MADD_ROW(addr, lo, hi) \
	VPBROADCASTD addr, Y14 \
	VPMADDWD     Y12, Y14, Y15 \
	VPADDD       Y15, lo, lo \
	VPMADDWD     Y13, Y14, Y15 \
	VPADDD       Y15, hi, hi

// func u8s8TileAVX2(kq int, a *int16, rs, ps int, b *int16, c *int32, ldc int, acc bool)
//
// Groups of g = 2: A and B widened to int16 when packed (VPMADDUBSW
// would saturate its 16-bit pair sums, so it is not used).
TEXT ·u8s8TileAVX2(SB), NOSPLIT, $0-57
	MOVQ kq+0(FP), CX
	MOVQ a+8(FP), AX
	MOVQ rs+16(FP), R9
	MOVQ ps+24(FP), R11
	SHLQ $1, R9
	SHLQ $1, R11
	LEAQ (AX)(R9*2), R10
	ADDQ R9, R10
	MOVQ b+32(FP), BX
	MOVQ c+40(FP), DI
	MOVQ ldc+48(FP), R8
	SHLQ $2, R8
	ZERO_TILE

loop:
	VMOVDQU (BX), Y12
	VMOVDQU 32(BX), Y13
	MADD_ROW((AX), Y0, Y1)
	MADD_ROW((AX)(R9*1), Y2, Y3)
	MADD_ROW((AX)(R9*2), Y4, Y5)
	MADD_ROW((R10), Y6, Y7)
	MADD_ROW((R10)(R9*1), Y8, Y9)
	MADD_ROW((R10)(R9*2), Y10, Y11)
	ADDQ R11, AX
	ADDQ R11, R10
	ADDQ $64, BX
	DECQ CX
	JNZ  loop

	CMPB acc+56(FP), $0
	JEQ  store
	ADD_C

store:
	STORE_C
	VZEROUPPER
	RET

// One row of the VNNI kernel: Y14 = the row's four u8 in every dword;
// VPDPBUSD adds a0·b0+a1·b1+a2·b2+a3·b3 per column to the sums, the four
// products and their sum exact (|sum| ≤ 4·255·128 = 130560) and the
// addition wrapping like int32's (it is VPDPBUSDS that saturates).
#define DP_ROW(addr, lo, hi) \
	VPBROADCASTD addr, Y14 \
	VPDPBUSD     Y12, Y14, lo \
	VPDPBUSD     Y13, Y14, hi

// func u8s8TileVNNI(kq int, a *uint8, rs, ps int, b *int8, c *int32, ldc int, acc bool)
//
// Groups of g = 4 bytes, as VPDPBUSD (AVX-512 VNNI, on YMM with VL) reads
// them.
TEXT ·u8s8TileVNNI(SB), NOSPLIT, $0-57
	MOVQ kq+0(FP), CX
	MOVQ a+8(FP), AX
	MOVQ rs+16(FP), R9
	MOVQ ps+24(FP), R11
	LEAQ (AX)(R9*2), R10
	ADDQ R9, R10
	MOVQ b+32(FP), BX
	MOVQ c+40(FP), DI
	MOVQ ldc+48(FP), R8
	SHLQ $2, R8
	ZERO_TILE

vloop:
	VMOVDQU (BX), Y12
	VMOVDQU 32(BX), Y13
	DP_ROW((AX), Y0, Y1)
	DP_ROW((AX)(R9*1), Y2, Y3)
	DP_ROW((AX)(R9*2), Y4, Y5)
	DP_ROW((R10), Y6, Y7)
	DP_ROW((R10)(R9*1), Y8, Y9)
	DP_ROW((R10)(R9*2), Y10, Y11)
	ADDQ R11, AX
	ADDQ R11, R10
	ADDQ $64, BX
	DECQ CX
	JNZ  vloop

	CMPB acc+56(FP), $0
	JEQ  vstore
	ADD_C

vstore:
	STORE_C
	VZEROUPPER
	RET
