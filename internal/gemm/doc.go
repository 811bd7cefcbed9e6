// Package gemm multiplies matrices: the hot path of the executor's
// convolutions (as im2col + GEMM) and fully connected layers.
//
// All matrices are row-major with an explicit leading dimension (the
// distance in elements between the starts of two rows). F32 computes
// C = A·B in float32; U8S8 computes C = A·B exactly in int32 from uint8
// A and int8 B, as the int8 kernels need; U8U8 does the same for uint8 B
// (TensorFlow's quint8×quint8 reference path).
//
// The products are blocked for the caches and computed in tiles by a
// micro-kernel (f32.go and u8s8.go hold every layout decision and the
// shapes they were tuned on). The kernel is chosen at run time from the
// CPU's features: AVX-512 or else AVX2/FMA assembly for F32; AVX-512
// VNNI (VPDPBUSD on ZMM, or YMM for narrow B) or else AVX2 (VPMADDWD on
// int16) for the int8 products;
// portable Go elsewhere, and everywhere when built with -tags purego.
// Large products are split over GOMAXPROCS goroutines by rows of C; each
// element is computed by one goroutine in a fixed order, so the result
// does not depend on their number.
//
// Its place in qcal's flow: internal/kernels calls it; it knows nothing of
// tensors or graphs.
package gemm
