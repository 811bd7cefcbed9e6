//go:build amd64 && !purego

package logparse

type scanMode struct {
	name string
	set  func() (restore func())
}

// scanModes returns the ways scanFloats can run here: with SSSE3 when the
// machine has it, and without.
func scanModes() []scanMode {
	without := scanMode{"scanRun", func() func() {
		old := hasSSSE3
		hasSSSE3 = false
		return func() { hasSSSE3 = old }
	}}
	if !hasSSSE3 {
		return []scanMode{without}
	}
	return []scanMode{{"SSSE3", func() func() { return func() {} }}, without}
}
