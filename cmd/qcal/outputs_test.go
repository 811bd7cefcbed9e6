package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"qcal/internal/testutil"
)

// TestOutputsNeverDestroy gives every graph-writing command outputs that
// must be refused: a character device (made in a temporary folder, a twin
// of /dev/null: as root the old code replaced /dev/null itself), a FIFO, a
// directory, and the command's own inputs (-map included). Each must fail
// with a message naming the output, and leave the target as it was.
func TestOutputsNeverDestroy(t *testing.T) {
	dir := t.TempDir()
	graph := writeGraph(t, dir, rrA, rrB)
	log := writeText(t, dir, "a.log", rec(rrA, "-1", "2")+rec(rrB, "0", "3"))
	mapFile := writeText(t, dir, "names.map", "x "+rrA+"\n")
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	dev := filepath.Join(dir, "null")
	if err := syscall.Mknod(dev, syscall.S_IFCHR|0o666, 1<<8|3); err != nil { // major 1, minor 3: /dev/null
		dev = "" // not root: no device of our own to offer
	}
	sub := filepath.Join(dir, "sub")
	os.Mkdir(sub, 0o755)
	type tc struct {
		name string
		out  string
		want string
	}
	cases := []tc{
		{"fifo", fifo, "is not a regular file (a FIFO)"},
		{"directory", sub, "is not a regular file (a directory)"},
		{"graph", graph, "refusing to overwrite input file"},
		{"log", log, "refusing to overwrite input file"},
		{"map", mapFile, "refusing to overwrite input file"},
	}
	if dev != "" {
		cases = append(cases, tc{"device", dev, "is not a regular file (a device)"})
	}
	graphBefore, _ := os.ReadFile(graph)
	for _, c := range cases {
		for _, cmd := range [][]string{
			{"freeze", "-graph", graph, "-log", log, "-map", mapFile, "-o", c.out},
			{"convert", graph, c.out},
			{"insert-logging", "-graph", graph, "-o", c.out},
			{"audit", "-graph", graph, "-map", mapFile, "-o", c.out, log},
		} {
			if c.name == "map" && cmd[0] != "freeze" && cmd[0] != "audit" {
				continue
			}
			if c.name == "log" && (cmd[0] == "convert" || cmd[0] == "insert-logging") {
				continue
			}
			t.Run(c.name+"/"+cmd[0], func(t *testing.T) {
				code, _, stderr := qcal(t, "", cmd...)
				if code != 1 || !strings.Contains(stderr, c.out+": ") || !strings.Contains(stderr, c.want) {
					t.Errorf("exit %d, stderr %q; want 1 and %q naming %s", code, stderr, c.want, c.out)
				}
				if strings.Contains(stderr, ".tmp-") {
					t.Errorf("stderr names a temporary file: %q", stderr)
				}
			})
		}
	}
	for _, p := range []string{fifo, dev} {
		if p == "" {
			continue
		}
		if fi, err := os.Lstat(p); err != nil || fi.Mode().IsRegular() {
			t.Errorf("%s is now %v (%v), want it untouched", p, fi.Mode(), err)
		}
	}
	if b, _ := os.ReadFile(graph); string(b) != string(graphBefore) {
		t.Errorf("the input graph changed")
	}
	if b, _ := os.ReadFile(mapFile); string(b) != "x "+rrA+"\n" {
		t.Errorf("the -map file changed to %q", b)
	}
	assertNoTempFiles(t, dir)
}

// TestOutputStdoutAndMode: -o /dev/stdout writes to the command's standard
// output (no file replaces it); an existing output keeps its permission
// bits.
func TestOutputStdoutAndMode(t *testing.T) {
	dir := t.TempDir()
	graph := writeGraph(t, dir, rrA, rrB)
	log := writeText(t, dir, "a.log", rec(rrA, "-1", "2")+rec(rrB, "0", "3"))
	code, stdout, stderr := qcal(t, "", "freeze", "-graph", graph, "-log", log, "-format", "text", "-o", "/dev/stdout")
	if code != 0 || !strings.Contains(stdout, "node {") {
		t.Fatalf("exit %d, stderr %q, stdout %.80q; want the text graph on stdout", code, stderr, stdout)
	}
	out := filepath.Join(dir, "frozen.pb")
	os.WriteFile(out, []byte("old"), 0o600)
	if code, _, stderr := qcal(t, "", "freeze", "-graph", graph, "-log", log, "-o", out); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if fi, _ := os.Stat(out); fi.Mode().Perm() != 0o600 || fi.Size() <= 3 {
		t.Errorf("output mode %v size %d, want the old 0600 and the new graph", fi.Mode().Perm(), fi.Size())
	}
}

// TestValueStrategyOnRangeLog: kl on a log of min/max records only was a
// silent success that froze nothing; it is a usage error naming the
// strategy and what the log holds.
func TestValueStrategyOnRangeLog(t *testing.T) {
	dir := t.TempDir()
	graph := writeGraph(t, dir, rrA, rrB)
	log := writeText(t, dir, "a.log", rec(rrA, "-1", "2")+rec(rrB, "0", "3"))
	out := filepath.Join(dir, "o.pb")
	for _, args := range [][]string{
		{"freeze", "-graph", graph, "-log", log, "-strategy", "kl", "-o", out},
		{"ranges", "-strategy", "kl", log},
	} {
		code, _, stderr := qcal(t, "", args...)
		want := "strategy kl reads logged tensor values, but " + log + " hold(s) only per-batch extremes (2 range records of 2 nodes, no tensor values)"
		if code != 2 || !strings.Contains(stderr, want) {
			t.Errorf("%s: exit %d, stderr %q; want 2 and %q", args[0], code, stderr, want)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("%s written", out)
	}
}

// TestValueStrategyOnRealRangeLog: the real ResNet-50 min/max log (520
// records of 52 nodes, no tensor values) with -strategy kl exited 0 with an
// empty table; it is a usage error saying what the log holds.
func TestValueStrategyOnRealRangeLog(t *testing.T) {
	log := filepath.Join(testutil.RealData(t, "calib_logs"), "resnet50_min_max_log.txt")
	code, stdout, stderr := qcal(t, "", "ranges", "-strategy", "kl", log)
	if code != 2 || stdout != "" || !strings.Contains(stderr, "hold(s) only per-batch extremes (520 range records of 52 nodes, no tensor values)") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}
