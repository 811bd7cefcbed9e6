package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"qcal/internal/testutil"
)

// TestReportMergesEvalShards runs the MNIST graph over 300 test images
// whole and in three shards (qcal eval -shard K/3), then has qcal report
// merge the shards: by id for prediction files, by image count for the
// printed accuracy lines (docs/SHARDING.md).
func TestReportMergesEvalShards(t *testing.T) {
	graph := filepath.Join(testutil.RealData(t, "graphs"), "mnist_cnn_frozen.pb")
	mnist := testutil.MNIST(t)
	dir := t.TempDir()
	args := []string{"eval", "-graph", graph, "-data", filepath.Join(mnist, "t10k-images-idx3-ubyte.gz"),
		"-labels", filepath.Join(mnist, "t10k-labels-idx1-ubyte.gz"), "-scale", "1/255", "-limit", "300", "-batch", "50"}
	run := func(name string, extra ...string) {
		t.Helper()
		code, stdout, stderr := qcal(t, "", append(append(args, extra...), "-o", filepath.Join(dir, name+".csv"))...)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", name, code, stderr)
		}
		writeText(t, dir, name+".log", stdout)
	}
	run("whole")
	for k := range 3 {
		run(fmt.Sprintf("shard-%d", k), "-shard", fmt.Sprintf("%d/3", k))
	}
	// -limit 300 comes before sharding: each shard has 100 images.
	for k := range 3 {
		b, _ := os.ReadFile(filepath.Join(dir, fmt.Sprintf("shard-%d.log", k)))
		if !strings.HasPrefix(string(b), "Processed 100 images.") {
			t.Fatalf("shard %d printed %q", k, b)
		}
	}

	// Prediction files: the shards, merged by id, are the whole run: same
	// accuracy, every id matched, so PASS with nothing unfair to say.
	code, stdout, stderr := qcal(t, "", "report", "-fp32", filepath.Join(dir, "whole.csv"), "-int8", "q="+filepath.Join(dir, "shard-*.csv"), "-format", "json")
	if code != 0 {
		t.Fatalf("report: exit %d: %s", code, stderr)
	}
	for _, want := range []string{`"verdict": "pass"`, `"file": "` + filepath.Join(dir, "shard-0.csv") + ` +2 shards"`, `"matched": 300`, `"drop": 0`, `"fp32_ids_missing": 0`, `"int8_ids_extra": 0`} {
		if !strings.Contains(stdout, want) {
			t.Errorf("report lacks %s:\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout, "not measured on the same") || strings.Contains(stdout, "unfair") {
		t.Errorf("the merged shards were found unfair:\n%s", stdout)
	}
	// The same with the FP32 side sharded and the int8 shards named one
	// by one (NAME= repeated).
	code, stdout, stderr = qcal(t, "", "report", "-fp32", filepath.Join(dir, "shard-0.csv")+","+filepath.Join(dir, "shard-2.csv"),
		"-fp32", filepath.Join(dir, "shard-1.csv"), "-int8", "q="+filepath.Join(dir, "shard-1.csv"), "-int8", "q="+filepath.Join(dir, "shard-0.csv")+","+filepath.Join(dir, "shard-2.csv"))
	if code != 0 || !strings.Contains(stdout, "VERDICT: PASS q: top1") || strings.Contains(stdout, "matched ids") {
		t.Errorf("sharded both sides: exit %d\n%s%s", code, stdout, stderr)
	}

	// A shard given as another candidate's shard twice: refused, naming
	// both files.
	dup := filepath.Join(dir, "again.csv")
	b, _ := os.ReadFile(filepath.Join(dir, "shard-0.csv"))
	writeText(t, dir, "again.csv", string(b))
	code, _, stderr = qcal(t, "", "report", "-fp32", filepath.Join(dir, "whole.csv"), "-int8", "q="+filepath.Join(dir, "shard-*.csv")+","+dup)
	want := dup + `:2: id "t10k-images-idx3-ubyte.gz:0" is also in ` + filepath.Join(dir, "shard-0.csv") + ": shards overlap"
	if code != 1 || !strings.Contains(stderr, want) {
		t.Errorf("overlap: exit %d, stderr %q lacks %q", code, stderr, want)
	}

	// A missing shard: 200 of 300 ids (66.67%) fails.
	code, stdout, _ = qcal(t, "", "report", "-fp32", filepath.Join(dir, "whole.csv"), "-int8", "q="+filepath.Join(dir, "shard-[01].csv"))
	if code != 1 || !strings.Contains(stdout, "on 200 matched ids (FP32 has 300, int8 200)") || !strings.Contains(stdout, "int8 covers 66.67% of the FP32 ids") {
		t.Errorf("missing shard: exit %d\n%s", code, stdout)
	}

	// The printed accuracy lines merge by image count.
	code, stdout, stderr = qcal(t, "", "report", "-fp32", filepath.Join(dir, "whole.log"), "-int8", "q="+filepath.Join(dir, "shard-*.log"))
	if code != 0 || !strings.Contains(stdout, "merged 3 shard logs, 300 samples") {
		t.Errorf("logs: exit %d\n%s%s", code, stdout, stderr)
	}
}
