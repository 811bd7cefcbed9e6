package accuracy

import (
	"bytes"
	"compress/gzip"
	"io"
	"math"
	"runtime"
	"strings"
	"testing"
)

// The log lines below are written from the formats documented in
// TF-FORMATS.md §7 (IntelAI models, Intel Neural Compressor, pycocotools).

const cocoSummary = ` Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.215
 Average Precision  (AP) @[ IoU=0.50      | area=   all | maxDets=100 ] = 0.372
 Average Precision  (AP) @[ IoU=0.75      | area=   all | maxDets=100 ] = 0.217
 Average Precision  (AP) @[ IoU=0.50:0.95 | area= small | maxDets=100 ] = 0.034
 Average Precision  (AP) @[ IoU=0.50:0.95 | area=medium | maxDets=100 ] = 0.182
 Average Precision  (AP) @[ IoU=0.50:0.95 | area= large | maxDets=100 ] = 0.366
 Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets=  1 ] = 0.207
 Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets= 10 ] = 0.306
 Average Recall     (AR) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.323
 Average Recall     (AR) @[ IoU=0.50:0.95 | area= small | maxDets=100 ] = -1.000
 Average Recall     (AR) @[ IoU=0.50:0.95 | area=medium | maxDets=100 ] = 0.321
 Average Recall     (AR) @[ IoU=0.50:0.95 | area= large | maxDets=100 ] = 0.520
`

// extractCase is one log Extract reads and what it must find there.
type extractCase struct {
	name    string
	log     string
	opts    ExtractOptions
	format  InputFormat
	metric  string
	value   float64
	samples int64
	line    int
	others  map[string]float64
}

// runExtractCases runs Extract on each case's log as a subtest.
func runExtractCases(t *testing.T, tests []extractCase) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			acc, err := Extract(strings.NewReader(tc.log), "x.log", tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if acc.Format != tc.format || acc.Metric != tc.metric || acc.Samples != tc.samples || acc.Line != tc.line {
				t.Errorf("got format %s metric %q samples %d line %d, want %s %q %d %d",
					acc.Format, acc.Metric, acc.Samples, acc.Line, tc.format, tc.metric, tc.samples, tc.line)
			}
			if !near(acc.Value(), tc.value, 1e-9) {
				t.Errorf("value %v, want %v", acc.Value(), tc.value)
			}
			for k, v := range tc.others {
				if got, ok := acc.Metrics[k]; !ok || !near(got, v, 1e-9) {
					t.Errorf("metric %s = %v (present %v), want %v", k, got, ok, v)
				}
			}
		})
	}
}

func TestExtract(t *testing.T) {
	tests := []extractCase{
		{
			name: "intelai last line wins",
			log: "Iteration 1: 0.021 sec\n" +
				"Processed 10000 images. (Top1 accuracy, Top5 accuracy) = (0.7400, 0.9170)\n" +
				"Iteration 2: 0.020 sec\n" +
				"Processed 49800 images. (Top1 accuracy, Top5 accuracy) = (0.7386, 0.9168)\n" +
				"Ran inference with batch size 100\n",
			format: InputIntelAI, metric: "top1", value: 73.86, samples: 49800, line: 4,
			others: map[string]float64{"top5": 91.68},
		},
		{
			name:   "intelai top5 by -metric",
			log:    "Processed 49800 images. (Top1 accuracy, Top5 accuracy) = (0.7386, 0.9168)\n",
			opts:   ExtractOptions{Metric: "top5"},
			format: InputIntelAI, metric: "top5", value: 91.68, samples: 49800, line: 1,
		},
		{
			name:   "inc plain accuracy",
			log:    "Batch size = 1\nAccuracy: 0.76120\nThroughput: 120.5 images/sec\n",
			format: InputINC, metric: "accuracy", value: 76.12, line: 2,
		},
		{
			name:   "inc percent spelling",
			log:    "2024-01-01 10:00:00 [INFO] Accuracy: 76.12%\n",
			format: InputINC, metric: "accuracy", value: 76.12, line: 1,
		},
		{
			name: "inc tuning log as fp32",
			log: "[INFO] Accuracy: 0.7612\n" +
				"[INFO] FP32 baseline is: [Accuracy: 0.7612, Duration (seconds): 103.4103]\n" +
				"[INFO] Accuracy: 0.7590\n" +
				"[INFO] Tune 1 result is: [Accuracy (int8|fp32): 0.7590|0.7612, Duration (seconds) (int8|fp32): 50.1234|103.4103], Best tune result is: [Accuracy: 0.7590, Duration (seconds): 50.1234]\n",
			opts:   ExtractOptions{Role: RoleFP32},
			format: InputINC, metric: "accuracy", value: 76.12, line: 2,
		},
		{
			name: "inc tuning log as int8",
			log: "[INFO] FP32 baseline is: [Accuracy: 0.7612, Duration (seconds): 103.4103]\n" +
				"[INFO] Tune 1 result is: [Accuracy (int8|fp32): 0.7540|0.7612, Duration (seconds) (int8|fp32): 50.1|103.4], Best tune result is: n/a\n" +
				"[INFO] Tune 2 result is: [Accuracy (int8|fp32): 0.7590|0.7612, Duration (seconds) (int8|fp32): 50.1|103.4], Best tune result is: [Accuracy: 0.7590, Duration (seconds): 50.1]\n" +
				"[INFO] Accuracy: 0.7000\n",
			opts:   ExtractOptions{Role: RoleInt8},
			format: InputINC, metric: "accuracy", value: 75.90, line: 3,
		},
		{
			name:   "inc tune line without best",
			log:    "Tune 1 result is: [Accuracy (int8|fp32): 0.7540|0.7612, Duration (seconds) (int8|fp32): 50.1|103.4]\n",
			opts:   ExtractOptions{Role: RoleInt8},
			format: InputINC, metric: "accuracy", value: 75.40, line: 1,
		},
		{
			name:   "coco summary",
			log:    "Accumulating evaluation results...\nDONE (t=1.2s).\n" + cocoSummary,
			format: InputCOCO, metric: "AP@[.50:.95,all,100]", value: 21.5, line: 3,
			others: map[string]float64{
				"AP@[.50,all,100]": 37.2, "AP@[.75,all,100]": 21.7, "AP@[.50:.95,small,100]": 3.4,
				"AP@[.50:.95,medium,100]": 18.2, "AP@[.50:.95,large,100]": 36.6,
				"AR@[.50:.95,all,1]": 20.7, "AR@[.50:.95,all,10]": 30.6, "AR@[.50:.95,all,100]": 32.3,
				"AR@[.50:.95,medium,100]": 32.1, "AR@[.50:.95,large,100]": 52.0,
			},
		},
		{
			name:   "coco mAP alias",
			log:    cocoSummary,
			opts:   ExtractOptions{Metric: "mAP"},
			format: InputCOCO, metric: "AP@[.50:.95,all,100]", value: 21.5, line: 1,
		},
		{
			name:   "coco other line by -metric",
			log:    cocoSummary,
			opts:   ExtractOptions{Metric: "AP@[.50,all,100]"},
			format: InputCOCO, metric: "AP@[.50,all,100]", value: 37.2, line: 2,
		},
		{
			name:   "json line",
			log:    "loading model\n{\"top1\": 0.7612, \"top5\": 0.9290, \"samples\": 50000, \"duration\": 103.4}\n",
			format: InputJSON, metric: "top1", value: 76.12, samples: 50000, line: 2,
			others: map[string]float64{"top5": 92.90},
		},
		{
			name:   "json aliases",
			log:    `{"Top1_Accuracy": "76.12%", "acc5": 92.9}` + "\n",
			format: InputJSON, metric: "top1", value: 76.12, line: 1,
			others: map[string]float64{"top5": 92.9},
		},
		{
			name:   "json pretty file",
			log:    "{\n  \"model\": \"resnet50\",\n  \"eval\": {\n    \"accuracy\": 0.7590\n  }\n}\n",
			format: InputJSON, metric: "eval.accuracy", value: 75.90,
		},
		{
			name:   "json named metric",
			log:    `{"bleu": 27.3, "accuracy": 0.5}` + "\n",
			opts:   ExtractOptions{Metric: "bleu"},
			format: InputJSON, metric: "bleu", value: 27.3, line: 1,
		},
		{
			name:   "generic colon",
			log:    "epoch 3\nval mAP: 0.352\nmAP: 0.361\n",
			opts:   ExtractOptions{Metric: "mAP"},
			format: InputMetric, metric: "mAP", value: 36.1, line: 3,
		},
		{
			name:   "generic equals, case-insensitive, percent",
			log:    "I0101 12:00:00.1 eval.py:40] F1 = 88.5%\n",
			opts:   ExtractOptions{Metric: "f1"},
			format: InputMetric, metric: "f1", value: 88.5, line: 1,
		},
		{
			name: "agreeing formats",
			log: "Processed 50000 images. (Top1 accuracy, Top5 accuracy) = (0.7612, 0.9290)\n" +
				"Accuracy: 0.76120\n",
			format: InputINC, metric: "accuracy", value: 76.12, samples: 50000, line: 2,
			others: map[string]float64{"top1": 76.12, "top5": 92.90},
		},
		{
			name:   "braces that are not JSON",
			log:    "{INFO} starting\n{INFO} Accuracy: 0.7612\n",
			format: InputINC, metric: "accuracy", value: 76.12, line: 2,
		},
		{
			name:   "crlf and no final newline",
			log:    "Batch size = 1\r\nAccuracy: 0.7612",
			format: InputINC, metric: "accuracy", value: 76.12, line: 2,
		},
	}
	runExtractCases(t, tests)
}

func TestExtractCOCOSkipsMissing(t *testing.T) {
	acc, err := Extract(strings.NewReader(cocoSummary), "coco.log", ExtractOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(acc.Metrics) != 11 {
		t.Errorf("got %d metrics, want 11 (12 lines, one -1.000): %v", len(acc.Metrics), acc.Metrics)
	}
	if _, ok := acc.Metrics["AR@[.50:.95,small,100]"]; ok {
		t.Error("the -1.000 (no objects) line was kept")
	}
}

func TestExtractErrors(t *testing.T) {
	tests := []struct {
		name, log string
		opts      ExtractOptions
		want      []string
	}{
		{"empty", "", ExtractOptions{}, []string{"int8.log: empty file"}},
		{"no accuracy", "loading graph\nrunning\n", ExtractOptions{},
			[]string{`int8.log: no accuracy found (looked for: "Processed N images. (Top1 accuracy, Top5 accuracy) = (a, b)", "Accuracy: x"`, `COCO "Average Precision", JSON objects, MLPerf`, `3D-UNet "Accuracy: mean = x")`}},
		{"no named metric", "Accuracy: 0.76\n", ExtractOptions{Metric: "bleu"},
			[]string{`int8.log: no metric "bleu" found`, `"bleu: x"`}},
		{"conflicting formats",
			"Processed 50000 images. (Top1 accuracy, Top5 accuracy) = (0.7386, 0.9168)\nAccuracy: 0.7590\n", ExtractOptions{},
			[]string{"int8.log: ambiguous accuracy", `"Processed N images" line on line 1 says top1 = 73.86`, `"Accuracy: x" line on line 2 says accuracy = 75.90`, "-metric"}},
		{"coco and classification", cocoSummary + `{"top1": 0.76}` + "\n", ExtractOptions{},
			[]string{"ambiguous accuracy", "AP@[.50:.95,all,100] = 21.50", "top1 = 76.00"}},
		{"not a percentage", "Accuracy: 176.5\n", ExtractOptions{},
			[]string{"int8.log: accuracy = 176.5", "is not a percentage"}},
		{"bad intelai value", "Processed 10 images. (Top1 accuracy, Top5 accuracy) = (0.7x, 0.9)\n", ExtractOptions{},
			[]string{`int8.log:1: bad Top1 accuracy value "0.7x"`}},
		{"intelai count mismatch", "Processed 10 images. (Top1 accuracy, Top5 accuracy) = (0.7)\n", ExtractOptions{},
			[]string{"int8.log:1: 2 names but 1 values"}},
		{"inc tuning log without int8 result", "FP32 baseline is: [Accuracy: 0.7612, Duration (seconds): 1]\n", ExtractOptions{Role: RoleInt8},
			[]string{"no accuracy found"}},
		{"bad json file", "{\n \"top1\": 0.7,\n", ExtractOptions{}, []string{"int8.log: bad JSON"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Extract(strings.NewReader(tc.log), "int8.log", tc.opts)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestExtractPercentNormalisation(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want float64
	}{
		{"0.7612", 76.12}, {"76.12", 76.12}, {"76.12%", 76.12}, {"76.12 %", 76.12}, {"1", 100}, {"1.0", 100},
		{"0.5%", 0.5}, {"7.612e-1", 76.12}, {".5", 50}, {"100", 100},
	} {
		v, ok := parseValue([]byte(tc.in), 1)
		if !ok || !near(v.v, tc.want, 1e-9) {
			t.Errorf("parseValue(%q) = %v, %v; want %v", tc.in, v.v, ok, tc.want)
		}
	}
	for _, bad := range []string{"", "x", "nan", "1.2.3", "%"} {
		if _, ok := parseValue([]byte(bad), 1); ok {
			t.Errorf("parseValue(%q) succeeded", bad)
		}
	}
}

func TestExtractGzip(t *testing.T) {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	io.WriteString(zw, "Accuracy: 0.7612\n")
	zw.Close()
	acc, err := Extract(&b, "x.log.gz", ExtractOptions{})
	if err != nil || !near(acc.Value(), 76.12, 1e-9) {
		t.Fatalf("got %v, %v", acc, err)
	}
}

// TestExtractLongLines checks that a line longer than any buffer is read
// (its start examined) and that the next line is still found.
func TestExtractLongLines(t *testing.T) {
	long := "__requant_min_max:[" + strings.Repeat("-1.5,", 3<<20/5) + "]"
	log := "Accuracy: 0.5\n" + long + "\n" + "Processed 100 images. (Top1 accuracy, Top5 accuracy) = (0.5000, 0.9000)\n"
	acc, err := Extract(strings.NewReader(log), "x.log", ExtractOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if acc.Line != 3 || !near(acc.Metrics["top5"], 90, 1e-9) {
		t.Errorf("got line %d, metrics %v", acc.Line, acc.Metrics)
	}
}

// noisyLog generates n lines of calibration noise with an accuracy line
// every 1000 lines, without holding the log in memory.
type noisyLog struct {
	n, i int
	buf  []byte
}

func (l *noisyLog) Read(p []byte) (int, error) {
	for len(l.buf) < len(p) && l.i < l.n {
		l.i++
		if l.i%1000 == 0 {
			l.buf = append(l.buf, "Processed 1000 images. (Top1 accuracy, Top5 accuracy) = (0.7612, 0.9290)\n"...)
		} else {
			l.buf = append(l.buf, "I tensorflow/core/kernels/logging_ops.cc:79] conv1_eightbit_requant_range__print__;__requant_min_max:[-12.34][56.78]\n"...)
		}
	}
	if len(l.buf) == 0 {
		return 0, io.EOF
	}
	n := copy(p, l.buf)
	l.buf = l.buf[:copy(l.buf, l.buf[n:])]
	return n, nil
}

// TestExtractStreamsFlat reads a 1,000,000-line log and checks the heap
// after GC stays small: the extractor keeps nothing per line.
func TestExtractStreamsFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000,000 lines")
	}
	var peak uint64
	r := &probe{r: &noisyLog{n: 1_000_000}, every: 10 << 20, peak: &peak}
	acc, err := Extract(r, "big.log", ExtractOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if acc.Line != 1_000_000 || r.probes < 10 {
		t.Errorf("line %d, %d probes", acc.Line, r.probes)
	}
	t.Logf("peak heap in use after GC: %d bytes over %d probes of %d bytes read", peak, r.probes, r.n)
	// Bound: the 64 KiB reader, regexps and the test's own buffers; a
	// reader that kept each ~110-byte line would need 110 MB.
	if peak > 8<<20 {
		t.Errorf("heap in use after GC reached %d bytes reading a 110 MB log", peak)
	}
}

// probe wraps a reader and records, every so many bytes, the heap in use
// after a GC.
type probe struct {
	r      io.Reader
	n      int64
	next   int64
	every  int64
	peak   *uint64
	probes int
}

func (p *probe) Read(b []byte) (int, error) {
	if p.n >= p.next {
		p.next += p.every
		p.probes++
		*p.peak = max(*p.peak, heapInUse())
	}
	n, err := p.r.Read(b)
	p.n += int64(n)
	return n, err
}

func heapInUse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

// FuzzExtractAccuracy checks that no input makes the extractor panic and
// that a result is a percentage found on a line of the input.
func FuzzExtractAccuracy(f *testing.F) {
	for _, s := range []string{
		"Processed 49800 images. (Top1 accuracy, Top5 accuracy) = (0.7386, 0.9168)\n",
		"Accuracy: 0.76120\n",
		"FP32 baseline is: [Accuracy: 0.7612, Duration (seconds): 1]\nTune 1 result is: [Accuracy (int8|fp32): 0.7590|0.7612, x], Best tune result is: [Accuracy: 0.7590, y]\n",
		cocoSummary,
		`{"top1": 0.76, "eval": {"top5": "92%"}}`,
		"{\n\"accuracy\": 1e-1\n}",
		"Processed 1 images. () = ()\n",
		"acc: 5\naccuracy=0.5\n",
	} {
		f.Add(s, "")
		f.Add(s, "acc")
	}
	f.Fuzz(func(t *testing.T, log, metric string) {
		for _, role := range []Role{RoleFP32, RoleInt8} {
			acc, err := Extract(strings.NewReader(log), "fuzz.log", ExtractOptions{Metric: metric, Role: role})
			if err != nil {
				if !strings.HasPrefix(err.Error(), "fuzz.log") && !strings.HasPrefix(err.Error(), "bad metric name") {
					t.Fatalf("error without the file name: %v", err)
				}
				continue
			}
			v := acc.Value()
			if !acc.LowerBetter && (v < 0 || v > 100+1e-9) || math.IsNaN(v) {
				t.Fatalf("value %v out of range", v)
			}
			if acc.Line < 0 || acc.Line > strings.Count(log, "\n")+1 {
				t.Fatalf("line %d out of range", acc.Line)
			}
		}
	})
}
