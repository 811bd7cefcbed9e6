package stats

import (
	"fmt"
	"slices"
	"unsafe"
)

// nodeOverhead bounds the bytes an Accumulator keeps a distinct node
// besides 8 a record and the name (TestAccumulatorMemoryPerNode measures
// it): the Node, its map entry and order slot, two series headers and the
// slack of their first blocks.
const nodeOverhead = 384

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
	next       [2]*Node    // the nodes that most recently followed this one in the log
	lines      *lineSeries // with Accumulator.KeepLines only
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

// Positions returns the file and line of each of the node's records, in log
// order, when its accumulator kept them (Accumulator.KeepLines); else nil.
// The slice is freshly allocated (24 bytes a record): callers that audit
// many nodes ask for one node's positions at a time.
func (n *Node) Positions() []Position {
	if n.lines == nil || n.lines.n == 0 || n.lines.n != n.Count() {
		return nil
	}
	return n.lines.positions()
}

// Position is where a record was read: a log file and a 1-based line.
type Position struct {
	File string
	Line int64
}

// Accumulator collects per-node samples. Memory is 8 bytes a min/max record
// (4 for a min-only or max-only record) plus at most nodeOverhead bytes a
// distinct node (its Node, map entry and the slack of its series, which
// start at 4 values and double up to 1,024, then grow by blocks of 1,024),
// plus the node's name; a series wastes at most one partly filled block
// (4 KiB) once it holds more than 1,024 values. The zero value is not
// ready; use NewAccumulator.
type Accumulator struct {
	// KeepLines makes Add keep the file and line of every record, for
	// Node.Positions (audits name the log line of an outlier batch). Set it
	// before the first Add. It costs 4 bytes more a record (the distance in
	// lines from the node's previous record, in 4 KiB blocks) plus 40 bytes
	// for each record that starts a new file for its node or lies 2³²-1
	// lines or more after its predecessor. Off by default: ranges need no
	// line numbers.
	KeepLines bool

	nodes map[string]*Node
	order []*Node // first-seen order
	// prev is the node of the previous record. Print ops log in the same
	// order every batch, so the next record's node is usually one of the two
	// that followed prev last time (Node.next); with interned names (logparse
	// interns them) checking that is a pointer comparison, not a hash of a
	// long name.
	prev *Node
}

// NewAccumulator returns an empty Accumulator.
func NewAccumulator() *Accumulator {
	return &Accumulator{nodes: make(map[string]*Node)}
}

// sameString reports whether a and b are the same string, comparing the
// pointers first (interned names) and the bytes only when they differ.
func sameString(a, b string) bool {
	return len(a) == len(b) && (unsafe.StringData(a) == unsafe.StringData(b) || a == b)
}

// lookup finds or creates the node of a record.
func (a *Accumulator) lookup(name string, side Side, file string, line int64) *Node {
	prev := a.prev
	if prev != nil {
		if n := prev.next[0]; n != nil && sameString(n.Name, name) {
			a.prev = n
			return n
		}
		if n := prev.next[1]; n != nil && sameString(n.Name, name) {
			prev.next[0], prev.next[1] = n, prev.next[0]
			a.prev = n
			return n
		}
	}
	n := a.nodes[name]
	if n == nil {
		n = &Node{Name: name, Side: side, File: file, FirstLine: line}
		a.nodes[name] = n
		a.order = append(a.order, n)
	}
	if prev != nil {
		prev.next[0], prev.next[1] = n, prev.next[0]
	}
	a.prev = n
	return n
}

// Add records one batch's extremes for a node. For MinOnly nodes max is
// ignored, for MaxOnly nodes min is ignored. It returns an error when the node
// was seen before with another Side. Values are stored as given: callers
// decide what to do with NaN, ±Inf and min > max before calling Add.
func (a *Accumulator) Add(name string, side Side, min, max float32, file string, line int64) error {
	n := a.lookup(name, side, file, line)
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
	if a.KeepLines {
		if n.lines == nil {
			n.lines = new(lineSeries)
		}
		n.lines.add(file, line)
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
func (a *Accumulator) Merge(b *Accumulator) error { return a.MergeShifted(b, 0) }

// MergeShifted is Merge for an accumulator that read a later part of the
// same log from its start: lineOffset (the number of lines before that
// part) is added to b's line numbers.
func (a *Accumulator) MergeShifted(b *Accumulator, lineOffset int64) error {
	for _, bn := range b.order {
		n := a.nodes[bn.Name]
		if n == nil {
			n = &Node{Name: bn.Name, Side: bn.Side, File: bn.File, FirstLine: bn.FirstLine + lineOffset}
			a.nodes[bn.Name] = n
			a.order = append(a.order, n)
		}
		if n.Side != bn.Side {
			return fmt.Errorf("node %q logged as %s at %s:%d but as %s at %s:%d",
				bn.Name, n.Side, n.File, n.FirstLine, bn.Side, bn.File, bn.FirstLine+lineOffset)
		}
		bn.mins.each(n.mins.add)
		bn.maxs.each(n.maxs.add)
		if a.KeepLines && bn.lines != nil {
			if n.lines == nil {
				n.lines = new(lineSeries)
			}
			bn.lines.eachPosition(func(file string, line int64) { n.lines.add(file, line+lineOffset) })
		}
		n.LastLine = bn.LastLine + lineOffset
	}
	return nil
}

// lineSeries keeps the positions of a node's records in 4 bytes each: the
// distance in lines from the previous record of the same node. A record
// that starts a new file (or the series), comes before its predecessor, or
// lies 2³²-1 lines or more after it is a jump, stored in full.
type lineSeries struct {
	chunks[uint32]
	last     int64
	lastFile string
	jumps    []lineJump
}

// lineJump is a record stored in full: the index-th of the series.
type lineJump struct {
	index int
	file  string
	line  int64
}

func (s *lineSeries) add(file string, line int64) {
	var d uint32
	if s.n == 0 || file != s.lastFile || line < s.last || line-s.last >= 1<<32-1 {
		s.jumps = append(s.jumps, lineJump{index: s.n, file: file, line: line})
	} else {
		d = uint32(line - s.last)
	}
	s.chunks.add(d)
	s.last, s.lastFile = line, file
}

// eachPosition calls f with each record's file and line, in order.
func (s *lineSeries) eachPosition(f func(file string, line int64)) {
	var file string
	var line int64
	j := 0
	for i := 0; i < s.n; i++ {
		if j < len(s.jumps) && s.jumps[j].index == i {
			file, line = s.jumps[j].file, s.jumps[j].line
			j++
		} else {
			line += int64(s.at(i))
		}
		f(file, line)
	}
}

func (s *lineSeries) positions() []Position {
	out := make([]Position, 0, s.n)
	s.eachPosition(func(file string, line int64) { out = append(out, Position{file, line}) })
	return out
}
