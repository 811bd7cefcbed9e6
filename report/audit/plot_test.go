package audit

import (
	"bytes"
	"encoding/xml"
	"image/color"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"qcal/internal/testutil"
	"qcal/report"
)

// comparePNG decodes got and the golden image testdata/NAME and fails
// when their sizes differ or more than maxDiff of the pixels differ by more
// than 48 (of 255) in a channel: fonts may be rasterized a little
// differently elsewhere, a misplaced element may not. -update rewrites the
// golden image.
func comparePNG(t *testing.T, name string, got []byte, maxDiff float64) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if testutil.Updating() {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	gi, err := png.Decode(bytes.NewReader(got))
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("%v (run the test with -update to create it)", err)
	}
	defer f.Close()
	wi, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if gi.Bounds() != wi.Bounds() {
		t.Fatalf("%s: image is %v, golden %v", name, gi.Bounds(), wi.Bounds())
	}
	b := gi.Bounds()
	differ := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r1, g1, b1, _ := gi.At(x, y).RGBA()
			r2, g2, b2, _ := wi.At(x, y).RGBA()
			if far(r1, r2) || far(g1, g2) || far(b1, b2) {
				differ++
			}
		}
	}
	if frac := float64(differ) / float64(b.Dx()*b.Dy()); frac > maxDiff {
		t.Errorf("%s: %.2f%% of the pixels differ from the golden image (allowed %.2f%%; rerun with -update to accept)",
			name, 100*frac, 100*maxDiff)
	}
}

func far(a, b uint32) bool {
	d := int(a>>8) - int(b>>8)
	return d > 48 || d < -48
}

func TestAuditPlots(t *testing.T) {
	a := goldenAudit(t)
	plots, err := a.Plots(PlotOptions{PageSize: 5, Histograms: 2})
	if err != nil {
		t.Fatal(err)
	}
	// 8 nodes at 5 a page: two box pages, then two histograms and the
	// width plot.
	var names []string
	for _, p := range plots {
		names = append(names, p.Name)
	}
	want := []string{"boxes-01", "boxes-02", "hist-01-node" + strconv.Itoa(a.Nodes[0].Index), "hist-02-node" + strconv.Itoa(a.Nodes[1].Index), "width-depth"}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Fatalf("plots %v, want %v", names, want)
	}
	for _, p := range plots {
		t.Run(p.Name, func(t *testing.T) {
			img, err := p.PNG()
			if err != nil {
				t.Fatal(err)
			}
			comparePNG(t, p.Name+".png", img, 0.005)
			// Same audit, same bytes.
			again, err := p.PNG()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(img, again) {
				t.Error("PNG differs between two renderings")
			}
			svg, err := p.SVG()
			if err != nil {
				t.Fatal(err)
			}
			checkXML(t, svg)
			if !bytes.Contains(svg, []byte(p.Title[:20])) {
				t.Errorf("SVG lacks its title %q", p.Title)
			}
		})
	}
	// Tooltips: every shortened label of the first page carries the full
	// name in a <title>.
	svg, _ := plots[0].SVG()
	tipped := string(svg)
	if len(plots[0].labels) == 0 {
		t.Fatal("no shortened labels on the first page")
	}
	for short, full := range plots[0].labels {
		if !strings.Contains(tipped, "<title>"+full+"</title>"+strings.ReplaceAll(short, "&", "&amp;")+"</text>") {
			t.Errorf("label %q has no tooltip with %q", short, full)
		}
	}
}

// checkXML fails unless data is well-formed XML.
func checkXML(t *testing.T, data []byte) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(data))
	for {
		_, err := d.Token()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v", err)
		}
	}
}

func TestAuditPlotLabels(t *testing.T) {
	// 250 nodes with the long names of a deep ResNet: every label fits the
	// budget and labels stay distinct (the # prefix).
	seen := map[string]bool{}
	for i := 1; i <= 250; i++ {
		n := &NodeAudit{Index: i, Name: "resnet_v1_101/block3/unit_" + strconv.Itoa(i) + "/bottleneck_v1/conv2/Conv2D_eightbit_requant_range"}
		l := nodeLabel(n)
		if utf8.RuneCountInString(l) > labelRunes {
			t.Errorf("label %q longer than %d runes", l, labelRunes)
		}
		if seen[l] {
			t.Errorf("label %q repeated", l)
		}
		seen[l] = true
	}
}

func TestAuditHTML(t *testing.T) {
	a := goldenAudit(t)
	plots, err := a.Plots(PlotOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var b, again bytes.Buffer
	a.PagePlots = plots
	if err := a.WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	a2 := goldenAudit(t)
	a2.PagePlots = plots
	if err := report.Write(&again, a2, report.HTML); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b.Bytes(), again.Bytes()) {
		t.Error("two audits of the same inputs wrote different HTML")
	}
	page := b.String()
	// Self-contained: no script, nothing fetched. The only URLs are XML
	// namespace names, which are never fetched.
	if strings.Contains(page, "<script") || strings.Contains(page, "<link") || strings.Contains(page, "@import") {
		t.Error("page has a script, a link or an import")
	}
	rest := page
	for _, ns := range []string{`xmlns="http://www.w3.org/2000/svg"`, `xmlns:xlink="http://www.w3.org/1999/xlink"`} {
		rest = strings.ReplaceAll(rest, ns, "")
	}
	if i := strings.Index(rest, "http"); i >= 0 {
		t.Errorf("page refers to a URL: %q", rest[max(0, i-40):min(len(rest), i+60)])
	}
	// Summary first, then the table, then the plots.
	order := []string{`id="summary"`, `id="table"`, `id="findings"`, `id="strategies"`, `id="changes"`, `id="plots"`}
	last := -1
	for _, id := range order {
		i := strings.Index(page, id)
		if i < 0 || i < last {
			t.Errorf("section %s missing or out of order", id)
		}
		last = i
	}
	if n := strings.Count(page, "<svg"); n != len(plots) {
		t.Errorf("%d inline SVGs, want %d", n, len(plots))
	}
	if !strings.Contains(page, "Iglewicz") || !strings.Contains(page, "(max − min)/255") {
		t.Error("method notes missing")
	}
}

// TestAuditHTMLInBrowser renders the audit page in headless Chromium: the
// screenshot must not be blank and must show the verdict banner and the
// plots' colours, the DOM must hold the sections, the console must stay
// clean.
func TestAuditHTMLInBrowser(t *testing.T) {
	testutil.NeedChromium(t)
	a := goldenAudit(t)
	plots, err := a.Plots(PlotOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	page := filepath.Join(dir, "audit.html")
	var b bytes.Buffer
	a.PagePlots = plots
	if err := a.WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(page, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	img := testutil.Screenshot(t, page, 1280, 6000)
	want := map[string]color.RGBA{
		"risk banner":       {0xfd, 0xe8, 0xe6, 0xff}, // the page's --fail-bg
		"box of maxima":     {auditMaxFill.R, auditMaxFill.G, auditMaxFill.B, 0xff},
		"box of minima":     {auditMinFill.R, auditMinFill.G, auditMinFill.B, 0xff},
		"outlier bar (red)": {auditLevels[Risk].R, auditLevels[Risk].G, auditLevels[Risk].B, 0xff},
	}
	nonWhite, found := testutil.CountPixels(img, want)
	bounds := img.Bounds()
	total := bounds.Dx() * bounds.Dy()
	t.Logf("screenshot: %d of %d pixels not white; colours %v", nonWhite, total, found)
	if nonWhite < total/50 {
		t.Errorf("screenshot nearly blank: %d of %d pixels not white", nonWhite, total)
	}
	for name := range want {
		if found[name] < 40 {
			t.Errorf("the %s is not visible (%d pixels)", name, found[name])
		}
	}
	dom := string(testutil.Chromium(t, page, "--dump-dom"))
	for _, want := range []string{`id="summary"`, `id="table"`, `id="plots"`, `id="findings"`, "<svg", "<title>", "RISK:"} {
		if !strings.Contains(dom, want) {
			t.Errorf("rendered DOM lacks %s", want)
		}
	}
}
