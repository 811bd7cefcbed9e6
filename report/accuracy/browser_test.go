package accuracy

import (
	"bytes"
	"image/color"
	"os"
	"path/filepath"
	"testing"

	"qcal/internal/testutil"
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
	want := map[string]color.RGBA{"baseline bar": colBaseline, "pass bar": colPass, "fail bar": colFail}
	nonWhite, colours := testutil.CountPixels(img, want)
	bounds := img.Bounds()
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
