package report

import (
	"io"
	"strconv"
	"strings"

	"qcal/stats"
)

// RangesDoc is the JSON document of `qcal ranges -format json`.
type RangesDoc struct {
	Strategy string       `json:"strategy"`
	Logs     []string     `json:"logs"`
	Records  int64        `json:"records"`
	Ranges   []RangeEntry `json:"ranges"`
}

// RangeEntry is one node's range in a RangesDoc. Min is omitted for
// max-only nodes and Max for min-only nodes.
// KindValues is the kind of a range computed from logged tensor values; its
// count is a number of values, not of batches.
const KindValues = "values"

type RangeEntry struct {
	Node string `json:"node"`
	// Strategy is set when the document holds several strategies.
	Strategy string   `json:"strategy,omitempty"`
	Kind     string   `json:"kind"` // "min/max", "min" or "max"
	Min      *float32 `json:"min,omitempty"`
	Max      *float32 `json:"max,omitempty"`
	Count    int      `json:"count"`
}

// NewRangesDoc builds the document for ranges computed by a strategy.
func NewRangesDoc(strategy string, logs []string, records int64, ranges []stats.Range) *RangesDoc {
	d := &RangesDoc{Strategy: strategy, Logs: logs, Records: records, Ranges: make([]RangeEntry, 0, len(ranges))}
	for _, r := range ranges {
		e := RangeEntry{Node: r.Node, Kind: r.Side.String(), Count: r.Count}
		if r.Side != stats.MaxOnly {
			e.Min = &r.Min
		}
		if r.Side != stats.MinOnly {
			e.Max = &r.Max
		}
		d.Ranges = append(d.Ranges, e)
	}
	return d
}

// Append adds the ranges of another strategy, computed from the same logs.
// Every entry then names its strategy, and the document's strategy lists
// them all, comma-separated.
func (d *RangesDoc) Append(o *RangesDoc) {
	if !strings.Contains(d.Strategy, ",") {
		for i := range d.Ranges {
			d.Ranges[i].Strategy = d.Strategy
		}
	}
	d.Strategy += "," + o.Strategy
	for _, e := range o.Ranges {
		e.Strategy = o.Strategy
		d.Ranges = append(d.Ranges, e)
	}
}

// Table returns the document as a table: node, batches (or values), min,
// max, and the strategy when there are several.
func (d *RangesDoc) Table() *Table {
	several := strings.Contains(d.Strategy, ",")
	values := 0
	for _, e := range d.Ranges {
		if e.Kind == KindValues {
			values++
		}
	}
	count := "count"
	switch values {
	case 0:
		count = "batches"
	case len(d.Ranges):
		count = "values"
	}
	t := &Table{Header: []string{"node", count, "min", "max"}, Right: []bool{false, true, true, true}}
	if several {
		t = &Table{Header: []string{"node", "strategy", count, "min", "max"}, Right: []bool{false, false, true, true, true}}
	}
	for _, e := range d.Ranges {
		row := []string{e.Node, strconv.Itoa(e.Count), fmtPtr(e.Min), fmtPtr(e.Max)}
		if several {
			row = append([]string{e.Node, e.Strategy}, row[1:]...)
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

// WriteText, WriteMarkdown and WriteCSV render the document's Table; its
// JSON form is the document itself.
func (d *RangesDoc) WriteText(w io.Writer) error     { return d.Table().WriteText(w) }
func (d *RangesDoc) WriteMarkdown(w io.Writer) error { return d.Table().WriteMarkdown(w) }
func (d *RangesDoc) WriteCSV(w io.Writer) error      { return d.Table().WriteCSV(w) }

func fmtPtr(v *float32) string {
	if v == nil {
		return "-"
	}
	return FormatFloat(*v)
}

// FormatFloat writes a float32 in the shortest form that reads back as the
// same float32.
func FormatFloat(v float32) string {
	return strconv.FormatFloat(float64(v), 'g', -1, 32)
}
