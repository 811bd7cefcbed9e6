// Package gemm multiplies matrices: the hot path of the executor's
// convolutions and fully connected layers.
//
// All matrices are row-major with an explicit leading dimension (the
// distance in elements between the starts of two rows). F32 computes
// C = A·B in float32; U8S8 computes C = A·B exactly in int32 from uint8
// A and int8 B, as the int8 kernels need.
//
// Its place in qcal's flow: internal/kernels calls it; it knows nothing of
// tensors or graphs.
package gemm
