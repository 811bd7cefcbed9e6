package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"qcal/internal/synth"
)

// TestSplitReadingIsInvisible reads logs with and without splitting them
// between two parsers: every output, line numbers in messages included,
// must be the same.
func TestSplitReadingIsInvisible(t *testing.T) {
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, "noisy.log"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := synth.NoisyLog(f, synth.ModelLayers(40), 3<<20, 2); err != nil {
		t.Fatal(err)
	}
	f.Close()
	// A log whose second half holds a malformed record and a bad one.
	var b strings.Builder
	for i := 0; i < 2000; i++ {
		b.WriteString(rec(rrA, "-1", "2"))
	}
	b.WriteString(";" + rrA + "__print__;__requant_min_max:[1][x]\n")
	b.WriteString(rec(rrB, "5", "2"))
	badLog := writeText(t, dir, "bad.log", b.String())
	values, _ := valueLog([]string{"a/Conv2D", "b/Conv2D"}, 20, 700, 3)
	valueLogPath := writeText(t, dir, "values.log", values)
	cases := [][]string{
		{"ranges", "-format", "json", filepath.Join(dir, "noisy.log")},
		{"ranges", "-format", "csv", "-tf-compat", filepath.Join(dir, "noisy.log")},
		{"ranges", "-format", "csv", "-strategy", "minmax,ema:0.1,median", filepath.Join(dir, "noisy.log")},
		{"ranges", badLog},
		{"ranges", "-drop-bad", "-format", "csv", badLog},
		{"ranges", "-format", "csv", "-strategy", "kl,mse", valueLogPath},
		// The audit reads through the same pipeline, keeping every line and
		// counting bad records per node.
		{"audit", "-format", "json", "-bootstrap", "20", filepath.Join(dir, "noisy.log")},
		{"audit", "-format", "json", "-bootstrap", "20", badLog},
	}
	// A real log with joined lines, when ../shared is there.
	if real := filepath.Join("..", "..", "..", "shared", "realdata", "calib_logs", "inceptionv4_min_max_log.txt"); fileExists(real) {
		cases = append(cases, []string{"ranges", "-format", "csv", real}, []string{"ranges", "-format", "csv", "-tf-compat", real})
	}
	defer func(v int64) { splitMin = v }(splitMin)
	for _, args := range cases {
		splitMin = 1 << 40
		code1, out1, err1 := qcal(t, "", args...)
		splitMin = 1 << 10
		code2, out2, err2 := qcal(t, "", args...)
		trim := func(s string) string { // the elapsed time differs
			if i := strings.LastIndex(s, ", strategy "); i >= 0 {
				if j := strings.LastIndex(s, ", "); j > i {
					return s[:j]
				}
			}
			return s
		}
		if code1 != code2 || out1 != out2 || trim(err1) != trim(err2) {
			t.Errorf("%v: whole and split reading differ:\nwhole: %d %q\n%s\nsplit: %d %q\n%s", args, code1, out1, err1, code2, out2, err2)
		}
	}
	// The malformed record and the bad one are named at their real lines.
	_, _, stderr := qcal(t, "", "ranges", badLog)
	if !strings.Contains(stderr, "bad.log:2001:") || !strings.Contains(stderr, "bad.log:2002: node \""+rrB+"\": min 5 > max 2") {
		t.Errorf("line numbers: %s", stderr)
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
