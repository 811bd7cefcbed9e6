package accuracy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Input formats of other tools' logs, read without a flag. Each knows the
// scale its tool prints (fraction or percentage), so a value is never
// scaled by its size.
const (
	InputMLPerf    InputFormat = "mlperf"    // MLPerf accuracy scripts: accuracy=75.788%, good=37894, total=50000
	InputOpenVINO  InputFormat = "openvino"  // OpenVINO accuracy_checker: accuracy@top1: 76.17%
	InputEstimator InputFormat = "estimator" // TF Estimator: Saving dict for global step N: accuracy = 0.9928, ...
	InputSlim      InputFormat = "slim"      // TF-slim eval_image_classifier: eval/Accuracy[0.7588]
	InputBERT      InputFormat = "bert"      // BERT run_classifier: eval_accuracy = 0.8455
	InputDIEN      InputFormat = "dien"      // DIEN: test_auc: x ---- test_loss: y ---- test_accuracy: z
	InputTorch     InputFormat = "torch"     // PyTorch ImageNet example and timm validate.py: * Acc@1 76.104 Acc@5 92.862
	InputUNet3D    InputFormat = "unet3d"    // IntelAI 3D-UNet: Accuracy: mean = 0.853, whole tumor = ..., ...
)

// tool is what one tool's lines gave: metrics by name and, when the tool
// prints it, the sample count.
type tool struct {
	format  InputFormat
	metrics map[string]value
	samples int64
	primary []string // the metric names that can be primary, in order
	// earlier holds, by metric, the lines of earlier values that a later
	// line replaced with a different one (several evaluations in one log).
	earlier map[string][]value
}

// set records a metric; a later line replaces an earlier one, which is
// remembered when its value differs, for the note that says so.
func (t *tool) set(name string, v value) {
	if old, ok := t.metrics[name]; ok && old.v != v.v {
		if t.earlier == nil {
			t.earlier = make(map[string][]value)
		}
		t.earlier[name] = append(t.earlier[name], old)
	}
	t.metrics[name] = v
}

// repeatNote says that the log evaluated several times and which value
// was used: the last (the documented rule), with the earlier lines.
func (t *tool) repeatNote(name string) string {
	prev := t.earlier[name]
	if len(prev) == 0 {
		return ""
	}
	var list []string
	for _, v := range prev[:min(len(prev), 5)] {
		list = append(list, fmt.Sprintf("line %d: %s", v.line, fmtPct(v.v)))
	}
	if len(prev) > 5 {
		list = append(list, fmt.Sprintf("and %d more", len(prev)-5))
	}
	return fmt.Sprintf("the %s gives %s %d times with different values; the last (line %d) is used, the earlier were %s; split the log if they are different evaluations",
		formatDesc[t.format], name, len(prev)+1, t.metrics[name].line, strings.Join(list, ", "))
}

var (
	reMLPerf   = regexp.MustCompile(`(?:^|[^\w.])(accuracy|mAP)=` + numRE + `(?:,\s*good=(\d+),\s*total=(\d+))?`)
	reOpenVINO = regexp.MustCompile(`(?i)(?:^|[^\w.])accuracy@top(\d+)\s*:\s*` + numRE)
	reEstim    = regexp.MustCompile(`Saving dict for global step (\d+):\s*(.*)$`)
	reEstimKV  = regexp.MustCompile(`([\w/@.-]+)\s*=\s*` + numRE + `(?:,|\.?\s*$)`)
	reSlim     = regexp.MustCompile(`(?:^|[^\w])eval/([\w@.-]+)\[` + numRE + `\]`)
	reBERT     = regexp.MustCompile(`^\s*(?:INFO:tensorflow:)?\s*(eval_[\w]+)\s*=\s*` + numRE + `\s*$`)
	reDIEN     = regexp.MustCompile(`(?:^|[^\w])test_(auc|loss|accuracy|aux_loss)\s*:\s*` + numRE)
	reTorch    = regexp.MustCompile(`\*\s*Acc@1\s+` + numRE + `(?:\s*\([^)]*\))?(?:\s*Acc@5\s+` + numRE + `)?`)
	reUNet3D   = regexp.MustCompile(`(?i)accuracy\s*:\s*mean\s*=\s*` + numRE + `(.*)$`)
	reUNetKV   = regexp.MustCompile(`(?i)([a-z][a-z ]*?)\s*=\s*` + numRE)
)

// tool returns the tool record of format f, creating it with the primary
// metric names.
func (x *extractor) tool(f InputFormat, primary ...string) *tool {
	if x.tools == nil {
		x.tools = make(map[InputFormat]*tool)
	}
	t := x.tools[f]
	if t == nil {
		t = &tool{format: f, metrics: make(map[string]value), primary: primary}
		x.tools[f] = t
	}
	return t
}

// toolLine reads the lines of the tools above.
func (x *extractor) toolLine(b []byte, n int) {
	if bytes.Contains(b, []byte("=")) {
		if m := x.mlperfMatch(b); m != nil {
			if v, ok := parseScaled(m[2], n, scalePercent); ok {
				t := x.tool(InputMLPerf, MetricAccuracy, "mAP")
				name := MetricAccuracy
				if strings.EqualFold(string(m[1]), "map") {
					name = "mAP"
				}
				t.set(name, v)
				if len(m[4]) > 0 {
					good, err1 := strconv.ParseInt(string(m[3]), 10, 64)
					total, err2 := strconv.ParseInt(string(m[4]), 10, 64)
					if err1 == nil && err2 == nil && total > 0 && good <= total {
						t.samples = total // the interval is then Wilson's for good of total
					}
				}
			}
		}
		if m := x.matchIf(b, kSavingDict, reEstim); m != nil {
			t := x.tool(InputEstimator, MetricAccuracy, MetricTop1)
			for _, kv := range reEstimKV.FindAllSubmatch(m[2], -1) {
				name := estimatorName(string(kv[1]))
				if v, ok := parseScaled(kv[2], n, scaleOf(name, scaleFraction)); ok {
					t.set(name, v)
				}
			}
		}
		if x.has(b, kEvalUnderscore) {
			if m := reBERT.FindSubmatch(b); m != nil {
				name := strings.TrimPrefix(string(m[1]), "eval_")
				if v, ok := parseScaled(m[2], n, scaleOf(name, scaleFraction)); ok {
					x.tool(InputBERT, MetricAccuracy, "f1", "exact_match").set(name, v)
				}
			}
		}
		if m := x.matchIf(b, kMean, reUNet3D); m != nil {
			if v, ok := parseScaled(m[1], n, scaleFraction); ok {
				t := x.tool(InputUNet3D, MetricAccuracy)
				t.set(MetricAccuracy, v)
				for _, kv := range reUNetKV.FindAllSubmatch(m[2], -1) {
					if v, ok := parseScaled(kv[2], n, scaleFraction); ok {
						t.set(strings.Join(strings.Fields(strings.ToLower(string(kv[1]))), "_"), v)
					}
				}
			}
		}
	}
	at := bytes.IndexByte(b, '@') >= 0
	if at && x.has(b, kAtTop) {
		for _, m := range reOpenVINO.FindAllSubmatch(b, -1) {
			if v, ok := parseScaled(m[2], n, scalePercent); ok {
				x.tool(InputOpenVINO, MetricTop1, MetricTop5).set("top"+string(m[1]), v)
			}
		}
	}
	if x.has(b, kEvalSlash) {
		for _, m := range reSlim.FindAllSubmatch(b, -1) {
			name := slimName(string(m[1]))
			if v, ok := parseScaled(m[2], n, scaleOf(name, scaleFraction)); ok {
				x.tool(InputSlim, MetricAccuracy, MetricTop1).set(name, v)
			}
		}
	}
	if x.has(b, kTest) {
		for _, m := range reDIEN.FindAllSubmatch(b, -1) {
			name := string(m[1])
			if v, ok := parseScaled(m[2], n, scaleOf(name, scaleFraction)); ok {
				x.tool(InputDIEN, MetricAccuracy, "auc").set(name, v)
			}
		}
	}
	if at && x.has(b, kAcc1) {
		if m := reTorch.FindSubmatch(b); m != nil {
			if v1, ok := parseScaled(m[1], n, scalePercent); ok {
				t := x.tool(InputTorch, MetricTop1)
				t.set(MetricTop1, v1)
				if v5, ok := parseScaled(m[2], n, scalePercent); ok && len(m[2]) > 0 {
					t.set(MetricTop5, v5)
				}
			}
		}
	}
}

// matchIf runs re on b only when b holds key, a part of the line that
// every spelling the tools print has in the same case: a cheap test first,
// since most log lines are none of these.
func (x *extractor) matchIf(b []byte, k *key, re *regexp.Regexp) [][]byte {
	if !x.has(b, k) {
		return nil
	}
	return re.FindSubmatch(b)
}

// key is a string looked for in log lines, with its bigram signature.
type key struct {
	s   []byte
	sig sig
}

func newKey(s string) *key { return &key{s: []byte(s), sig: sigOf([]byte(s))} }

// Keys of the readers' cheap tests.
var (
	kProcessed, kCcuracy, kCCURACY, kAseline, kResult, kAverage            = newKey("Processed"), newKey("ccuracy"), newKey("CCURACY"), newKey("aseline"), newKey("result"), newKey("Average")
	kBaselineIs, kResultIs, kBestTune, kSavingDict, kEvalUnderscore, kMean = newKey("aseline is"), newKey("result is"), newKey("est tune result"), newKey("Saving dict"), newKey("eval_"), newKey("mean")
	kAtTop, kEvalSlash, kTest, kAcc1, kAnnotationType, kIoUMetric          = newKey("@top"), newKey("eval/"), newKey("test_"), newKey("Acc@1"), newKey("annotation type"), newKey("IoU metric")
	kAccuracyEq, kMAPEq                                                    = newKey("accuracy="), newKey("mAP=")
)

// sig is a 256-bit set of the hashed byte pairs of a line. A line can hold
// a key only if its sig covers the key's, so most lines are turned away
// by a few ANDs after one pass, instead of one search per key.
type sig [4]uint64

func sigOf(b []byte) (s sig) {
	if len(b) < 2 {
		return s
	}
	if len(b) > 512 { // nearly every bit would be set: test the keys directly
		return sig{^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0)}
	}
	p := uint(b[0])
	for _, c := range b[1:] {
		h := (p*5 + uint(c)) & 255
		s[h>>6] |= 1 << (h & 63)
		p = uint(c)
	}
	return s
}

func (s *sig) covers(k *sig) bool {
	return s[0]&k[0] == k[0] && s[1]&k[1] == k[1] && s[2]&k[2] == k[2] && s[3]&k[3] == k[3]
}

// has reports whether line b (whose sig is x.sig) contains k.
func (x *extractor) has(b []byte, k *key) bool {
	return x.sig.covers(&k.sig) && bytes.Contains(b, k.s)
}

// mlperfMatch matches an MLPerf accuracy line (not a TF Estimator one).
func (x *extractor) mlperfMatch(b []byte) [][]byte {
	if x.has(b, kSavingDict) {
		return nil
	}
	for _, k := range []*key{kAccuracyEq, kMAPEq} {
		if m := x.matchIf(b, k, reMLPerf); m != nil {
			return m
		}
	}
	return nil
}

// estimatorName maps a TF Estimator metric key to qcal's name: accuracy
// stays, accuracy_top_5 / top_5_accuracy is top5; BERT's Estimator prefixes
// its keys with eval_ (eval_accuracy).
func estimatorName(k string) string {
	k = strings.TrimPrefix(k, "eval_")
	switch normKey(k) {
	case "accuracytop5", "top5accuracy", "top5":
		return MetricTop5
	case "accuracytop1", "top1accuracy", "top1":
		return MetricTop1
	}
	return k
}

// slimName maps TF-slim's eval/ names: Accuracy is accuracy, Recall_5 (the
// streaming recall at 5 of eval_image_classifier) is top5.
func slimName(k string) string {
	switch normKey(k) {
	case "accuracy":
		return MetricAccuracy
	case "recall5", "recallat5":
		return MetricTop5
	}
	return k
}

// lowerBetterRE matches the names of metrics that are better when lower.
var lowerBetterRE = regexp.MustCompile(`(?i)(?:^|[^a-z])(?:perplexity|ppl|wer|cer|loss|latency|err|error|mse|mae|rmse)(?:$|[^a-z])`)

// LowerIsBetter reports whether a metric name is one that is better when
// lower: perplexity (ppl), word or character error rate (WER, CER), loss,
// latency, an error (err, top1_err), MSE, MAE, RMSE.
func LowerIsBetter(name string) bool { return lowerBetterRE.MatchString(name) }

// percentNames are metric names that, whatever the format, are printed as
// percentages: PyTorch's and timm's Acc@1 and Acc@5.
var percentNames = map[string]bool{"acc@1": true, "acc@5": true, "acc1": true, "acc5": true}

// scaleOf returns the scale a metric of this name is printed in: raw for
// lower-is-better metrics, percent for percentNames, else def.
func scaleOf(name string, def scale) scale {
	switch {
	case LowerIsBetter(name):
		return scaleRaw
	case percentNames[normKey(name)]:
		return scalePercent
	}
	return def
}

// progressRE matches per-batch progress lines: "Test: [ 10/196]",
// "batch 12", "iter 300", "step 40/500". (A bare "12/196" is not enough:
// dates are written so.)
var progressRE = regexp.MustCompile(`(?i)\[\s*\d+\s*/\s*\d+\s*\]|\b(?:batch|iter|iteration|step)\b\s*[:=#]?\s*\d+`)

// lineText returns a line for a note, shortened to 120 bytes.
func lineText(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 120 {
		s = s[:117] + "..."
	}
	return strconv.Quote(s)
}

// jsonBlock collects a pretty-printed JSON object inside a log (timm's
// --result block) until its braces balance.
type jsonBlock struct {
	buf   bytes.Buffer
	depth int
	line  int
}

// jsonBlockLine feeds a line to the pending JSON block, or starts one on a
// line that is "{" alone. The line is still examined by the other
// readers: a lone "{" that opens no JSON must not hide the log after it.
func (x *extractor) jsonBlockLine(b []byte, n int) {
	t := bytes.TrimSpace(b)
	if x.block == nil {
		if len(t) != 1 || t[0] != '{' {
			return
		}
		x.block = &jsonBlock{line: n}
	}
	blk := x.block
	blk.buf.Write(t)
	blk.buf.WriteByte('\n')
	inStr, esc := false, false
	for _, c := range t {
		switch {
		case esc:
			esc = false
		case c == '\\' && inStr:
			esc = true
		case c == '"':
			inStr = !inStr
		case c == '{' && !inStr:
			blk.depth++
		case c == '}' && !inStr:
			blk.depth--
		}
	}
	if blk.depth <= 0 || blk.buf.Len() > maxLine {
		x.block = nil
		var obj map[string]any
		d := json.NewDecoder(&blk.buf)
		d.UseNumber()
		if d.Decode(&obj) == nil {
			x.jsonObject(obj, "", blk.line, jsonScale(obj))
		}
	}
}

// jsonScale returns the scale of a JSON object's bare numbers: timm's
// result JSON (it has top1_err or top5_err) prints percentages; others do
// not say.
func jsonScale(obj map[string]any) scale {
	for k := range obj {
		if nk := normKey(k); nk == "top1err" || nk == "top5err" {
			return scalePercent
		}
	}
	return scaleGuess
}

// cocoBlock is one pycocotools summary (12 lines) of a log; a Mask R-CNN
// log has one for bbox and one for segm.
type cocoBlock struct {
	label       string // bbox, segm, keypoints: from the line before; "" if none
	metrics     map[string]value
	first, last int
}

// reCOCOType matches the lines that name the kind of the next COCO
// summary: pycocotools' "Evaluate annotation type *bbox*" and
// torchvision's "IoU metric: segm".
var reCOCOType = regexp.MustCompile(`(?i)(?:annotation type\s*\*?\s*(\w+)\s*\*?|IoU metric:\s*(\w+))`)

// cocoTypeMatch matches a line naming the next COCO summary's kind.
func (x *extractor) cocoTypeMatch(b []byte) [][]byte {
	if m := x.matchIf(b, kAnnotationType, reCOCOType); m != nil {
		return m
	}
	return x.matchIf(b, kIoUMetric, reCOCOType)
}

// cocoChoice picks the COCO summary -metric names, or says which there are.
func (x *extractor) cocoChoice(name string) (map[string]value, error) {
	bs := x.cocoBlocks()
	if len(bs) == 1 {
		return bs[0].metrics, nil
	}
	want := strings.ToLower(x.opts.Metric)
	lbl, rest, _ := strings.Cut(want, ".")
	for _, b := range bs {
		if b.label != "" && b.label == lbl {
			ms := b.metrics
			if rest != "" { // -metric segm.AP@[.50,all,100]
				ms = map[string]value{}
				for k, v := range b.metrics {
					ms[b.label+"."+k] = v
				}
			}
			return ms, nil
		}
	}
	var list []string
	for i, b := range bs {
		l := b.label
		if l == "" {
			l = fmt.Sprintf("summary %d", i+1)
		}
		ap := "-"
		if v, ok := b.metrics[MetricCOCOAP]; ok {
			ap = fmtPct(v.v)
		}
		list = append(list, fmt.Sprintf("%s (lines %d-%d, AP %s)", l, b.first, b.last, ap))
	}
	hint := "label them with pycocotools' \"Evaluate annotation type *bbox*\" lines"
	if bs[0].label != "" {
		hint = "choose one with -metric " + bs[0].label
	}
	return nil, fmt.Errorf("%s: %d COCO summaries: %s; %s", name, len(bs), strings.Join(list, ", "), hint)
}

// cocoBlocks returns the summaries, the last of each label (a later
// evaluation of the same kind replaces an earlier one); unlabelled
// summaries are all kept.
func (x *extractor) cocoBlocks() []*cocoBlock {
	var out []*cocoBlock
	for _, b := range x.coco {
		replaced := false
		for i, o := range out {
			if b.label != "" && o.label == b.label {
				out[i], replaced = b, true
			}
		}
		if !replaced {
			out = append(out, b)
		}
	}
	return out
}
