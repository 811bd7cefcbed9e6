package accuracy

import (
	"fmt"
	"strings"
	"testing"
)

// evalShard writes the prediction file qcal eval -shard k/n -o writes for
// a data set of size examples: every n-th example from k, with ids like
// qcal's (file:index). Example i has label i%10; the model is right unless
// wrong(i).
func evalShard(k, n, size int, wrong func(int) bool) string {
	var b strings.Builder
	b.WriteString("id,label,prediction,top5,score\n")
	for i := k; i < size; i += n {
		pred := i % 10
		if wrong(i) {
			pred = (i + 1) % 10
		}
		fmt.Fprintf(&b, "t10k-images-idx3-ubyte.gz:%d,%d,%d,%d|%d|%d|%d|%d,0.9\n", i, i%10, pred, pred, (pred+1)%10, (pred+2)%10, (pred+3)%10, i%10)
	}
	return b.String()
}

func sharded(name string, files map[string]string, order ...string) Source {
	s := Source{Name: name, File: order[0], R: strings.NewReader(files[order[0]])}
	for _, f := range order[1:] {
		s.Shards = append(s.Shards, Shard{File: f, R: strings.NewReader(files[f])})
	}
	return s
}

func TestCompareShardsMatchesOneFile(t *testing.T) {
	fpWrong := func(i int) bool { return i%17 == 0 }              // 0, 17, ..., 1989: 118 of 2000
	q8Wrong := func(i int) bool { return i%17 == 0 || i%50 == 3 } // adds 40, of which 3 are shared (i ≡ 153 mod 850: 153, 1003, 1853)
	files := map[string]string{
		"fp32-0.csv": evalShard(0, 2, 2000, fpWrong), "fp32-1.csv": evalShard(1, 2, 2000, fpWrong),
		"int8-0.csv": evalShard(0, 3, 2000, q8Wrong), "int8-1.csv": evalShard(1, 3, 2000, q8Wrong), "int8-2.csv": evalShard(2, 3, 2000, q8Wrong),
		"fp32.csv": evalShard(0, 1, 2000, fpWrong), "int8.csv": evalShard(0, 1, 2000, q8Wrong),
	}
	one, err := Compare(sharded("fp32", files, "fp32.csv"), []Source{sharded("int8", files, "int8.csv")}, Options{Target: DefaultTarget})
	if err != nil {
		t.Fatal(err)
	}
	many, err := Compare(sharded("fp32", files, "fp32-0.csv", "fp32-1.csv"),
		[]Source{sharded("int8", files, "int8-2.csv", "int8-0.csv", "int8-1.csv")}, Options{Target: DefaultTarget})
	if err != nil {
		t.Fatal(err)
	}
	a, b := one.Candidates[0].Paired, many.Candidates[0].Paired
	if a.Counts != b.Counts || a.Int8Rows != b.Int8Rows || b.Missing != 0 || b.Extra != 0 {
		t.Errorf("sharded counts %+v (rows %d, missing %d, extra %d), one file %+v", b.Counts, b.Int8Rows, b.Missing, b.Extra, a.Counts)
	}
	// FP32 wrong on 118 ids (⌈2000/17⌉), int8 on those and 40 more
	// (i%50 == 3) of which 3 are shared: 37 discordant, FP32 right.
	if b.Counts.FP32Only != 37 || b.Counts.Int8Only != 0 || b.Counts.Neither != 118 || b.Counts.N() != 2000 {
		t.Errorf("counts %+v, want FP32Only 37, Int8Only 0, Neither 118, N 2000", b.Counts)
	}
	if many.Baseline.Accuracy.File != "fp32-0.csv +1 shards" || many.Candidates[0].Accuracy.File != "int8-2.csv +2 shards" {
		t.Errorf("files %q %q", many.Baseline.Accuracy.File, many.Candidates[0].Accuracy.File)
	}
}

func TestCompareShardsErrors(t *testing.T) {
	ok := func(int) bool { return false }
	files := map[string]string{
		"fp32-0.csv": evalShard(0, 2, 20, ok), "fp32-1.csv": evalShard(1, 2, 20, ok),
		"int8-0.csv": evalShard(0, 2, 20, ok), "int8-1.csv": evalShard(1, 2, 20, ok),
		"copy-0.csv": evalShard(0, 2, 20, ok), "int8.log": "Processed 10 images. (Top1 accuracy, Top5 accuracy) = (1.0000, 1.0000)\n",
	}
	for _, tc := range []struct {
		name       string
		fp32, int8 []string
		want       string
	}{
		{"int8 shards overlap", []string{"fp32-0.csv", "fp32-1.csv"}, []string{"int8-0.csv", "int8-1.csv", "copy-0.csv"},
			`copy-0.csv:2: id "t10k-images-idx3-ubyte.gz:0" is also in int8-0.csv: shards overlap`},
		{"fp32 shards overlap", []string{"fp32-0.csv", "copy-0.csv"}, []string{"int8-0.csv"},
			`copy-0.csv:2: id "t10k-images-idx3-ubyte.gz:0" is also in fp32-0.csv: shards overlap`},
		{"mixed kinds", []string{"fp32-0.csv", "fp32-1.csv"}, []string{"int8-0.csv", "int8.log"},
			"int8.log is a log but int8-0.csv is a prediction file: the shards of one side must be alike"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Compare(sharded("fp32", files, tc.fp32...), []Source{sharded("int8", files, tc.int8...)}, Options{Target: DefaultTarget})
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("error %v\nwant %s", err, tc.want)
			}
		})
	}
}

// TestCompareShardMissing: int8 ran shards 0/3 and 1/3 but not 2/3, so it
// covers 667 + 667 = 1334 of 2000 ids (66.70%) and fails.
func TestCompareShardMissing(t *testing.T) {
	ok := func(int) bool { return false }
	files := map[string]string{"fp32.csv": evalShard(0, 1, 2000, ok), "int8-0.csv": evalShard(0, 3, 2000, ok), "int8-1.csv": evalShard(1, 3, 2000, ok)}
	c, err := Compare(sharded("fp32", files, "fp32.csv"), []Source{sharded("int8", files, "int8-0.csv", "int8-1.csv")}, Options{Target: DefaultTarget})
	if err != nil {
		t.Fatal(err)
	}
	want := "VERDICT: FAIL int8: top1 100.00 vs FP32 100.00 on 1334 matched ids (FP32 has 2000, int8 1334), drop 0.00 points ≤ 0.50; " +
		"unfair: int8 covers 66.70% of the FP32 ids, below the 99.00% required; not distinguishable from zero (McNemar exact p = 1)"
	if c.Summary() != want {
		t.Errorf("got  %s\nwant %s", c.Summary(), want)
	}
}

func TestCompareLogShards(t *testing.T) {
	files := map[string]string{
		"fp32.log":   "Processed 10000 images. (Top1 accuracy, Top5 accuracy) = (0.7650, 0.9250)\n",
		"int8-0.log": "Processed 5000 images. (Top1 accuracy, Top5 accuracy) = (0.7600, 0.9300)\n",
		"int8-1.log": "Processed 5000 images. (Top1 accuracy, Top5 accuracy) = (0.7500, 0.9100)\n",
		"inc.log":    "Accuracy: 0.7600\n",
	}
	c, err := Compare(sharded("fp32", files, "fp32.log"), []Source{sharded("int8", files, "int8-0.log", "int8-1.log")}, Options{Target: DefaultTarget})
	if err != nil {
		t.Fatal(err)
	}
	// (76.00·5000 + 75.00·5000)/10000 = 75.50; top5 (93 + 91)/2 = 92.
	m := c.Candidates[0]
	if !near(m.Value, 75.5, 1e-9) || !near(m.Accuracy.Metrics["top5"], 92, 1e-9) || m.Accuracy.Samples != 10000 || !near(m.Drop, 1.0, 1e-9) || m.Verdict != Warn {
		t.Errorf("value %v top5 %v samples %d drop %v %s", m.Value, m.Accuracy.Metrics["top5"], m.Accuracy.Samples, m.Drop, m.Verdict)
	}
	if len(m.Notes) != 1 || !strings.HasPrefix(m.Notes[0], "merged 2 shard logs, 10000 samples, weighting each by its sample count: int8-0.log (5000), int8-1.log (5000)") {
		t.Errorf("notes %q", m.Notes)
	}
	_, err = Compare(sharded("fp32", files, "fp32.log"), []Source{sharded("int8", files, "int8-0.log", "inc.log")}, Options{Target: DefaultTarget})
	if err == nil || !strings.HasPrefix(err.Error(), "inc.log: the log gives no sample count, so it cannot be merged") {
		t.Errorf("error %v", err)
	}
}
