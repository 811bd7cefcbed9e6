package report

import (
	"encoding/csv"
	"fmt"
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

// Formats a Table can be written in.
const (
	FormatText     = "text"
	FormatMarkdown = "markdown"
	FormatCSV      = "csv"
	FormatJSON     = "json"
)

// Write renders t as text (a boxed table), markdown or csv.
func (t *Table) Write(w io.Writer, format string) error {
	switch format {
	case FormatText, "":
		return t.writeText(w)
	case FormatMarkdown:
		return t.writeMarkdown(w)
	case FormatCSV:
		cw := csv.NewWriter(w)
		if err := cw.Write(t.Header); err != nil {
			return err
		}
		if err := cw.WriteAll(t.Rows); err != nil {
			return err
		}
		return cw.Error()
	}
	return fmt.Errorf("unknown table format %q (want text, markdown or csv)", format)
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

func (t *Table) writeText(w io.Writer) error {
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

func (t *Table) writeMarkdown(w io.Writer) error {
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
