package tune

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"google.golang.org/protobuf/proto"

	"qcal/freeze"
	"qcal/internal/atomicfile"
	"qcal/internal/calib"
	"qcal/internal/dataset"
	"qcal/internal/evaluate"
	"qcal/internal/exec"
	"qcal/internal/layererr"
	"qcal/internal/rewrite/insertlogging"
	"qcal/internal/rewrite/quantize"
	"qcal/internal/rewrite/transform"
	"qcal/internal/tfname"
	"qcal/internal/tfpb"
	"qcal/report/accuracy"
)

// DefaultStrategies are the strategies tried when none are named: TF's
// rule, the extremes, the histogram searches, and two high percentiles of
// the values.
const DefaultStrategies = "tf,minmax,kl,entropy,mse,percentile:99.99,percentile:99.999"

// Data names a data set and how to read it.
type Data struct {
	Path string
	Opt  dataset.Options
}

// Options configure Run.
type Options struct {
	// Graph is the optimized FP32 graph; Name names it in messages.
	Graph *tfpb.GraphDef
	Name  string
	// Input is the Placeholder fed with the data, Output the tensor read
	// as class scores; empty: the graph's only ones.
	Input, Output string
	// LabelOffset is evaluate.Options.LabelOffset.
	LabelOffset int
	// Calib is the calibration data (its first Batches batches are run);
	// Eval the evaluation data.
	Calib, Eval Data
	Batches     int
	// Strategies is a comma-separated strategy list (DefaultStrategies when
	// empty).
	Strategies string
	// Target is the accuracy target each candidate is judged against.
	Target accuracy.Target
	// Quantize are the options of the quantization (Outputs default to the
	// FP32 graph's output node).
	Quantize quantize.Options
	// PerChannelAuto quantizes per channel, although Quantize.PerChannel
	// is false, when the per-tensor Intel path would lose Relu6 clamps that
	// the per-channel one keeps (MobileNet v1: the clamps of its 13
	// pointwise convolutions; top-1 8.6% against 46.8%, see README).
	PerChannelAuto bool
	// Workers is evaluate.Options.Workers.
	Workers int
	// KernelKey names the kernel settings (MKL or Eigen int8 arithmetic)
	// for the cache: results computed with other kernels are not reused.
	KernelKey string
	// CacheDir, when set, keeps the FP32 predictions and the calibration
	// log there, named by a hash of everything they depend on, so that a
	// rerun reuses them.
	CacheDir string
	// CacheMax bounds CacheDir's entries, in bytes (0: DefaultCacheMax).
	// A calibration log is kept only when it fits beside this run's FP32
	// predictions; after the run the least recently used entries are
	// removed until the entries total at most CacheMax.
	CacheMax int64
	// EvalMemory bounds the memory the evaluation set may take once
	// decoded and preprocessed (0: DefaultEvalMemory; negative: none): a
	// set that fits is read once and every evaluation replays it, one
	// that does not is read (and its images decoded) for each.
	EvalMemory int64
	// LayerError, when set, measures the per-layer int8 error of the
	// chosen candidate (Result.Layers) on the calibration batches.
	LayerError bool
	// Note receives a sentence for the user at each step; Progress the
	// examples done in the current evaluation.
	Note     func(string)
	Progress func(stage string, done int)

	evalSet   *dataset.Recording // the evaluation set in memory, once read
	evalTried bool               // whether reading it into memory was tried
}

// DefaultEvalMemory is Options.EvalMemory's default: 1 GiB, about 5,000
// images of 224×224×3 (the 1,000 MobileNet photographs at 128×128 take
// 197 MB).
const DefaultEvalMemory = 1 << 30

// Candidate is the int8 graph of one strategy and what it scored.
type Candidate struct {
	Strategy    string
	Graph       *tfpb.GraphDef
	Result      *evaluate.Result
	Predictions []byte
	// Fused counts the quantized convolutions fused with their Requantize.
	Fused int
}

// Result is what a tuning run found.
type Result struct {
	FP32            *evaluate.Result
	FP32Predictions []byte
	Quantized       *quantize.Result
	// PerChannel says whether the weights were quantized per channel (asked
	// for, or chosen by Options.PerChannelAuto).
	PerChannel bool
	Candidates []*Candidate // in strategy-list order
	Comparison *accuracy.Comparison
	// Best is the candidate meeting the target with the least drop (ties
	// go to the simplest strategy), nil when none does.
	Best *Candidate
	// Cached says what was reused from CacheDir.
	Cached []string
	// Fallback, when no strategy met the target, is the per-layer fallback
	// that was tried: the layers left in FP32, most sensitive first.
	Fallback *Fallback
	// Layers, with Options.LayerError, is the per-layer int8 error of
	// LayersOf (Best, or the least-drop candidate when none passes) against
	// the FP32 graph on the calibration batches; nil when it could not be
	// measured (Note says why).
	Layers   *layererr.Result
	LayersOf *Candidate
}

// Fallback is the per-layer fallback: starting from the strategy with the
// least drop, the quantized layers are left in FP32 one at a time, the
// most sensitive first, until the target holds.
type Fallback struct {
	Strategy string
	// Sensitivity is each quantized layer's drop (in the target's unit)
	// when it alone is left in FP32, most sensitive (smallest drop) first.
	Sensitivity []Layer
	// Steps are the candidates built by leaving the first 1, 2, … layers
	// of Sensitivity in FP32, each with its drop.
	Steps []Layer
}

// Layer is a quantized layer (its FP32 convolution's name) and a drop.
type Layer struct {
	Node string
	Drop float64
}

// Run quantizes the FP32 graph, instruments it once for per-batch ranges
// and tensor values, runs one calibration, and for each strategy freezes
// the ranges, fuses the convolutions with their Requantize and evaluates
// the int8 graph; the candidates are compared with the FP32 predictions
// (paired by example).
func Run(opt Options) (*Result, error) {
	note := opt.Note
	if note == nil {
		note = func(string) {}
	}
	if opt.Strategies == "" {
		opt.Strategies = DefaultStrategies
	}
	methods, err := calib.ParseMethods(opt.Strategies, 5, 5)
	if err != nil {
		return nil, err
	}
	if opt.Batches <= 0 {
		opt.Batches = 10
	}
	res := &Result{}

	// FP32 baseline.
	fp32, err := exec.New(opt.Graph, opt.Name)
	if err != nil {
		return nil, err
	}
	out, err := evaluate.PickOutput(fp32, opt.Output)
	if err != nil {
		return nil, err
	}
	in, err := evaluate.PickInput(fp32, opt.Input)
	if err != nil {
		return nil, err
	}
	opt.Input, opt.Output = in.Name, out
	// Both data sets laid out to the input, as qcal eval lays them out.
	opt.Calib.Opt = evaluate.DataOptions(in, opt.Calib.Opt)
	opt.Eval.Opt = evaluate.DataOptions(in, opt.Eval.Opt)
	graphKey := hashGraph(opt.Graph)
	fp32Key := cacheKey("fp32", graphKey, opt.Input, opt.Output, fmt.Sprint(opt.LabelOffset), dataKey(opt.Eval), opt.KernelKey)
	// This run's entries are never pruned; the others are, oldest first,
	// on every way out of Run.
	inUse := []string{fp32Key + ".csv"}
	defer func() { opt.prune(inUse, note) }()
	if b, ok := opt.cached(fp32Key + ".csv"); ok {
		res.FP32Predictions = b
		res.Cached = append(res.Cached, "FP32 predictions")
		note("FP32 predictions reused from " + filepath.Join(opt.CacheDir, fp32Key+".csv"))
	} else {
		note("evaluating the FP32 graph")
		r, preds, err := opt.evaluate(fp32, "fp32")
		if err != nil {
			return nil, fmt.Errorf("FP32 evaluation: %w", err)
		}
		res.FP32, res.FP32Predictions = r, preds
		if err := opt.store(fp32Key+".csv", preds); err != nil {
			return nil, err
		}
	}
	if !labelled(res.FP32Predictions) {
		return nil, fmt.Errorf("%s: no example of the evaluation set has a label, so no strategy can be judged (give -labels)", opt.Eval.Path)
	}

	// Quantize and instrument.
	qopt := opt.Quantize
	if len(qopt.Outputs) == 0 {
		qopt.Outputs = []string{tfname.NodeName(opt.Output)}
	}
	q, err := quantize.Quantize(opt.Graph, qopt)
	if err != nil {
		return nil, fmt.Errorf("quantize: %w", err)
	}
	if opt.PerChannelAuto && !qopt.PerChannel && qopt.Intel && len(q.LostClamps) > 0 {
		po := qopt
		po.PerChannel = true
		pq, err := quantize.Quantize(opt.Graph, po)
		if err != nil {
			return nil, fmt.Errorf("quantize -per-channel: %w", err)
		}
		if len(pq.LostClamps) < len(q.LostClamps) {
			note(fmt.Sprintf("quantizing per channel: per tensor, %d Relu6 clamp(s) would be lost (%s)", len(q.LostClamps)-len(pq.LostClamps), tfname.List(q.LostClamps, 3)))
			q, qopt = pq, po
		}
	}
	res.Quantized = q
	res.PerChannel = qopt.PerChannel
	logged, nameMap, err := instrument(q.Graph)
	if err != nil {
		return nil, err
	}
	note(fmt.Sprintf("quantized %d nodes; %d requantization ranges to calibrate", len(q.Quantized), len(nameMap)))

	// One calibration run.
	logKey := cacheKey("calib", hashGraph(logged), opt.Input, fmt.Sprint(opt.Batches), dataKey(opt.Calib), opt.KernelKey)
	inUse = append(inUse, logKey+".log")
	var cal *calib.Calibration
	err = opt.calibrate(logged, logKey, res, note, func(log string) error {
		// One reading gives every strategy its statistics (two passes
		// over the file when kl is among them).
		var err error
		if cal, err = calib.Read([]string{log}, calib.Options{Methods: methods, NameMap: nameMap, Bad: calib.FailBad}); err != nil {
			return fmt.Errorf("calibration log: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}

	// One candidate a strategy.
	fuse, err := transform.Parse("fuse_quantized_conv_and_requantize")
	if err != nil {
		return nil, err
	}
	build := func(name string, qg *tfpb.GraphDef, m calib.Method) (*Candidate, error) {
		c := &Candidate{Strategy: name}
		fr, err := freeze.Graph(qg, cal.Ranges(m), freeze.Options{AllowMissing: qg != q.Graph})
		if err != nil {
			return nil, fmt.Errorf("%s: freeze: %w", name, err)
		}
		fused, steps, err := transform.Apply(fr.Graph, fuse, transform.Options{})
		if err != nil {
			return nil, fmt.Errorf("%s: fuse: %w", name, err)
		}
		c.Graph, c.Fused = fused, steps[0].Changed
		gr, err := exec.New(fused, "int8 graph ("+name+")")
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		note("evaluating the int8 graph of " + name)
		c.Result, c.Predictions, err = opt.evaluate(gr, name)
		if err != nil {
			return nil, fmt.Errorf("%s: evaluation: %w", name, err)
		}
		return c, nil
	}
	for _, m := range methods {
		c, err := build(m.Spec, q.Graph, m)
		if err != nil {
			return nil, fmt.Errorf("strategy %w", err)
		}
		res.Candidates = append(res.Candidates, c)
	}
	if err := res.compare(opt.Target); err != nil {
		return nil, err
	}
	if res.Best != nil || len(q.Quantized) == 0 {
		opt.layerError(res, fp32, note)
		return res, nil
	}

	// Per-layer fallback from the strategy with the least drop.
	top := res.Comparison.Candidates[0].Name
	var m calib.Method
	for _, mm := range methods {
		if mm.Spec == top {
			m = mm
		}
	}
	fb := &Fallback{Strategy: top}
	res.Fallback = fb
	note(fmt.Sprintf("no strategy meets the target; measuring each of the %d quantized layers' cost with %s", len(q.Quantized), top))
	exclude := func(name string, nodes []string) (*Candidate, float64, error) {
		qo := qopt
		qo.ExcludedNodes = nodes
		qx, err := quantize.Quantize(opt.Graph, qo)
		if err != nil {
			return nil, 0, err
		}
		c, err := build(name, qx.Graph, m)
		if err != nil {
			return nil, 0, err
		}
		cmp, err := accuracy.Compare(res.fp32Source(), []accuracy.Source{c.source()}, accuracy.Options{Target: opt.Target})
		if err != nil {
			return nil, 0, err
		}
		return c, cmp.Candidates[0].Drop, nil
	}
	for _, n := range q.Quantized {
		_, drop, err := exclude(top+" without "+n.Name, []string{n.Name})
		if err != nil {
			return nil, fmt.Errorf("fallback: %w", err)
		}
		fb.Sensitivity = append(fb.Sensitivity, Layer{Node: n.Name, Drop: drop})
	}
	slices.SortStableFunc(fb.Sensitivity, func(a, b Layer) int {
		switch {
		case a.Drop < b.Drop:
			return -1
		case a.Drop > b.Drop:
			return 1
		}
		return 0
	})
	var nodes []string
	for _, l := range fb.Sensitivity {
		nodes = append(nodes, l.Node)
		name := fmt.Sprintf("%s, %d in FP32", top, len(nodes))
		c, drop, err := exclude(name, slices.Clone(nodes))
		if err != nil {
			return nil, fmt.Errorf("fallback: %w", err)
		}
		fb.Steps = append(fb.Steps, Layer{Node: l.Node, Drop: drop})
		res.Candidates = append(res.Candidates, c)
		if opt.Target.Judge(drop) == accuracy.Pass {
			break
		}
	}
	if err := res.compare(opt.Target); err != nil {
		return nil, err
	}
	opt.layerError(res, fp32, note)
	return res, nil
}

// layerError measures, with opt.LayerError, the per-layer error of the
// best candidate, or of the least-drop one when none passes, on the
// calibration batches. A failure is noted, not returned: the table is an
// addition to the report.
func (opt *Options) layerError(res *Result, fp32 *exec.Graph, note func(string)) {
	if !opt.LayerError || res.Comparison == nil || len(res.Comparison.Candidates) == 0 {
		return
	}
	c := res.Best
	if c == nil {
		top := res.Comparison.Candidates[0].Name
		for _, cc := range res.Candidates {
			if cc.Strategy == top {
				c = cc
			}
		}
	}
	if c == nil {
		return
	}
	err := func() error {
		gr, err := exec.New(c.Graph, "int8 graph ("+c.Strategy+")")
		if err != nil {
			return err
		}
		src, err := dataset.Open(opt.Calib.Path, opt.Calib.Opt)
		if err != nil {
			return err
		}
		defer src.Close()
		note(fmt.Sprintf("measuring the per-layer error of %s on %d calibration batches", c.Strategy, opt.Batches))
		lo := layererr.Options{Input: opt.Input, Batches: opt.Batches}
		if opt.Progress != nil {
			lo.Progress = func(n int) { opt.Progress("per-layer error", n) }
		}
		r, err := layererr.Measure(fp32, gr, src, lo)
		if err != nil {
			return err
		}
		res.Layers, res.LayersOf = r, c
		return nil
	}()
	if err != nil {
		note("per-layer error not measured: " + err.Error())
	}
}

// compare judges every candidate against FP32, paired by example, ranks
// them and picks the best.
func (res *Result) compare(target accuracy.Target) error {
	var cands []accuracy.Source
	for _, c := range res.Candidates {
		cands = append(cands, c.source())
	}
	cmp, err := accuracy.Compare(res.fp32Source(), cands, accuracy.Options{Target: target})
	if err != nil {
		return err
	}
	rank(cmp)
	res.Comparison = cmp
	res.Best = pickBest(res.Candidates, cmp)
	return nil
}

func (res *Result) fp32Source() accuracy.Source {
	return accuracy.Source{Name: "fp32", File: "FP32 predictions", R: bytes.NewReader(res.FP32Predictions)}
}

func (c *Candidate) source() accuracy.Source {
	return accuracy.Source{Name: c.Strategy, File: c.Strategy + " predictions", R: bytes.NewReader(c.Predictions)}
}

// rank orders the comparison's candidates as tune chooses: by verdict
// (pass, warn, fail), then least drop, ties to the simplest strategy (the
// report's own order breaks ties by name).
func rank(cmp *accuracy.Comparison) {
	order := map[accuracy.Verdict]int{accuracy.Pass: 0, accuracy.Warn: 1, accuracy.Fail: 2}
	slices.SortStableFunc(cmp.Candidates, func(a, b *accuracy.Model) int {
		switch {
		case order[a.Verdict] != order[b.Verdict]:
			return order[a.Verdict] - order[b.Verdict]
		case a.Drop != b.Drop && a.Drop < b.Drop:
			return -1
		case a.Drop != b.Drop:
			return 1
		}
		return Simplicity(a.Name) - Simplicity(b.Name)
	})
	for i, m := range cmp.Candidates {
		m.Rank = i + 1
	}
}

// pickBest returns the first passing candidate of the ranked comparison,
// or nil.
func pickBest(cands []*Candidate, cmp *accuracy.Comparison) *Candidate {
	for _, m := range cmp.Candidates {
		if m.Verdict != accuracy.Pass {
			continue
		}
		for _, c := range cands {
			if c.Strategy == m.Name {
				return c
			}
		}
	}
	return nil
}

// Simplicity ranks strategies for ties: the extremes, then TF's rule,
// percentiles, averages, then the histogram searches.
func Simplicity(strategy string) int {
	name, _, _ := strings.Cut(strategy, ":")
	order := []string{"minmax", "tf", "percentile", "vpercentile", "mean", "median", "ema", "mse", "entropy", "kl"}
	if i := slices.Index(order, name); i >= 0 {
		return i
	}
	return len(order)
}

// instrument logs the quantized graph once for both kinds of calibration:
// each RequantizationRange's [min][max] (TF's __requant_min_max records)
// and the whole int32 output of the op it measures (Intel's dump, read as
// tensor values), and returns the map from that op's name to the range's.
func instrument(q *tfpb.GraphDef) (*tfpb.GraphDef, map[string]string, error) {
	nameMap := map[string]string{}
	producerOps := map[string]bool{}
	byName := map[string]*tfpb.NodeDef{}
	for _, n := range q.GetNode() {
		byName[n.GetName()] = n
	}
	var prefixes []string
	for _, n := range q.GetNode() {
		if !tfname.IsRequantizationRange(n.GetOp()) || len(n.GetInput()) == 0 {
			continue
		}
		p := byName[tfname.NodeName(n.GetInput()[0])]
		if p == nil {
			continue
		}
		nameMap[p.GetName()] = n.GetName()
		producerOps[p.GetOp()] = true
		prefixes = append(prefixes, p.GetName())
	}
	if len(nameMap) == 0 {
		return nil, nil, errors.New("the quantized graph has no RequantizationRange node: nothing to calibrate (qcal quantize says which nodes stayed FP32 and why)")
	}
	values := insertlogging.DefaultOptions()
	values.Ops = sortedKeys(producerOps)
	values.Prefixes = prefixes
	values.Message = "__KL:"
	values.Summarize = -1
	logged, _, err := insertlogging.InsertPasses(q, []insertlogging.Options{insertlogging.DefaultOptions(), values})
	if err != nil {
		return nil, nil, err
	}
	return logged, nameMap, nil
}

func sortedKeys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// evaluate runs gr on the evaluation data and returns its predictions.
func (opt *Options) evaluate(gr *exec.Graph, stage string) (*evaluate.Result, []byte, error) {
	src, err := opt.evalStream()
	if err != nil {
		return nil, nil, err
	}
	defer src.Close()
	var preds bytes.Buffer
	eo := evaluate.Options{Input: opt.Input, Output: opt.Output, LabelOffset: opt.LabelOffset, Workers: opt.Workers, Predictions: &preds}
	if opt.Progress != nil {
		eo.Progress = func(n int) { opt.Progress(stage, n) }
	}
	r, err := evaluate.Run(gr, src, eo)
	if err != nil {
		return nil, nil, err
	}
	if r.N == 0 {
		return nil, nil, fmt.Errorf("%s: the data set gave no example", opt.Eval.Path)
	}
	return r, preds.Bytes(), nil
}

// evalStream opens the evaluation set: from memory once it has been read
// there (the first call tries, within EvalMemory), else from its files.
func (opt *Options) evalStream() (*dataset.Stream, error) {
	if opt.evalSet != nil {
		return opt.evalSet.Stream(), nil
	}
	limit := opt.EvalMemory
	if limit == 0 {
		limit = DefaultEvalMemory
	}
	if !opt.evalTried && limit > 0 {
		opt.evalTried = true
		src, err := dataset.Open(opt.Eval.Path, opt.Eval.Opt)
		if err != nil {
			return nil, err
		}
		rec, err := dataset.Record(src, limit)
		switch {
		case err == nil:
			opt.evalSet = rec
			return rec.Stream(), nil
		case !errors.Is(err, dataset.ErrTooLarge):
			return nil, err
		}
		if opt.Note != nil {
			opt.Note(fmt.Sprintf("the evaluation set takes more than %d MiB decoded: it is read again for each evaluation", limit>>20))
		}
	}
	return dataset.Open(opt.Eval.Path, opt.Eval.Opt)
}

// calibrate runs the logged graph on the calibration data and hands read
// the log's path, or hands it the cached log when there is one. The log
// goes to a file as the graph writes it, never to memory: in the cache
// folder, kept there (atomically) once read if it fits the cache's limit,
// or in the temporary folder without a cache. Every file it made but did
// not keep is gone when it returns, whatever happened.
func (opt *Options) calibrate(logged *tfpb.GraphDef, key string, res *Result, note func(string), read func(log string) error) error {
	name := key + ".log"
	if p, ok := opt.reuse(name); ok {
		res.Cached = append(res.Cached, "calibration log")
		note("calibration log reused from " + p)
		return read(p)
	}
	gr, err := exec.New(logged, "logged int8 graph")
	if err != nil {
		return err
	}
	src, err := dataset.Open(opt.Calib.Path, opt.Calib.Opt)
	if err != nil {
		return err
	}
	defer src.Close()
	var path string
	var w io.Writer
	var entry *atomicfile.File // the cache entry being written
	if opt.CacheDir != "" {
		if err := os.MkdirAll(opt.CacheDir, 0o755); err != nil {
			return err
		}
		if entry, err = atomicfile.Create(filepath.Join(opt.CacheDir, name)); err != nil {
			return err
		}
		defer entry.Abort()
		path, w = entry.TempName(), entry
	} else {
		f, remove, err := atomicfile.TempFile("", "qcal-tune-*.log")
		if err != nil {
			return err
		}
		defer remove()
		path, w = f.Name(), f
	}
	bw := bufio.NewWriterSize(w, logBuffer)
	note(fmt.Sprintf("calibrating on %d batches of %s", opt.Batches, opt.Calib.Path))
	co := evaluate.CalibrateOptions{Input: opt.Input, Batches: opt.Batches, Log: bw}
	if opt.Progress != nil {
		co.Progress = func(n int) { opt.Progress("calibration", n) }
	}
	if _, _, err := evaluate.Calibrate(gr, src, co); err != nil {
		return fmt.Errorf("calibration: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("calibration log: %w", err)
	}
	if err := read(path); err != nil {
		return err
	}
	if entry == nil {
		return nil
	}
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if room := opt.cacheMax() - int64(len(res.FP32Predictions)); fi.Size() > room {
		note(fmt.Sprintf("calibration log (%s) not cached: it does not fit the cache's limit of %s beside the FP32 predictions", mib(fi.Size()), mib(opt.cacheMax())))
		return nil
	}
	if err := entry.Commit(); err != nil {
		// The run has what it needs; only a rerun loses.
		note("warning: calibration log not cached: " + err.Error())
	}
	return nil
}

// logBuffer is the calibration log's write buffer: Print lines are
// written one at a time, most far shorter.
const logBuffer = 1 << 20

// cached returns a cache entry's content and marks it used.
func (opt *Options) cached(name string) ([]byte, bool) {
	p, ok := opt.reuse(name)
	if !ok {
		return nil, false
	}
	b, err := os.ReadFile(p)
	return b, err == nil
}

// store writes a cache file atomically, so that an interrupted run never
// leaves a half-written one to be reused.
func (opt *Options) store(name string, b []byte) error {
	if opt.CacheDir == "" {
		return nil
	}
	if err := os.MkdirAll(opt.CacheDir, 0o755); err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(opt.CacheDir, name), b)
}

func hashGraph(g *tfpb.GraphDef) string {
	b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(g)
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// dataKey describes a data set for the cache: its path, size and
// modification time, and how it is read.
// For a glob or a folder every file it holds counts, and so does the
// labels file (named, or found beside IDX images).
func dataKey(d Data) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s|%+v", d.Path, d.Opt)
	files, _ := filepath.Glob(d.Path)
	if fi, err := os.Stat(d.Path); err == nil && fi.IsDir() {
		filepath.WalkDir(d.Path, func(p string, e os.DirEntry, err error) error {
			if err == nil && !e.IsDir() {
				files = append(files, p)
			}
			return nil
		})
	}
	files = append(files, d.Opt.Labels, strings.Replace(d.Path, "images-idx3", "labels-idx1", 1))
	for _, f := range files {
		if fi, err := os.Stat(f); err == nil && !fi.IsDir() {
			fmt.Fprintf(&b, "|%s %d %d", f, fi.Size(), fi.ModTime().UnixNano())
		}
	}
	return b.String()
}

func cacheKey(kind string, parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		io.WriteString(h, p)
		h.Write([]byte{0})
	}
	return kind + "-" + hex.EncodeToString(h.Sum(nil))[:16]
}

// labelled reports whether a predictions file (evaluate's CSV) holds a row
// whose label is not -1.
func labelled(preds []byte) bool {
	for _, line := range bytes.Split(preds, []byte("\n"))[1:] {
		f := bytes.SplitN(line, []byte(","), 3)
		if len(f) == 3 && string(f[1]) != "-1" {
			return true
		}
	}
	return false
}
