package audit

import (
	"fmt"
	"html/template"
	"io"
	"strings"

	"qcal/report"
)

// auditBanner maps a level to the page's banner and cell classes.
var auditBanner = map[Level]string{OK: "pass", Warn: "warn", Risk: "fail"}

// maxWorst is how many of the riskiest nodes the summary names.
const maxWorst = 5

// WriteHTML writes the audit as one self-contained HTML page (inline CSS
// and SVG, no script, nothing fetched): the summary first (#summary: the
// verdict, the counts, the worst nodes), then the findings table (#table),
// the comparison with another calibration (#changes, with one), the
// per-layer int8 error (#layers, with a.Layers: its table and plot), the plots
// (#plots: a.PagePlots) and the method. The bytes depend only on the audit
// and its plots.
func (a *Report) WriteHTML(w io.Writer) error {
	plots := a.PagePlots
	page := &report.Page{Title: "Calibration audit", Lead: a.lead()}

	var sum strings.Builder
	sum.WriteString(auditCSS)
	sum.WriteString("<h2>" + template.HTMLEscapeString(fmt.Sprintf("%s: %d risk, %d warn, %d ok",
		strings.ToUpper(a.Verdict.String()), a.Risk, a.Warn, a.OK)) + "</h2>\n")
	var items []string
	switch a.Verdict {
	case OK:
		items = append(items, "No node shows a sign of trouble under the "+a.Strategies[0]+" strategy.")
	default:
		for _, n := range a.Nodes {
			if n.Level == OK || len(items) == maxWorst {
				break
			}
			items = append(items, fmt.Sprintf("%s #%d %s: %s", strings.ToUpper(n.Level.String()), n.Index, n.Name, n.Reasons[0]))
		}
		if rest := a.Risk + a.Warn - len(items); rest > 0 {
			items = append(items, fmt.Sprintf("… and %d more in the table below.", rest))
		}
	}
	if a.Changes != nil {
		items = append(items, a.ChangesHeading()+".")
	}
	sum.WriteString(string(report.List(items)))
	page.Sections = append(page.Sections, report.Section{ID: "summary", Class: "banner " + auditBanner[a.Verdict], Body: template.HTML(sum.String())})

	t := a.Table(false, true)
	body := string(report.Paragraph("caption", "Riskiest first. min, max, step and clip are the "+a.Strategies[0]+
		" range, its int8 step (max − min)/255 and the share of batches whose extremes it clips; "+
		"converged: whether the range stopped moving by the middle of the log (stable after k of n batches). "+
		"The reasons behind the flags follow the table."))
	body += string(auditTableHTML(t, func(row int) string { return auditBanner[a.Nodes[row].Level] }))
	page.Sections = append(page.Sections, report.Section{ID: "table", Title: "Nodes", Body: template.HTML(body)})

	var details strings.Builder
	for _, n := range a.Nodes {
		if n.Level == OK {
			continue
		}
		details.WriteString(`<p class="finding"><strong>#` + fmt.Sprint(n.Index) + " " + breakable(n.Name) +
			`</strong> <span class="v-` + auditBanner[n.Level] + `">` + n.Level.String() + "</span></p>\n")
		details.WriteString(string(report.List(n.Reasons)) + "\n")
	}
	if details.Len() > 0 {
		page.Sections = append(page.Sections, report.Section{ID: "findings", Title: "Findings", Body: template.HTML(details.String())})
	}

	if st := a.StrategiesTable(); st != nil {
		page.Sections = append(page.Sections, report.Section{ID: "strategies", Title: "Strategies side by side",
			Body: template.HTML(string(report.Paragraph("caption", "Each strategy's range, int8 step and share of clipped batches, in node order.")) +
				string(auditTableHTML(st, nil)))})
	}

	if c := a.Changes; c != nil {
		var b strings.Builder
		b.WriteString(string(report.Paragraph("caption", a.ChangesHeading()+". Change: the largest move of a bound over the old range's width.")))
		ct := a.ChangesTable(false)
		b.WriteString(string(auditTableHTML(ct, nil)))
		if len(c.New) > 0 {
			b.WriteString(string(report.Paragraph("", "New (not in "+c.Against+"):")) + string(report.List(c.New)))
		}
		if len(c.Vanished) > 0 {
			b.WriteString(string(report.Paragraph("", "Vanished (only in "+c.Against+"):")) + string(report.List(c.Vanished)))
		}
		page.Sections = append(page.Sections, report.Section{ID: "changes", Title: "Changes", Body: template.HTML(b.String())})
	}

	if a.Layers != nil {
		sec, err := a.Layers.Section()
		if err != nil {
			return err
		}
		page.Sections = append(page.Sections, sec)
	}

	if len(plots) > 0 {
		var b strings.Builder
		b.WriteString(string(report.Paragraph("caption", "Node labels are shortened; rest the pointer on one for its full name, or find its # in the table.")))
		for _, p := range plots {
			svg, err := p.SVG()
			if err != nil {
				return err
			}
			b.WriteString(string(report.Figure(svg, p.Title, p.Caption)))
			b.WriteString("\n")
		}
		page.Sections = append(page.Sections, report.Section{ID: "plots", Title: "Plots", Body: template.HTML(b.String())})
	}
	page.Footer = a.MethodNotes()
	return report.WritePage(w, page)
}

func (a *Report) lead() string {
	s := fmt.Sprintf("%s from %s (%d records)", auditPlural(len(a.Nodes), "node", "nodes"), strings.Join(a.Logs, ", "), a.Records)
	if a.Graph != "" {
		s += ", graph " + a.Graph
	}
	if len(a.Strategies) == 1 {
		return s + "; strategy " + a.Strategies[0] + "."
	}
	return s + "; strategies " + strings.Join(a.Strategies, ", ") + " (the first is judged)."
}

// MethodNotes say how every number of the audit is computed.
func (a *Report) MethodNotes() []string {
	return []string{
		"Spread: quantiles of the per-batch minima and maxima by linear interpolation (Hyndman & Fan type 7); " +
			"a spread is flagged when the interquartile range exceeds 50% of the median.",
		"Step: the int8 step a range implies for Requantize's asymmetric quint8 output, 256 levels from min to max: (max − min)/255. " +
			"Clip: the share of batches whose min lies below the range's min or whose max lies above its max; flagged above 20%.",
		"Outlier batches: modified z-score zᵢ = (xᵢ − median)/(1.4826·MAD) of the per-batch minima and of the maxima, " +
			"|z| > 3.5 (Iglewicz & Hoaglin 1993); when the MAD is 0, (xᵢ − median)/(1.253314·MeanAD). " +
			"A range that reaches an outlier is compared with the same strategy on the other batches: " +
			"wider by 1.1× warns, by 2× is a risk. Clipped outliers warn only beyond |z| > 10.",
		fmt.Sprintf("Convergence: ranges over prefixes of ⌈j·n/K⌉ batches, K = min(20, n); stable after k batches when every prefix "+
			"from k on lies within %s of the full range's width on both bounds; converged when k ≤ ⌈n/2⌉ and n ≥ 10. "+
			"Half shift: the move between the ranges of the first and the second half. "+
			"Uncertainty: 95%% percentile bootstrap interval of each bound over %d resamples of the batches (seed %d, "+
			"a batch's min and max drawn together); flagged when wider than 25%% of the width.",
			auditPct(a.Tolerance), a.Resamples, a.Seed),
		"Graph checks: logged nodes absent from the graph, or not RequantizationRange, make freezing fail (risk); " +
			"RequantizationRange nodes never logged stay dynamic (warn); a node fed by a quantized op with a fused Relu " +
			"that logs a negative min means the graph and the log do not match (risk). Depth: the longest path in edges from a graph input.",
		"Verdict: risk when int8 accuracy is likely to suffer or freezing fails (zero-width range, NaN/Inf or min > max records, " +
			"the graph checks above, a range stretched 2× by outliers); warn when the range deserves a look; the overall verdict is the worst node's.",
		"Generated by qcal audit.",
	}
}

// auditCSS adds to the page's style what the audit's tables need.
const auditCSS = `<style>
#table td.node, #changes td.node { min-width: 14em; }
#table td.flags { min-width: 12em; }
span.v-pass { color: var(--pass); font-weight: 700; }
span.v-warn { color: var(--warn); font-weight: 700; }
span.v-fail { color: var(--fail); font-weight: 700; }
p.finding { margin: 12px 0 2px; }
#findings ul { margin: 2px 0 6px; }
#plots figure { margin: 18px 0 30px; }
#plots figure svg { max-width: 960px; }
</style>
`

// auditTableHTML renders a table with node names that may break after '/'
// and '_', and the verdict cell coloured by level (the page's v-pass,
// v-warn and v-fail classes).
func auditTableHTML(t *report.Table, level func(row int) string) template.HTML {
	class := func(row, col int) string {
		switch t.Header[col] {
		case "node":
			return "node"
		case "verdict":
			if level != nil {
				return "v-" + level(row)
			}
		case "flags":
			return "flags"
		}
		return ""
	}
	cell := func(row, col int) string {
		if t.Header[col] == "node" {
			return breakable(t.Rows[row][col])
		}
		return template.HTMLEscapeString(t.Rows[row][col])
	}
	return t.HTMLWith(class, cell)
}

// breakable escapes a node name and lets the browser break it after '/'
// and '_' (with <wbr>, which copying the text does not pick up).
func breakable(name string) string {
	var b strings.Builder
	for _, r := range name {
		b.WriteString(template.HTMLEscapeString(string(r)))
		if r == '/' || r == '_' {
			b.WriteString("<wbr>")
		}
	}
	return b.String()
}
