package stats

import (
	"fmt"
	"slices"
	"unsafe"
)

// Side says which extremes a node logs.
type Side uint8

const (
	// Both: the node logs a min and a max per batch (RequantizationRange).
	Both Side = iota
	// MinOnly: the node logs only a min per batch (a Min op, `__min:`).
	MinOnly
	// MaxOnly: the node logs only a max per batch (a Max op, `__max:`).
	MaxOnly
)

func (s Side) String() string {
	switch s {
	case Both:
		return "min/max"
	case MinOnly:
		return "min"
	case MaxOnly:
		return "max"
	}
	return fmt.Sprintf("Side(%d)", uint8(s))
}

// Node holds one node's per-batch extremes in log order.
type Node struct {
	Name string
	Side Side
	// FirstLine and LastLine are the log lines of the node's first and last
	// record; File is the file of its first record.
	File                string
	FirstLine, LastLine int64

	mins, maxs series
}

// Count returns the number of batches (records) seen for the node.
func (n *Node) Count() int {
	if n.Side == MaxOnly {
		return n.maxs.len()
	}
	return n.mins.len()
}

// Mins returns the node's per-batch minima in log order (nil for MaxOnly).
// The slice is freshly allocated.
func (n *Node) Mins() []float32 {
	if n.Side == MaxOnly {
		return nil
	}
	return n.mins.appendTo(make([]float32, 0, n.mins.len()))
}

// Maxs returns the node's per-batch maxima in log order (nil for MinOnly).
// The slice is freshly allocated.
func (n *Node) Maxs() []float32 {
	if n.Side == MinOnly {
		return nil
	}
	return n.maxs.appendTo(make([]float32, 0, n.maxs.len()))
}

// Accumulator collects per-node samples. Memory is 8 bytes a min/max record
// (4 for a min-only or max-only record) plus one partly filled block of 4 KiB
// per series. The zero value is not ready; use NewAccumulator.
type Accumulator struct {
	nodes map[string]*Node
	order []*Node // first-seen order
	// byData finds a node by the address of its name's bytes: readers that
	// intern names (logparse does) pass the same string for every record of a
	// node, and hashing a pointer is much cheaper than hashing a long name.
	byData map[*byte]*Node
}

// NewAccumulator returns an empty Accumulator.
func NewAccumulator() *Accumulator {
	return &Accumulator{nodes: make(map[string]*Node), byData: make(map[*byte]*Node)}
}

// Add records one batch's extremes for a node. For MinOnly nodes max is
// ignored, for MaxOnly nodes min is ignored. It returns an error when the node
// was seen before with another Side. Values are stored as given: callers
// decide what to do with NaN, ±Inf and min > max before calling Add.
func (a *Accumulator) Add(name string, side Side, min, max float32, file string, line int64) error {
	n := a.byData[unsafe.StringData(name)]
	if n == nil || n.Name != name {
		n = a.nodes[name]
		if n == nil {
			n = &Node{Name: name, Side: side, File: file, FirstLine: line}
			a.nodes[name] = n
			a.order = append(a.order, n)
		}
		if len(a.byData) < 1<<16 { // bounded: callers that do not intern still work
			a.byData[unsafe.StringData(name)] = n
		}
	}
	if n.Side != side {
		return fmt.Errorf("%s:%d: node %q logged as %s here but as %s at %s:%d",
			file, line, name, side, n.Side, n.File, n.FirstLine)
	}
	if side != MaxOnly {
		n.mins.add(min)
	}
	if side != MinOnly {
		n.maxs.add(max)
	}
	n.LastLine = line
	return nil
}

// Len returns the number of nodes.
func (a *Accumulator) Len() int { return len(a.order) }

// Node returns the named node, or nil.
func (a *Accumulator) Node(name string) *Node { return a.nodes[name] }

// Nodes returns the nodes in the order their first record appeared.
func (a *Accumulator) Nodes() []*Node { return slices.Clone(a.order) }

// Merge adds every sample of b to a, node by node, after a's own samples.
// Merging the accumulators of two logs equals reading the logs one after the
// other.
func (a *Accumulator) Merge(b *Accumulator) error {
	for _, bn := range b.order {
		n := a.nodes[bn.Name]
		if n == nil {
			n = &Node{Name: bn.Name, Side: bn.Side, File: bn.File, FirstLine: bn.FirstLine}
			a.nodes[bn.Name] = n
			a.order = append(a.order, n)
		}
		if n.Side != bn.Side {
			return fmt.Errorf("node %q logged as %s at %s:%d but as %s at %s:%d",
				bn.Name, n.Side, n.File, n.FirstLine, bn.Side, bn.File, bn.FirstLine)
		}
		bn.mins.each(n.mins.add)
		bn.maxs.each(n.maxs.add)
		n.LastLine = bn.LastLine
	}
	return nil
}
