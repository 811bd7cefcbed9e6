package report

import (
	"encoding/csv"
	"io"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
)

// Table is a rectangular table model that every text format renders.
type Table struct {
	Header []string
	Rows   [][]string
	// Right lists the columns aligned right (numbers).
	Right []bool
}

// WriteCSV renders t as CSV (encoding/csv): the header, then the rows.
func (t *Table) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(t.Header); err != nil {
		return err
	}
	if err := cw.WriteAll(t.Rows); err != nil {
		return err
	}
	return cw.Error()
}

func (t *Table) aligns() []tw.Align {
	a := make([]tw.Align, len(t.Header))
	for i := range a {
		a[i] = tw.AlignLeft
		if i < len(t.Right) && t.Right[i] {
			a[i] = tw.AlignRight
		}
	}
	return a
}

// WriteText renders t as a boxed text table (tablewriter).
func (t *Table) WriteText(w io.Writer) error {
	tb := tablewriter.NewTable(w,
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithHeaderAlignmentConfig(tw.CellAlignment{PerColumn: t.aligns()}),
		tablewriter.WithRowAlignmentConfig(tw.CellAlignment{PerColumn: t.aligns()}),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
	)
	tb.Header(t.Header)
	if err := tb.Bulk(t.Rows); err != nil {
		return err
	}
	return tb.Render()
}

// WriteMarkdown renders t as a Markdown table, escaping | and \\.
func (t *Table) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	row := func(cells []string) {
		b.WriteString("|")
		for _, c := range cells {
			b.WriteString(" ")
			b.WriteString(strings.ReplaceAll(strings.ReplaceAll(c, `\`, `\\`), "|", `\|`))
			b.WriteString(" |")
		}
		b.WriteString("\n")
	}
	row(t.Header)
	b.WriteString("|")
	for _, a := range t.aligns() {
		if a == tw.AlignRight {
			b.WriteString("---:|")
		} else {
			b.WriteString("---|")
		}
	}
	b.WriteString("\n")
	for _, r := range t.Rows {
		row(r)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
