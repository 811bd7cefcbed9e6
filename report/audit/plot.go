package audit

import (
	"bytes"
	"cmp"
	"fmt"
	"html"
	"image/color"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"

	"qcal/internal/tfname"
	"qcal/report"
)

// Plot defaults.
const (
	// DefaultPlotPage is the number of nodes on a box-plot page: 40 rows
	// keep node labels at a readable 9 pt without overlapping.
	DefaultPlotPage = 40
	// DefaultPlotHistograms is the number of riskiest nodes whose
	// per-batch maxima get a histogram.
	DefaultPlotHistograms = 6
	// labelRunes is the longest node label on a plot; longer names are
	// shortened in the middle (the full name is in the table, and in the
	// HTML report's tooltip).
	labelRunes = 50
	// plotDPI is the resolution of the PNG files.
	plotDPI = 96
)

// PlotOptions tune Report.Plots. Zero fields take the defaults.
type PlotOptions struct {
	// PageSize is the number of nodes per box-plot page.
	PageSize int
	// Histograms is the number of riskiest nodes that get a histogram;
	// negative for none.
	Histograms int
}

// Colours of the audit's plots.
var (
	auditMinCol  = color.RGBA{R: 0x3b, G: 0x6e, B: 0xb5, A: 0xff} // per-batch minima
	auditMaxCol  = color.RGBA{R: 0xd9, G: 0x6c, B: 0x1e, A: 0xff} // per-batch maxima
	auditMinFill = color.RGBA{R: 0xc9, G: 0xd9, B: 0xf0, A: 0xff}
	auditMaxFill = color.RGBA{R: 0xf7, G: 0xd8, B: 0xbf, A: 0xff}
	auditLevels  = [...]color.RGBA{
		OK:   {R: 0x2e, G: 0x9e, B: 0x62, A: 0xff},
		Warn: {R: 0xe0, G: 0xa0, B: 0x00, A: 0xff},
		Risk: {R: 0xc6, G: 0x3a, B: 0x2f, A: 0xff},
	}
	// auditStrategyCols mark the strategies' ranges: the chosen one in
	// ink, the others in colours far from the boxes'.
	auditStrategyCols = []color.RGBA{
		report.Ink,
		{R: 0x8e, G: 0x3c, B: 0xb8, A: 0xff},
		{R: 0x12, G: 0x8c, B: 0x7e, A: 0xff},
		{R: 0xc2, G: 0x18, B: 0x5b, A: 0xff},
		{R: 0x6d, G: 0x4c, B: 0x2f, A: 0xff},
	}
)

// Plot is one figure of an audit, rendered on demand as SVG or PNG.
// The bytes depend only on the audit.
type Plot struct {
	// Name is the file name without extension: boxes-01, hist-01-N,
	// width-depth.
	Name    string
	Title   string
	Caption string

	p      *plot.Plot
	w, h   vg.Length
	labels map[string]string // shortened label → full node name
}

// SVG renders the plot as an SVG document. Shortened node labels carry
// the full name as a <title>, which viewers show as a tooltip.
func (ap *Plot) SVG() ([]byte, error) {
	cv := vgsvg.NewWith(vgsvg.UseWH(ap.w, ap.h))
	ap.p.Draw(draw.New(cv))
	var b bytes.Buffer
	if _, err := cv.WriteTo(&b); err != nil {
		return nil, err
	}
	return ap.tooltips(b.Bytes()), nil
}

// PNG renders the plot as a PNG image at 96 dpi.
func (ap *Plot) PNG() ([]byte, error) {
	cv := vgimg.NewWith(vgimg.UseWH(ap.w, ap.h), vgimg.UseDPI(plotDPI))
	ap.p.Draw(draw.New(cv))
	var b bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: cv}).WriteTo(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// tooltips adds each shortened label's full name to an SVG as a <title>,
// which browsers show when the pointer rests on the label.
func (ap *Plot) tooltips(svg []byte) []byte {
	if len(ap.labels) == 0 {
		return svg
	}
	var pairs []string
	for _, short := range slices.Sorted(maps.Keys(ap.labels)) {
		esc := html.EscapeString(short)
		pairs = append(pairs, ">"+esc+"</text>", "><title>"+html.EscapeString(ap.labels[short])+"</title>"+esc+"</text>")
	}
	return []byte(strings.NewReplacer(pairs...).Replace(string(svg)))
}

// Plots draws the audit's figures: box plots of each node's per-batch
// minima and maxima in node order (PageSize nodes a page) with each
// strategy's range marked, a histogram of the per-batch maxima of the
// riskiest nodes with the strategies' maxima marked, and the chosen
// range's width against graph depth (or log order without a graph).
func (a *Report) Plots(opt PlotOptions) ([]*Plot, error) {
	if opt.PageSize <= 0 {
		opt.PageSize = DefaultPlotPage
	}
	if opt.Histograms == 0 {
		opt.Histograms = DefaultPlotHistograms
	}
	byIndex := slices.Clone(a.Nodes)
	slices.SortFunc(byIndex, func(x, y *NodeAudit) int { return cmp.Compare(x.Index, y.Index) })
	var out []*Plot
	pages := (len(byIndex) + opt.PageSize - 1) / opt.PageSize
	for pg := 0; pg < pages; pg++ {
		nodes := byIndex[pg*opt.PageSize : min(len(byIndex), (pg+1)*opt.PageSize)]
		ap, err := a.boxPage(nodes, pg+1, pages, len(byIndex))
		if err != nil {
			return nil, err
		}
		out = append(out, ap)
	}
	drawn := 0
	for _, n := range a.Nodes {
		if drawn >= opt.Histograms {
			break
		}
		if n.Batches < 2 || a.acc.Node(n.Name) == nil {
			continue
		}
		drawn++
		ap, err := a.histogram(n, drawn)
		if err != nil {
			return nil, err
		}
		out = append(out, ap)
	}
	if ap, err := a.widthPlot(byIndex); err != nil {
		return nil, err
	} else if ap != nil {
		out = append(out, ap)
	}
	return out, nil
}

// nodeLabel is a node's label on plots: "#Index name", the name without
// the _eightbit_requant_range suffix and shortened in the middle to at
// most labelRunes runes.
func nodeLabel(n *NodeAudit) string {
	name := strings.TrimSuffix(n.Name, tfname.RequantRangeSuffix)
	prefix := fmt.Sprintf("#%d ", n.Index)
	return prefix + shortenName(name, labelRunes-utf8.RuneCountInString(prefix))
}

// shortenName keeps as many trailing path elements as fit after "…/"
// (the head of a TensorFlow name is usually the model's scope, shared by
// every node); a name whose last element alone does not fit keeps its
// head and tail around "…".
func shortenName(name string, limit int) string {
	if utf8.RuneCountInString(name) <= limit {
		return name
	}
	parts := strings.Split(name, "/")
	tail := ""
	for i := len(parts) - 1; i >= 0; i-- {
		next := parts[i]
		if tail != "" {
			next += "/" + tail
		}
		if utf8.RuneCountInString(next)+2 > limit {
			break
		}
		tail = next
	}
	if tail != "" {
		return "…/" + tail
	}
	r := []rune(name)
	keep := limit - 1
	return string(r[:keep/2]) + "…" + string(r[len(r)-(keep-keep/2):])
}

// newPlot returns a plot in the reports' plot style at the audit's sizes.
func newPlot(title string) *plot.Plot {
	p := plot.New()
	report.StylePlot(p, report.TextSizes{Title: 14, XLabel: 12, YLabel: 12, XTick: 10, YTick: 10, Legend: 10})
	p.X.Tick.Marker = plainTicks{}
	p.Y.Tick.Marker = plainTicks{}
	p.Title.Text = title
	p.Title.Padding = vg.Points(8)
	return p
}

// tickGlyph draws a short vertical bar: a range bound on a box plot.
type tickGlyph struct{}

func (tickGlyph) DrawGlyph(c *draw.Canvas, sty draw.GlyphStyle, pt vg.Point) {
	c.StrokeLine2(draw.LineStyle{Color: sty.Color, Width: vg.Points(2)}, pt.X, pt.Y-sty.Radius, pt.X, pt.Y+sty.Radius)
}

// strategyGlyph is the mark of the i-th strategy's bounds.
func strategyGlyph(i int, radius vg.Length) draw.GlyphStyle {
	shapes := []draw.GlyphDrawer{tickGlyph{}, draw.RingGlyph{}, draw.TriangleGlyph{}, draw.BoxGlyph{}, draw.CrossGlyph{}}
	return draw.GlyphStyle{Color: auditStrategyCols[i%len(auditStrategyCols)], Radius: radius, Shape: shapes[i%len(shapes)]}
}

// swatch is a legend thumbnail: a filled box with an outline.
type swatch struct{ fill, line color.Color }

func (s swatch) Thumbnail(c *draw.Canvas) {
	r := c.Rectangle
	pts := []vg.Point{{X: r.Min.X, Y: r.Min.Y}, {X: r.Max.X, Y: r.Min.Y}, {X: r.Max.X, Y: r.Max.Y}, {X: r.Min.X, Y: r.Max.Y}}
	c.FillPolygon(s.fill, pts)
	c.StrokeLines(draw.LineStyle{Color: s.line, Width: vg.Points(1)}, append(pts, pts[0]))
}

// boxPage draws one page of box plots: a row per node, the first node at
// the top; in each row the per-batch maxima (upper box) and minima (lower
// box) and a mark at each strategy's bounds.
func (a *Report) boxPage(nodes []*NodeAudit, page, pages, total int) (*Plot, error) {
	order := "log order"
	if a.Graph != "" {
		order = "graph order"
	}
	title := fmt.Sprintf("Per-batch minima and maxima, nodes #%d–#%d of %d (%s)", nodes[0].Index, nodes[len(nodes)-1].Index, total, order)
	if len(nodes) == 1 {
		title = fmt.Sprintf("Per-batch minima and maxima, node #%d of %d", nodes[0].Index, total)
	}
	p := newPlot(title)
	p.X.Label.Text = "per-batch extreme (lower box: minima, upper box: maxima)"
	const rowPt = 18.0 // points a row
	// Blank rows on top for the legend, whose entries are about 12 points
	// high each: the boxes' two and one a strategy.
	legendRows := int(math.Ceil(float64(2+len(a.Strategies))*12/rowPt)) + 1
	rows := len(nodes)
	h := vg.Points(rowPt*float64(rows+legendRows)) + vg.Points(110)
	ap := &Plot{Name: fmt.Sprintf("boxes-%02d", page), Title: title, p: p, w: 10 * vg.Inch, h: h, labels: map[string]string{}}
	ap.Caption = fmt.Sprintf("Page %d of %d. Boxes span the quartiles of the per-batch values, with the median inside; "+
		"whiskers reach the furthest values within 1.5 IQR, dots beyond are outlying batches. "+
		"Marks: each strategy's range (%s; the first is the chosen one).", page, pages, strings.Join(a.Strategies, ", "))

	labels := make([]string, rows)
	boxW := vg.Points(rowPt * 0.36)
	marks := make([]plotter.XYs, len(a.Strategies))
	lo, hi := math.Inf(1), math.Inf(-1)
	for r, n := range nodes {
		y := float64(rows - 1 - r)
		label := nodeLabel(n)
		labels[rows-1-r] = label
		if label != n.Name {
			ap.labels[label] = n.Name
		}
		sn := a.acc.Node(n.Name)
		if sn == nil {
			continue
		}
		for _, side := range []struct {
			vals       []float32
			off        float64
			fill, line color.Color
		}{{sn.Mins(), -0.2, auditMinFill, auditMinCol}, {sn.Maxs(), 0.2, auditMaxFill, auditMaxCol}} {
			if len(side.vals) == 0 {
				continue
			}
			vs := make(plotter.Values, len(side.vals))
			for i, v := range side.vals {
				vs[i] = float64(v)
				lo, hi = min(lo, vs[i]), max(hi, vs[i])
			}
			b, err := plotter.NewBoxPlot(boxW, y+side.off, vs)
			if err != nil {
				return nil, err
			}
			b.Horizontal = true
			b.FillColor = side.fill
			b.BoxStyle.Color = side.line
			b.MedianStyle.Color = side.line
			b.MedianStyle.Width = vg.Points(1.5)
			b.WhiskerStyle.Color = side.line
			b.GlyphStyle = draw.GlyphStyle{Color: side.line, Radius: vg.Points(1.6), Shape: draw.CircleGlyph{}}
			b.CapWidth = boxW / 2
			p.Add(b)
		}
		for i, r := range n.Ranges {
			if n.Side != "max" {
				marks[i] = append(marks[i], plotter.XY{X: float64(r.Min), Y: y})
			}
			if n.Side != "min" {
				marks[i] = append(marks[i], plotter.XY{X: float64(r.Max), Y: y})
			}
		}
	}
	p.Legend.Add("per-batch maxima", swatch{auditMaxFill, auditMaxCol})
	p.Legend.Add("per-batch minima", swatch{auditMinFill, auditMinCol})
	for i := len(a.Strategies) - 1; i >= 0; i-- {
		if len(marks[i]) == 0 {
			continue
		}
		s, err := plotter.NewScatter(marks[i])
		if err != nil {
			return nil, err
		}
		s.GlyphStyle = strategyGlyph(i, vg.Points(5))
		p.Add(s)
	}
	for i, name := range a.Strategies {
		s, _ := plotter.NewScatter(plotter.XYs{{}})
		s.GlyphStyle = strategyGlyph(i, vg.Points(4))
		p.Legend.Add(name+" range", s)
	}
	p.Legend.Top = true
	p.Legend.Padding = vg.Points(2)
	p.NominalY(labels...)
	p.Y.Min, p.Y.Max = -0.7, float64(rows)-0.3+float64(legendRows)
	p.Y.Tick.Label.Font = report.PlotFont(9)
	if lo <= hi {
		pad := (hi - lo) * 0.03
		if pad == 0 {
			pad = 1
		}
		p.X.Min, p.X.Max = lo-pad, hi+pad
	}
	p.Add(plotter.NewGrid())
	return ap, nil
}

// histogram draws the distribution of one node's per-batch maxima (minima
// for a min-only node) with each strategy's bound and the outlier batches
// marked.
func (a *Report) histogram(n *NodeAudit, k int) (*Plot, error) {
	sn := a.acc.Node(n.Name)
	vals, what, isMin := sn.Maxs(), "maxima", false
	if n.Side == "min" {
		vals, what, isMin = sn.Mins(), "minima", true
	}
	label := nodeLabel(n)
	title := fmt.Sprintf("%s: per-batch %s (%d batches, %s)", label, what, n.Batches, n.Level)
	p := newPlot(title)
	p.X.Label.Text = "per-batch " + strings.TrimSuffix(what, "a") + "um"
	p.Y.Label.Text = "batches"
	ap := &Plot{Name: fmt.Sprintf("hist-%02d-node%d", k, n.Index), Title: title, p: p, w: 9 * vg.Inch, h: 4.5 * vg.Inch,
		labels: map[string]string{}}
	if label != n.Name {
		ap.labels[label] = n.Name
	}
	ap.Caption = fmt.Sprintf("Node #%d %s. Vertical lines: each strategy's %s; red bars and triangles: outlier batches (|z| > 3.5), "+
		"left out of the bins so that the other batches keep their shape.",
		n.Index, n.Name, map[bool]string{true: "min", false: "max"}[isMin])
	// The bins cover the batches that are not outliers, so that one
	// batch ten times wider does not squeeze the rest into a single bin;
	// outlier batches are drawn as red bars of the same width.
	isOutlier := map[int]bool{}
	for _, o := range n.Outliers {
		isOutlier[o.Batch-1] = true
	}
	var bulk plotter.Values
	lo, hi := math.Inf(1), math.Inf(-1)
	for i, v := range vals {
		lo, hi = min(lo, float64(v)), max(hi, float64(v))
		if !isOutlier[i] {
			bulk = append(bulk, float64(v))
		}
	}
	if len(bulk) == 0 {
		bulk = plotter.Values{lo}
	}
	// Rice's rule: 2·n^(1/3) bins, between 5 and 60.
	bins := min(60, max(5, int(math.Ceil(2*math.Cbrt(float64(len(bulk)))))))
	if slices.Min(bulk) == slices.Max(bulk) {
		bins = 1
	}
	hg, err := plotter.NewHist(bulk, bins)
	if err != nil {
		return nil, err
	}
	hg.FillColor = map[bool]color.Color{true: auditMinFill, false: auditMaxFill}[isMin]
	hg.LineStyle.Color = map[bool]color.Color{true: auditMinCol, false: auditMaxCol}[isMin]
	p.Add(hg)
	top := 0.0
	for _, b := range hg.Bins {
		top = max(top, b.Weight)
	}
	binW := hg.Bins[0].Max - hg.Bins[0].Min
	if binW == 0 {
		binW = max(math.Abs(hi-lo), math.Abs(hi), 1) / 50
	}
	for _, o := range n.Outliers {
		v := float64(o.Max)
		if isMin {
			v = float64(o.Min)
		}
		bar, err := plotter.NewPolygon(plotter.XYs{{X: v - binW/2, Y: 0}, {X: v + binW/2, Y: 0}, {X: v + binW/2, Y: 1}, {X: v - binW/2, Y: 1}})
		if err != nil {
			return nil, err
		}
		bar.Color = auditLevels[Risk]
		bar.LineStyle.Color = auditLevels[Risk]
		p.Add(bar)
		top = max(top, 1)
	}
	for i, r := range n.Ranges {
		x := float64(r.Max)
		if isMin {
			x = float64(r.Min)
		}
		lo, hi = min(lo, x), max(hi, x)
		l, err := plotter.NewLine(plotter.XYs{{X: x, Y: 0}, {X: x, Y: top * 1.08}})
		if err != nil {
			return nil, err
		}
		l.LineStyle = draw.LineStyle{Color: auditStrategyCols[i%len(auditStrategyCols)], Width: vg.Points(2)}
		if i > 0 {
			l.LineStyle.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
		}
		p.Add(l)
		p.Legend.Add(fmt.Sprintf("%s %s = %s", r.Strategy, map[bool]string{true: "min", false: "max"}[isMin], auditNum(x, false)), l)
	}
	if len(n.Outliers) > 0 {
		var pts plotter.XYs
		for _, o := range n.Outliers {
			v := o.Max
			if isMin {
				v = o.Min
			}
			pts = append(pts, plotter.XY{X: float64(v), Y: 0})
		}
		s, err := plotter.NewScatter(pts)
		if err != nil {
			return nil, err
		}
		s.GlyphStyle = draw.GlyphStyle{Color: auditLevels[Risk], Radius: vg.Points(5), Shape: draw.PyramidGlyph{}}
		p.Add(s)
		p.Legend.Add(auditPlural(len(n.Outliers), "outlier batch", "outlier batches"), s)
	}
	p.Legend.Top = true
	p.Y.Tick.Marker = countTicks{}
	pad := (hi - lo) * 0.04
	if pad == 0 {
		pad = math.Max(1, math.Abs(hi)*0.1)
	}
	p.X.Min, p.X.Max = lo-pad, hi+pad
	// Room above the bars for the legend: about 7% of the height an entry.
	entries := len(n.Ranges) + min(1, len(n.Outliers))
	p.Y.Min, p.Y.Max = 0, top*1.1/max(0.3, 1-0.075*float64(entries))
	return ap, nil
}

// widthPlot draws each node's chosen range width against its graph depth
// (or its position in the log), coloured by verdict; a log scale is used
// when the widths span more than a factor of 30.
func (a *Report) widthPlot(nodes []*NodeAudit) (*Plot, error) {
	useDepth := a.Graph != ""
	pts := map[Level]plotter.XYs{}
	lo, hi := math.Inf(1), math.Inf(-1)
	var labels plotter.XYLabels
	for _, n := range nodes {
		if len(n.Ranges) == 0 {
			continue
		}
		x := float64(n.Index)
		if useDepth {
			if n.Depth < 0 {
				continue
			}
			x = float64(n.Depth)
		}
		w := n.Ranges[0].Width
		pts[n.Level] = append(pts[n.Level], plotter.XY{X: x, Y: w})
		lo, hi = min(lo, w), max(hi, w)
		if n.Level == Risk && len(labels.Labels) < 12 {
			labels.XYs = append(labels.XYs, plotter.XY{X: x, Y: w})
			labels.Labels = append(labels.Labels, fmt.Sprintf("#%d", n.Index))
		}
	}
	if len(pts) == 0 {
		return nil, nil
	}
	xwhat := "position in the log (node #)"
	if useDepth {
		xwhat = "graph depth (longest path from an input, in edges)"
	}
	title := fmt.Sprintf("Width of the %s range by %s", a.Strategies[0], map[bool]string{true: "depth", false: "node"}[useDepth])
	p := newPlot(title)
	p.X.Label.Text = xwhat
	p.Y.Label.Text = "range width (max − min)"
	ap := &Plot{Name: "width-depth", Title: title, p: p, w: 9 * vg.Inch, h: 4.5 * vg.Inch}
	ap.Caption = "Each dot is a node, coloured by verdict (green ok, amber warn, red risk; risk nodes are labelled with their #)."
	if lo > 0 && hi/lo > 30 {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
		p.Y.Label.Text += ", log scale"
	}
	for _, l := range []Level{OK, Warn, Risk} {
		if len(pts[l]) == 0 {
			continue
		}
		s, err := plotter.NewScatter(pts[l])
		if err != nil {
			return nil, err
		}
		s.GlyphStyle = draw.GlyphStyle{Color: auditLevels[l], Radius: vg.Points(3.5), Shape: draw.CircleGlyph{}}
		p.Add(s)
		p.Legend.Add(l.String(), s)
	}
	if len(labels.Labels) > 0 {
		lb, err := plotter.NewLabels(labels)
		if err != nil {
			return nil, err
		}
		for i := range lb.TextStyle {
			lb.TextStyle[i].Font = report.PlotFont(9)
			lb.TextStyle[i].Color = auditLevels[Risk]
		}
		lb.Offset = vg.Point{X: vg.Points(5), Y: vg.Points(2)}
		p.Add(lb)
	}
	p.Legend.Top = true
	p.Add(plotter.NewGrid())
	// Pad the axes so that no dot sits on a frame; a linear width axis
	// starts at 0.
	xlo, xhi := math.Inf(1), math.Inf(-1)
	for _, xys := range pts {
		for _, q := range xys {
			xlo, xhi = min(xlo, q.X), max(xhi, q.X)
		}
	}
	p.X.Min, p.X.Max = xlo-max(1, (xhi-xlo)*0.03), xhi+max(1, (xhi-xlo)*0.03)
	if _, isLog := p.Y.Scale.(plot.LogScale); !isLog {
		top := hi
		if top <= 0 {
			top = 1 // every range has zero width
		}
		p.Y.Min, p.Y.Max = 0, top*1.12
	} else {
		p.Y.Min, p.Y.Max = lo/1.3, hi*1.3
	}
	return ap, nil
}

// countTicks are the default ticks restricted to whole numbers: a
// histogram counts batches.
type countTicks struct{}

func (countTicks) Ticks(lo, hi float64) []plot.Tick {
	var out []plot.Tick
	for _, t := range (plot.DefaultTicks{}).Ticks(lo, hi) {
		if t.Value != math.Trunc(t.Value) {
			continue
		}
		if t.Label != "" {
			t.Label = strconv.FormatFloat(t.Value, 'f', 0, 64)
		}
		out = append(out, t)
	}
	return out
}

// plainTicks are the default ticks with labels in the shortest form ("25",
// "0.5", not "25.00").
type plainTicks struct{}

func (plainTicks) Ticks(lo, hi float64) []plot.Tick {
	ticks := (plot.DefaultTicks{}).Ticks(lo, hi)
	for i := range ticks {
		if ticks[i].Label != "" {
			ticks[i].Label = strconv.FormatFloat(ticks[i].Value, 'g', 6, 64)
		}
	}
	return ticks
}
