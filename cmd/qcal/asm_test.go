//go:build !purego

package main

// pureGo: the tests run the assembly kernels where the CPU has them.
const pureGo = false
