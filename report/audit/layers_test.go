package audit

import (
	"bytes"
	"encoding/json"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"qcal/internal/layererr"
	"qcal/internal/testutil"
	"qcal/report"
)

// handLayers are the sums of layererr's hand-worked test: act (Relu)
// SQNR 10·log10(16.56/0.16) = 20.149 dB, RMSE √(0.16/6) = 0.1633, max 0.4;
// out (the output) with no error: SQNR +Inf.
func handLayers() *Layers {
	res := &layererr.Result{Input: "x", Examples: 2, Batches: 2, Layers: []*layererr.Layer{
		{Name: "act", Op: "Relu", N: 6, SumX: 6.4, SumX2: 16.56, SumErr2: 0.16, MaxAbs: 0.4},
		{Name: "out", Op: "Add", Output: true, N: 6, SumX: 6.4, SumX2: 16.56, SignDiff: 3},
	}}
	return NewLayers(res, "fp32.pb", "int8.pb", "x.npy")
}

func TestLayersTable(t *testing.T) {
	ls := handLayers()
	tb := ls.Table(false)
	want := [][]string{
		{"1", "act", "Relu", "20.1", "0.1633", "0.4", "1.067", "0.0%", "6"},
		// sign changed 3 of 6 values: 50%.
		{"2", "out", "Add (output)", "+Inf", "0", "0", "1.067", "50%", "6"},
	}
	if len(tb.Rows) != len(want) {
		t.Fatalf("%d rows, want %d", len(tb.Rows), len(want))
	}
	for i := range want {
		if strings.Join(tb.Rows[i], "|") != strings.Join(want[i], "|") {
			t.Errorf("row %d: %q, want %q", i, tb.Rows[i], want[i])
		}
	}
	// csv: exact numbers; 10·log10(103.5) in full.
	if got := ls.Table(true).Rows[0][3]; !strings.HasPrefix(got, "20.149") {
		t.Errorf("exact SQNR %s, want 20.149…", got)
	}
	if h := ls.Heading(); !strings.HasSuffix(h, "lowest SQNR 20.1 dB at act") {
		t.Errorf("heading %q does not name act as the worst layer", h)
	}
	// JSON cannot hold +Inf: it is written as a string.
	var b bytes.Buffer
	if err := report.Write(&b, ls, report.JSON); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Layers []struct {
			SQNR any `json:"sqnr_db"`
		} `json:"layers"`
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("%v\n%s", err, b.Bytes())
	}
	if v, ok := doc.Layers[0].SQNR.(float64); !ok || v < 20.149 || v > 20.15 {
		t.Errorf("act sqnr_db %v, want 20.149", doc.Layers[0].SQNR)
	}
	if doc.Layers[1].SQNR != "+Inf" {
		t.Errorf("out sqnr_db %v, want \"+Inf\"", doc.Layers[1].SQNR)
	}
}

// TestLayersInAudit: the section follows the findings in every format and
// the plot is drawn in the HTML page; without it the audit is as before.
func TestLayersInAudit(t *testing.T) {
	ls := handLayers()
	p, err := ls.Plot()
	if err != nil || p == nil {
		t.Fatalf("plot: %v", err)
	}
	ls.PagePlot = p
	a := &Report{Logs: []string{"x.log"}, Strategies: []string{"tf"}, Layers: ls}
	for _, f := range []report.Format{report.Text, report.Markdown, report.CSV, report.JSON, report.HTML} {
		var b bytes.Buffer
		if err := report.Write(&b, a, f); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		s := b.String()
		want := map[report.Format]string{report.Text: "Per-layer int8 error", report.Markdown: "| 1 | act | Relu | 20.1 |",
			report.CSV: "1,act,Relu,20.149", report.JSON: `"layer_error"`, report.HTML: `id="layers"`}[f]
		if !strings.Contains(s, want) {
			t.Errorf("%s output lacks %q:\n%s", f, want, s)
		}
		if f == report.HTML && !strings.Contains(s, "<svg") {
			t.Errorf("html: no plot")
		}
	}
}

// TestLayersPlot decodes the SQNR plot's PNG and measures its two bars:
// act at 10·log10(103.5) = 20.149 dB and out (no error, +Inf) drawn at
// 100 dB, so the second bar is 100/20.149 = 4.963 times as tall (±3%: a
// pixel at each end of a bar ~60 px tall; measured 64 and 322 px, 5.03).
func TestLayersPlot(t *testing.T) {
	p, err := handLayers().Plot()
	if err != nil {
		t.Fatal(err)
	}
	b, err := p.PNG()
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	// Columns holding the bar colour, grouped into runs (a gap of up to
	// 3 columns is the grid line drawn over a bar): the bars.
	var heights []int
	last := -100
	bd := img.Bounds()
	for x := bd.Min.X; x <= bd.Max.X; x++ {
		h := 0
		for y := bd.Min.Y; x < bd.Max.X && y < bd.Max.Y; y++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if testutil.Near(r, auditMinCol.R) && testutil.Near(g, auditMinCol.G) && testutil.Near(bl, auditMinCol.B) {
				h++
			}
		}
		switch {
		case h > 0 && x-last > 4:
			heights = append(heights, h)
			last = x
		case h > 0:
			heights[len(heights)-1] = max(heights[len(heights)-1], h)
			last = x
		}
	}
	if len(heights) != 2 {
		t.Fatalf("%d bars (heights %v), want 2", len(heights), heights)
	}
	ratio := float64(heights[1]) / float64(heights[0])
	if math.Abs(ratio-100/(10*math.Log10(103.5))) > 0.03*4.963 {
		t.Errorf("bar heights %v: ratio %.3f, want 4.963", heights, ratio)
	}
}

// TestLayersBrowser renders the page alone in Chromium: the bars of the
// plot are on screen.
func TestLayersBrowser(t *testing.T) {
	testutil.NeedChromium(t)
	ls := handLayers()
	p, err := ls.Plot()
	if err != nil {
		t.Fatal(err)
	}
	ls.PagePlot = p
	var b bytes.Buffer
	if err := ls.WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	page := filepath.Join(t.TempDir(), "layers.html")
	if err := os.WriteFile(page, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	img := testutil.Screenshot(t, page, 1200, 1400)
	_, found := testutil.CountPixels(img, map[string]color.RGBA{"bars": auditMinCol})
	// The +Inf bar alone is ~30 px wide and ~250 px tall on screen.
	if found["bars"] < 2000 {
		t.Errorf("%d pixels of the bar colour on screen, want the plot's bars (> 2000)", found["bars"])
	}
}
