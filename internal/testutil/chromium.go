package testutil

import (
	"bytes"
	"context"
	"fmt"
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

// ChromiumPath is where Debian's chromium package puts the browser.
const ChromiumPath = "/usr/bin/chromium"

// NeedChromium skips the test when Chromium is not installed, or when the
// tests run with -short.
func NeedChromium(tb testing.TB) {
	tb.Helper()
	if _, err := os.Stat(ChromiumPath); err != nil {
		tb.Skipf("%s not found: install it (apt-get install -y chromium) to render HTML reports in a browser", ChromiumPath)
	}
	if testing.Short() {
		tb.Skip("starts a browser")
	}
}

// Chromium runs headless Chromium on the local page with extra arguments
// (--screenshot=..., --dump-dom, --window-size=...), isolated from the
// network and from any profile, and returns its stdout. Console errors
// (uncaught exceptions, console.error) fail the test.
func Chromium(tb testing.TB, page string, args ...string) []byte {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + tb.TempDir(), "--enable-logging=stderr", "--v=0"}
	cmd := exec.CommandContext(ctx, ChromiumPath, append(append(base, args...), "file://"+page)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		tb.Fatalf("chromium %s: %v\n%s", strings.Join(args, " "), err, errb.Bytes())
	}
	for _, line := range strings.Split(errb.String(), "\n") {
		if strings.Contains(line, "Uncaught") || strings.Contains(line, "ERROR:CONSOLE") {
			tb.Errorf("console error: %s", line)
		}
	}
	return out.Bytes()
}

// Near reports whether a colour channel from image.Color.RGBA (16 bits)
// is within 6 levels of the 8-bit value c.
func Near(v uint32, c uint8) bool {
	d := int(v>>8) - int(c)
	return d >= -6 && d <= 6
}

// Screenshot renders the local page in headless Chromium at width×height
// and returns the decoded picture, failing the test if it has another size.
func Screenshot(tb testing.TB, page string, width, height int) image.Image {
	tb.Helper()
	shot := filepath.Join(tb.TempDir(), "shot.png")
	Chromium(tb, page, "--screenshot="+shot, fmt.Sprintf("--window-size=%d,%d", width, height), "--hide-scrollbars")
	f, err := os.Open(shot)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		tb.Fatal(err)
	}
	if got := img.Bounds().Size(); got != image.Pt(width, height) {
		tb.Fatalf("screenshot is %v, want %d×%d", got, width, height)
	}
	return img
}

// CountPixels counts the pixels of img that are not near-white, and for
// each named colour the pixels within 6 levels of it (see Near).
func CountPixels(img image.Image, colours map[string]color.RGBA) (nonWhite int, found map[string]int) {
	found = make(map[string]int, len(colours))
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if r>>8 < 240 || g>>8 < 240 || bl>>8 < 240 {
				nonWhite++
			}
			for name, c := range colours {
				if Near(r, c.R) && Near(g, c.G) && Near(bl, c.B) {
					found[name]++
				}
			}
		}
	}
	return nonWhite, found
}
