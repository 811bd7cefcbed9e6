package gemm

import "syscall"

// threadCPU returns the CPU time (user + system, seconds) of the calling
// OS thread, which a benchmark locked to its thread measures itself by:
// on a machine shared with other jobs, wall time counts their turns too.
func threadCPU() (float64, bool) {
	const rusageThread = 1 // RUSAGE_THREAD, Linux
	var ru syscall.Rusage
	if syscall.Getrusage(rusageThread, &ru) != nil {
		return 0, false
	}
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6, true
}
