package accuracy

import (
	"strings"
	"testing"
)

// Each log below is shaped like the lines the named tool prints (issue
// 15); the numbers are invented. A value's scale comes from the format:
// MLPerf, accuracy_checker and PyTorch/timm print percentages, the
// TensorFlow tools, DIEN, 3D-UNet and pycocotools fractions.

const timmResult = `Test: [   0/196]  Time: 2.105s (2.105s, 121.62/s)  Loss:  0.4336 (0.4336)  Acc@1:  90.2344 ( 90.2344)  Acc@5:  98.0469 ( 98.0469)
Test: [ 195/196]  Time: 0.410s (0.430s, 595.35/s)  Loss:  1.1243 (0.8432)  Acc@1:  71.2500 ( 80.3740)  Acc@5:  92.5000 ( 94.6160)
 * Acc@1 80.374 (19.626) Acc@5 94.616 (5.384)
--result
{
    "model": "resnet50",
    "top1": 80.374,
    "top1_err": 19.626,
    "top5": 94.616,
    "top5_err": 5.384,
    "param_count": 25.56,
    "img_size": 224,
    "crop_pct": 0.95,
    "interpolation": "bicubic"
}
`

func TestExtractToolFormats(t *testing.T) {
	tests := []extractCase{
		{name: "mlperf imagenet", log: "Loading ImageNet\naccuracy=75.788%, good=37894, total=50000\n",
			format: InputMLPerf, metric: "accuracy", value: 75.788, samples: 50000, line: 2},
		{name: "mlperf coco", log: "loading annotations into memory...\nmAP=37.552%\n",
			format: InputMLPerf, metric: "mAP", value: 37.552, line: 2},
		{name: "openvino accuracy_checker",
			log:    "Processing info:\nmodel: resnet-50\nlauncher: openvino\ndataset: imagenet_1000_classes\naccuracy@top1: 76.17%\naccuracy@top5: 92.86%\n",
			format: InputOpenVINO, metric: "top1", value: 76.17, line: 5, others: map[string]float64{"top5": 92.86}},
		{name: "tf estimator", log: "INFO:tensorflow:Evaluation [100/100]\n" +
			"INFO:tensorflow:Saving dict for global step 20000: accuracy = 0.9928, global_step = 20000, loss = 0.02345\n",
			format: InputEstimator, metric: "accuracy", value: 99.28, line: 2, others: map[string]float64{"loss": 0.02345}},
		// Shapes seen in the wild: glog prefix, BERT's eval_ keys, a
		// trailing period.
		{name: "tf estimator, glog and eval_ keys", log: "I0812 00:05:39.419336 110613 estimator.py:1766] Saving dict for global step 21000: eval_accuracy = 0.9930421, eval_loss = 1.6283314, global_step = 21000, loss = 0.5836665.\n",
			format: InputEstimator, metric: "accuracy", value: 99.30421, line: 1, others: map[string]float64{"loss": 0.5836665}},
		{name: "pytorch top-1 only", log: " * Acc@1 71.880\n", format: InputTorch, metric: "top1", value: 71.88, line: 1},
		{name: "tf-slim", log: "INFO:tensorflow:Evaluation [50/50]\nINFO:tensorflow:eval/Accuracy[0.7588]\nINFO:tensorflow:eval/Recall_5[0.9276]\n",
			format: InputSlim, metric: "accuracy", value: 75.88, line: 2, others: map[string]float64{"top5": 92.76}},
		{name: "tf-slim by -metric", log: "INFO:tensorflow:eval/Accuracy[0.7588]\nINFO:tensorflow:eval/Recall_5[0.9276]\n",
			opts: ExtractOptions{Metric: "Recall_5"}, format: InputSlim, metric: "top5", value: 92.76, line: 2},
		{name: "bert", log: "INFO:tensorflow:***** Eval results *****\nINFO:tensorflow:  eval_accuracy = 0.8455882\n" +
			"INFO:tensorflow:  eval_loss = 0.42241\nINFO:tensorflow:  global_step = 343\nINFO:tensorflow:  loss = 0.42241\n",
			format: InputBERT, metric: "accuracy", value: 84.55882, line: 2, others: map[string]float64{"loss": 0.42241}},
		{name: "dien", log: "iter: 1000 ----> train_loss: 0.5012 ---- train_accuracy: 0.7531 ---- tran_aux_loss: 0.4812\n" +
			"test_auc: 0.7756 ---- test_loss: 0.5234 ---- test_accuracy: 0.7155 ---- test_aux_loss: 0.4531\n",
			format: InputDIEN, metric: "accuracy", value: 71.55, line: 2, others: map[string]float64{"auc": 77.56}},
		{name: "pytorch imagenet example", log: "Test: [190/196]\tTime  0.105 ( 0.150)\tLoss 1.2e+00 (9.6e-01)\tAcc@1  71.88 ( 76.03)\tAcc@5  90.62 ( 92.85)\n * Acc@1 76.130 Acc@5 92.862\n",
			format: InputTorch, metric: "top1", value: 76.13, line: 2, others: map[string]float64{"top5": 92.862}},
		// The " * Acc@1" line and the --result block agree (80.374).
		{name: "timm validate with --result", log: timmResult, format: InputJSON, metric: "top1", value: 80.374, line: 5,
			others: map[string]float64{"top5": 94.616}},
		// timm's JSON is in percent (it has top1_err): 0.5 is 0.5%.
		{name: "timm result json scale", log: `{"model": "bad", "top1": 0.5, "top1_err": 99.5, "top5": 2.1, "top5_err": 97.9}` + "\n",
			format: InputJSON, metric: "top1", value: 0.5, line: 1},
		{name: "3d-unet", log: "Loading BraTS validation set\nAccuracy: mean = 0.85300, whole tumor = 0.9141, tumor core = 0.8679, enhancing tumor = 0.7770\n",
			format: InputUNet3D, metric: "accuracy", value: 85.3, line: 2,
			others: map[string]float64{"whole_tumor": 91.41, "tumor_core": 86.79, "enhancing_tumor": 77.70}},
		// Issue 15: "Acc@1:0.10" is a percentage (timm and PyTorch print
		// Acc@1 in percent), not 10%.
		{name: "acc@1 is a percentage", log: "Acc@1:0.10\n", opts: ExtractOptions{Metric: "Acc@1"},
			format: InputMetric, metric: "Acc@1", value: 0.10, line: 1},
		// -metric prefers a summary line to later progress lines.
		{name: "-metric prefers the summary", log: "val_f1: 0.8812\nstep 10/50 val_f1: 0.9100\nstep 20/50 val_f1: 0.7000\n",
			opts: ExtractOptions{Metric: "val_f1"}, format: InputMetric, metric: "val_f1", value: 88.12, line: 1},
		{name: "coco bbox by -metric", log: maskRCNNLog, opts: ExtractOptions{Metric: "bbox"},
			format: InputCOCO, metric: "AP@[.50:.95,all,100]", value: 37.8, line: 3},
		{name: "coco segm by -metric", log: maskRCNNLog, opts: ExtractOptions{Metric: "segm"},
			format: InputCOCO, metric: "AP@[.50:.95,all,100]", value: 34.4, line: 16},
		{name: "coco segm line by -metric", log: maskRCNNLog, opts: ExtractOptions{Metric: "segm.AP@[.50,all,100]"},
			format: InputCOCO, metric: "segm.AP@[.50,all,100]", value: 55.9, line: 17},
		{name: "perplexity is raw", log: "eval perplexity: 20.53\n", opts: ExtractOptions{Metric: "perplexity"},
			format: InputMetric, metric: "perplexity", value: 20.53, line: 1},
		{name: "wer below 1 is raw", log: "WER = 0.083\n", opts: ExtractOptions{Metric: "WER"},
			format: InputMetric, metric: "WER", value: 0.083, line: 1},
	}
	runExtractCases(t, tests)
}

// maskRCNNLog has a bbox summary (lines 3-14) then a segm one (16-27).
var maskRCNNLog = "Evaluate annotation type *bbox*\nDONE (t=10.1s).\n" +
	strings.Replace(strings.Replace(cocoSummary, "= 0.215", "= 0.378", 1), "= 0.372", "= 0.592", 1) +
	"Evaluate annotation type *segm*\n" +
	strings.Replace(strings.Replace(cocoSummary, "= 0.215", "= 0.344", 1), "= 0.372", "= 0.559", 1)

func TestExtractRefusesSeveralCandidates(t *testing.T) {
	for _, tc := range []struct {
		name, log, want string
	}{
		// Issue 15: the segm summary silently won over bbox.
		{"coco bbox and segm", maskRCNNLog,
			"x.log: 2 COCO summaries: bbox (lines 3-14, AP 37.80), segm (lines 16-27, AP 34.40); choose one with -metric bbox"},
		{"coco unlabelled", cocoSummary + cocoSummary,
			`x.log: 2 COCO summaries: summary 1 (lines 1-12, AP 21.50), summary 2 (lines 13-24, AP 21.50); label them with pycocotools' "Evaluate annotation type *bbox*" lines`},
		{"top1 of two datasets", `{"imagenet": {"top1": 0.7612}, "imagenet_v2": {"top1": 0.6401}}` + "\n",
			"x.log: 2 metrics could be top1: imagenet.top1 = 76.12, imagenet_v2.top1 = 64.01; choose one with -metric imagenet.top1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Extract(strings.NewReader(tc.log), "x.log", ExtractOptions{})
			if err == nil || err.Error() != tc.want {
				t.Errorf("error %v\nwant %s", err, tc.want)
			}
		})
	}
}

// TestExtractNotes checks that the reader is told which line -metric used
// and when a scale was guessed.
func TestExtractNotes(t *testing.T) {
	for _, tc := range []struct {
		name, log string
		opts      ExtractOptions
		want      string
	}{
		{"summary", "val_f1: 0.8812\nstep 10/50 val_f1: 0.9100\n", ExtractOptions{Metric: "val_f1"},
			`-metric val_f1: read from the summary line 1, "val_f1: 0.8812" (per-batch progress lines, the last on line 2, were passed over); ` +
				"val_f1 (line 1) has no % sign and its format does not say whether it prints fractions or percentages; read as 88.12% by its size (a bare number ≤ 1 is a fraction, a larger one a percentage)"},
		// A date with slashes does not make a line a progress line.
		{"dated summary", "2024/05/01 10:00:00 val_f1: 0.8812\n", ExtractOptions{Metric: "val_f1"},
			`-metric val_f1: read from the summary line 1, "2024/05/01 10:00:00 val_f1: 0.8812"; ` +
				"val_f1 (line 1) has no % sign and its format does not say whether it prints fractions or percentages; read as 88.12% by its size (a bare number ≤ 1 is a fraction, a larger one a percentage)"},
		{"progress only", "Test: [ 10/196] Acc@1: 71.2 ( 80.1)\n", ExtractOptions{Metric: "Acc@1"},
			`-metric Acc@1: no summary line has it; read from the last per-batch progress line, 1: "Test: [ 10/196] Acc@1: 71.2 ( 80.1)"`},
		{"known scale: no note", "accuracy@top1: 76.17%\n", ExtractOptions{}, ""},
		// Per-epoch "Accuracy:" lines: the last is used, and said so (plus
		// the guessed scale: the generic line does not say).
		{"repeated plain accuracy", "Epoch 1\nAccuracy: 0.7012\nEpoch 2\nAccuracy: 0.7598\n", ExtractOptions{},
			`the "Accuracy: x" line gives accuracy 2 times with different values; the last (line 4) is used, the earlier were line 2: 70.12; split the log if they are different evaluations; ` +
				"accuracy (line 4) has no % sign and its format does not say whether it prints fractions or percentages; read as 75.98% by its size (a bare number ≤ 1 is a fraction, a larger one a percentage)"},
		// Two validation runs in one log: the last is used, and said so.
		{"repeated summary", " * Acc@1 76.104 (23.896) Acc@5 92.862 (7.138)\nvalidating imagenet-v2\n * Acc@1 64.020 (35.980) Acc@5 85.120 (14.880)\n", ExtractOptions{},
			`the PyTorch/timm " * Acc@1 x Acc@5 y" line gives top1 2 times with different values; the last (line 3) is used, the earlier were line 1: 76.10; split the log if they are different evaluations`},
		{"estimator steps", "Saving dict for global step 1000: accuracy = 0.9812, global_step = 1000, loss = 0.06\nSaving dict for global step 2000: accuracy = 0.9928, global_step = 2000, loss = 0.02\n", ExtractOptions{},
			`the TF Estimator "Saving dict for global step" line gives accuracy 2 times with different values; the last (line 2) is used, the earlier were line 1: 98.12; split the log if they are different evaluations`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			acc, err := Extract(strings.NewReader(tc.log), "x.log", tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(acc.Notes, "; "); got != tc.want {
				t.Errorf("notes %q\nwant  %q", got, tc.want)
			}
		})
	}
}

func TestCompareLowerIsBetter(t *testing.T) {
	for _, tc := range []struct {
		fp32, int8, metric string
		flag               bool
		drop               float64
		verdict            Verdict
	}{
		// 21.10 − 20.50 = 0.60 more perplexity: a drop of 0.60 units, WARN.
		{"perplexity: 20.50\n", "perplexity: 21.10\n", "perplexity", false, 0.60, Warn},
		// Lower perplexity is better: −0.60, PASS.
		{"perplexity: 21.10\n", "perplexity: 20.50\n", "perplexity", false, -0.60, Pass},
		// latency_ms is recognised by "latency".
		{"latency_ms = 12.0\n", "latency_ms = 14.5\n", "latency_ms", false, 2.5, Fail},
		// -lower-better for a name qcal does not know: 0.30 → 0.31 is +0.01.
		{"cost: 0.30\n", "cost: 0.31\n", "cost", true, 0.01, Pass},
	} {
		c, err := Compare(src("fp32", "fp32.log", tc.fp32), []Source{src("int8", "int8.log", tc.int8)},
			Options{Metric: tc.metric, LowerBetter: tc.flag, Target: DefaultTarget})
		if err != nil {
			t.Fatal(err)
		}
		m := c.Candidates[0]
		if !c.Target.LowerBetter || !near(m.Drop, tc.drop, 1e-9) || m.Verdict != tc.verdict {
			t.Errorf("%s vs %s: lower-better %v drop %v %s, want %v %s", tc.fp32, tc.int8, c.Target.LowerBetter, m.Drop, m.Verdict, tc.drop, tc.verdict)
		}
	}
}

// TestIntelAIResultsCSV reads the --output-results file of IntelAI's
// models (filename,actual,prediction).
func TestIntelAIResultsCSV(t *testing.T) {
	p, err := ReadPredictions(strings.NewReader("filename,actual,prediction\nILSVRC2012_val_00000001.JPEG,65,65\nILSVRC2012_val_00000002.JPEG,970,795\n"), "results.csv")
	if err != nil {
		t.Fatal(err)
	}
	if p.Rows != 2 || p.Top1 != 1 || p.ByRow {
		t.Errorf("rows %d top1 %d byRow %v, want 2 1 false", p.Rows, p.Top1, p.ByRow)
	}
}

// TestMLPerfInterval checks that good/total gives the sample count and so
// a Wilson interval: 37894 of 50000.
func TestMLPerfInterval(t *testing.T) {
	log := "accuracy=75.788%, good=37894, total=50000\n"
	c, err := Compare(src("fp32", "fp32.log", log), []Source{src("int8", "int8.log", "accuracy=75.500%, good=37750, total=50000\n")}, Options{Target: DefaultTarget})
	if err != nil {
		t.Fatal(err)
	}
	// Wilson 95% for 37894/50000: [75.41, 76.16] (p̂ = 0.75788, z = 1.96,
	// half-width ≈ 1.96·sqrt(p̂(1−p̂)/n) = 0.00376).
	ci := c.Baseline.CI
	if ci == nil || !near(ci.Lo, 75.41, 0.01) || !near(ci.Hi, 76.16, 0.01) {
		t.Errorf("CI %v", ci)
	}
	if c.Verdict() != Pass || !near(c.Candidates[0].Drop, 0.288, 1e-9) {
		t.Errorf("%s", c.Summary())
	}
}

// TestSigCovers checks the prefilter's one promise: a line that contains a
// key has a signature covering the key's, wherever the key sits (start,
// middle, end, whole line; lines up to and past the 512-byte cut-off).
func TestSigCovers(t *testing.T) {
	keys := []*key{kProcessed, kCcuracy, kAseline, kResultIs, kBestTune, kSavingDict, kEvalUnderscore, kMean, kAtTop, kAcc1, kAnnotationType, kIoUMetric, kAccuracyEq, kMAPEq}
	fill := "I tensorflow/core/kernels/logging_ops.cc:79] conv1__print__;__requant_min_max:[-12.34][56.78] "
	for _, k := range keys {
		for _, n := range []int{0, 1, 37, 400, 600} {
			pad := strings.Repeat(fill, n/len(fill)+1)[:n]
			for _, line := range []string{string(k.s), pad + string(k.s), string(k.s) + pad, pad + string(k.s) + pad} {
				s := sigOf([]byte(line))
				if !s.covers(&k.sig) {
					t.Errorf("sig of a %d-byte line holding %q does not cover the key's", len(line), k.s)
				}
			}
		}
	}
	// And it does turn lines away: the filler holds none of the keys.
	s := sigOf([]byte(fill))
	turned := 0
	for _, k := range keys {
		if !s.covers(&k.sig) {
			turned++
		}
	}
	if turned < len(keys)-2 {
		t.Errorf("the filler line passes %d of %d keys' signatures", len(keys)-turned, len(keys))
	}
}
