//go:build !amd64 || purego

package logparse

type scanMode struct {
	name string
	set  func() (restore func())
}

func scanModes() []scanMode {
	return []scanMode{{"scanRun", func() func() { return func() {} }}}
}
