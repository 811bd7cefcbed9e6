package accuracy

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// InputFormat names the kind of input an accuracy was read from.
type InputFormat string

// Input formats. The first five are inference logs, the last three
// prediction files (see ReadPredictions).
const (
	InputIntelAI InputFormat = "intelai" // IntelAI models: Processed N images. (Top1 accuracy, Top5 accuracy) = (a, b)
	InputINC     InputFormat = "inc"     // Intel Neural Compressor: Accuracy: x, FP32 baseline is: [...], Tune N result is: [...]
	InputCOCO    InputFormat = "coco"    // pycocotools summary: Average Precision (AP) @[ ... ] = x
	InputJSON    InputFormat = "json"    // a JSON object with accuracy fields
	InputMetric  InputFormat = "metric"  // NAME: x or NAME = x for -metric NAME
	InputCSV     InputFormat = "csv"     // prediction file, comma-separated
	InputTSV     InputFormat = "tsv"     // prediction file, tab-separated
	InputJSONL   InputFormat = "jsonl"   // prediction file, one JSON object a line
)

// Role says which side of a comparison an input is on. It matters only for
// Intel Neural Compressor tuning logs, which print both accuracies: the FP32
// side takes the "FP32 baseline", the int8 side the tuned result.
type Role int

// Roles.
const (
	RoleFP32 Role = iota
	RoleInt8
)

// Metric names that have a fixed meaning in every format.
const (
	MetricTop1     = "top1"
	MetricTop5     = "top5"
	MetricAccuracy = "accuracy"
	MetricCOCOAP   = "AP@[.50:.95,all,100]" // COCO's primary metric
)

// maxLine is how much of one line the extractor examines. Accuracy lines
// are short; the rest of a longer line (a printed tensor) is skipped.
const maxLine = 1 << 20

// Accuracy is the accuracy of one model as read from one file. Every value
// is in percentage points: 76.12 means 76.12% (a fraction 0.7612 and the
// text "76.12%" both read as 76.12). A bare number is scaled by what its
// format is known to print (INC, IntelAI, TensorFlow and COCO fractions;
// MLPerf, accuracy_checker, PyTorch and timm percentages); only where the
// format does not say is it guessed from its size, with a note. Metrics
// that are better when lower (LowerBetter) keep their printed values.
type Accuracy struct {
	File   string      // the file's name, for messages
	Format InputFormat // the format the primary value was read from
	// Metric is the primary metric: the one compared between FP32 and int8.
	Metric string
	// Metrics holds every metric found, by name (top1, top5, accuracy,
	// COCO's AP@[.50:.95,all,100] ..., JSON field names), in percent.
	Metrics map[string]float64
	// Samples is the number of samples the accuracy was measured on, when
	// the input says (IntelAI's "Processed N images", a JSON "samples"
	// field, the rows of a prediction file); 0 when unknown.
	Samples int64
	// Line is the line the primary value was read from; 0 for prediction
	// files and whole-file JSON.
	Line int
	// Trials are the trials of an Intel Neural Compressor tuning log read
	// as int8 (when it has two or more); the primary value is the best
	// tune result.
	Trials []Trial
	// Notes say what the reader should know about how the value was read
	// (a guessed scale, the trial chosen, the line used).
	Notes []string
	// LowerBetter reports that the metric is better when lower
	// (perplexity, WER, loss, latency); its values are as printed, not
	// percentages.
	LowerBetter bool
}

// Trial is one trial of an Intel Neural Compressor tuning log.
type Trial struct {
	N     int     // INC's trial number
	Value float64 // int8 accuracy, in percent
	Line  int
}

// Value returns the primary metric's value.
func (a *Accuracy) Value() float64 { return a.Metrics[a.Metric] }

// ExtractOptions control Extract.
type ExtractOptions struct {
	// Metric names the metric to compare. Empty means the format's own
	// primary metric: top1 (IntelAI, JSON), accuracy (INC, JSON),
	// AP@[.50:.95,all,100] (COCO). A name that no format knows is looked
	// for as "NAME: x" or "NAME = x" (case-insensitive).
	Metric string
	Role   Role
	// LowerBetter says the metric is better when lower, so that its
	// values are kept as printed (not read as percentages). Names such as
	// perplexity, WER, loss and latency are recognised without it (see
	// LowerIsBetter).
	LowerBetter bool
}

// lookedFor lists, for error messages, what Extract recognises.
const lookedFor = `"Processed N images. (Top1 accuracy, Top5 accuracy) = (a, b)", "Accuracy: x", ` +
	`INC "FP32 baseline is: [Accuracy: x" / "Tune N result is: [Accuracy (int8|fp32): x|y", ` +
	`COCO "Average Precision", JSON objects, MLPerf "accuracy=x%", accuracy_checker "accuracy@top1: x%", ` +
	`TF Estimator "Saving dict for global step N: accuracy = x", TF-slim "eval/Accuracy[x]", BERT "eval_accuracy = x", ` +
	`DIEN "test_accuracy: x", PyTorch/timm " * Acc@1 x Acc@5 y", 3D-UNet "Accuracy: mean = x"`

const numRE = `([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\s*%?)`

var (
	reIntelAI = regexp.MustCompile(`Processed\s+(\d+)\s+images\.?\s*\(([^)]*)\)\s*=\s*\(([^)]*)\)`)
	// Intel Neural Compressor tuning logs. 1.x prints "FP32 baseline is:
	// [accuracy: x, duration (seconds): d]" and "Tune N result is:
	// [accuracy: x, ...]" in lower case; 2.x "FP32 baseline is: [Accuracy:
	// x, ...]" and "Tune N result is: [Accuracy (int8|fp32): x|y, ...]";
	// 3.x "Fp32 baseline is x". All print fractions.
	reBaseline = regexp.MustCompile(`(?i)fp32 baseline is:?\s*\[?\s*(?:accuracy\s*:\s*)?` + numRE)
	reTune     = regexp.MustCompile(`(?i)(?:tune|trial)\s+(\d+)\s+result is:?\s*\[?\s*(?:accuracy\s*(?:\(\w+\|\w+\)\s*)?:\s*)?` + numRE + `(?:\s*\|\s*` + numRE + `)?`)
	reBest     = regexp.MustCompile(`(?i)best tune result is:?\s*(?:\[\s*accuracy\s*:\s*` + numRE + `|(n/a))`)
	rePlain    = regexp.MustCompile(`(?i)(?:^|[^\w.\[])accuracy\s*:\s*` + numRE)
	reCOCO     = regexp.MustCompile(`Average (?:Precision|Recall)\s*\((AP|AR)\)\s*@\[\s*IoU=\s*([0-9.:]+)\s*\|\s*area=\s*(\w+)\s*\|\s*maxDets=\s*(\d+)\s*\]\s*=\s*` + numRE)
	reNumber   = regexp.MustCompile(`^` + numRE + `$`)
)

// found is one format's reading of a file.
type found struct {
	format  InputFormat
	metrics map[string]value
	samples int64
	// primary is the key of the format's primary metric in metrics ("" if
	// the format has none for the requested metric).
	primary string
	trials  []Trial  // INC's trials, for the int8 side
	notes   []string // what the reader should know about the value
}

// value is one number read from the input, in percent.
type value struct {
	v    float64
	res  float64 // half a unit of the last printed digit, in percent
	line int
	// guessed: the format does not say whether it prints fractions or
	// percentages, so the value decided.
	guessed bool
}

// Extract reads an inference log (or a JSON metrics file) line by
// line and returns the accuracy it reports. It recognises IntelAI models'
// "Processed N images. (Top1 accuracy, Top5 accuracy) = (a, b)" (the last
// such line is the result), Intel Neural Compressor's "Accuracy: x",
// "FP32 baseline is: [Accuracy: x, ...]", "Tune N result is: [Accuracy
// (int8|fp32): x|y, ...]" and "Best tune result is: [Accuracy: x, ...]"
// lines (INC 1.x's lower-case ones and 3.x's "Fp32 baseline is x" too, and
// INC's table of tuning results), the twelve lines of a pycocotools summary
// (named AP@[.50:.95,all,100], AP@[.50,all,100], AR@[.50:.95,small,100] ...;
// several summaries, bbox and segm, are refused unless opts.Metric names
// one), JSON objects on a line, filling the file or pretty-printed in the
// log (timm's --result), the lines of MLPerf, OpenVINO accuracy_checker,
// TF Estimator, TF-slim, BERT, DIEN, PyTorch/timm and 3D-UNet (see the
// Input constants), and with opts.Metric "NAME: x" / "NAME = x" (the last
// summary line, else the last per-batch progress line, with a note naming
// it). Gzip input is detected.
//
// Memory does not grow with the log: lines are read one at a time through
// a bufio.Reader and only the first MiB of a longer line is examined.
//
// It returns an error naming name when no accuracy is found, when two
// formats in the file disagree about it, or when the value is not a
// percentage.
func Extract(r io.Reader, name string, opts ExtractOptions) (*Accuracy, error) {
	br, err := maybeGunzip(bufio.NewReaderSize(r, 64<<10), name)
	if err != nil {
		return nil, err
	}
	x, err := newExtractor(opts)
	if err != nil {
		return nil, err
	}
	if err := x.read(br, name); err != nil {
		return nil, err
	}
	return x.result(name)
}

// maybeGunzip returns a reader of r's content, decompressed if it is gzip.
func maybeGunzip(br *bufio.Reader, name string) (*bufio.Reader, error) {
	magic, _ := br.Peek(2)
	if len(magic) < 2 || magic[0] != 0x1f || magic[1] != 0x8b {
		return br, nil
	}
	zr, err := gzip.NewReader(br)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return bufio.NewReaderSize(zr, 64<<10), nil
}

// extractor holds what has been found so far.
type extractor struct {
	opts    ExtractOptions
	generic *regexp.Regexp // NAME: x for opts.Metric, or nil
	// lowerMetric is opts.Metric lower-cased, for a cheap test before the
	// generic regexp.
	lowerMetric []byte

	intelAI         map[string]value
	intelAISamples  int64
	incBaseline     *value
	incPlainEarlier []value    // earlier plain "Accuracy: x" values a later line replaced
	incTrials       []incTrial // in log order
	incBest         *value
	incBestNA       bool     // "Best tune result is: n/a" last
	incColumns      []string // the header of INC's table of tuning results
	incPlain        *value
	coco            []*cocoBlock
	cocoLabel       string // the kind the last "annotation type" line named
	json            map[string]value
	jsonSamples     int64
	tools           map[InputFormat]*tool
	block           *jsonBlock // a pretty-printed JSON object being read
	// metric is the last summary line's value of -metric NAME,
	// metricProgress the last per-batch progress line's; metricText
	// holds their lines, for the note that says which was used.
	metric, metricProgress         *value
	metricText, metricProgressText string

	sig        sig // of the line being examined
	lines      int
	nonBlank   bool
	syntaxErrs []error
}

func newExtractor(opts ExtractOptions) (*extractor, error) {
	x := &extractor{opts: opts}
	if opts.Metric != "" {
		if !utf8.ValidString(opts.Metric) || strings.ContainsFunc(opts.Metric, unicode.IsControl) || strings.TrimSpace(opts.Metric) != opts.Metric {
			return nil, fmt.Errorf("bad metric name %q (want printable text without surrounding spaces)", opts.Metric)
		}
		re, err := regexp.Compile(`(?i)(?:^|[^\w.])` + regexp.QuoteMeta(opts.Metric) + `\s*[:=]\s*` + numRE)
		if err != nil {
			return nil, fmt.Errorf("bad metric name %q: %w", opts.Metric, err)
		}
		x.generic = re
		if isASCII(opts.Metric) { // the cheap prefilter folds ASCII case only
			x.lowerMetric = bytes.ToLower([]byte(opts.Metric))
		}
	}
	return x, nil
}

// read scans r line by line.
func (x *extractor) read(br *bufio.Reader, name string) error {
	var buf []byte
	for {
		line, _, err := readLine(br, &buf)
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("%s: %w", name, err)
		}
		if len(line) > 0 {
			x.lines++
			t := bytes.TrimSpace(line)
			// A file whose first line opens a JSON object that the line
			// does not close is a (pretty-printed) JSON file.
			if !x.nonBlank && len(t) > 0 {
				x.nonBlank = true
				if opensJSONObject(t) && !json.Valid(t) {
					return x.readJSONFile(io.MultiReader(bytes.NewReader(line), br), name)
				}
			}
			x.line(bytes.TrimRight(line, "\r\n"), x.lines, name)
		}
		if err != nil { // io.EOF
			return nil
		}
	}
}

// opensJSONObject reports whether a trimmed line looks like the start of a
// JSON object: "{" alone or followed by a quoted key (not "{INFO} ...").
func opensJSONObject(t []byte) bool {
	if len(t) == 0 || t[0] != '{' {
		return false
	}
	rest := bytes.TrimSpace(t[1:])
	return len(rest) == 0 || rest[0] == '"'
}

// readLine returns the next line of br, with its newline, or io.EOF (with
// the last line, if it has no newline). Only the first maxLine bytes of a
// longer line are returned, and truncated is set. The line is valid until
// the next call; buf is scratch space kept between calls.
func readLine(br *bufio.Reader, buf *[]byte) (line []byte, truncated bool, err error) {
	chunk, err := br.ReadSlice('\n')
	if !errors.Is(err, bufio.ErrBufferFull) {
		return chunk, false, err
	}
	*buf = append((*buf)[:0], chunk...)
	for errors.Is(err, bufio.ErrBufferFull) {
		chunk, err = br.ReadSlice('\n')
		room := maxLine - len(*buf)
		if len(chunk) > room {
			truncated = true
			chunk = chunk[:max(room, 0)]
		}
		*buf = append(*buf, chunk...)
	}
	return *buf, truncated, err
}

// line examines one line.
func (x *extractor) line(b []byte, n int, name string) {
	x.sig = sigOf(b)
	x.jsonBlockLine(b, n)
	if x.has(b, kProcessed) {
		if m := reIntelAI.FindSubmatch(b); m != nil {
			x.intelAILine(m, n, name)
		}
	}
	if x.has(b, kCcuracy) || x.has(b, kCCURACY) ||
		x.has(b, kAseline) || x.has(b, kResult) || x.incColumns != nil {
		x.incLine(b, n)
	}
	if x.has(b, kAverage) {
		if m := reCOCO.FindSubmatch(b); m != nil {
			x.cocoLine(m, n)
		}
	} else if m := x.cocoTypeMatch(b); m != nil {
		x.cocoLabel = strings.ToLower(string(m[1]) + string(m[2]))
	}
	x.toolLine(b, n)
	if t := bytes.TrimSpace(b); len(t) > 1 && t[0] == '{' && t[len(t)-1] == '}' {
		x.jsonLine(t, n)
	}
	if x.generic != nil && containsFold(b, x.lowerMetric) {
		if m := x.generic.FindAllSubmatch(b, -1); m != nil {
			if v, ok := parseScaled(m[len(m)-1][1], n, x.metricScale()); ok {
				if progressRE.Match(b) {
					x.metricProgress, x.metricProgressText = &v, lineText(b)
				} else {
					x.metric, x.metricText = &v, lineText(b)
				}
			}
		}
	}
}

func (x *extractor) intelAILine(m [][]byte, n int, name string) {
	names := strings.Split(string(m[2]), ",")
	vals := strings.Split(string(m[3]), ",")
	if len(names) != len(vals) {
		x.syntaxErrs = append(x.syntaxErrs, fmt.Errorf("%s:%d: %d names but %d values in \"Processed N images\" line", name, n, len(names), len(vals)))
		return
	}
	samples, err := strconv.ParseInt(string(m[1]), 10, 64)
	if err != nil {
		x.syntaxErrs = append(x.syntaxErrs, fmt.Errorf("%s:%d: bad image count %q", name, n, m[1]))
		return
	}
	got := make(map[string]value, len(names))
	for i, nm := range names {
		v, ok := parseScaled([]byte(vals[i]), n, scaleFraction) // IntelAI's scripts print fractions
		if !ok {
			x.syntaxErrs = append(x.syntaxErrs, fmt.Errorf("%s:%d: bad %s value %q in \"Processed N images\" line", name, n, strings.TrimSpace(nm), strings.TrimSpace(vals[i])))
			return
		}
		got[intelAIName(nm)] = v
	}
	x.intelAI, x.intelAISamples = got, samples
}

// intelAIName turns "Top1 accuracy" into "top1".
func intelAIName(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.TrimSuffix(s, " accuracy")
	return strings.Join(strings.Fields(s), "_")
}

func (x *extractor) incLine(b []byte, n int) {
	set := func(dst **value, num []byte) {
		if v, ok := parseScaled(num, n, x.incScale()); ok {
			*dst = &v
		}
	}
	structured := false
	if m := x.matchIf(b, kBaselineIs, reBaseline); m != nil {
		set(&x.incBaseline, m[1])
		structured = true
	}
	if m := x.matchIf(b, kResultIs, reTune); m != nil {
		var t incTrial
		t.n, _ = strconv.Atoi(string(m[1]))
		set(&t.int8, m[2])
		if len(m[3]) > 0 {
			set(&t.fp32, m[3])
		}
		if t.int8 != nil {
			x.addTrial(t)
		}
		structured = true
	}
	if m := x.matchIf(b, kBestTune, reBest); m != nil {
		if len(m[2]) > 0 { // "Best tune result is: n/a"
			x.incBestNA, x.incBest = true, nil
		} else {
			set(&x.incBest, m[1])
			x.incBestNA = false
		}
		structured = true
	}
	if !structured && bytes.Count(b, []byte("|")) >= 3 {
		structured = x.incTableLine(b, n)
	}
	if structured {
		return
	}
	if !x.has(b, kCcuracy) && !x.has(b, kCCURACY) {
		return
	}
	if m := rePlain.FindAllSubmatch(b, -1); m != nil {
		if v, ok := parseValue(m[len(m)-1][1], n); ok {
			if x.incPlain != nil && x.incPlain.v != v.v {
				x.incPlainEarlier = append(x.incPlainEarlier, *x.incPlain)
			}
			x.incPlain = &v
		}
	}
}

// incTrial is one "Tune N result is" line of an INC tuning log.
type incTrial struct {
	n          int
	int8, fp32 *value
}

// addTrial records trial t; a later line for the same trial replaces an
// earlier one.
func (x *extractor) addTrial(t incTrial) {
	for i := range x.incTrials {
		if x.incTrials[i].n == t.n {
			x.incTrials[i] = t
			return
		}
	}
	x.incTrials = append(x.incTrials, t)
}

// reINCColumn matches the column headers of INC's "Tune Result Statistics"
// table: Baseline, Tune N result (Trial N), Best tune result.
var reINCColumn = regexp.MustCompile(`(?i)^(?:(fp32 )?baseline|(?:tune|trial) (\d+)(?: result)?|best (?:tune result|trial))$`)

// incTableLine reads a row of INC's table of tuning results:
//
//	| Info Type | Baseline | Tune 1 result | Best tune result |
//	| Accuracy  | 0.7613   | 0.7590        | 0.7590           |
//
// It reports whether the line was such a row. Values fill only what the
// log's own lines have not given.
func (x *extractor) incTableLine(b []byte, n int) bool {
	cells := strings.Split(strings.Trim(strings.TrimSpace(string(b)), "|"), "|")
	for i := range cells {
		cells[i] = strings.TrimSpace(cells[i])
	}
	header := false
	for _, c := range cells[1:] {
		if reINCColumn.MatchString(c) {
			header = true
		}
	}
	if header {
		x.incColumns = cells
		return true
	}
	if x.incColumns == nil || len(cells) != len(x.incColumns) || !strings.EqualFold(cells[0], "accuracy") {
		return false
	}
	for i, c := range cells[1:] {
		m := reINCColumn.FindStringSubmatch(x.incColumns[i+1])
		v, ok := parseScaled([]byte(c), n, x.incScale())
		if m == nil || !ok {
			continue
		}
		h := strings.ToLower(m[0])
		switch {
		case strings.Contains(h, "baseline"):
			if x.incBaseline == nil {
				x.incBaseline = &v
			}
		case strings.HasPrefix(h, "best"):
			if x.incBest == nil {
				x.incBest = &v
			}
		default:
			k, _ := strconv.Atoi(m[2])
			seen := false
			for _, t := range x.incTrials {
				seen = seen || t.n == k
			}
			if !seen {
				x.incTrials = append(x.incTrials, incTrial{n: k, int8: &v})
			}
		}
	}
	return true
}

func (x *extractor) cocoLine(m [][]byte, n int) {
	iou := strings.ReplaceAll(string(m[2]), "0.", ".")
	key := fmt.Sprintf("%s@[%s,%s,%s]", m[1], iou, m[3], m[4])
	var blk *cocoBlock
	if k := len(x.coco); k > 0 {
		blk = x.coco[k-1]
	}
	// A summary's first line, or a line already seen, starts a new one.
	if _, seen := blk.metricsOrNil()[key]; blk == nil || seen || key == MetricCOCOAP && len(blk.metrics) > 0 {
		blk = &cocoBlock{label: x.cocoLabel, metrics: make(map[string]value), first: n}
		x.coco = append(x.coco, blk)
		x.cocoLabel = ""
	}
	blk.last = n
	v, ok := parseScaled(m[5], n, scaleFraction)
	if !ok || v.v < 0 { // pycocotools prints -1 when an area has no objects
		return
	}
	blk.metrics[key] = v
}

func (b *cocoBlock) metricsOrNil() map[string]value {
	if b == nil {
		return nil
	}
	return b.metrics
}

// metricScale is the scale of -metric NAME's values: raw with
// ExtractOptions.LowerBetter or a lower-is-better name, percent for
// Acc@1/Acc@5, else unknown.
func (x *extractor) metricScale() scale {
	if x.opts.LowerBetter {
		return scaleRaw
	}
	return scaleOf(x.opts.Metric, scaleGuess)
}

// jsonNames maps JSON field names, lower-cased without "_", "-", " ", to
// the metric they hold.
var jsonNames = map[string]string{
	"top1": MetricTop1, "top1acc": MetricTop1, "top1accuracy": MetricTop1, "acc1": MetricTop1, "acc@1": MetricTop1, "accuracytop1": MetricTop1,
	"top5": MetricTop5, "top5acc": MetricTop5, "top5accuracy": MetricTop5, "acc5": MetricTop5, "acc@5": MetricTop5, "accuracytop5": MetricTop5,
	"accuracy": MetricAccuracy, "acc": MetricAccuracy,
	"map": "mAP", "ap": "AP", "f1": "f1", "exactmatch": "exact_match", "em": "exact_match",
}

// jsonPrimary is the order in which a JSON object's metrics are chosen as
// primary.
var jsonPrimary = []string{MetricTop1, MetricAccuracy, "mAP", "AP", "f1", "exact_match"}

var jsonSampleNames = map[string]bool{"samples": true, "numsamples": true, "n": true, "count": true, "images": true, "numimages": true}

func normKey(k string) string {
	k = strings.ToLower(k)
	return strings.Map(func(r rune) rune {
		if r == '_' || r == '-' || r == ' ' {
			return -1
		}
		return r
	}, k)
}

func (x *extractor) jsonLine(b []byte, n int) {
	var obj map[string]any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&obj); err != nil {
		return // not JSON after all: a log line that happens to be in braces
	}
	x.jsonObject(obj, "", n, jsonScale(obj))
}

// jsonObject collects the accuracy fields of obj; nested objects are
// flattened with "." ({"eval": {"top1": 0.76}} is eval.top1, which is
// primary when no top-level field is).
func (x *extractor) jsonObject(obj map[string]any, prefix string, n int, sc scale) {
	if x.json == nil {
		x.json = make(map[string]value)
	}
	for _, k := range sortedKeys(obj) {
		var num []byte
		switch v := obj[k].(type) {
		case json.Number:
			num = []byte(v)
		case string:
			num = []byte(v)
		case map[string]any:
			x.jsonObject(v, prefix+k+".", n, sc)
			continue
		default:
			continue
		}
		nk := normKey(k)
		if jsonSampleNames[nk] && prefix == "" {
			if s, err := strconv.ParseInt(string(num), 10, 64); err == nil && s > 0 {
				x.jsonSamples = s
			}
			continue
		}
		name, known := jsonNames[nk]
		if !known && (x.opts.Metric == "" || nk != normKey(x.opts.Metric)) {
			continue
		}
		if !known {
			name = x.opts.Metric
		}
		vsc := scaleOf(k, sc)
		if !known && x.opts.LowerBetter {
			vsc = scaleRaw
		}
		v, ok := parseScaled(num, n, vsc)
		if !ok {
			continue
		}
		x.json[prefix+name] = v
	}
}

// readJSONFile reads a file that is one or more (pretty-printed) JSON
// objects. The objects are decoded one at a time.
func (x *extractor) readJSONFile(r io.Reader, name string) error {
	d := json.NewDecoder(r)
	d.UseNumber()
	for {
		var obj map[string]any
		err := d.Decode(&obj)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: bad JSON at byte %d: %w", name, d.InputOffset(), err)
		}
		x.jsonObject(obj, "", 0, jsonScale(obj))
	}
}

// scale says how a format prints a metric.
type scale int

// Scales. A number with a "%" sign is a percentage whatever the scale.
const (
	// scaleGuess: the format does not say; a bare number ≤ 1 is taken as a
	// fraction, a larger one as a percentage (and the report says so).
	scaleGuess scale = iota
	scaleFraction
	// scaleINC: Intel Neural Compressor prints whatever the evaluation
	// function returns. Its built-in metrics are fractions, so a value ≤ 1
	// is one; a larger value is read as a percentage, with a note (a loss
	// or perplexity needs -lower-better, which keeps values raw).
	scaleINC
	scalePercent
	// scaleRaw: not a proportion (perplexity, loss, latency): kept as is.
	scaleRaw
)

// parseValue reads a number such as 0.7612, 76.12 or "76.12%" into percent,
// guessing the scale of a bare number from its value.
func parseValue(b []byte, line int) (value, bool) {
	return parseScaled(b, line, scaleGuess)
}

// parseScaled reads a number printed in scale sc into percent (raw values
// stay as they are).
func parseScaled(b []byte, line int, sc scale) (value, bool) {
	s := strings.TrimSpace(string(b))
	if !reNumber.MatchString(s) {
		return value{}, false
	}
	pct := strings.HasSuffix(s, "%")
	s = strings.TrimSpace(strings.TrimSuffix(s, "%"))
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return value{}, false
	}
	res := 0.5
	if mant, _, _ := strings.Cut(strings.ToLower(s), "e"); strings.Contains(mant, ".") {
		_, frac, _ := strings.Cut(mant, ".")
		res = 0.5 * math.Pow(10, -float64(len(frac)))
	}
	v := value{v: f, res: res, line: line}
	switch {
	case pct || sc == scalePercent || sc == scaleRaw:
	case sc == scaleFraction, sc == scaleINC && math.Abs(f) <= 1:
		v.v, v.res = f*100, res*100
	case math.Abs(f) <= 1:
		v.v, v.res, v.guessed = f*100, res*100, true
	default:
		v.guessed = true
	}
	return v, true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// containsFold reports whether b contains lower, ASCII case-insensitively
// (lower is lower case).
func containsFold(b, lower []byte) bool {
	if len(lower) == 0 {
		return true
	}
	c0 := lower[0]
	for i := 0; i+len(lower) <= len(b); i++ {
		if b[i]|0x20 != c0|0x20 {
			continue
		}
		if bytes.EqualFold(b[i:i+len(lower)], lower) {
			return true
		}
	}
	return false
}

// findings returns what each format found, in a fixed order.
func (x *extractor) findings(name string) ([]found, error) {
	var fs []found
	want := x.opts.Metric
	canon := want // -metric Acc@1 is top1, -metric acc is accuracy
	if c, ok := jsonNames[normKey(want)]; ok {
		canon = c
	} else if c := slimName(want); c != want {
		canon = c
	} else if c := estimatorName(want); c != want {
		canon = c
	}
	var ambiguous error
	pick := func(ms map[string]value, def ...string) string {
		keys := sortedKeys(ms)
		if want != "" {
			def = []string{want, canon}
		}
		for _, d := range def {
			for _, k := range keys {
				if k == d || want != "" && normKey(k) == normKey(d) {
					return k
				}
			}
		}
		for _, d := range def { // nested JSON: eval.top1
			var hits []string
			for _, k := range keys {
				if strings.HasSuffix(normKey(k), "."+normKey(d)) {
					hits = append(hits, k)
				}
			}
			if len(hits) > 1 && ambiguous == nil {
				var list []string
				for _, h := range hits {
					list = append(list, fmt.Sprintf("%s = %s", h, fmtPct(ms[h].v)))
				}
				ambiguous = fmt.Errorf("%s: %d metrics could be %s: %s; choose one with -metric %s", name, len(hits), d, strings.Join(list, ", "), hits[0])
			}
			if len(hits) > 0 {
				return hits[0]
			}
		}
		return ""
	}
	if x.intelAI != nil {
		fs = append(fs, found{format: InputIntelAI, metrics: x.intelAI, samples: x.intelAISamples, primary: pick(x.intelAI, MetricTop1, MetricAccuracy)})
	}
	if inc, note := x.incValue(); inc != nil {
		ms := map[string]value{MetricAccuracy: *inc}
		f := found{format: InputINC, metrics: ms, primary: pick(ms, MetricAccuracy)}
		if f.primary != "" {
			f.trials = x.trials()
			if note != "" {
				f.notes = append(f.notes, note)
			}
		}
		fs = append(fs, f)
	}
	if len(x.coco) > 0 {
		coco, err := x.cocoChoice(name)
		if err != nil {
			return nil, err
		}
		p := pick(coco, MetricCOCOAP)
		if k := normKey(want); k == "ap" || k == "map" || len(x.coco) > 1 && !strings.Contains(want, ".") { // COCO's AP is what "mAP" means
			p = pick(coco)
			if _, ok := coco[MetricCOCOAP]; ok {
				p = MetricCOCOAP
			}
		}
		fs = append(fs, found{format: InputCOCO, metrics: coco, primary: p})
	}
	if len(x.json) > 0 {
		fs = append(fs, found{format: InputJSON, metrics: x.json, samples: x.jsonSamples, primary: pick(x.json, jsonPrimary...)})
	}
	for _, f := range toolOrder {
		if t := x.tools[f]; t != nil {
			fd := found{format: f, metrics: t.metrics, samples: t.samples, primary: pick(t.metrics, t.primary...)}
			if n := t.repeatNote(fd.primary); n != "" {
				fd.notes = append(fd.notes, n)
			}
			fs = append(fs, fd)
		}
	}
	switch {
	case x.metric != nil:
		ms := map[string]value{want: *x.metric}
		note := fmt.Sprintf("-metric %s: read from the summary line %d, %s", want, x.metric.line, x.metricText)
		if x.metricProgress != nil {
			note += fmt.Sprintf(" (per-batch progress lines, the last on line %d, were passed over)", x.metricProgress.line)
		}
		fs = append(fs, found{format: InputMetric, metrics: ms, primary: want, notes: []string{note}})
	case x.metricProgress != nil:
		ms := map[string]value{want: *x.metricProgress}
		note := fmt.Sprintf("-metric %s: no summary line has it; read from the last per-batch progress line, %d: %s", want, x.metricProgress.line, x.metricProgressText)
		fs = append(fs, found{format: InputMetric, metrics: ms, primary: want, notes: []string{note}})
	}
	if ambiguous != nil {
		return nil, ambiguous
	}
	return fs, nil
}

// toolOrder is the order in which the tools' findings are considered.
var toolOrder = []InputFormat{InputMLPerf, InputOpenVINO, InputEstimator, InputSlim, InputBERT, InputDIEN, InputTorch, InputUNet3D}

// incValue returns INC's accuracy for the extractor's role: the FP32
// baseline (or a tune line's fp32 value) for FP32; for int8 the best tune
// result, or when INC names none ("n/a", or the log ends first) the best
// of the trials, with a note saying so. Plain "Accuracy: x" lines count
// only when the log has none of these: in a tuning log they are the
// evaluations of every trial, FP32 and int8 alike.
func (x *extractor) incValue() (v *value, note string) {
	if x.opts.Role == RoleFP32 {
		if x.incBaseline != nil {
			return x.incBaseline, ""
		}
		for _, t := range x.incTrials {
			if t.fp32 != nil {
				return t.fp32, ""
			}
		}
	} else {
		if x.incBest != nil && !x.incBestNA {
			return x.incBest, ""
		}
		if t := x.bestTrial(); t != nil {
			why := "the log ends before INC names a best tune result"
			if x.incBestNA {
				why = "INC found no trial meeting its accuracy criterion (Best tune result is: n/a)"
			}
			return t.int8, fmt.Sprintf("%s; judged on the best of its %d trials, trial %d (line %d)", why, len(x.incTrials), t.n, t.int8.line)
		}
	}
	if x.incBaseline != nil || len(x.incTrials) > 0 || x.incBest != nil || x.incBestNA {
		return nil, "" // a tuning log without the role's value
	}
	if len(x.incPlainEarlier) > 0 && x.incPlain != nil {
		t := &tool{format: InputINC, metrics: map[string]value{MetricAccuracy: *x.incPlain}, earlier: map[string][]value{MetricAccuracy: x.incPlainEarlier}}
		return x.incPlain, t.repeatNote(MetricAccuracy)
	}
	return x.incPlain, ""
}

// bestTrial returns the INC trial with the highest int8 accuracy (the
// lowest with ExtractOptions.LowerBetter; the first of equals), or nil.
func (x *extractor) bestTrial() *incTrial {
	var best *incTrial
	for i := range x.incTrials {
		t := &x.incTrials[i]
		if best == nil || !x.opts.LowerBetter && t.int8.v > best.int8.v || x.opts.LowerBetter && t.int8.v < best.int8.v {
			best = t
		}
	}
	return best
}

// incScale is the scale of INC's values: raw with -lower-better (a loss),
// else scaleINC.
func (x *extractor) incScale() scale {
	if x.opts.LowerBetter {
		return scaleRaw
	}
	return scaleINC
}

// trials returns INC's trials for the int8 side, in trial order.
func (x *extractor) trials() []Trial {
	if x.opts.Role != RoleInt8 || len(x.incTrials) < 2 {
		return nil
	}
	ts := make([]Trial, len(x.incTrials))
	for i, t := range x.incTrials {
		ts[i] = Trial{N: t.n, Value: t.int8.v, Line: t.int8.line}
	}
	sort.SliceStable(ts, func(i, j int) bool { return ts[i].N < ts[j].N })
	return ts
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// formatDesc describes a format in error messages.
var formatDesc = map[InputFormat]string{
	InputIntelAI:   `"Processed N images" line`,
	InputINC:       `"Accuracy: x" line`,
	InputCOCO:      `COCO "Average Precision" line`,
	InputJSON:      `JSON object`,
	InputMetric:    `"NAME: x" line`,
	InputMLPerf:    `MLPerf "accuracy=x%" line`,
	InputOpenVINO:  `accuracy_checker "accuracy@topN: x%" line`,
	InputEstimator: `TF Estimator "Saving dict for global step" line`,
	InputSlim:      `TF-slim "eval/NAME[x]" line`,
	InputBERT:      `BERT "eval_NAME = x" line`,
	InputDIEN:      `DIEN "test_NAME: x" line`,
	InputTorch:     `PyTorch/timm " * Acc@1 x Acc@5 y" line`,
	InputUNet3D:    `3D-UNet "Accuracy: mean = x" line`,
}

func (x *extractor) result(name string) (*Accuracy, error) {
	if len(x.syntaxErrs) > 0 {
		return nil, joinFirst(x.syntaxErrs, 3)
	}
	if x.lines == 0 {
		return nil, fmt.Errorf("%s: empty file (want an inference log with an accuracy line, or a prediction file)", name)
	}
	fs, err := x.findings(name)
	if err != nil {
		return nil, err
	}
	var prim []found
	for _, f := range fs {
		if f.primary != "" {
			prim = append(prim, f)
		}
	}
	if len(prim) == 0 {
		if x.opts.Metric != "" {
			return nil, fmt.Errorf("%s: no metric %q found (looked for %q, %q, a JSON field %q, and the metrics of %s)",
				name, x.opts.Metric, x.opts.Metric+": x", x.opts.Metric+" = x", x.opts.Metric, lookedFor)
		}
		return nil, fmt.Errorf("%s: no accuracy found (looked for: %s)", name, lookedFor)
	}
	best := prim[0]
	for _, f := range prim[1:] {
		a, b := best.metrics[best.primary], f.metrics[f.primary]
		if math.Abs(a.v-b.v) > a.res+b.res+1e-9 {
			return nil, fmt.Errorf("%s: ambiguous accuracy: %s says %s = %s but %s says %s = %s (use -metric NAME to choose)",
				name, where(best.format, a.line), best.primary, fmtPct(a.v), where(f.format, b.line), f.primary, fmtPct(b.v))
		}
		if b.res < a.res {
			best = f
		}
	}
	acc := &Accuracy{File: name, Format: best.format, Metric: best.primary, Metrics: make(map[string]float64)}
	for i := len(fs) - 1; i >= 0; i-- { // earlier formats win a shared name
		for k, v := range fs[i].metrics {
			acc.Metrics[k] = v.v
		}
		if fs[i].samples > 0 && (acc.Samples == 0 || fs[i].format == best.format) {
			acc.Samples = fs[i].samples
		}
	}
	pv := best.metrics[best.primary]
	acc.Metrics[best.primary] = pv.v
	acc.Line = pv.line
	acc.Trials = best.trials
	acc.Notes = append(acc.Notes, best.notes...)
	acc.LowerBetter = x.opts.LowerBetter || LowerIsBetter(best.primary)
	if pv.guessed && !acc.LowerBetter {
		acc.Notes = append(acc.Notes, fmt.Sprintf("%s (line %d) has no %% sign and its format does not say whether it prints fractions or percentages; "+
			"read as %s%% by its size (a bare number ≤ 1 is a fraction, a larger one a percentage)", best.primary, pv.line, fmtPct(pv.v)))
	}
	if acc.LowerBetter {
		return acc, nil
	}
	if pv.v < 0 || pv.v > 100+1e-9 {
		return nil, fmt.Errorf("%s: %s = %s (%s) is not a percentage", name, best.primary, strconv.FormatFloat(pv.v, 'g', -1, 64), where(best.format, pv.line))
	}
	return acc, nil
}

func where(f InputFormat, line int) string {
	if line > 0 {
		return fmt.Sprintf("the %s on line %d", formatDesc[f], line)
	}
	return "the " + formatDesc[f]
}

// fmtPct formats a value in percent for messages and tables.
func fmtPct(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }

// joinFirst joins the first n errors and says how many more there were.
func joinFirst(errs []error, n int) error {
	if len(errs) <= n {
		return errors.Join(errs...)
	}
	shown := slices.Clone(errs[:n])
	shown = append(shown, fmt.Errorf("(and %d more)", len(errs)-n))
	return errors.Join(shown...)
}
