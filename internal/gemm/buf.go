package gemm

import "sync"

// Packing buffers come from pools, one per element type, so that the
// executor's repeated calls do not allocate.
var pools struct{ f32, i16, u8, i8 sync.Pool }

func poolOf[T float32 | int16 | uint8 | int8]() *sync.Pool {
	var z T
	switch any(z).(type) {
	case float32:
		return &pools.f32
	case int16:
		return &pools.i16
	case uint8:
		return &pools.u8
	default:
		return &pools.i8
	}
}

// getBuf returns a buffer of n elements (contents undefined); putBuf
// gives it back.
func getBuf[T float32 | int16 | uint8 | int8](n int) *[]T {
	if p, _ := poolOf[T]().Get().(*[]T); p != nil && cap(*p) >= n {
		*p = (*p)[:n]
		return p
	}
	s := make([]T, n)
	return &s
}

func putBuf[T float32 | int16 | uint8 | int8](p *[]T) { poolOf[T]().Put(p) }
