package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunErrors(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"-bogus"}, &out, &errb); code != 2 {
		t.Errorf("bad flag: exit %d, want 2", code)
	}
	dir := t.TempDir()
	errb.Reset()
	if code := run([]string{"-data", dir, "-o", filepath.Join(dir, "m.pb")}, &out, &errb); code != 1 {
		t.Errorf("empty data folder: exit %d, want 1", code)
	}
	if want := filepath.Join(dir, "train-images-idx3-ubyte.gz"); !strings.Contains(errb.String(), want) {
		t.Errorf("error %q does not name %s", errb.String(), want)
	}
	if _, err := os.Stat(filepath.Join(dir, "m.pb")); err == nil {
		t.Error("a failed run wrote its output")
	}
}
