//go:build purego

package main

// pureGo: the tests run the portable kernels (-tags purego), whose FP32
// GEMM rounds each multiply and add apart where the assembly fuses them
// (internal/gemm: "may differ in the last bits").
const pureGo = true
