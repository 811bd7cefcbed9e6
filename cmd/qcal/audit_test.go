package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"qcal/internal/graphio"
	"qcal/internal/synth"
	"qcal/logparse"
)

func TestAuditUsage(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"audit"}, 2, "no calibration log given"},
		{[]string{"audit", "-strategy", "tf,kl", "x.log"}, 2, `unknown strategy "kl" (known: tf, minmax`},
		{[]string{"audit", "-strategy", "percentile", "x.log"}, 2, "needs a parameter"},
		{[]string{"audit", "-format", "xml", "x.log"}, 2, `unknown -format "xml"`},
		{[]string{"audit", "-drift", "0", "x.log"}, 2, "-drift must be positive"},
		{[]string{"audit", "-bootstrap", "0", "x.log"}, 2, "-bootstrap must be in"},
		{[]string{"audit", "-page", "0", "x.log"}, 2, "-page must be at least 1"},
		{[]string{"audit", "testdata/missing.log"}, 1, "testdata/missing.log"},
		{[]string{"audit", "-o", "testdata/small.log", "testdata/small.log"}, 1, "refusing to overwrite input file"},
		{[]string{"help", "audit"}, 0, "-against"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, _, stderr := qcal(t, "", tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr, tc.code, tc.want)
			}
		})
	}
}

// auditFixture writes the demo's graph and a log with an outlier, and a
// second log as an earlier calibration; it returns their paths.
func auditFixture(t *testing.T) (dir, graph, log, old string) {
	t.Helper()
	dir = t.TempDir()
	layers := synth.DemoLayers()
	graph = filepath.Join(dir, "graph.pb")
	if err := graphio.Save(graph, synth.Graph(layers), graphio.Binary); err != nil {
		t.Fatal(err)
	}
	var b, o bytes.Buffer
	if _, err := synth.Log(&b, layers, synth.LogOptions{Batches: 30, Seed: 1, Noise: true, Outliers: true, JoinEvery: 17}); err != nil {
		t.Fatal(err)
	}
	if _, err := synth.Log(&o, layers[:7], synth.LogOptions{Batches: 30, Seed: 2}); err != nil {
		t.Fatal(err)
	}
	log = writeText(t, dir, "min_max_log.txt", b.String())
	old = writeText(t, dir, "last_week.txt", o.String())
	return dir, graph, log, old
}

func TestAuditCommand(t *testing.T) {
	dir, graph, log, old := auditFixture(t)
	layers := synth.DemoLayers()

	// The terminal table.
	code, out, stderr := qcal(t, "", "audit", "-graph", graph, log)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"RISK: 1 risk", "range (tf)", "depth", "Reasons, riskiest first:", layers[0].RequantRange() + " (risk)", "stretched"} {
		if !strings.Contains(out, want) {
			t.Errorf("table output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(stderr, "qcal: RISK: 1 risk") || strings.Contains(stderr, "\r") {
		t.Errorf("stderr %q: want the heading and no progress bar (not a terminal)", stderr)
	}

	// CSV: the riskiest node first, exact numbers.
	code, out, _ = qcal(t, "", "audit", "-format", "csv", "-strategy", "tf,minmax", log)
	if code != 0 {
		t.Fatal(out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 1+len(layers) || !strings.HasPrefix(lines[0], "#,node,verdict,batches,min,max,step,clip,outliers,converged,min (minmax),max (minmax),reasons") ||
		!strings.Contains(lines[1], layers[0].RequantRange()+",risk,30,") {
		t.Errorf("csv:\n%s", out)
	}

	// JSON with -against: the drift of layer 0 (its outlier) is reported.
	code, out, stderr = qcal(t, "", "audit", "-format", "json", "-against", old, "-drift", "0.2", log)
	if code != 0 {
		t.Fatal(stderr)
	}
	var doc struct {
		Verdict string `json:"verdict"`
		Nodes   []struct {
			Node   string `json:"node"`
			Change *struct {
				Drifted bool `json:"drifted"`
			} `json:"change"`
		} `json:"nodes"`
		Changes struct {
			New     []string `json:"new"`
			Drifted int      `json:"drifted"`
		} `json:"changes"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Verdict != "risk" || len(doc.Changes.New) != 1 || doc.Changes.New[0] != layers[7].RequantRange() || doc.Changes.Drifted < 1 ||
		doc.Nodes[0].Node != layers[0].RequantRange() || doc.Nodes[0].Change == nil || !doc.Nodes[0].Change.Drifted {
		t.Errorf("json document: %s", out)
	}
	if !strings.Contains(stderr, "Against "+old+":") {
		t.Errorf("stderr lacks the comparison summary: %s", stderr)
	}

	// HTML and plots; the format comes from -o's extension.
	page := filepath.Join(dir, "audit.html")
	plots := filepath.Join(dir, "plots")
	code, out, stderr = qcal(t, "", "audit", "-graph", graph, "-strategy", "tf,minmax,percentile:99.9", "-o", page, "-plots", plots, "-page", "5", log)
	if code != 0 || out != "" {
		t.Fatalf("exit %d, stdout %q: %s", code, out, stderr)
	}
	html, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<!DOCTYPE html>", `id="summary"`, `id="table"`, `id="plots"`, "<svg", "percentile:99.9"} {
		if !bytes.Contains(html, []byte(want)) {
			t.Errorf("audit.html lacks %q", want)
		}
	}
	// 8 nodes at 5 a page: 2 box pages, 6 histograms, the width plot.
	for _, name := range []string{"boxes-01", "boxes-02", "hist-01-node1", "width-depth"} {
		for _, ext := range []string{".png", ".svg"} {
			data, err := os.ReadFile(filepath.Join(plots, name+ext))
			if err != nil {
				t.Fatal(err)
			}
			if ext == ".png" {
				if _, err := png.Decode(bytes.NewReader(data)); err != nil {
					t.Errorf("%s%s: %v", name, ext, err)
				}
			} else if !bytes.Contains(data, []byte("<svg")) {
				t.Errorf("%s%s is not an SVG", name, ext)
			}
		}
	}
	if entries, _ := os.ReadDir(plots); len(entries) != 2*(2+6+1) {
		t.Errorf("%d files in %s, want 18", len(entries), plots)
	}
	if !strings.Contains(stderr, "wrote "+page) || !strings.Contains(stderr, "wrote 9 plots") {
		t.Errorf("stderr: %s", stderr)
	}

	// -hist 0: no histograms.
	noHist := filepath.Join(dir, "nohist")
	if code, _, stderr := qcal(t, "", "audit", "-hist", "0", "-plots", noHist, "-format", "csv", log); code != 0 || !strings.Contains(stderr, "wrote 2 plots") {
		t.Errorf("-hist 0: exit %d, %s", code, stderr)
	}

	// Same inputs, same bytes.
	page2 := filepath.Join(dir, "again.html")
	if code, _, stderr := qcal(t, "", "audit", "-graph", graph, "-strategy", "tf,minmax,percentile:99.9", "-o", page2, "-page", "5", log); code != 0 {
		t.Fatal(stderr)
	}
	html2, _ := os.ReadFile(page2)
	if !bytes.Equal(html, html2) {
		t.Error("two audits of the same inputs wrote different HTML")
	}
}

// TestAuditBadRecords: NaN/Inf and min > max records are findings, not
// errors as in `qcal ranges`.
func TestAuditBadRecords(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	for i := range 12 {
		fmt.Fprintf(&b, ";a/conv_eightbit_requant_range__print__;__requant_min_max:[-1][%d]\n", 2+i%3)
		if i == 4 {
			b.WriteString(";a/conv_eightbit_requant_range__print__;__requant_min_max:[nan][2]\n")
		}
	}
	log := writeText(t, dir, "nan.log", b.String())
	code, out, stderr := qcal(t, "", "audit", "-format", "csv", log)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(out, "a/conv_eightbit_requant_range,risk,12,") || !strings.Contains(out, "1 with NaN/Inf (first at "+log+":6)") {
		t.Errorf("csv:\n%s", out)
	}
}

func TestAuditStdin(t *testing.T) {
	data, err := os.ReadFile("testdata/small.log")
	if err != nil {
		t.Fatal(err)
	}
	_, want, _ := qcal(t, "", "audit", "-format", "csv", "testdata/small.log")
	code, got, stderr := qcal(t, string(data), "audit", "-format", "csv", "-")
	got = strings.ReplaceAll(got, "<stdin>", "testdata/small.log")
	if code != 0 || got != want {
		t.Errorf("stdin: exit %d (%s)\n%s\nwant\n%s", code, stderr, got, want)
	}
}

func TestAuditProgress(t *testing.T) {
	// Not a terminal: no progress at all.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if p := newProgress(w, "x.log", 100); p != nil {
		t.Error("progress on a pipe")
	}
	if p := newProgress(&bytes.Buffer{}, "x.log", 100); p != nil {
		t.Error("progress on a buffer")
	}
	// On a terminal it redraws one line with the bytes read and the rate.
	var b bytes.Buffer
	p := &progress{w: &b, name: "x.log", size: 2 << 20, start: time.Now().Add(-time.Second), last: time.Now().Add(-time.Second)}
	var log bytes.Buffer
	for range 2000 {
		log.WriteString(";n__print__;__requant_min_max:[-1][1]\n")
	}
	rd := logparse.NewReader(&log, "x.log")
	for rd.Scan() {
		p.tick(rd)
	}
	p.done()
	s := b.String()
	if !strings.HasPrefix(s, "\r\033[Kqcal audit: x.log [") || !strings.Contains(s, "MiB read") || !strings.Contains(s, "k records/s") || !strings.HasSuffix(s, "\r\033[K") {
		t.Errorf("progress output %q", s)
	}
}
