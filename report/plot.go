package report

import (
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
)

// The plot style every report's charts share: Liberation Sans (gonum/plot's
// default face is serif) in the pages' ink colour.

// Ink is the colour of plot text and axes, the pages' --fg.
var Ink = color.RGBA{R: 0x1d, G: 0x23, B: 0x30, A: 0xff}

// PlotFont is the plots' face at size points.
func PlotFont(size float64) font.Font {
	return font.Font{Typeface: "Liberation", Variant: "Sans", Size: vg.Points(size)}
}

// TextSizes are the point sizes of a plot's texts.
type TextSizes struct {
	Title, XLabel, YLabel, XTick, YTick, Legend float64
}

// StylePlot sets every text of p in PlotFont at the given sizes, in Ink.
func StylePlot(p *plot.Plot, s TextSizes) {
	set := func(st *text.Style, size float64) { st.Font = PlotFont(size); st.Color = Ink }
	set(&p.Title.TextStyle, s.Title)
	set(&p.X.Label.TextStyle, s.XLabel)
	set(&p.Y.Label.TextStyle, s.YLabel)
	set(&p.X.Tick.Label, s.XTick)
	set(&p.Y.Tick.Label, s.YTick)
	set(&p.Legend.TextStyle, s.Legend)
}
