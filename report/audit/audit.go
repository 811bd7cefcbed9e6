package audit

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"runtime"
	"slices"
	"strconv"
	"sync"

	"qcal/internal/calib"
	"qcal/stats"
)

// Level is the verdict on a node, or on a whole calibration.
type Level int

// Report levels, from good to bad.
const (
	// OK: nothing in the log suggests the range is wrong.
	OK Level = iota
	// Warn: the range is usable but something deserves a look
	// (outlier batches, too few batches, drift, a node never logged).
	Warn
	// Risk: int8 accuracy is likely to suffer, or freezing fails.
	Risk
)

func (l Level) String() string {
	switch l {
	case OK:
		return "ok"
	case Warn:
		return "warn"
	case Risk:
		return "risk"
	}
	return fmt.Sprintf("Level(%d)", int(l))
}

// MarshalText writes the level as "ok", "warn" or "risk".
func (l Level) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// Thresholds of the audit's verdicts (documented in the method notes).
const (
	// DefaultDrift is the default -drift: a range that moved by more than
	// 10% of its width since the other calibration is flagged.
	DefaultDrift = 0.1
	// clipWarn: a range that clips the extremes of more than 20% of the
	// batches is flagged (TF's 5%/5% rule clips about 10% by design).
	clipWarn = 0.2
	// spreadWarn: per-batch extremes whose IQR exceeds half their median
	// are flagged as varying widely between batches.
	spreadWarn = 0.5
	// ciWarn: a bootstrap interval wider than 25% of the range's width is
	// flagged as uncertain.
	ciWarn = 0.25
	// grossZ: an outlier batch the range clips is flagged only when its
	// modified z-score exceeds 10; healthy long-tailed data reaches about 7
	// (lognormal noise over 7000 batches, and the real logs' ResNet and
	// Inception runs).
	grossZ = 10
	// stretchWarn and stretchRisk: a range that reaches an outlier batch
	// and is wider by these factors than without the outliers is flagged.
	stretchWarn = 1.1
	stretchRisk = 2
	// quint8Steps is the number of steps between the 256 levels of a
	// quint8 tensor.
	quint8Steps = 255
)

// BadRecords counts a node's records that cannot be used for calibration
// and where the first was: the calibration pipeline's count.
type BadRecords = calib.BadRecords

// Options configure Report.
type Options struct {
	// Strategies are the strategies to compare; the first is the chosen
	// one, whose range the verdicts judge. At least one is required.
	Strategies []stats.Strategy
	// Graph, when set, adds the graph checks and orders nodes as the
	// graph does.
	Graph *Graph
	// Convergence tunes the convergence measure (tolerance, bootstrap).
	Convergence stats.ConvergenceOptions
	// Bad holds the records the caller skipped, per node.
	Bad map[string]*BadRecords
	// Against is another calibration of the same graph (AgainstName
	// names its logs), compared node by node with the chosen strategy.
	Against     *stats.Accumulator
	AgainstName string
	// Drift is the fraction of a range's width beyond which a change
	// against the other calibration is flagged (default DefaultDrift).
	Drift float64
	// Logs and Records describe the input, for the report's heading.
	Logs    []string
	Records int64
}

// Report is the audit of one calibration: a finding per node, sorted by
// risk, and the comparison with another calibration when asked for.
type Report struct {
	Logs       []string `json:"logs"`
	Records    int64    `json:"records"`
	Graph      string   `json:"graph,omitempty"`
	Strategies []string `json:"strategies"`
	Verdict    Level    `json:"verdict"`
	OK         int      `json:"ok"`
	Warn       int      `json:"warn"`
	Risk       int      `json:"risk"`
	// Tolerance, Resamples and Seed are the convergence options used.
	Tolerance float64 `json:"tolerance"`
	Resamples int     `json:"resamples"`
	Seed      uint64  `json:"seed"`
	// Nodes are sorted riskiest first: by level, then by how much outliers
	// stretch the chosen range, then by number of reasons, then by the
	// width of the range's bootstrap interval, then by position (Index).
	Nodes   []*NodeAudit `json:"nodes"`
	Changes *Changes     `json:"changes,omitempty"`
	// Layers, when set, is the per-layer int8 error measured beside the
	// log (qcal audit -fp32 -int8 -data): every format shows it after the
	// findings.
	Layers *Layers `json:"layer_error,omitempty"`

	// PagePlots are the plots the HTML page shows (from Plots; nil: none).
	PagePlots []*Plot `json:"-"`

	acc *stats.Accumulator
}

// NodeAudit is what the audit found about one node.
type NodeAudit struct {
	// Index is the node's 1-based position in graph order (with a graph)
	// or in the order the log first mentions the nodes; plots label nodes
	// "#Index".
	Index int    `json:"index"`
	Name  string `json:"node"`
	Side  string `json:"kind"`
	// Depth is the longest path in edges from a graph source to the node
	// (-1: no graph, or not in it, or behind a cycle). Op is the op of the
	// node feeding it (the quantized conv), with a graph.
	Depth int    `json:"depth"`
	Op    string `json:"producer_op,omitempty"`
	// Batches is the number of usable records.
	Batches   int    `json:"batches"`
	File      string `json:"file,omitempty"`
	FirstLine int64  `json:"first_line,omitempty"`
	LastLine  int64  `json:"last_line,omitempty"`
	// Mins and Maxs describe the per-batch extremes (nil for the side a
	// node does not log, and for nodes without batches).
	Mins *Spread `json:"mins,omitempty"`
	Maxs *Spread `json:"maxs,omitempty"`
	// Ranges are the ranges under each strategy, the chosen one first.
	Ranges      []StrategyRange     `json:"ranges,omitempty"`
	Outliers    []OutlierBatch      `json:"outliers,omitempty"`
	Stretch     Float               `json:"outlier_stretch,omitempty"`
	Convergence *ConvergenceFinding `json:"convergence,omitempty"`
	Bad         *BadRecords         `json:"bad_records,omitempty"`
	Change      *RangeChange        `json:"change,omitempty"`
	Level       Level               `json:"verdict"`
	Reasons     []string            `json:"reasons"`

	// Flags are the reasons in a few words each, for narrow tables.
	Flags []string `json:"flags"`

	level [3][]reason // reasons by level, before sorting
}

// StrategyRange is a node's range under one strategy.
type StrategyRange struct {
	Strategy string  `json:"strategy"`
	Min      float32 `json:"min"`
	Max      float32 `json:"max"`
	Width    float64 `json:"width"`
	// Step is the int8 step the range implies: (Max − Min)/255 for the
	// asymmetric quint8 output of Requantize (256 levels from Min to Max);
	// 0 for min-only and max-only nodes.
	Step float64 `json:"step"`
	// Clipped is the number of batches whose min lies below Min or whose
	// max lies above Max; ClipShare is Clipped over the batches.
	Clipped   int     `json:"clipped"`
	ClipShare float64 `json:"clip_share"`
}

// OutlierBatch is a batch whose min or max has a modified z-score beyond
// ±3.5 among the node's batches.
type OutlierBatch struct {
	Batch int     `json:"batch"` // 1-based, in log order
	File  string  `json:"file,omitempty"`
	Line  int64   `json:"line,omitempty"`
	Min   float32 `json:"min"`
	Max   float32 `json:"max"`
	ZMin  float64 `json:"z_min"`
	ZMax  float64 `json:"z_max"`
}

// ConvergenceFinding is stats.Convergence for the chosen strategy, with
// the log line of the batch the range was stable after.
type ConvergenceFinding struct {
	HalfShift   Float   `json:"half_shift"`
	MinLo       float64 `json:"min_lo"`
	MinHi       float64 `json:"min_hi"`
	MaxLo       float64 `json:"max_lo"`
	MaxHi       float64 `json:"max_hi"`
	CIWidth     Float   `json:"ci_width"`
	StableAfter int     `json:"stable_after"`
	StableLine  int64   `json:"stable_line,omitempty"`
	Converged   bool    `json:"converged"`
}

// RangeChange compares a node's chosen range with the other calibration's.
type RangeChange struct {
	OldMin   float32 `json:"old_min"`
	OldMax   float32 `json:"old_max"`
	NewMin   float32 `json:"new_min"`
	NewMax   float32 `json:"new_max"`
	DeltaMin float64 `json:"delta_min"`
	DeltaMax float64 `json:"delta_max"`
	// Relative is max(|ΔMin|, |ΔMax|) over the old range's width (+Inf
	// when that width is 0 and the range moved).
	Relative Float `json:"relative"`
	Drifted  bool  `json:"drifted"`
}

// Changes is the comparison of the audited calibration with another.
type Changes struct {
	Against string  `json:"against"`
	Drift   float64 `json:"drift"`
	// Nodes logged by both, in the audit's node order (Index).
	Changed []ChangedNode `json:"changed"`
	// New are logged now but not by the other calibration; Vanished the
	// other way round (in the other log's order).
	New      []string `json:"new"`
	Vanished []string `json:"vanished"`
	Drifted  int      `json:"drifted"`
}

// ChangedNode is one node of Changes.
type ChangedNode struct {
	Index int    `json:"index"`
	Name  string `json:"node"`
	RangeChange
}

// New audits the calibration in acc. It computes nothing about ranges
// itself: the strategies and stats do; it judges what they give.
func New(acc *stats.Accumulator, opt Options) (*Report, error) {
	if len(opt.Strategies) == 0 {
		return nil, fmt.Errorf("audit: no strategy")
	}
	if opt.Drift <= 0 {
		opt.Drift = DefaultDrift
	}
	conv := opt.Convergence
	if conv.Tolerance <= 0 {
		conv.Tolerance = stats.DefaultTolerance
	}
	if conv.Resamples <= 0 {
		conv.Resamples = stats.DefaultResamples
	}
	a := &Report{Logs: opt.Logs, Records: opt.Records, Tolerance: conv.Tolerance, Resamples: conv.Resamples,
		Seed: conv.Seed, acc: acc}
	for _, s := range opt.Strategies {
		a.Strategies = append(a.Strategies, s.Name())
	}
	if opt.Graph != nil {
		a.Graph = opt.Graph.Name
	}

	// The nodes to audit: every logged node, nodes whose records were all
	// unusable, and with a graph its RequantizationRange nodes.
	logged := acc.Nodes()
	var names []string
	seen := map[string]bool{}
	add := func(name string) {
		if !seen[name] {
			seen[name] = true
			names = append(names, name)
		}
	}
	for _, n := range logged {
		add(n.Name)
	}
	for _, name := range slices.Sorted(maps.Keys(opt.Bad)) {
		add(name)
	}
	if g := opt.Graph; g != nil {
		for _, name := range g.ranges {
			add(name)
		}
		// Graph order; nodes the graph lacks keep their log order, after.
		pos := func(name string) int {
			if gn := g.nodes[name]; gn != nil {
				return gn.order
			}
			return math.MaxInt
		}
		slices.SortStableFunc(names, func(x, y string) int { return cmp.Compare(pos(x), pos(y)) })
	}

	nodes := make([]*NodeAudit, len(names))
	work := make(chan int)
	var wg sync.WaitGroup
	for range max(1, min(runtime.GOMAXPROCS(0), len(names))) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				nodes[i] = auditNode(acc.Node(names[i]), names[i], i+1, &opt, conv)
			}
		}()
	}
	for i := range names {
		work <- i
	}
	close(work)
	wg.Wait()

	if opt.Against != nil {
		a.Changes = compareAgainst(nodes, acc, &opt)
	}
	for _, n := range nodes {
		n.finish()
		switch n.Level {
		case OK:
			a.OK++
		case Warn:
			a.Warn++
		case Risk:
			a.Risk++
		}
		a.Verdict = max(a.Verdict, n.Level)
	}
	slices.SortStableFunc(nodes, riskOrder)
	a.Nodes = nodes
	return a, nil
}

// flag adds a reason at a level: short for tables, and in full.
// riskOrder sorts nodes riskiest first: by level, then by how much
// outlier batches stretch the chosen range, then by the number of reasons,
// then by the width of the range's bootstrap interval, then by position.
func riskOrder(x, y *NodeAudit) int {
	if c := cmp.Compare(y.Level, x.Level); c != 0 {
		return c
	}
	if c := cmp.Compare(y.Stretch, x.Stretch); c != 0 {
		return c
	}
	if c := cmp.Compare(len(y.Reasons), len(x.Reasons)); c != 0 {
		return c
	}
	ci := func(n *NodeAudit) Float {
		if n.Convergence == nil {
			return 0
		}
		return n.Convergence.CIWidth
	}
	if c := cmp.Compare(ci(y), ci(x)); c != 0 {
		return c
	}
	return cmp.Compare(x.Index, y.Index)
}

func (n *NodeAudit) flag(l Level, short, format string, args ...any) {
	n.level[l] = append(n.level[l], reason{short, fmt.Sprintf(format, args...)})
}

type reason struct{ short, long string }

// finish sets the level and the reasons, the worst first.
func (n *NodeAudit) finish() {
	n.Level = OK
	n.Reasons, n.Flags = []string{}, []string{}
	for l := Risk; l >= OK; l-- {
		if len(n.level[l]) > 0 {
			n.Level = max(n.Level, l)
		}
		for _, r := range n.level[l] {
			n.Reasons = append(n.Reasons, r.long)
			n.Flags = append(n.Flags, r.short)
		}
	}
}

// where names a log position for a message.
func auditWhere(file string, line int64) string {
	if file == "" {
		return fmt.Sprintf("line %d", line)
	}
	return fmt.Sprintf("%s:%d", file, line)
}

func outlierZ(o OutlierBatch) string {
	z := o.ZMax
	if math.Abs(o.ZMin) > math.Abs(o.ZMax) {
		z = o.ZMin
	}
	return auditZ(z)
}

func auditZ(z float64) string {
	if math.IsInf(z, 0) {
		return "∞"
	}
	return fmt.Sprintf("%.1f", z)
}

func auditRatio(r float64) string {
	if math.IsInf(r, 0) {
		return "∞"
	}
	return fmt.Sprintf("%.1f", r)
}

// pct writes a fraction as a percentage.
func auditPct(f float64) string {
	if math.IsInf(f, 0) {
		return "∞%"
	}
	if f < 0.1 {
		return fmt.Sprintf("%.1f%%", 100*f)
	}
	return fmt.Sprintf("%.0f%%", 100*f)
}

func auditPlural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// compareAgainst compares each node's chosen range with the other
// calibration's and flags drifts.
func compareAgainst(nodes []*NodeAudit, acc *stats.Accumulator, opt *Options) *Changes {
	s := opt.Strategies[0]
	ch := &Changes{Against: opt.AgainstName, Drift: opt.Drift, Changed: []ChangedNode{}, New: []string{}, Vanished: []string{}}
	for _, n := range nodes {
		cur := acc.Node(n.Name)
		if cur == nil {
			continue
		}
		old := opt.Against.Node(n.Name)
		if old == nil {
			ch.New = append(ch.New, n.Name)
			continue
		}
		if old.Side != cur.Side {
			n.flag(Risk, "kind changed", "logged as %s here but as %s in %s", cur.Side, old.Side, opt.AgainstName)
			continue
		}
		or, nr := s.Range(old), s.Range(cur)
		rc := RangeChange{OldMin: or.Min, OldMax: or.Max, NewMin: nr.Min, NewMax: nr.Max,
			DeltaMin: float64(nr.Min) - float64(or.Min), DeltaMax: float64(nr.Max) - float64(or.Max)}
		d := 0.0
		if cur.Side != stats.MaxOnly {
			d = math.Abs(rc.DeltaMin)
		}
		if cur.Side != stats.MinOnly {
			d = max(d, math.Abs(rc.DeltaMax))
		}
		switch w := stats.Width(or); {
		case w > 0:
			rc.Relative = Float(d / w)
		case d > 0:
			rc.Relative = Float(math.Inf(1))
		}
		rc.Drifted = float64(rc.Relative) > opt.Drift
		if rc.Drifted {
			ch.Drifted++
			n.flag(Warn, "drifted "+auditPct(float64(rc.Relative)), "drifted: the %s range moved %s of its width since %s ([%s, %s] → [%s, %s])",
				s.Name(), auditPct(float64(rc.Relative)), opt.AgainstName, auditNum(float64(or.Min), false), auditNum(float64(or.Max), false),
				auditNum(float64(nr.Min), false), auditNum(float64(nr.Max), false))
		}
		n.Change = &rc
		ch.Changed = append(ch.Changed, ChangedNode{Index: n.Index, Name: n.Name, RangeChange: rc})
	}
	for _, o := range opt.Against.Nodes() {
		if acc.Node(o.Name) == nil {
			ch.Vanished = append(ch.Vanished, o.Name)
		}
	}
	return ch
}

// Float is a float64 that JSON writes as null when it is infinite or
// NaN, which JSON numbers cannot be (a change of a zero-width range is
// infinitely large).
type Float float64

// MarshalJSON writes f as a JSON number, or null.
func (f Float) MarshalJSON() ([]byte, error) {
	v := float64(f)
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, v, 'g', -1, 64), nil
}

// Spread is stats.Spread as the audit's JSON writes it.
type Spread struct {
	N      int     `json:"n"`
	Min    float64 `json:"min"`
	Q1     float64 `json:"q1"`
	Median float64 `json:"median"`
	Q3     float64 `json:"q3"`
	Max    float64 `json:"max"`
	IQR    float64 `json:"iqr"`
	RelIQR Float   `json:"rel_iqr"` // null: the median is 0
	MAD    float64 `json:"mad"`
}

func newSpread(s stats.Spread) *Spread {
	return &Spread{N: s.N, Min: s.Min, Q1: s.Q1, Median: s.Median, Q3: s.Q3, Max: s.Max, IQR: s.IQR, RelIQR: Float(s.RelIQR), MAD: s.MAD}
}
