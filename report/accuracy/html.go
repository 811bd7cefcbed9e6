package accuracy

import (
	"bytes"
	"fmt"
	"html/template"
	"image/color"
	"io"
	"math"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"

	"qcal/report"
)

// Colours of the chart, one per verdict; the page's CSS uses the same.
var (
	colBaseline = color.RGBA{R: 0x4a, G: 0x6f, B: 0xa5, A: 0xff}
	colPass     = color.RGBA{R: 0x2e, G: 0x9e, B: 0x62, A: 0xff}
	colWarn     = color.RGBA{R: 0xe8, G: 0xa8, B: 0x00, A: 0xff}
	colFail     = color.RGBA{R: 0xc6, G: 0x3a, B: 0x2f, A: 0xff}
	colBand     = color.NRGBA{R: 0xff, G: 0xd5, B: 0x5a, A: 0x80}
)

func verdictColor(v Verdict) color.Color {
	switch v {
	case Pass:
		return colPass
	case Warn:
		return colWarn
	case Fail:
		return colFail
	}
	return colBaseline
}

// Chart size.
const (
	chartWidth  = 9 * vg.Inch
	chartHeight = 4.8 * vg.Inch
)

// limits returns the accuracies at which the target's pass and warn limits
// lie: FP32 − MaxDrop and FP32 − WarnDrop (scaled by FP32 when relative).
func (c *Comparison) limits() (pass, warn float64) {
	b := c.Baseline.Value
	if c.Target.Relative {
		return b * (1 - c.Target.MaxDrop/100), b * (1 - c.Target.WarnDrop/100)
	}
	return b - c.Target.MaxDrop, b - c.Target.WarnDrop
}

// Chart draws the models' accuracies as bars (the baseline first, then
// the candidates best first, coloured by verdict), their 95% Wilson
// intervals as error bars when known, and the band between the pass and
// the warn limits shaded. The y axis is zoomed on the values: it does not
// start at 0. It returns an SVG document; the bytes depend only on c.
func (c *Comparison) Chart() ([]byte, error) {
	p := plot.New()
	sansSerif(p)
	p.Title.Text = fmt.Sprintf("%s per model, with 95%% intervals and the target band", c.Metric)
	p.Y.Label.Text = c.Metric + " (%)"
	p.Y.Tick.Marker = plot.DefaultTicks{}

	models := c.models()
	names := make([]string, len(models))
	lo, hi := math.Inf(1), math.Inf(-1)
	grow := func(v float64) { lo, hi = math.Min(lo, v), math.Max(hi, v) }
	for i, m := range models {
		names[i] = m.Name
		grow(m.Value)
		if m.CI != nil {
			grow(m.CI.Lo)
			grow(m.CI.Hi)
		}
	}
	passAt, warnAt := c.limits()
	grow(passAt)
	grow(warnAt)
	span := math.Max(hi-lo, 1)
	lo, hi = math.Max(0, lo-0.35*span), math.Min(100, hi+0.3*span)

	n := float64(len(models))
	band, err := plotter.NewPolygon(plotter.XYs{{X: -0.5, Y: warnAt}, {X: n - 0.5, Y: warnAt}, {X: n - 0.5, Y: passAt}, {X: -0.5, Y: passAt}})
	if err != nil {
		return nil, err
	}
	band.Color = colBand
	band.LineStyle.Width = 0
	p.Add(band)
	bandText := fmt.Sprintf("warn band: FP32 − %s … FP32 − %s", fmtPct(c.Target.MaxDrop), fmtPct(c.Target.WarnDrop))
	if c.Target.Relative {
		bandText = fmt.Sprintf("warn band: FP32 · (1 − %s%%) … FP32 · (1 − %s%%)", fmtPct(c.Target.MaxDrop), fmtPct(c.Target.WarnDrop))
	}
	p.Legend.Add(bandText, band)

	for _, l := range []struct {
		y     float64
		col   color.Color
		dash  []vg.Length
		label string
	}{
		{c.Baseline.Value, colBaseline, nil, fmt.Sprintf("FP32 %s", fmtPct(c.Baseline.Value))},
		{passAt, colPass, []vg.Length{vg.Points(6), vg.Points(3)}, fmt.Sprintf("pass limit %s", fmtPct(passAt))},
		{warnAt, colFail, []vg.Length{vg.Points(2), vg.Points(2)}, fmt.Sprintf("fail below %s", fmtPct(warnAt))},
	} {
		line, err := plotter.NewLine(plotter.XYs{{X: -0.5, Y: l.y}, {X: n - 0.5, Y: l.y}})
		if err != nil {
			return nil, err
		}
		line.LineStyle.Color, line.LineStyle.Width, line.LineStyle.Dashes = l.col, vg.Points(1.2), l.dash
		p.Add(line)
		p.Legend.Add(l.label, line)
	}

	slot := (chartWidth - vg.Inch) / vg.Length(n)
	for i, m := range models {
		bar, err := plotter.NewBarChart(plotter.Values{m.Value}, min(slot*0.55, vg.Inch))
		if err != nil {
			return nil, err
		}
		bar.XMin = float64(i)
		bar.Color = verdictColor(m.Verdict)
		bar.LineStyle.Width = 0
		p.Add(bar)
	}

	var errs intervalErrors
	labels := plotter.XYLabels{}
	for i, m := range models {
		top := m.Value
		if m.CI != nil {
			errs = append(errs, intervalError{x: float64(i), y: m.Value, lo: m.CI.Lo, hi: m.CI.Hi})
			top = math.Max(top, m.CI.Hi)
		}
		label := fmtPct(m.Value)
		switch d := fmtPct(math.Abs(m.Drop)); {
		case i == 0:
		case d == fmtPct(0):
			label += " (no drop)"
		case m.Drop > 0:
			label += " (−" + d + ")"
		default:
			label += " (+" + d + ")"
		}
		labels.XYs = append(labels.XYs, plotter.XY{X: float64(i), Y: top})
		labels.Labels = append(labels.Labels, label)
	}
	if len(errs) > 0 {
		eb, err := plotter.NewYErrorBars(errs)
		if err != nil {
			return nil, err
		}
		eb.LineStyle.Color, eb.LineStyle.Width, eb.CapWidth = report.Ink, vg.Points(1.4), vg.Points(12)
		p.Add(eb)
	}
	lab, err := plotter.NewLabels(labels)
	if err != nil {
		return nil, err
	}
	for i := range lab.TextStyle {
		lab.TextStyle[i].Font = report.PlotFont(11)
		lab.TextStyle[i].Color = report.Ink
		lab.TextStyle[i].XAlign = draw.XCenter
	}
	lab.Offset = vg.Point{Y: vg.Points(5)}
	p.Add(lab)

	p.NominalX(names...)
	p.X.Min, p.X.Max = -0.5, n-0.5
	p.Y.Min, p.Y.Max = lo, hi
	p.Legend.Top, p.Legend.Left = true, false
	p.Legend.XOffs = -vg.Points(6)

	cv := vgsvg.NewWith(vgsvg.UseWH(chartWidth, chartHeight))
	p.Draw(draw.New(cv))
	var b bytes.Buffer
	if _, err := cv.WriteTo(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// sansSerif sets every text of p in the reports' plot style at readable
// sizes.
func sansSerif(p *plot.Plot) {
	report.StylePlot(p, report.TextSizes{Title: 15, XLabel: 13, YLabel: 13, XTick: 13, YTick: 12, Legend: 11})
	p.Title.Padding = vg.Points(10)
}

// intervalError is one error bar: the interval [lo, hi] around y at x.
type intervalError struct{ x, y, lo, hi float64 }

type intervalErrors []intervalError

func (e intervalErrors) Len() int                    { return len(e) }
func (e intervalErrors) XY(i int) (float64, float64) { return e[i].x, e[i].y }
func (e intervalErrors) YError(i int) (float64, float64) {
	return e[i].y - e[i].lo, e[i].hi - e[i].y
}

// WriteHTML writes the comparison as one self-contained HTML page: the
// verdict first (#summary), the candidates table (#table), the chart
// (#chart), then the other tables, notes and the method.
func (c *Comparison) WriteHTML(w io.Writer) error {
	svg, err := c.Chart()
	if err != nil {
		return err
	}
	page := &report.Page{
		Title: "FP32 vs int8 accuracy",
		Lead:  fmt.Sprintf("%s %s; target: %s.", c.Metric, c.inUnit(), c.TargetText()),
	}

	var sum strings.Builder
	best := c.Candidates[0]
	sum.WriteString("<h2>" + template.HTMLEscapeString(fmt.Sprintf("%s: %s, drop %s %s", strings.ToUpper(string(c.Verdict())), best.Name, fmtPct(best.Drop), c.Target.Unit())) + "</h2>\n")
	var lines []string
	for _, m := range c.Candidates {
		lines = append(lines, c.Line(m))
	}
	sum.WriteString(string(report.List(lines)))
	if len(c.Candidates) > 1 {
		sum.WriteString(string(report.Paragraph("caption", "Candidates best first; the verdict (and the exit status) is the best candidate's.")))
	}
	page.Sections = append(page.Sections, report.Section{ID: "summary", Class: "banner " + string(c.Verdict()), Body: template.HTML(sum.String())})

	for _, s := range c.sections() {
		id := s.id
		if id == "candidates" {
			id = "table"
		}
		body := string(report.Paragraph("caption", s.caption+"."))
		var cellClass func(row, col int) string
		if id == "table" {
			cellClass = func(row, col int) string {
				if s.table.Header[col] == "verdict" {
					return "v-" + strings.ToLower(s.table.Rows[row][col])
				}
				return ""
			}
		}
		body += string(s.table.HTML(cellClass))
		page.Sections = append(page.Sections, report.Section{ID: id, Title: s.title, Body: template.HTML(body)})
		if id == "table" {
			passAt, warnAt := c.limits()
			caption := fmt.Sprintf("Bars: %s of each model (blue FP32; green pass, amber warn, red fail). "+
				"Error bars: 95%% Wilson intervals (when the sample count is known). Shaded: the warn band from %s to %s. "+
				"The axis does not start at 0.", c.Metric, fmtPct(passAt), fmtPct(warnAt))
			page.Sections = append(page.Sections, report.Section{ID: "chart", Title: "Chart",
				Body: report.Figure(svg, fmt.Sprintf("bar chart of %s per model", c.Metric), caption)})
		}
	}
	page.Sections = append(page.Sections, c.Sections...)
	if ns := c.Notes(); len(ns) > 0 {
		page.Sections = append(page.Sections, report.Section{ID: "notes", Title: "Notes", Body: report.List(ns)})
	}
	page.Footer = methodNotes(c)
	return report.WritePage(w, page)
}

// methodNotes says how the numbers were computed.
func methodNotes(c *Comparison) []string {
	notes := []string{
		"Accuracies are in percent (0.7612 and 76.12% both read as 76.12). " +
			"Drop = FP32 − int8 in points" + map[bool]string{true: "; with -relative, (FP32 − int8)/FP32 · 100.", false: "."}[c.Target.Relative] +
			" Limits are inclusive. Several candidates are ranked by drop; the verdict is the best one's.",
		"95% intervals: Wilson score interval, (p + z²/2n)/(1 + z²/n) ± z/(1 + z²/n)·√(p(1−p)/n + z²/4n²), z = 1.96 (Wilson 1927).",
	}
	for _, m := range c.Candidates {
		if m.Paired != nil {
			notes = append(notes,
				"McNemar exact test: p = min(1, 2·P(X ≤ min(b, c))), X ~ Binomial(b + c, ½); a drop is called significant when p < 0.05.",
				"Drop interval: Newcombe (1998) method 10, Δ − √((p₁−l₁)² − 2φ(p₁−l₁)(u₂−p₂) + (u₂−p₂)²) to Δ + √((p₂−l₂)² − 2φ(p₂−l₂)(u₁−p₁) + (u₁−p₁)²), "+
					"with the Wilson limits of each accuracy and φ the correlation of the 2×2 table.")
			break
		}
	}
	return append(notes, "Generated by qcal report.")
}
