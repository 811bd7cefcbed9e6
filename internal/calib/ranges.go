package calib

import (
	"fmt"
	"strings"

	"qcal/stats"
)

// Ranges applies a method to every node that logged the data it reads:
// per-batch extremes first, in log order, then the nodes that logged only
// tensor values.
func (cal *Calibration) Ranges(m Method) []stats.Range {
	var out []stats.Range
	if m.Batch != nil {
		out = stats.Ranges(cal.Acc, m.Batch)
	}
	if m.Values == nil {
		return out
	}
	if m.Batch != nil { // percentile:P: values only where no extremes were logged
		out = out[:0]
		for _, n := range cal.Acc.Nodes() {
			if cal.Hist.Node(n.Name) == nil {
				out = append(out, m.Batch.Range(n))
			}
		}
	}
	for _, name := range cal.Hist.Nodes() {
		h := cal.Hist.Node(name)
		if h.Count() == 0 {
			continue // nothing finite was logged: no range
		}
		lo, hi := m.Values.Range(h)
		out = append(out, stats.Range{Node: name, Side: stats.Both, Min: lo, Max: hi, Count: int(h.Count())})
	}
	return out
}

// FromValues reports whether m's range for node comes from its logged
// tensor values (counted in values, not batches).
func (cal *Calibration) FromValues(m Method, node string) bool {
	return m.Values != nil && cal.Hist.Node(node) != nil && (m.Batch == nil || cal.Acc.Node(node) == nil)
}

// Nodes counts the nodes that logged extremes, values or both.
func (cal *Calibration) Nodes() int {
	n := cal.Acc.Len()
	for _, name := range cal.Hist.Nodes() {
		if cal.Acc.Node(name) == nil {
			n++
		}
	}
	return n
}

// MethodNames joins the methods' names for summaries.
func (cal *Calibration) MethodNames() string {
	var names []string
	for _, m := range cal.Methods {
		names = append(names, m.Name())
	}
	return strings.Join(names, ",")
}

// NodeStrategy returns m as a stats.Strategy over the nodes of cal.Acc (the
// nodes that logged per-batch extremes), for the audit's comparison of
// strategies: a node that also logged tensor values gets m's value rule
// over its values, the others m's batch rule. It fails when m reads only
// values and a node logged none: that node would have no range.
func (cal *Calibration) NodeStrategy(m Method) (stats.Strategy, error) {
	if m.Values == nil {
		return m.Batch, nil
	}
	if m.Batch == nil {
		for _, n := range cal.Acc.Nodes() {
			if h := cal.Hist.Node(n.Name); h == nil || h.Count() == 0 {
				return nil, fmt.Errorf("strategy %s reads logged tensor values, but node %q logged none "+
					"(log its values too, or map their names with -map)", m.Name(), n.Name)
			}
		}
	}
	return nodeStrategy{m, cal.Hist}, nil
}

type nodeStrategy struct {
	m    Method
	hist *stats.HistogramSet
}

func (s nodeStrategy) Name() string { return s.m.Name() }

func (s nodeStrategy) Range(n *stats.Node) stats.Range {
	if h := s.hist.Node(n.Name); h != nil && h.Count() > 0 {
		lo, hi := s.m.Values.Range(h)
		return stats.Range{Node: n.Name, Side: stats.Both, Min: lo, Max: hi, Count: int(h.Count())}
	}
	return s.m.Batch.Range(n)
}
