//go:build !amd64 || purego

package gemm

// Without assembly the portable kernels are the only ones.
var (
	f32Kernels  = []f32Kernel{f32Go}
	u8s8Runners = []u8s8Runner{u8s8Go}
)
