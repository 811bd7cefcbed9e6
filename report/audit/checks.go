package audit

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"qcal/internal/tfname"
	"qcal/report"
	"qcal/stats"
)

// node is what the checks of one node share: the node's samples, its
// place in the graph, and what measure found.
type node struct {
	n    *NodeAudit
	sn   *stats.Node // nil: no usable record
	g    *Graph      // nil: no graph
	gn   *graphNode  // nil: not in the graph (or no graph)
	opt  *Options
	conv stats.ConvergenceOptions

	positions  []stats.Position
	mins, maxs []float32 // per-batch extremes; nil for the side not logged
	chosen     StrategyRange
	stretching bool  // an outlier batch widens the chosen range
	keep       []int // the batches that are not outliers
	converge   stats.Convergence
}

// at returns the file and line of a batch (0-based), "" when unknown.
func (c *node) at(batch int) (string, int64) {
	if batch >= 0 && batch < len(c.positions) {
		return c.positions[batch].File, c.positions[batch].Line
	}
	return "", 0
}

// checks are the audit's rules for a node that logged usable records, one
// rule a function, in the order their reasons are listed within a level.
var checks = []struct {
	name  string
	check func(*node)
}{
	{"in the graph", checkInGraph},
	{"distinct batches", checkDistinctBatches},
	{"fused Relu", checkReluMin},
	{"nonzero width", checkWidth},
	{"clipping", checkClipping},
	{"spread", checkSpread},
	{"outliers", checkOutliers},
	{"convergence", checkConvergence},
	{"certainty", checkCertainty},
}

// auditNode measures and judges one node.
func auditNode(sn *stats.Node, name string, index int, opt *Options, conv stats.ConvergenceOptions) *NodeAudit {
	c := &node{n: &NodeAudit{Index: index, Name: name, Depth: -1}, sn: sn, g: opt.Graph, opt: opt, conv: conv}
	if c.g != nil {
		if c.gn = c.g.nodes[name]; c.gn != nil {
			c.n.Depth, c.n.Op = c.gn.depth, c.gn.producerOp
		}
	}
	checkBadRecords(c)
	if sn == nil {
		checkUnlogged(c)
		return c.n
	}
	c.measure()
	for _, r := range checks {
		r.check(c)
	}
	return c.n
}

// measure fills in the node's findings: spreads, the range under each
// strategy, outlier batches (and how much they stretch the chosen range)
// and the convergence of the chosen range.
func (c *node) measure() {
	n, sn := c.n, c.sn
	n.Side = sn.Side.String()
	n.Batches = sn.Count()
	n.File, n.FirstLine, n.LastLine = sn.File, sn.FirstLine, sn.LastLine
	c.positions = sn.Positions()
	if sn.Side != stats.MaxOnly {
		c.mins = sn.Mins()
		n.Mins = newSpread(stats.Describe(c.mins))
	}
	if sn.Side != stats.MinOnly {
		c.maxs = sn.Maxs()
		n.Maxs = newSpread(stats.Describe(c.maxs))
	}

	// Ranges under each strategy.
	for _, s := range c.opt.Strategies {
		r := s.Range(sn)
		sr := StrategyRange{Strategy: s.Name(), Min: r.Min, Max: r.Max, Width: stats.Width(r)}
		if sn.Side == stats.Both {
			sr.Step = sr.Width / quint8Steps
		}
		for i := 0; i < n.Batches; i++ {
			if c.mins != nil && c.mins[i] < r.Min || c.maxs != nil && c.maxs[i] > r.Max {
				sr.Clipped++
			}
		}
		sr.ClipShare = float64(sr.Clipped) / float64(n.Batches)
		n.Ranges = append(n.Ranges, sr)
	}
	c.chosen = n.Ranges[0]

	// Outlier batches.
	var zMin, zMax []float64
	if c.mins != nil {
		zMin = stats.RobustZ(c.mins)
	}
	if c.maxs != nil {
		zMax = stats.RobustZ(c.maxs)
	}
	for i := 0; i < n.Batches; i++ {
		var o OutlierBatch
		out := false
		if zMin != nil {
			o.Min, o.ZMin = c.mins[i], zMin[i]
			if math.Abs(zMin[i]) > stats.OutlierZ {
				out = true
				c.stretching = c.stretching || zMin[i] < 0 && c.chosen.Min <= c.mins[i]
			}
		}
		if zMax != nil {
			o.Max, o.ZMax = c.maxs[i], zMax[i]
			if math.Abs(zMax[i]) > stats.OutlierZ {
				out = true
				c.stretching = c.stretching || zMax[i] > 0 && c.chosen.Max >= c.maxs[i]
			}
		}
		if !out {
			c.keep = append(c.keep, i)
			continue
		}
		o.Batch = i + 1
		o.File, o.Line = c.at(i)
		n.Outliers = append(n.Outliers, o)
	}
	if len(n.Outliers) > 0 && c.stretching && len(c.keep) > 0 {
		w := stats.Width(c.opt.Strategies[0].Range(sn.Subset(c.keep)))
		if w > 0 {
			n.Stretch = Float(c.chosen.Width / w)
		} else if c.chosen.Width > 0 {
			n.Stretch = Float(math.Inf(1))
		}
	}

	// Convergence of the chosen range.
	c.converge = stats.Converge(sn, c.opt.Strategies[0], c.conv)
	cv := c.converge
	cf := &ConvergenceFinding{HalfShift: Float(cv.HalfShift), MinLo: cv.MinLo, MinHi: cv.MinHi, MaxLo: cv.MaxLo, MaxHi: cv.MaxHi,
		CIWidth: Float(cv.CIWidth), StableAfter: cv.StableAfter, Converged: cv.Converged}
	_, cf.StableLine = c.at(cv.StableAfter - 1)
	n.Convergence = cf
}

// checkBadRecords: records skipped as unusable (NaN/Inf, min > max) are a
// risk.
func checkBadRecords(c *node) {
	bad := c.opt.Bad[c.n.Name]
	if bad == nil {
		return
	}
	c.n.Bad = bad
	var what []string
	if bad.NonFinite > 0 {
		what = append(what, fmt.Sprintf("%d with NaN/Inf", bad.NonFinite))
	}
	if bad.Inverted > 0 {
		what = append(what, fmt.Sprintf("%d with min > max", bad.Inverted))
	}
	c.n.flag(Risk, "unusable records", "unusable records skipped: %s (first at %s)", strings.Join(what, ", "), auditWhere(bad.File, bad.Line))
}

// checkUnlogged: a node with only unusable records cannot be calibrated; a
// RequantizationRange of the graph that was never logged stays dynamic.
func checkUnlogged(c *node) {
	switch {
	case c.n.Bad != nil:
		c.n.Side = stats.Both.String()
		c.n.flag(Risk, "no usable record", "no usable record: the range cannot be calibrated")
	case c.gn != nil:
		c.n.Side = stats.Both.String()
		c.n.flag(Warn, "never logged", "never logged: stays dynamic (its range is computed per batch at run time); "+
			"add it to insert-logging or freeze with -allow-missing")
	}
}

// checkInGraph: with a graph, a logged node must be in it, and a node
// logged with __requant_min_max must be a RequantizationRange, or freezing
// fails.
func checkInGraph(c *node) {
	switch {
	case c.g == nil:
	case c.gn == nil:
		c.n.flag(Risk, "not in graph", "not in graph %s: freezing fails (TF: Node from log not found in graph); logged from %s",
			c.g.Name, auditWhere(c.sn.File, c.sn.FirstLine))
	case c.sn.Side == stats.Both && !tfname.IsRequantizationRange(c.gn.op):
		c.n.flag(Risk, "not a RequantizationRange", "is a %s node in the graph, not a RequantizationRange: freezing fails", c.gn.op)
	}
}

// checkDistinctBatches: batches that all logged the same extremes suggest
// one input repeated.
func checkDistinctBatches(c *node) {
	n := c.n
	if n.Batches > 1 && (n.Mins == nil || n.Mins.Min == n.Mins.Max) && (n.Maxs == nil || n.Maxs.Min == n.Maxs.Max) {
		n.flag(Warn, "identical batches", "all %d batches logged the same extremes: the calibration inputs may be one batch repeated", n.Batches)
	}
}

// checkReluMin: a node fed by a fused Relu cannot log a negative min.
func checkReluMin(c *node) {
	if !(c.gn != nil && fusedRelu(c.gn.producerOp) && c.n.Mins != nil && c.n.Mins.Min < 0) {
		return
	}
	i := slices.IndexFunc(c.mins, func(v float32) bool { return v < 0 })
	f, l := c.at(i)
	c.n.flag(Risk, "Relu but min < 0", "fed by %s (fused Relu, outputs ≥ 0) but logs min %s < 0 at %s: graph and log do not match",
		c.gn.producerOp, report.FormatFloat(c.mins[i]), auditWhere(f, l))
}

// checkWidth: a zero-width range maps every value to one level.
func checkWidth(c *node) {
	if c.chosen.Width == 0 {
		c.n.flag(Risk, "zero width", "zero-width range [%s, %s]: int8 step 0, every value maps to one level",
			report.FormatFloat(c.chosen.Min), report.FormatFloat(c.chosen.Max))
	}
}

// checkClipping: the chosen range clips the extremes of many batches.
func checkClipping(c *node) {
	if ch := c.chosen; ch.ClipShare > clipWarn {
		c.n.flag(Warn, "clips "+auditPct(ch.ClipShare), "%s clips the extremes of %d of %d batches (%.0f%%)",
			ch.Strategy, ch.Clipped, c.n.Batches, 100*ch.ClipShare)
	}
}

// checkSpread: per-batch minima or maxima that vary widely.
func checkSpread(c *node) {
	for _, sp := range []struct {
		what string
		s    *Spread
	}{{"minima", c.n.Mins}, {"maxima", c.n.Maxs}} {
		if sp.s != nil && sp.s.RelIQR > spreadWarn {
			c.n.flag(Warn, sp.what+" vary widely", "per-batch %s vary widely: IQR %s of the median", sp.what, auditPct(float64(sp.s.RelIQR)))
		}
	}
}

// checkOutliers: outlier batches that stretch the chosen range coarsen the
// int8 step; clipped ones are worth a look when gross.
func checkOutliers(c *node) {
	n, chosen := c.n, c.chosen
	if len(n.Outliers) == 0 {
		return
	}
	first := n.Outliers[0]
	desc := fmt.Sprintf("batch %d at %s, z = %s", first.Batch, auditWhere(first.File, first.Line), outlierZ(first))
	if len(n.Outliers) > 1 {
		desc += fmt.Sprintf(", and %d more", len(n.Outliers)-1)
	}
	switch {
	case n.Stretch >= stretchRisk:
		n.flag(Risk, "stretched "+auditRatio(float64(n.Stretch))+"× by outliers", "%s range stretched %s× by %s (%s): int8 step %s× coarser",
			chosen.Strategy, auditRatio(float64(n.Stretch)), auditPlural(len(n.Outliers), "outlier batch", "outlier batches"), desc, auditRatio(float64(n.Stretch)))
	case n.Stretch >= stretchWarn:
		n.flag(Warn, "stretched "+auditRatio(float64(n.Stretch))+"× by outliers", "%s range stretched %s× by %s (%s)",
			chosen.Strategy, auditRatio(float64(n.Stretch)), auditPlural(len(n.Outliers), "outlier batch", "outlier batches"), desc)
	default:
		// Clipped outliers: a gross one suggests an unusual input worth
		// a look; milder ones are the tail of a healthy distribution.
		level := OK
		for _, o := range n.Outliers {
			if math.Abs(o.ZMin) > grossZ || math.Abs(o.ZMax) > grossZ {
				level = Warn
			}
		}
		n.flag(level, auditPlural(len(n.Outliers), "outlier", "outliers")+" clipped", "%s (%s), clipped by the %s range",
			auditPlural(len(n.Outliers), "outlier batch", "outlier batches"), desc, chosen.Strategy)
	}
}

// checkConvergence: too few batches to judge, or a range still moving in
// the second half of the log.
func checkConvergence(c *node) {
	minBatches := c.conv.MinBatches
	if minBatches <= 0 {
		minBatches = stats.DefaultMinBatches
	}
	switch cv := c.converge; {
	case c.chosen.Width == 0:
	case c.n.Batches < minBatches:
		c.n.flag(Warn, "too few batches", "only %s: too few to judge convergence; log more batches (at least %d)",
			auditPlural(c.n.Batches, "batch", "batches"), minBatches)
	case !cv.Converged:
		f, l := c.at(cv.StableAfter - 1)
		c.n.flag(Warn, "not converged", "not converged: the range moved more than %s of its width in the second half "+
			"(stable only from batch %d of %d, %s); log more batches", auditPct(c.conv.Tolerance), cv.StableAfter, c.n.Batches, auditWhere(f, l))
	}
}

// checkCertainty: a wide bootstrap interval of the range's min or max.
func checkCertainty(c *node) {
	cv := c.converge
	if !(c.chosen.Width > 0 && cv.CIWidth > ciWarn) {
		return
	}
	lo, hi, which := cv.MaxLo, cv.MaxHi, "max"
	if c.sn.Side == stats.MinOnly || c.sn.Side == stats.Both && cv.MinHi-cv.MinLo > cv.MaxHi-cv.MaxLo {
		lo, hi, which = cv.MinLo, cv.MinHi, "min"
	}
	c.n.flag(Warn, "uncertain: CI "+auditPct(cv.CIWidth)+" of width", "uncertain range: the 95%% bootstrap interval of the %s, [%s, %s], spans %s of the width",
		which, auditNum(lo, false), auditNum(hi, false), auditPct(cv.CIWidth))
}
