package audit

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"qcal/report"
	"qcal/stats"
)

// Heading returns the audit's one-line summary: the verdict, the counts and
// what was audited.
func (a *Report) Heading() string {
	logs := strings.Join(a.Logs, ", ")
	if logs == "" {
		logs = "the log"
	}
	g := ""
	if a.Graph != "" {
		g = " against graph " + a.Graph
	}
	return fmt.Sprintf("%s: %d risk, %d warn, %d ok — %s of %s (%d records)%s, strategy %s",
		strings.ToUpper(a.Verdict.String()), a.Risk, a.Warn, a.OK,
		auditPlural(len(a.Nodes), "node", "nodes"), logs, a.Records, g, strings.Join(a.Strategies, ", "))
}

// auditNum writes a value with 4 significant digits, or exactly (the
// shortest form that reads back as the same float32) when exact is set.
func auditNum(v float64, exact bool) string {
	if exact {
		return strconv.FormatFloat(v, 'g', -1, 32)
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

// Table returns the findings as a table, riskiest first: position, node,
// verdict, batches, the chosen range and its int8 step, the share of
// batches it clips, outlier batches, convergence ("yes (8/40)": stable
// after 8 of 40 batches), depth (with a graph), the change against another
// calibration (with one) and the reasons (in a few words each when short
// is set).
//
// For people (exact false) the range is one column, "[min, max]", numbers
// have 4 significant digits, and the other strategies are left to
// StrategiesTable. For programs (exact true, the csv format) min and max
// have columns of their own, every strategy's range is included, and
// numbers are written exactly.
func (a *Report) Table(exact, short bool) *report.Table {
	t := &report.Table{Header: []string{"#", "node", "verdict", "batches"}}
	right := []bool{true, false, false, true}
	if exact {
		t.Header = append(t.Header, "min", "max")
		right = append(right, true, true)
	} else {
		t.Header = append(t.Header, "range ("+a.Strategies[0]+")")
		right = append(right, true)
	}
	t.Header = append(t.Header, "step", "clip", "outliers", "converged")
	right = append(right, true, true, true, false)
	if a.Graph != "" {
		t.Header = append(t.Header, "depth")
		right = append(right, true)
	}
	if exact {
		for _, s := range a.Strategies[1:] {
			t.Header = append(t.Header, "min ("+s+")", "max ("+s+")")
			right = append(right, true, true)
		}
	}
	if a.Changes != nil {
		t.Header = append(t.Header, "change")
		right = append(right, true)
	}
	if short {
		t.Header = append(t.Header, "flags")
	} else {
		t.Header = append(t.Header, "reasons")
	}
	t.Right = append(right, false)
	for _, n := range a.Nodes {
		row := []string{strconv.Itoa(n.Index), n.Name, n.Level.String(), strconv.Itoa(n.Batches)}
		if len(n.Ranges) == 0 {
			if exact {
				row = append(row, "-")
			}
			row = append(row, "-", "-", "-", "", "-")
		} else {
			r := n.Ranges[0]
			if exact {
				row = append(row, boundText(n, r.Min, true, true), boundText(n, r.Max, false, true))
			} else {
				row = append(row, rangeText(n, r))
			}
			outliers := ""
			if len(n.Outliers) > 0 {
				outliers = strconv.Itoa(len(n.Outliers))
			}
			conv := "-"
			if c := n.Convergence; c != nil {
				conv = fmt.Sprintf("%s (%d/%d)", map[bool]string{true: "yes", false: "no"}[c.Converged], c.StableAfter, n.Batches)
			}
			row = append(row, stepText(n, r, exact), auditPct(r.ClipShare), outliers, conv)
		}
		if a.Graph != "" {
			d := "-"
			if n.Depth >= 0 {
				d = strconv.Itoa(n.Depth)
			}
			row = append(row, d)
		}
		if exact {
			for i := range a.Strategies[1:] {
				if i+1 < len(n.Ranges) {
					r := n.Ranges[i+1]
					row = append(row, boundText(n, r.Min, true, true), boundText(n, r.Max, false, true))
				} else {
					row = append(row, "-", "-")
				}
			}
		}
		if a.Changes != nil {
			ch := ""
			if n.Change != nil {
				ch = auditPct(float64(n.Change.Relative))
			}
			row = append(row, ch)
		}
		if short {
			row = append(row, strings.Join(n.Flags, ", "))
		} else {
			row = append(row, strings.Join(n.Reasons, "; "))
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

// StrategiesTable puts the strategies side by side, in node order: each
// one's range, int8 step and clipped share of batches. It is nil with a
// single strategy.
func (a *Report) StrategiesTable() *report.Table {
	if len(a.Strategies) < 2 {
		return nil
	}
	t := &report.Table{Header: []string{"#", "node"}, Right: []bool{true, false}}
	for _, s := range a.Strategies {
		t.Header = append(t.Header, "range ("+s+")", "step", "clip")
		t.Right = append(t.Right, true, true, true)
	}
	nodes := slices.Clone(a.Nodes)
	slices.SortFunc(nodes, func(x, y *NodeAudit) int { return cmp.Compare(x.Index, y.Index) })
	for _, n := range nodes {
		row := []string{strconv.Itoa(n.Index), n.Name}
		for i := range a.Strategies {
			if i < len(n.Ranges) {
				r := n.Ranges[i]
				row = append(row, rangeText(n, r), stepText(n, r, false), auditPct(r.ClipShare))
			} else {
				row = append(row, "-", "-", "-")
			}
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

// rangeText writes a range as "[min, max]", with "-" for a bound the node
// does not log.
func rangeText(n *NodeAudit, r StrategyRange) string {
	return "[" + boundText(n, r.Min, true, false) + ", " + boundText(n, r.Max, false, false) + "]"
}

// stepText writes a range's int8 step ("-" for one-sided nodes).
func stepText(n *NodeAudit, r StrategyRange, exact bool) string {
	if n.Side != stats.Both.String() {
		return "-"
	}
	return auditNum(r.Step, exact)
}

// boundText writes a bound, or "-" for the bound a node does not log.
func boundText(n *NodeAudit, v float32, isMin bool, exact bool) string {
	if isMin && n.Side == "max" || !isMin && n.Side == "min" {
		return "-"
	}
	return auditNum(float64(v), exact)
}

// ChangesTable returns the comparison with the other calibration: each
// node logged by both, the largest relative change first.
func (a *Report) ChangesTable(exact bool) *report.Table {
	t := &report.Table{Header: []string{"#", "node", "old min", "old max", "new min", "new max", "Δmin", "Δmax", "change", "drifted"},
		Right: []bool{true, false, true, true, true, true, true, true, true, false}}
	if a.Changes == nil {
		return t
	}
	rows := slices.Clone(a.Changes.Changed)
	slices.SortStableFunc(rows, func(x, y ChangedNode) int {
		if c := cmp.Compare(y.Relative, x.Relative); c != 0 {
			return c
		}
		return cmp.Compare(x.Index, y.Index)
	})
	for _, c := range rows {
		d := ""
		if c.Drifted {
			d = "yes"
		}
		t.Rows = append(t.Rows, []string{strconv.Itoa(c.Index), c.Name,
			auditNum(float64(c.OldMin), exact), auditNum(float64(c.OldMax), exact),
			auditNum(float64(c.NewMin), exact), auditNum(float64(c.NewMax), exact),
			auditSigned(c.DeltaMin, exact), auditSigned(c.DeltaMax, exact), auditPct(float64(c.Relative)), d})
	}
	return t
}

func auditSigned(v float64, exact bool) string {
	if v == 0 {
		return "0"
	}
	s := auditNum(v, exact)
	if v > 0 {
		return "+" + s
	}
	return s
}

// ChangesHeading summarizes the comparison in one line.
func (a *Report) ChangesHeading() string {
	c := a.Changes
	if c == nil {
		return ""
	}
	return fmt.Sprintf("Against %s: %d of %d ranges drifted by more than %s of their width; %d new, %d vanished nodes",
		c.Against, c.Drifted, len(c.Changed), auditPct(c.Drift), len(c.New), len(c.Vanished))
}

// The audit's forms (report.Write): "text" and "markdown" give the
// heading, the findings table and the comparison; "csv" the findings table
// alone (exact numbers); "json" the Report document; "html" the
// self-contained page (WriteHTML).

// WriteText renders the audit as text.
func (a *Report) WriteText(w io.Writer) error { return a.writeText(w, false) }

// WriteMarkdown renders the audit as Markdown.
func (a *Report) WriteMarkdown(w io.Writer) error { return a.writeText(w, true) }

// WriteCSV renders the findings table with exact numbers; with the
// per-layer error, its table follows after an empty line.
func (a *Report) WriteCSV(w io.Writer) error {
	if err := a.Table(true, false).WriteCSV(w); err != nil {
		return err
	}
	if a.Layers == nil {
		return nil
	}
	fmt.Fprintln(w)
	return a.Layers.WriteCSV(w)
}

func (a *Report) writeText(w io.Writer, md bool) error {
	if err := a.writeFindings(w, md); err != nil {
		return err
	}
	if a.Layers == nil {
		return nil
	}
	fmt.Fprintln(w)
	return a.Layers.writeText(w, md)
}

func (a *Report) writeFindings(w io.Writer, md bool) error {
	table := func(t *report.Table) error {
		if md {
			return t.WriteMarkdown(w)
		}
		return t.WriteText(w)
	}
	line := func(s string) {
		if md {
			s = "**" + s + "**"
		}
		fmt.Fprintf(w, "%s\n\n", s)
	}
	line(a.Heading())
	if err := table(a.Table(false, !md)); err != nil {
		return err
	}
	if st := a.StrategiesTable(); st != nil {
		fmt.Fprintln(w)
		line("Strategies side by side, in node order")
		if err := table(st); err != nil {
			return err
		}
	}
	if !md {
		// The table has the reasons in a few words; here they are in full.
		first := true
		for _, n := range a.Nodes {
			if n.Level == OK {
				continue
			}
			if first {
				fmt.Fprintf(w, "\nReasons, riskiest first:\n")
				first = false
			}
			fmt.Fprintf(w, "\n#%d %s (%s)\n", n.Index, n.Name, n.Level)
			for _, r := range n.Reasons {
				fmt.Fprintf(w, "  - %s\n", r)
			}
		}
	}
	if a.Changes == nil {
		return nil
	}
	fmt.Fprintln(w)
	line(a.ChangesHeading())
	if err := table(a.ChangesTable(false)); err != nil {
		return err
	}
	for _, l := range []struct {
		what  string
		names []string
	}{{"New (not in " + a.Changes.Against + ")", a.Changes.New}, {"Vanished (only in " + a.Changes.Against + ")", a.Changes.Vanished}} {
		if len(l.names) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s:\n", l.what)
		for _, n := range l.names {
			if md {
				fmt.Fprintf(w, "- %s\n", n)
			} else {
				fmt.Fprintf(w, "  %s\n", n)
			}
		}
	}
	return nil
}
