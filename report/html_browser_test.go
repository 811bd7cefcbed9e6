package report

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const chromiumPath = "/usr/bin/chromium"

// chromium runs headless Chromium on page with extra arguments, isolated
// from the network and from any profile, and returns its stdout and
// stderr.
func chromium(t *testing.T, page string, args ...string) (stdout, stderr []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + t.TempDir(), "--enable-logging=stderr", "--v=0"}
	cmd := exec.CommandContext(ctx, chromiumPath, append(append(base, args...), "file://"+page)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %s: %v\n%s", strings.Join(args, " "), err, errb.Bytes())
	}
	for _, line := range strings.Split(errb.String(), "\n") {
		if strings.Contains(line, "Uncaught") || strings.Contains(line, "ERROR:CONSOLE") {
			t.Errorf("console error: %s", line)
		}
	}
	return out.Bytes(), errb.Bytes()
}

// TestHTMLInBrowser renders the HTML report in headless Chromium: the
// screenshot must show the page (not blank) with the chart's colours, and
// the DOM must have the report's sections; the console must be clean.
func TestHTMLInBrowser(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("%s not found: install it (apt-get install -y chromium) to render the HTML report in a browser", chromiumPath)
	}
	if testing.Short() {
		t.Skip("starts a browser")
	}
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	var b bytes.Buffer
	if err := predComparison(t).WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(page, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	shot := filepath.Join(dir, "out.png")
	chromium(t, page, "--screenshot="+shot, "--window-size=1200,1600", "--hide-scrollbars")
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if got := img.Bounds().Size(); got != image.Pt(1200, 1600) {
		t.Errorf("screenshot is %v, want 1200×1600", got)
	}
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
				if closeTo(r>>8, c.R) && closeTo(g>>8, c.G) && closeTo(bl>>8, c.B) {
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

	dom, _ := chromium(t, page, "--dump-dom")
	for _, want := range []string{`id="summary"`, `id="table"`, `id="chart"`, `id="paired"`, `id="classes"`, "<svg", "PASS: tf"} {
		if !bytes.Contains(dom, []byte(want)) {
			t.Errorf("rendered DOM lacks %s", want)
		}
	}
}

func closeTo(v uint32, c uint8) bool {
	d := int(v) - int(c)
	return d >= -6 && d <= 6
}
