package accuracy

import (
	"bytes"
	"encoding/xml"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// htmlOut, from $QCAL_HTML_OUT, is a directory where TestWriteHTML
// leaves the pages it writes, for a person to look at.
var htmlOut = os.Getenv("QCAL_HTML_OUT")

func TestWriteHTML(t *testing.T) {
	for name, c := range map[string]func(*testing.T) *Comparison{"logs": logComparison, "predictions": predComparison} {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			if err := c(t).WriteHTML(&b); err != nil {
				t.Fatal(err)
			}
			page := b.String()
			if htmlOut != "" {
				if err := os.WriteFile(filepath.Join(htmlOut, name+".html"), b.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			// The sections, in order: verdict first, then the table, then the chart.
			last := -1
			for _, id := range []string{`id="summary"`, `id="table"`, `id="chart"`, `id="metrics"`} {
				i := strings.Index(page, id)
				if i < 0 || i < last {
					t.Errorf("%s missing or out of order", id)
				}
				last = i
			}
			if name == "predictions" {
				for _, id := range []string{`id="paired"`, `id="classes"`, `id="notes"`} {
					if !strings.Contains(page, id) {
						t.Errorf("%s missing", id)
					}
				}
			}
			// Self-contained: no scripts, nothing fetched. (The only URLs
			// are the SVG namespace names, which are never fetched.)
			bare := strings.NewReplacer(`xmlns="http://www.w3.org/2000/svg"`, "", `xmlns:xlink="http://www.w3.org/1999/xlink"`, "").Replace(page)
			for _, bad := range []string{"<script", "http:", "https:", "<link", "@import", "url(", "<img", "<iframe"} {
				if strings.Contains(bare, bad) {
					t.Errorf("page contains %q", bad)
				}
			}
			if !strings.Contains(page, `class="banner pass"`) || !strings.Contains(page, "<svg") {
				t.Error("no verdict banner or no inline SVG")
			}
			// The inline SVG is well-formed XML.
			svg := page[strings.Index(page, "<svg") : strings.Index(page, "</svg>")+len("</svg>")]
			d := xml.NewDecoder(strings.NewReader(svg))
			for {
				_, err := d.Token()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("inline SVG: %v", err)
				}
			}
		})
	}
}

// TestChartDeterministic checks that the SVG has no random ids or time
// stamps: two charts of equal comparisons are the same bytes.
func TestChartDeterministic(t *testing.T) {
	a, err := predComparison(t).Chart()
	if err != nil {
		t.Fatal(err)
	}
	b, err := predComparison(t).Chart()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Error("two charts of the same comparison differ")
	}
	for _, want := range []string{"tf", "kl", "fp32", "top1 (%)", "warn band"} {
		if !bytes.Contains(a, []byte(">"+want)) {
			t.Errorf("chart lacks the text %q", want)
		}
	}
}
