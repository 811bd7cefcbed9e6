//go:build amd64 && !purego

#include "textflag.h"

// One row of the AVX-512 kernel: the row's float of A broadcast into bc,
// times the 32 floats of B in Z24, Z25, added to the row's sums.
#define FMA_ROW(addr, bc, lo, hi) \
	VBROADCASTSS addr, bc \
	VFMADD231PS  Z24, bc, lo \
	VFMADD231PS  Z25, bc, hi

#define ADD_ROW(lo, hi) \
	VADDPS (SI), lo, lo \
	VADDPS 64(SI), hi, hi \
	ADDQ   R8, SI

#define STORE_ROW(lo, hi) \
	VMOVUPS lo, (SI) \
	VMOVUPS hi, 64(SI) \
	ADDQ    R8, SI

// func f32TileAVX512(kb int, a *float32, rs, ps int, b, c *float32, ldc int, acc bool)
//
// f32TileAVX2 on ZMM registers: the 12×32 tile lives in Z0..Z23 (row r in
// Z(2r), Z(2r+1)), 24 independent FMA chains; each step of k loads 32
// floats of B (Z24, Z25) and broadcasts the 12 floats of A (Z26, Z27 in
// turn). A's element (row i, step p) is at a + i·rs + p·ps floats. AX,
// R10, R12, R13 = rows 0, 3, 6, 9 of the step, R9 = rs and R11 = ps in
// bytes, BX = b, CX = steps left, DI = c, R8 = ldc in bytes.
TEXT ·f32TileAVX512(SB), NOSPLIT, $0-57
	MOVQ kb+0(FP), CX
	MOVQ a+8(FP), AX
	MOVQ rs+16(FP), R9
	SHLQ $2, R9
	MOVQ ps+24(FP), R11
	SHLQ $2, R11
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
	VMOVUPS (BX), Z24
	VMOVUPS 64(BX), Z25
	FMA_ROW((AX), Z26, Z0, Z1)
	FMA_ROW((AX)(R9*1), Z27, Z2, Z3)
	FMA_ROW((AX)(R9*2), Z26, Z4, Z5)
	FMA_ROW((R10), Z27, Z6, Z7)
	FMA_ROW((R10)(R9*1), Z26, Z8, Z9)
	FMA_ROW((R10)(R9*2), Z27, Z10, Z11)
	FMA_ROW((R12), Z26, Z12, Z13)
	FMA_ROW((R12)(R9*1), Z27, Z14, Z15)
	FMA_ROW((R12)(R9*2), Z26, Z16, Z17)
	FMA_ROW((R13), Z27, Z18, Z19)
	FMA_ROW((R13)(R9*1), Z26, Z20, Z21)
	FMA_ROW((R13)(R9*2), Z27, Z22, Z23)
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
	ADD_ROW(Z0, Z1)
	ADD_ROW(Z2, Z3)
	ADD_ROW(Z4, Z5)
	ADD_ROW(Z6, Z7)
	ADD_ROW(Z8, Z9)
	ADD_ROW(Z10, Z11)
	ADD_ROW(Z12, Z13)
	ADD_ROW(Z14, Z15)
	ADD_ROW(Z16, Z17)
	ADD_ROW(Z18, Z19)
	ADD_ROW(Z20, Z21)
	ADD_ROW(Z22, Z23)

store:
	MOVQ DI, SI
	STORE_ROW(Z0, Z1)
	STORE_ROW(Z2, Z3)
	STORE_ROW(Z4, Z5)
	STORE_ROW(Z6, Z7)
	STORE_ROW(Z8, Z9)
	STORE_ROW(Z10, Z11)
	STORE_ROW(Z12, Z13)
	STORE_ROW(Z14, Z15)
	STORE_ROW(Z16, Z17)
	STORE_ROW(Z18, Z19)
	STORE_ROW(Z20, Z21)
	STORE_ROW(Z22, Z23)
	VZEROUPPER
	RET
