package audit

import (
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"qcal/internal/layererr"
	"qcal/report"
)

// Layers is the per-layer int8 error: each quantized layer's output (and
// the graph's output) of the int8 graph compared with the FP32 graph's on
// the same data. It is a report document of its own (qcal audit -fp32
// -int8 -data without a log) and a section of the audit (Report.Layers).
type Layers struct {
	FP32     string `json:"fp32_graph"`
	Int8     string `json:"int8_graph"`
	Data     string `json:"data"`
	Input    string `json:"input"`
	Examples int    `json:"examples"`
	Batches  int    `json:"batches"`
	// Layers are in the FP32 graph's execution order.
	Layers []LayerError `json:"layers"`

	// Plot is the SQNR bar chart the HTML page shows (from Plot; nil: none).
	PagePlot *Plot `json:"-"`
}

// LayerError is one tensor's error; x is the FP32 value, y the int8 one.
type LayerError struct {
	// Index is the 1-based position in the FP32 graph's execution order
	// among the tensors compared.
	Index  int    `json:"index"`
	Name   string `json:"node"`
	Op     string `json:"op"`
	Output bool   `json:"output"`
	// Elements is the number of values compared over all batches.
	Elements int64 `json:"elements"`
	// SQNR is 10·log10(Σx²/Σ(x−y)²) in dB (+Inf: no error).
	SQNR   Decibels `json:"sqnr_db"`
	RMSE   float64  `json:"rmse"`
	MaxAbs float64  `json:"max_abs_error"`
	MeanX  float64  `json:"mean_fp32"`
	// SignShare is the share of values whose sign or zero-ness differs.
	SignShare float64 `json:"sign_changed"`
}

// Decibels is an SQNR; JSON writes ±Inf as the strings "+Inf" and "-Inf"
// and NaN as null, since JSON numbers cannot hold them.
type Decibels float64

// MarshalJSON writes d as a number, or as "+Inf", "-Inf" or null.
func (d Decibels) MarshalJSON() ([]byte, error) {
	v := float64(d)
	switch {
	case math.IsInf(v, 1):
		return []byte(`"+Inf"`), nil
	case math.IsInf(v, -1):
		return []byte(`"-Inf"`), nil
	case math.IsNaN(v):
		return []byte("null"), nil
	}
	return json.Marshal(v)
}

// NewLayers turns a measurement into the report's section; fp32, int8 and
// data name the graphs and the data set.
func NewLayers(res *layererr.Result, fp32, int8, data string) *Layers {
	ls := &Layers{FP32: fp32, Int8: int8, Data: data, Input: res.Input, Examples: res.Examples, Batches: res.Batches}
	for i, l := range res.Layers {
		ls.Layers = append(ls.Layers, LayerError{Index: i + 1, Name: l.Name, Op: l.Op, Output: l.Output, Elements: l.N,
			SQNR: Decibels(l.SQNR()), RMSE: l.RMSE(), MaxAbs: l.MaxAbs, MeanX: l.MeanX(), SignShare: l.SignShare()})
	}
	return ls
}

// Heading returns the section's one-line summary, naming the layer with
// the lowest SQNR.
func (ls *Layers) Heading() string {
	worst := -1
	for i, l := range ls.Layers {
		if worst < 0 || float64(l.SQNR) < float64(ls.Layers[worst].SQNR) {
			worst = i
		}
	}
	s := fmt.Sprintf("Per-layer int8 error: %s vs %s on %d examples of %s", ls.Int8, ls.FP32, ls.Examples, ls.Data)
	if worst >= 0 {
		l := ls.Layers[worst]
		s += fmt.Sprintf("; lowest SQNR %s dB at %s", dbText(float64(l.SQNR), false), l.Name)
	}
	return s
}

func dbText(v float64, exact bool) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case exact:
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

// Table returns one row per tensor, in graph order: SQNR, RMSE, max |x−y|,
// mean x, sign changes. exact writes every number in full (csv).
func (ls *Layers) Table(exact bool) *report.Table {
	t := &report.Table{Header: []string{"#", "node", "op", "SQNR dB", "RMSE", "max |err|", "mean fp32", "sign changed", "values"},
		Right: []bool{true, false, false, true, true, true, true, true, true}}
	num := func(v float64) string {
		if exact {
			return strconv.FormatFloat(v, 'g', -1, 64)
		}
		return strconv.FormatFloat(v, 'g', 4, 64)
	}
	for _, l := range ls.Layers {
		op := l.Op
		if l.Output {
			op += " (output)"
		}
		share := auditPct(l.SignShare)
		if exact {
			share = num(l.SignShare)
		}
		t.Rows = append(t.Rows, []string{strconv.Itoa(l.Index), l.Name, op, dbText(float64(l.SQNR), exact),
			num(l.RMSE), num(l.MaxAbs), num(l.MeanX), share, strconv.FormatInt(l.Elements, 10)})
	}
	return t
}

// layersNote says how the table's numbers are computed.
const layersNote = "x is the FP32 graph's value, y the int8 graph's, over every value of every batch: " +
	"SQNR = 10·log10(Σx²/Σ(x−y)²) (+Inf: no error; above about 30 dB a layer rarely costs accuracy, " +
	"below 20 dB look at its range); RMSE = √(Σ(x−y)²/n); sign changed: the share of values whose sign or zero-ness differs " +
	"(after a Relu: values the int8 range rounds to 0, or lifts from it). A quantized layer's output that feeds the next " +
	"quantized layer is read through a Dequantize added for the measurement."

// WriteText renders the section as text.
func (ls *Layers) WriteText(w io.Writer) error { return ls.writeText(w, false) }

// WriteMarkdown renders the section as Markdown.
func (ls *Layers) WriteMarkdown(w io.Writer) error { return ls.writeText(w, true) }

// WriteCSV writes the table with exact numbers.
func (ls *Layers) WriteCSV(w io.Writer) error { return ls.Table(true).WriteCSV(w) }

func (ls *Layers) writeText(w io.Writer, md bool) error {
	h := ls.Heading()
	if md {
		h = "**" + h + "**"
	}
	fmt.Fprintf(w, "%s\n\n", h)
	var err error
	if md {
		err = ls.Table(false).WriteMarkdown(w)
	} else {
		err = ls.Table(false).WriteText(w)
	}
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "\n%s\n", layersNote)
	return err
}

// WriteHTML writes the section alone as a self-contained page.
func (ls *Layers) WriteHTML(w io.Writer) error {
	sec, err := ls.Section()
	if err != nil {
		return err
	}
	page := &report.Page{Title: "Per-layer int8 error", Lead: ls.Heading() + ".", Sections: []report.Section{sec}}
	page.Footer = []string{layersNote, "Generated by qcal audit."}
	return report.WritePage(w, page)
}

// Section is the HTML section (#layers): the table, then the plot.
func (ls *Layers) Section() (report.Section, error) {
	var b strings.Builder
	b.WriteString(string(report.Paragraph("caption", ls.Heading()+". "+layersNote)))
	b.WriteString(string(auditTableHTML(ls.Table(false), nil)))
	if ls.PagePlot != nil {
		svg, err := ls.PagePlot.SVG()
		if err != nil {
			return report.Section{}, err
		}
		b.WriteString(string(report.Figure(svg, ls.PagePlot.Title, ls.PagePlot.Caption)))
	}
	return report.Section{ID: "layers", Title: "Per-layer int8 error", Body: template.HTML(b.String())}, nil
}

// maxBarDB caps an infinite SQNR's bar (no error at all).
const maxBarDB = 100

// Plot draws the SQNR of each tensor as a bar, in graph order, with a line
// at 20 dB; an infinite SQNR is drawn at 100 dB.
func (ls *Layers) Plot() (*Plot, error) {
	if len(ls.Layers) == 0 {
		return nil, nil
	}
	vals := make(plotter.Values, len(ls.Layers))
	names := make([]string, len(ls.Layers))
	labels := map[string]string{}
	top := 0.0
	for i, l := range ls.Layers {
		v := float64(l.SQNR)
		switch {
		case math.IsInf(v, 1):
			v = maxBarDB
		case math.IsInf(v, -1) || math.IsNaN(v) || v < 0:
			v = 0
		}
		vals[i] = v
		top = max(top, v)
		names[i] = fmt.Sprintf("#%d %s", l.Index, shortenName(l.Name, 30))
		if short := shortenName(l.Name, 30); short != l.Name {
			labels[names[i]] = l.Name
		}
	}
	title := "SQNR of each layer's int8 output"
	p := newPlot(title)
	p.Y.Label.Text = "SQNR (dB), higher is better"
	bars, err := plotter.NewBarChart(vals, vg.Points(24))
	if err != nil {
		return nil, err
	}
	bars.Color = auditMinCol
	bars.LineStyle.Width = 0
	p.Add(bars, plotter.NewGrid())
	p.NominalX(names...)
	p.X.Tick.Label.Rotation = math.Pi / 6
	p.X.Tick.Label.XAlign = -1
	p.X.Tick.Label.YAlign = 0
	line := plotter.NewFunction(func(float64) float64 { return 20 })
	line.Color = auditLevels[Risk]
	line.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	line.Width = vg.Points(1)
	p.Add(line)
	p.Legend.Add("20 dB", line)
	p.Legend.Top = true
	p.Y.Min, p.Y.Max = 0, max(top, 20)*1.12
	w := max(6*vg.Inch, vg.Length(len(ls.Layers))*0.8*vg.Inch)
	return &Plot{Name: "layer-sqnr", Title: title, p: p, w: w, h: 4.5 * vg.Inch, labels: labels,
		Caption: "One bar per compared tensor, in graph order; the dashed line marks 20 dB. An infinite SQNR (no error) is drawn at 100 dB."}, nil
}
