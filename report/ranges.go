package report

import (
	"encoding/json"
	"io"
	"strconv"

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
type RangeEntry struct {
	Node  string   `json:"node"`
	Kind  string   `json:"kind"` // "min/max", "min" or "max"
	Min   *float32 `json:"min,omitempty"`
	Max   *float32 `json:"max,omitempty"`
	Count int      `json:"count"`
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

// Table returns the document as a table: node, batches, min, max.
func (d *RangesDoc) Table() *Table {
	t := &Table{Header: []string{"node", "batches", "min", "max"}, Right: []bool{false, true, true, true}}
	for _, e := range d.Ranges {
		t.Rows = append(t.Rows, []string{e.Node, strconv.Itoa(e.Count), fmtPtr(e.Min), fmtPtr(e.Max)})
	}
	return t
}

// Write renders the document in the given format (text, markdown, csv, json).
func (d *RangesDoc) Write(w io.Writer, format string) error {
	if format == FormatJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(d)
	}
	return d.Table().Write(w, format)
}

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
