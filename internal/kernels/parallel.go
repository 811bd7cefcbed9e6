package kernels

import (
	"runtime"
	"sync"
)

// Parallel calls f over [0, n) split into contiguous chunks, one per core,
// when there is at least grain work items per chunk; otherwise it calls
// f(0, n) on the calling goroutine. f must be safe to call concurrently on
// disjoint ranges. A panic in f is raised again on the calling goroutine,
// where the executor turns it into an error naming the node.
func Parallel(n, grain int, f func(lo, hi int)) {
	workers := runtime.GOMAXPROCS(0)
	if grain < 1 {
		grain = 1
	}
	if w := n / grain; w < workers {
		workers = w
	}
	if workers <= 1 {
		if n > 0 {
			f(0, n)
		}
		return
	}
	var (
		wg       sync.WaitGroup
		once     sync.Once
		panicked any
	)
	chunk := (n + workers - 1) / workers
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if r := recover(); r != nil {
					once.Do(func() { panicked = r })
				}
			}()
			f(lo, hi)
		}()
	}
	wg.Wait()
	if panicked != nil {
		panic(panicked)
	}
}

// useAsm selects the assembly kernels of this package (the depthwise
// convolution and the fused epilogue) where the CPU runs them; tests turn
// it off to compare them with the Go loops.
var useAsm = hasAVX
