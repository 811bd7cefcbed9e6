package calib

import (
	"math"
	"slices"

	"qcal/logparse"
	"qcal/quant"
	"qcal/stats"
)

// part accumulates a stretch of the logs: all of them, or the second half
// of a large file, read on the other core and merged in afterwards.
type part struct {
	acc   *stats.Accumulator
	hist  *stats.HistogramSet
	hists map[string]binner // by logged name
	// fixed holds, in the second pass of a kl reading, Intel's histograms
	// by RequantizationRange name (cfg.fixedTh gives their ranges); nil in
	// the first pass.
	fixed                    map[string]*stats.FixedHistogram
	cfg                      *config
	syntax                   []logparse.SyntaxError // the first maxShown
	bad                      []badRecord            // the first maxShown
	nSyntax, nBad, dropped   int
	counted                  map[string]*BadRecords // by node, with CountBad
	extraOutputs, badTensors int64
	brokenDumps              int64
	brokenNode               string // the first broken dump's node, for the warning
	// quantized holds, per node, an integer tensor that may be the data of
	// a quantized dump MSG[q q ...][min][max]: kept until its min and max
	// arrive (then dequantized) or until it turns out to be a plain tensor.
	quantized   map[string]*qtensor
	qtype       quant.Type
	dequantized int64
	spare       []float64 // the codes buffer of the last tensor binned, for the next
	floats      []float32 // codes turned to floats, a chunk at a time
}

// qtensor is a tensor of integers waiting for its range.
type qtensor struct {
	codes      []float64
	mins, maxs []float32 // outputs 1 and 2: one value, or one per channel
	// want is the output whose chunk nextChunk is expected (1, then 2);
	// 0 once a range output did not fit.
	want, nextChunk int32
	complete        bool // output 0 has ended
	// broken: outputs 1 or 2 came but are no range of these codes (one
	// value, or one per channel dividing the codes' count): the dump is
	// left out, not binned as raw codes (which would give a range of
	// about ±1e9 to a strategy).
	broken bool
}

// maxQuantized bounds the codes held for one quantized dump (128 MiB);
// a longer integer tensor is binned as plain values.
const maxQuantized = 1 << 24

// badRecord is a range record unusable for calibration.
type badRecord struct {
	file      string
	line      int64
	node, msg string
}

func newPart(cfg *config) *part {
	acc := stats.NewAccumulator()
	acc.KeepLines = cfg.opt.KeepLines
	p := &part{acc: acc, hist: stats.NewHistogramSet(), hists: map[string]binner{}, cfg: cfg,
		counted: map[string]*BadRecords{}, quantized: map[string]*qtensor{}, qtype: quant.QInt32}
	if cfg.fixedTh != nil {
		p.fixed = map[string]*stats.FixedHistogram{}
	}
	return p
}

// binner takes a node's values: a Histogram in the first pass, a
// FixedHistogram in the second.
type binner interface{ AddSlice([]float32) }

// discard is the binner of a node without a range in the second pass (it
// logged nothing finite in the first).
type discard struct{}

func (discard) AddSlice([]float32) {}

// histogram returns the histogram a logged node's values go to.
func (p *part) histogram(node string) binner {
	h := p.hists[node]
	if h == nil {
		target, ok := p.cfg.opt.NameMap[node]
		if !ok {
			target = MapName(node)
		}
		switch th, ok := p.cfg.fixedTh[target]; {
		case p.fixed == nil:
			h = p.hist.Histogram(target)
		case ok:
			f := p.fixed[target]
			if f == nil {
				f = stats.NewFixedHistogram(th)
				p.fixed[target] = f
			}
			h = f
		default:
			h = discard{}
		}
		p.hists[node] = h
	}
	return h
}

// flushQuantized bins a held integer tensor as plain values: no range came.
func (p *part) flushQuantized(node string) {
	q := p.quantized[node]
	if q == nil {
		return
	}
	delete(p.quantized, node)
	if q.broken {
		p.brokenDumps++
		if p.brokenNode == "" {
			p.brokenNode = node
		}
		if cap(q.codes) <= 1<<22 {
			p.spare = q.codes[:0]
		}
		q.codes = nil
		return
	}
	p.binCodes(node, q, func(dst []float32, codes []float64) int {
		n := min(len(dst), len(codes))
		for i, c := range codes[:n] {
			dst[i] = float32(c)
		}
		return n
	})
}

// binCodes bins the codes of q as conv turns them to floats, a chunk at a
// time, and keeps the codes buffer for the next tensor.
func (p *part) binCodes(node string, q *qtensor, conv func(dst []float32, codes []float64) int) {
	h := p.histogram(node)
	if p.floats == nil {
		p.floats = make([]float32, 4096)
	}
	for codes := q.codes; len(codes) > 0; {
		n := conv(p.floats, codes)
		h.AddSlice(p.floats[:n])
		codes = codes[n:]
	}
	if cap(q.codes) <= 1<<22 { // 32 MiB; a larger one is rare: let it go
		p.spare = q.codes[:0]
	}
	q.codes = nil
}

// flushAll bins every held integer tensor as plain values (end of input).
func (p *part) flushAll() {
	nodes := make([]string, 0, len(p.quantized))
	for n := range p.quantized {
		nodes = append(nodes, n)
	}
	slices.Sort(nodes)
	for _, n := range nodes {
		p.flushQuantized(n)
	}
}

// values takes one chunk of a logged tensor. Output 0 is binned; when it is
// all integers it is held, and if outputs 1 and 2 follow with one value
// each, it is a quantized dump (Intel's MSG[q ...][min][max]) and is
// dequantized with TF's QuantizedToFloat rule for p.qtype before binning;
// when they hold one value per channel (a per-channel convolution's
// ranges, their length dividing the codes'), with perChannelFloats.
func (p *part) values(it *item) {
	if it.output == 0 {
		if it.chunk == 0 {
			p.flushQuantized(it.node) // a previous integer tensor got no range
		}
		q := p.quantized[it.node]
		switch {
		case it.ints && (it.chunk == 0 || q != nil) && (q == nil || len(q.codes)+len(it.values64) <= maxQuantized):
			if q == nil {
				q = &qtensor{codes: p.spare, want: 1}
				p.spare = nil
				p.quantized[it.node] = q
			}
			q.codes = append(q.codes, it.values64...)
			q.complete = it.last
		default:
			p.flushQuantized(it.node)
			p.histogram(it.node).AddSlice(it.values)
		}
		if it.bad {
			p.badTensors++
		}
		return
	}
	q := p.quantized[it.node]
	if q != nil && q.complete && p.rangeChunk(it.node, q, it) {
		return
	}
	if it.last {
		p.extraOutputs++
	}
}

// rangeChunk takes one chunk of output 1 or 2 of the held integer tensor
// q (the min and max vectors of a per-channel dump with more channels
// than logparse.MaxChunk come in several chunks) and, once output 2 has
// ended as long as output 1, dequantizes and bins q. It reports whether
// the chunk was taken; a chunk that does not fit (out of order, output 1
// longer than the codes or not dividing their number, output 2 of another
// length) marks q broken: it is left out when flushed.
func (p *part) rangeChunk(node string, q *qtensor, it *item) bool {
	if it.output != q.want || it.chunk != q.nextChunk {
		q.want, q.broken = 0, true
		return false
	}
	buf := &q.mins
	if q.want == 2 {
		buf = &q.maxs
	}
	if len(*buf)+len(it.values) > len(q.codes) {
		q.want, q.broken = 0, true
		return false
	}
	*buf = append(*buf, it.values...)
	q.nextChunk++
	if !it.last {
		return true
	}
	switch {
	case q.want == 1 && len(q.mins) > 0 && len(q.codes)%len(q.mins) == 0:
		q.want, q.nextChunk = 2, 0
		return true
	case q.want == 2 && len(q.maxs) == len(q.mins):
		delete(p.quantized, node)
		if len(q.mins) == 1 {
			p.binCodes(node, q, quant.NewDequantizer(p.qtype, q.mins[0], q.maxs[0]).Floats)
		} else {
			p.binCodes(node, q, perChannelFloats(q.codes, q.mins, q.maxs))
		}
		p.dequantized++
		return true
	}
	q.want, q.broken = 0, true
	return false
}

// perChannelFloats returns binCodes' conversion of a per-channel qint32
// dump (a quantized convolution with per-channel weights: channels last,
// output c's range [mins[c], maxs[c]]): code · max(|min_c|, |max_c|) / 2³¹,
// the value Intel's RequantizationRangePerChannel and RequantizePerChannel
// give the code. all is the whole dump; binCodes passes its tail.
func perChannelFloats(all []float64, mins, maxs []float32) func(dst []float32, codes []float64) int {
	scale := make([]float64, len(mins))
	for c := range scale {
		scale[c] = math.Max(math.Abs(float64(mins[c])), math.Abs(float64(maxs[c]))) / (1 << 31)
	}
	return func(dst []float32, codes []float64) int {
		c := (len(all) - len(codes)) % len(scale) // the channel of codes[0]
		n := min(len(dst), len(codes))
		for i, code := range codes[:n] {
			dst[i] = float32(code * scale[c])
			if c++; c == len(scale) {
				c = 0
			}
		}
		return n
	}
}

// read scans r (named name) into the part and closes it. A part that
// reports progress (head) passes each batch's bytes and records to the
// meter and tells it to draw.
func (p *part) read(r *logparse.Reader, name string, head bool) (logparse.Counts, error) {
	defer r.Close()
	r.TFCompat = p.cfg.opt.TFCompat
	r.AllValues = p.cfg.values
	var progress func(bytes, records int64)
	if m := p.cfg.meter; m != nil {
		progress = func(bytes, records int64) { m.add(bytes, records, head) }
	}
	if err := scanAsync(r, func(it *item) error { return p.consume(it, name) }, progress); err != nil {
		return logparse.Counts{}, err
	}
	p.flushAll()
	return r.Counts(), r.Err()
}

// consume takes one item, checking range records. The second pass takes
// only tensor values: the first counted and checked everything else.
func (p *part) consume(it *item, file string) error {
	if p.fixed != nil {
		if it.se == nil && it.kind == logparse.Values {
			p.values(it)
		}
		return nil
	}
	if se := it.se; se != nil {
		p.nSyntax++
		if len(p.syntax) < maxShown {
			p.syntax = append(p.syntax, *se)
		}
		return nil
	}
	if it.kind == logparse.Values {
		p.values(it)
		return nil
	}
	if msg := checkRecord(it.kind, it.min, it.max); msg != "" {
		switch p.cfg.opt.Bad {
		case DropBad:
			p.dropped++
		case CountBad:
			b := p.counted[it.node]
			if b == nil {
				b = &BadRecords{File: file, Line: it.line}
				p.counted[it.node] = b
			}
			if finite(it.min) && finite(it.max) {
				b.Inverted++
			} else {
				b.NonFinite++
			}
		default:
			p.nBad++
			if len(p.bad) < maxShown {
				p.bad = append(p.bad, badRecord{file, it.line, it.node, msg})
			}
		}
		return nil
	}
	return p.acc.Add(it.node, side(it.kind), it.min, it.max, file, it.line)
}

// merge adds a part that read the lines after lineOffset of the same file.
func (p *part) merge(q *part, lineOffset int64) error {
	if err := p.acc.MergeShifted(q.acc, lineOffset); err != nil {
		return err
	}
	p.hist.Merge(q.hist)
	for target, f := range q.fixed {
		if g := p.fixed[target]; g != nil {
			g.Merge(f)
		} else {
			p.fixed[target] = f
		}
	}
	for _, se := range q.syntax {
		if len(p.syntax) < maxShown {
			se.Line += lineOffset
			p.syntax = append(p.syntax, se)
		}
	}
	for _, b := range q.bad {
		if len(p.bad) < maxShown {
			b.line += lineOffset
			p.bad = append(p.bad, b)
		}
	}
	for node, b := range q.counted {
		if a := p.counted[node]; a != nil {
			a.NonFinite += b.NonFinite
			a.Inverted += b.Inverted
			continue
		}
		b.Line += lineOffset
		p.counted[node] = b
	}
	p.nSyntax += q.nSyntax
	p.nBad += q.nBad
	p.dropped += q.dropped
	p.extraOutputs += q.extraOutputs
	p.badTensors += q.badTensors
	if q.brokenDumps > 0 && p.brokenNode == "" {
		p.brokenNode = q.brokenNode
	}
	p.brokenDumps += q.brokenDumps
	p.dequantized += q.dequantized
	return nil
}
