//go:build amd64 && !purego

#include "textflag.h"

// One row of the ZMM VNNI kernel: the row's four u8 of A broadcast into
// bc; VPDPBUSD adds a0·b0+a1·b1+a2·b2+a3·b3 per column (exact, wrapping
// like int32: see u8s8_amd64.s) to the row's sums.
#define DPZ_ROW(addr, bc, lo, hi) \
	VPBROADCASTD addr, bc \
	VPDPBUSD     Z24, bc, lo \
	VPDPBUSD     Z25, bc, hi

#define ADDZ_ROW(lo, hi) \
	VPADDD (SI), lo, lo \
	VPADDD 64(SI), hi, hi \
	ADDQ   R8, SI

#define STOREZ_ROW(lo, hi) \
	VMOVDQU32 lo, (SI) \
	VMOVDQU32 hi, 64(SI) \
	ADDQ      R8, SI

// func u8s8TileVNNI512(kq int, a *uint8, rs, ps int, b *int8, c *int32, ldc int, acc bool)
//
// u8s8TileVNNI on ZMM registers: the 12×32 tile of int32 sums lives in
// Z0..Z23 (row r in Z(2r), Z(2r+1)); each group of 4 k loads 32 columns
// of B (Z24, Z25: 4 bytes per column) and broadcasts the 12 rows' groups
// of A (Z26, Z27 in turn). Row i's group q of A is at a + i·rs + q·ps
// bytes. AX, R10, R12, R13 = rows 0, 3, 6, 9 of the group, R9 = rs, R11 =
// ps, BX = b, CX = groups left, DI = c, R8 = ldc in bytes.
TEXT ·u8s8TileVNNI512(SB), NOSPLIT, $0-57
	MOVQ kq+0(FP), CX
	MOVQ a+8(FP), AX
	MOVQ rs+16(FP), R9
	MOVQ ps+24(FP), R11
	LEAQ (AX)(R9*2), R10
	ADDQ R9, R10
	LEAQ (R10)(R9*2), R12
	ADDQ R9, R12
	LEAQ (R12)(R9*2), R13
	ADDQ R9, R13
	MOVQ b+32(FP), BX
	MOVQ c+40(FP), DI
	MOVQ ldc+48(FP), R8
	SHLQ $2, R8
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	VPXORD Z14, Z14, Z14
	VPXORD Z15, Z15, Z15
	VPXORD Z16, Z16, Z16
	VPXORD Z17, Z17, Z17
	VPXORD Z18, Z18, Z18
	VPXORD Z19, Z19, Z19
	VPXORD Z20, Z20, Z20
	VPXORD Z21, Z21, Z21
	VPXORD Z22, Z22, Z22
	VPXORD Z23, Z23, Z23

loop:
	VMOVDQU32 (BX), Z24
	VMOVDQU32 64(BX), Z25
	DPZ_ROW((AX), Z26, Z0, Z1)
	DPZ_ROW((AX)(R9*1), Z27, Z2, Z3)
	DPZ_ROW((AX)(R9*2), Z26, Z4, Z5)
	DPZ_ROW((R10), Z27, Z6, Z7)
	DPZ_ROW((R10)(R9*1), Z26, Z8, Z9)
	DPZ_ROW((R10)(R9*2), Z27, Z10, Z11)
	DPZ_ROW((R12), Z26, Z12, Z13)
	DPZ_ROW((R12)(R9*1), Z27, Z14, Z15)
	DPZ_ROW((R12)(R9*2), Z26, Z16, Z17)
	DPZ_ROW((R13), Z27, Z18, Z19)
	DPZ_ROW((R13)(R9*1), Z26, Z20, Z21)
	DPZ_ROW((R13)(R9*2), Z27, Z22, Z23)
	ADDQ R11, AX
	ADDQ R11, R10
	ADDQ R11, R12
	ADDQ R11, R13
	ADDQ $128, BX
	DECQ CX
	JNZ  loop

	CMPB acc+56(FP), $0
	JEQ  store
	MOVQ DI, SI
	ADDZ_ROW(Z0, Z1)
	ADDZ_ROW(Z2, Z3)
	ADDZ_ROW(Z4, Z5)
	ADDZ_ROW(Z6, Z7)
	ADDZ_ROW(Z8, Z9)
	ADDZ_ROW(Z10, Z11)
	ADDZ_ROW(Z12, Z13)
	ADDZ_ROW(Z14, Z15)
	ADDZ_ROW(Z16, Z17)
	ADDZ_ROW(Z18, Z19)
	ADDZ_ROW(Z20, Z21)
	ADDZ_ROW(Z22, Z23)

store:
	MOVQ DI, SI
	STOREZ_ROW(Z0, Z1)
	STOREZ_ROW(Z2, Z3)
	STOREZ_ROW(Z4, Z5)
	STOREZ_ROW(Z6, Z7)
	STOREZ_ROW(Z8, Z9)
	STOREZ_ROW(Z10, Z11)
	STOREZ_ROW(Z12, Z13)
	STOREZ_ROW(Z14, Z15)
	STOREZ_ROW(Z16, Z17)
	STOREZ_ROW(Z18, Z19)
	STOREZ_ROW(Z20, Z21)
	STOREZ_ROW(Z22, Z23)
	VZEROUPPER
	RET
