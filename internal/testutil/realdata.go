// Package testutil holds helpers shared by qcal's tests. It is imported only
// from _test.go files.
package testutil

import (
	"os"
	"path/filepath"
	"testing"
)

// RealData returns the folder ../shared/realdata/SUB beside the module root
// (the directory holding go.mod), where the team's real TensorFlow logs and
// graphs live, and skips the test with a clear message when it is absent.
func RealData(tb testing.TB, sub string) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("go.mod not found above the test directory")
		}
		dir = parent
	}
	p := filepath.Join(dir, "..", "shared", "realdata", sub)
	if _, err := os.Stat(p); err != nil {
		tb.Skipf("real data not available (%s is missing); tests read it from ../shared/realdata/%s beside the module root", p, sub)
	}
	return p
}
