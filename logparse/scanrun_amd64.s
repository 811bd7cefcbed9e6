//go:build amd64 && !purego

#include "textflag.h"

// Constants for scanRunSSSE3, loaded into X8-X14: '0', 9 and '.' in each
// byte, the weights of digit pairs (10, 1), fours (100, 1) and eights
// (10000, 1), and ' ' in each byte.
DATA c30<>+0(SB)/8, $0x3030303030303030
DATA c30<>+8(SB)/8, $0x3030303030303030
GLOBL c30<>(SB), RODATA|NOPTR, $16
DATA c09<>+0(SB)/8, $0x0909090909090909
DATA c09<>+8(SB)/8, $0x0909090909090909
GLOBL c09<>(SB), RODATA|NOPTR, $16
DATA c2e<>+0(SB)/8, $0x2e2e2e2e2e2e2e2e
DATA c2e<>+8(SB)/8, $0x2e2e2e2e2e2e2e2e
GLOBL c2e<>(SB), RODATA|NOPTR, $16
DATA w10<>+0(SB)/8, $0x010a010a010a010a
DATA w10<>+8(SB)/8, $0x010a010a010a010a
GLOBL w10<>(SB), RODATA|NOPTR, $16
DATA w100<>+0(SB)/8, $0x0001006400010064
DATA w100<>+8(SB)/8, $0x0001006400010064
GLOBL w100<>(SB), RODATA|NOPTR, $16
DATA w10000<>+0(SB)/8, $0x0001271000012710
DATA w10000<>+8(SB)/8, $0x0001271000012710
GLOBL w10000<>(SB), RODATA|NOPTR, $16
DATA c20<>+0(SB)/8, $0x2020202020202020
DATA c20<>+8(SB)/8, $0x2020202020202020
GLOBL c20<>(SB), RODATA|NOPTR, $16

// func cpuid1ECX() uint32
TEXT ·cpuid1ECX(SB), NOSPLIT, $0-4
	MOVL $1, AX
	XORL CX, CX
	CPUID
	MOVL CX, ret+0(FP)
	RET

// func scanRunSSSE3(s []byte, p, lim int, dst []float32, dst64 []float64) (n, q int)
//
// The values of a block of 64 bytes end at its spaces, found first, so
// that a value's start does not wait for the reading of the one before.
//
// A value: the 16 bytes from its first digit are classified (digits, the
// '.'), the digits moved to the end of a register with the '.' squeezed
// out (PSHUFB with a shufTab row), and combined in pairs, fours and
// eights (PMADDUBSW, PMADDWD); mant = high 8 digits * 10^8 + low 8. Then
// x = mant * 10^exp in float64, checked and rounded as in scanRun.
//
// Registers: SI = &s[0], DI = the value's start, R9 = &dst[n], R10 = the
// block's spaces not yet reached, R11 = the value's end (a space),
// R12 = &shufTab, R13 = &pow10pm, X8-X14 constants; AX BX CX DX R8 and
// X0-X3 are scratch. BSF keeps its target when the source is 0, so it
// waits for the target's last value: its target is always its source or
// a register just written, not one the value before last wrote.
TEXT ·scanRunSSSE3(SB), NOSPLIT, $24-104
	MOVQ s_base+0(FP), SI
	MOVQ s_len+8(FP), AX
	LEAQ -64(AX), BX
	MOVQ BX, blklim-16(SP)      // the last start of a 64-byte block
	SUBQ $32, AX                // len(s) - scanRunRoom
	MOVQ lim+32(FP), BX
	CMPQ BX, AX
	CMOVQGT AX, BX
	MOVQ BX, lim+32(FP)
	MOVQ p+24(FP), DI
	MOVQ dst_base+40(FP), R9
	MOVQ dst_len+48(FP), AX
	LEAQ (R9)(AX*4), AX
	MOVQ AX, dstend-24(SP)
	XORL R10, R10
	LEAQ ·shufTab(SB), R12
	LEAQ ·pow10pm(SB), R13
	MOVOU c30<>(SB), X8
	MOVOU c09<>(SB), X9
	MOVOU c2e<>(SB), X10
	MOVOU w10<>(SB), X11
	MOVOU w100<>(SB), X12
	MOVOU w10000<>(SB), X13
	MOVOU c20<>(SB), X14

value:
	TESTQ R10, R10
	JEQ block
	CMPQ R9, dstend-24(SP)
	JCC done
	CMPQ DI, lim+32(FP)
	JGE done
	MOVQ R10, R11
	BSFQ R11, R11
	ADDQ blk-8(SP), R11         // R11 = the value's end
	LEAQ -1(R10), AX
	ANDQ AX, R10
	XORL AX, AX
	CMPB (SI)(DI*1), $0x2d      // '-'
	SETEQ AL
	LEAQ (DI)(AX*1), DX         // DX = b, the first digit
	MOVOU (SI)(DX*1), X0        // 16 bytes from b
	MOVOU X0, X1
	PSUBB X8, X1                // X1 = bytes - '0'
	MOVOU X1, X2
	PMINUB X9, X2
	PCMPEQB X1, X2
	PMOVMSKB X2, AX             // AX = digit mask
	PCMPEQB X10, X0
	PMOVMSKB X0, BX             // BX = '.' mask
	MOVL AX, R8
	NOTL R8
	BSFL R8, R8                 // R8 = ik, integer digits
	ORL BX, AX
	NOTL AX
	BSFL AX, AX                 // (BSF waits for its target: not CX)
	MOVL AX, CX                 // CX = e, digits and dots
	CMPL CX, $16
	JEQ done                    // the number may go on past the window
	MOVL $1, AX
	SHLL CX, AX
	DECL AX
	ANDL AX, BX                 // the dots among the first e bytes
	LEAL -1(BX), AX
	TESTL AX, BX
	JNE done                    // more than one
	ADDQ CX, DX                 // DX = b+e, the end of the digits
	XORL AX, AX
	CMPL R8, CX
	SETLT AL                    // AX = 1 if there is a dot (at ik)
	CMPQ dst64_len+72(FP), $0
	JEQ counted
	TESTL AX, AX
	JNE done                    // integers only

counted:
	MOVL CX, BX
	SUBL AX, BX                 // BX = nd, the number of digits
	JEQ done
	MOVL $16, CX
	TESTL AX, AX
	CMOVLNE R8, CX              // CX = the dot's index, 16 for none
	NEGL R8
	ADDL BX, R8                 // R8 = fk = nd - ik, fraction digits
	MOVL BX, AX
	SHLL $4, AX
	ADDL BX, AX
	ADDL CX, AX
	SHLQ $4, AX                 // AX = 16*(17*nd + dot index)
	MOVOU (R12)(AX*1), X3
	PSHUFB X3, X1               // the digits right-aligned, dot squeezed out
	PMADDUBSW X11, X1           // 8 pairs
	PMADDWL X12, X1             // 4 quads
	PACKSSLW X1, X1
	PMADDWL X13, X1             // 2 octets
	MOVQ X1, AX
	MOVL AX, CX                 // the high 8 digits
	SHRQ $32, AX                // the low 8 digits
	IMUL3Q $100000000, CX, CX
	ADDQ CX, AX                 // AX = mant
	NEGQ R8                     // R8 = exp = -fk
	CMPQ DX, R11
	JNE exponent

convert:
	CMPQ dst64_len+72(FP), $0
	JNE integer
	LEAQ 22(R8), CX
	CMPQ CX, $44
	JHI done
	XORPS X3, X3
	CVTSQ2SD AX, X3
	MULSD (R13)(CX*8), X3       // x = mant * 10^exp
	MOVQ X3, CX
	MOVQ CX, BX
	SHRQ $52, BX
	ANDL $0x7ff, BX
	SUBL $897, BX
	CMPL BX, $253
	JCC zero                    // outside the normal float32 range
	ANDL $0x1fffffff, CX
	SUBL $0x0ffffffc, CX
	CMPL CX, $8
	JLS zero                    // close to a float32 halfway point

store:
	XORL BX, BX
	CMPB (SI)(DI*1), $0x2d
	SETEQ BL
	SHLQ $63, BX
	MOVQ BX, X2
	XORPD X2, X3                // the sign, also of a zero
	CVTSD2SS X3, X3
	MOVSS X3, (R9)
	ADDQ $4, R9
	LEAQ 1(R11), DI
	JMP value

zero:
	TESTQ AX, AX
	JNE done
	JMP store

exponent:
	// The digits must be followed by e±dd and the space.
	CMPQ dst64_len+72(FP), $0
	JNE done                    // integers only
	LEAQ 4(DX), BX
	CMPQ BX, R11
	JNE done
	MOVBLZX (SI)(DX*1), BX
	ORL $0x20, BX
	CMPL BX, $0x65              // 'e' or 'E'
	JNE done
	MOVBLZX 2(SI)(DX*1), BX
	SUBL $0x30, BX
	CMPL BX, $9
	JHI done
	LEAL (BX)(BX*4), BX
	ADDL BX, BX
	MOVBLZX 3(SI)(DX*1), CX
	SUBL $0x30, CX
	CMPL CX, $9
	JHI done
	ADDL CX, BX                 // BX = the exponent's two digits
	MOVBLZX 1(SI)(DX*1), CX
	CMPL CX, $0x2d
	JEQ eneg
	CMPL CX, $0x2b
	JNE done
	ADDQ BX, R8
	JMP convert

eneg:
	SUBQ BX, R8
	JMP convert

integer:
	// An integer of at most 15 digits: exact in float64, and float32 of
	// it rounds once.
	XORPS X3, X3
	CVTSQ2SD AX, X3
	XORL BX, BX
	CMPB (SI)(DI*1), $0x2d
	SETEQ BL
	SHLQ $63, BX
	MOVQ BX, X2
	XORPD X2, X3
	MOVQ R9, AX
	SUBQ dst_base+40(FP), AX    // 4n
	MOVQ dst64_base+64(FP), BX
	MOVSD X3, (BX)(AX*2)
	CVTSD2SS X3, X3
	MOVSS X3, (R9)
	ADDQ $4, R9
	LEAQ 1(R11), DI
	JMP value

block:
	// The spaces of the 64 bytes from DI.
	CMPQ DI, blklim-16(SP)
	JGT done
	MOVQ DI, blk-8(SP)
	MOVOU (SI)(DI*1), X0
	PCMPEQB X14, X0
	PMOVMSKB X0, R10
	MOVOU 16(SI)(DI*1), X1
	PCMPEQB X14, X1
	PMOVMSKB X1, AX
	SHLQ $16, AX
	ORQ AX, R10
	MOVOU 32(SI)(DI*1), X2
	PCMPEQB X14, X2
	PMOVMSKB X2, AX
	SHLQ $32, AX
	ORQ AX, R10
	MOVOU 48(SI)(DI*1), X3
	PCMPEQB X14, X3
	PMOVMSKB X3, AX
	SHLQ $48, AX
	ORQ AX, R10
	TESTQ R10, R10
	JNE value

done:
	MOVQ R9, AX
	SUBQ dst_base+40(FP), AX
	SHRQ $2, AX
	MOVQ AX, n+88(FP)
	MOVQ DI, q+96(FP)
	RET
