package report

import (
	"bytes"
	"image/color"
	"os"
	"path/filepath"
	"qcal/internal/testutil"
	"testing"
)

// TestHTMLInBrowser renders the HTML report in headless Chromium: the
// screenshot must show the page (not blank) with the chart's colours, and
// the DOM must have the report's sections; the console must be clean.
func TestHTMLInBrowser(t *testing.T) {
	testutil.NeedChromium(t)
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	var b bytes.Buffer
	if err := predComparison(t).WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(page, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	img := testutil.Screenshot(t, page, 1200, 1600)
	nonWhite := 0
	colours := map[string]int{}
	want := map[string]color.RGBA{"baseline bar": colBaseline, "pass bar": colPass, "fail bar": colFail}
	bounds := img.Bounds()
	for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
		for x := bounds.Min.X; x < bounds.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if r>>8 < 240 || g>>8 < 240 || bl>>8 < 240 {
				nonWhite++
			}
			for name, c := range want {
				if testutil.Near(r, c.R) && testutil.Near(g, c.G) && testutil.Near(bl, c.B) {
					colours[name]++
				}
			}
		}
	}
	total := bounds.Dx() * bounds.Dy()
	t.Logf("screenshot: %d of %d pixels not white; chart colours %v", nonWhite, total, colours)
	if nonWhite < total/20 {
		t.Errorf("screenshot nearly blank: %d of %d pixels not white", nonWhite, total)
	}
	for name := range want {
		if colours[name] < 500 {
			t.Errorf("the chart's %s is not visible (%d pixels)", name, colours[name])
		}
	}

	dom := testutil.Chromium(t, page, "--dump-dom")
	for _, want := range []string{`id="summary"`, `id="table"`, `id="chart"`, `id="paired"`, `id="classes"`, "<svg", "PASS: tf"} {
		if !bytes.Contains(dom, []byte(want)) {
			t.Errorf("rendered DOM lacks %s", want)
		}
	}
}
