package atomicfile

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
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
	// What was written can be read back before Commit, from the
	// temporary file beside the output.
	if tmp := f.TempName(); filepath.Dir(tmp) != dir || tmp == out {
		t.Errorf("TempName %q, want a file in %s other than the output", tmp, dir)
	} else if b, _ := os.ReadFile(tmp); string(b) != "a,b\n" {
		t.Errorf("temporary file holds %q before Commit, want %q", b, "a,b\n")
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

// TestSignalRemovesTemp runs this test binary again as a helper that
// creates an output, writes half of it, says "ready" and waits; the test
// then sends SIGINT or SIGTERM and checks that the helper died of it and
// left neither the output nor a temporary file.
func TestSignalRemovesTemp(t *testing.T) {
	if out := os.Getenv("ATOMICFILE_HELPER_OUT"); out != "" {
		f, err := Create(out)
		if err != nil {
			fmt.Println(err)
			os.Exit(3)
		}
		f.Write([]byte("half"))
		fmt.Println("ready")
		time.Sleep(time.Minute)
		os.Exit(4) // not reached: the signal ends the process
	}
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			dir := t.TempDir()
			out := filepath.Join(dir, "out.pb")
			cmd := exec.Command(os.Args[0], "-test.run=^TestSignalRemovesTemp$")
			cmd.Env = append(os.Environ(), "ATOMICFILE_HELPER_OUT="+out)
			stdout, _ := cmd.StdoutPipe()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			line, err := bufio.NewReader(stdout).ReadString('\n')
			if line != "ready\n" {
				cmd.Process.Kill()
				t.Fatalf("helper said %q (%v), want ready", line, err)
			}
			// The helper is between Create and Commit: its temporary file exists.
			if ents, _ := os.ReadDir(dir); len(ents) != 1 || !strings.HasPrefix(ents[0].Name(), ".out.pb.tmp-") {
				t.Fatalf("before the signal the folder holds %v, want one temporary file", ents)
			}
			cmd.Process.Signal(sig)
			err = cmd.Wait()
			var ee *exec.ExitError
			if !errors.As(err, &ee) {
				t.Fatalf("helper ended with %v, want death by %v", err, sig)
			}
			if ws := ee.Sys().(syscall.WaitStatus); !ws.Signaled() || ws.Signal() != sig {
				t.Errorf("helper status %v, want killed by %v (the signal re-raised)", ws, sig)
			}
			if ents, _ := os.ReadDir(dir); len(ents) != 0 {
				t.Errorf("after %v the folder holds %v, want nothing", sig, ents)
			}
		})
	}
}

func TestStdoutAndCheck(t *testing.T) {
	var buf bytes.Buffer
	for _, p := range []string{"-", "/dev/stdout"} {
		buf.Reset()
		f, err := CreateStdout(p, &buf)
		if err != nil {
			t.Fatal(err)
		}
		f.Write([]byte("x"))
		if err := f.Commit(); err != nil || buf.String() != "x" {
			t.Errorf("%s: wrote %q (%v), want x on the given stdout", p, buf.String(), err)
		}
		if err := Check(p, nil); err != nil {
			t.Errorf("Check(%s): %v", p, err)
		}
	}
	if err := Check("/dev/null", nil); err == nil || !strings.Contains(err.Error(), "a device") {
		t.Errorf("Check(/dev/null): %v, want a refusal naming a device", err)
	}
	// Write errors name the output, not the temporary file: /dev/full
	// cannot be an output, so use a closed temporary file instead.
	dir := t.TempDir()
	out := filepath.Join(dir, "o")
	f, _ := Create(out)
	f.tmp.Close()
	_, err := f.Write([]byte("x"))
	if err == nil || !strings.HasPrefix(err.Error(), out+": ") || strings.Contains(err.Error(), ".tmp-") {
		t.Errorf("write error %q, want it to start with %s and not name the temporary file", err, out)
	}
	f.Abort()
}

func TestTempFile(t *testing.T) {
	dir := t.TempDir()
	f, remove, err := TempFile(dir, "spool-*")
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("x"))
	pendingMu.Lock()
	_, registered := pending[f.Name()]
	pendingMu.Unlock()
	if !registered {
		t.Error("scratch file not registered for removal on a signal")
	}
	remove()
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("after remove the folder holds %v", ents)
	}
	pendingMu.Lock()
	_, registered = pending[f.Name()]
	pendingMu.Unlock()
	if registered {
		t.Error("removed scratch file still registered")
	}
}
