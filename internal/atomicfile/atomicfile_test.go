package atomicfile

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestCommitAndAbort(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out.csv")
	f, err := Create(out)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("a,b\n"))
	if _, err := os.Stat(out); err == nil {
		t.Fatal("output exists before Commit")
	}
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(out); string(b) != "a,b\n" {
		t.Errorf("output %q, want %q", b, "a,b\n")
	}
	// An existing output keeps its permission bits.
	os.Chmod(out, 0o600)
	f, _ = Create(out)
	f.Write([]byte("c\n"))
	f.Commit()
	if fi, _ := os.Stat(out); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v after rewrite, want 0600", fi.Mode().Perm())
	}
	// Abort leaves the old content and no temporary file.
	f, _ = Create(out)
	f.Write([]byte("half"))
	f.Abort()
	if b, _ := os.ReadFile(out); string(b) != "c\n" {
		t.Errorf("after Abort %q, want the old %q", b, "c\n")
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("folder holds %d entries after Abort, want only the output", len(ents))
	}
}

func TestRefusals(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.pb")
	os.WriteFile(in, []byte("x"), 0o644)
	link := filepath.Join(dir, "link.pb")
	os.Link(in, link)
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path   string
		inputs []string
		want   string
	}{
		{in, []string{in}, "refusing to overwrite input file"},
		{link, []string{in}, "refusing to overwrite input file"},
		{fifo, nil, "is not a regular file (a FIFO)"},
		{dir, nil, "is not a regular file (a directory)"},
		{"/dev/null", nil, "is not a regular file (a device)"},
	} {
		_, err := Create(c.path, c.inputs...)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), c.path) {
			t.Errorf("Create(%s): %v, want an error starting with the path and containing %q", c.path, err, c.want)
		}
	}
	if b, _ := os.ReadFile(in); string(b) != "x" {
		t.Errorf("input changed to %q", b)
	}
}
