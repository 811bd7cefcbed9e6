//go:build amd64 && !purego

package gemm

// The assembly kernels come next; until then the portable ones run.
var (
	f32Kernels  = []f32Kernel{f32Go}
	u8s8Runners = []u8s8Runner{u8s8Go}
)
