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

	"qcal/internal/calib"
	"qcal/internal/graphio"
	"qcal/internal/synth"
)

func TestAuditUsage(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"audit"}, 2, "no calibration log given"},
		{[]string{"audit", "-strategy", "tf,klx", "x.log"}, 2, `unknown strategy "klx" (known: tf, minmax`},
		{[]string{"audit", "-strategy", "kl,tf", "x.log"}, 2, `the audit judges per-batch extremes: the first -strategy must be one of tf, minmax`},
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
	if p := newProgress(w); p != nil {
		t.Error("progress on a pipe")
	}
	if p := newProgress(&bytes.Buffer{}); p != nil {
		t.Error("progress on a buffer")
	}
	// On a terminal it redraws one line with the bytes read and the rate,
	// fed by the pipeline as it reads a log.
	var b bytes.Buffer
	var log bytes.Buffer
	for range 20000 {
		log.WriteString(";n__print__;__requant_min_max:[-1][1]\n")
	}
	size := int64(log.Len())
	reports := 0
	draw := progressBar(&b, 0)
	_, err = calib.Read([]string{"-"}, calib.Options{Stdin: &log, Methods: tfMethod(t), Progress: func(p calib.Progress) {
		reports++
		if !p.Done && p.Size == -1 {
			p.Size = size // stdin has no size: give the bar one, as a file would
		}
		draw(p)
	}})
	if err != nil {
		t.Fatal(err)
	}
	// 20,000 records are five batches of 4096 items at most, then Done.
	if reports < 3 {
		t.Errorf("%d progress reports, want one a batch (5) and one at the end", reports)
	}
	s := b.String()
	if !strings.HasPrefix(s, "\r\033[Kqcal audit: <stdin> [") || !strings.Contains(s, "MiB read") || !strings.Contains(s, " records/s") || !strings.HasSuffix(s, "\r\033[K") {
		t.Errorf("progress output %q", s)
	}
}

func tfMethod(t *testing.T) []calib.Method {
	t.Helper()
	m, err := calib.ParseMethods("tf", 5, 5)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestAuditCalibFlags runs the audit with the flags ranges and freeze
// take, through the same pipeline: a value strategy as a comparison
// column (its range must be what `qcal ranges` gives), -map, -drop-bad.
func TestAuditCalibFlags(t *testing.T) {
	dir := t.TempDir()
	nodes := []string{"a/Conv2D", "b/Conv2D"}
	var b strings.Builder
	for i := 0; i < 12; i++ {
		b.WriteString(rec(nodes[0]+"_eightbit_requant_range", "0", fmt.Sprint(3+i%4)))
		b.WriteString(rec(nodes[1]+"_eightbit_requant_range", fmt.Sprint(-2-i%3), "2"))
	}
	b.WriteString(rec(nodes[1]+"_eightbit_requant_range", "5", "2")) // inverted: line 25
	ranges := writeText(t, dir, "ranges.log", b.String())
	vals, _ := valueLog(nodes, 4, 300, 7)
	values := writeText(t, dir, "values.log", vals)

	type doc struct {
		Nodes []struct {
			Node   string `json:"node"`
			Ranges []struct {
				Strategy string  `json:"strategy"`
				Min      float32 `json:"min"`
				Max      float32 `json:"max"`
			} `json:"ranges"`
			Bad *struct {
				Inverted int   `json:"inverted"`
				Line     int64 `json:"line"`
			} `json:"bad_records"`
		} `json:"nodes"`
	}
	audit := func(args ...string) (doc, string) {
		t.Helper()
		code, out, stderr := qcal(t, "", append([]string{"audit", "-format", "json", "-bootstrap", "20"}, args...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
		var d doc
		if err := json.Unmarshal([]byte(out), &d); err != nil {
			t.Fatal(err)
		}
		return d, stderr
	}
	// The KL ranges `qcal ranges` computes from the values alone.
	code, out, stderr := qcal(t, "", "ranges", "-format", "csv", "-strategy", "kl", values)
	if code != 0 {
		t.Fatal(stderr)
	}
	want := map[string][2]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
		f := strings.Split(line, ",")
		want[f[0]] = [2]string{f[2], f[3]}
	}
	check := func(d doc, what string) {
		t.Helper()
		if len(d.Nodes) != 2 {
			t.Fatalf("%s: %d nodes, want 2", what, len(d.Nodes))
		}
		for _, n := range d.Nodes {
			if len(n.Ranges) != 2 || n.Ranges[0].Strategy != "tf" || n.Ranges[1].Strategy != "kl" {
				t.Fatalf("%s: node %s ranges %+v, want tf then kl", what, n.Node, n.Ranges)
			}
			got := [2]string{fmt.Sprint(n.Ranges[1].Min), fmt.Sprint(n.Ranges[1].Max)}
			if w, ok := want[n.Node]; !ok || got != w {
				t.Errorf("%s: node %s kl range %v, want %v as qcal ranges -strategy kl gives", what, n.Node, got, w)
			}
		}
	}
	d, _ := audit("-strategy", "tf,kl", ranges, values)
	check(d, "value strategy")
	for _, n := range d.Nodes {
		if bad := n.Bad; (n.Node == nodes[1]+"_eightbit_requant_range") != (bad != nil) || bad != nil && (bad.Inverted != 1 || bad.Line != 25) {
			t.Errorf("node %s bad records %+v; want b's inverted record at line 25 counted", n.Node, bad)
		}
	}

	// -map: the values logged under other names reach the same nodes.
	renamed := strings.NewReplacer(";a/Conv2D__print__", ";x__print__", ";b/Conv2D__print__", ";y__print__").Replace(vals)
	mapped := writeText(t, dir, "renamed.log", renamed)
	mapFile := writeText(t, dir, "names.map", "x "+nodes[0]+"_eightbit_requant_range\ny "+nodes[1]+"_eightbit_requant_range\n")
	d, _ = audit("-strategy", "tf,kl", "-map", mapFile, ranges, mapped)
	check(d, "-map")
	if _, _, stderr := qcal(t, "", "audit", "-strategy", "tf,kl", ranges, mapped); !strings.Contains(stderr, `strategy kl reads logged tensor values, but node "a/Conv2D_eightbit_requant_range" logged none`) {
		t.Errorf("without -map: %s", stderr)
	}

	// -drop-bad: the inverted record is skipped, not a finding.
	d, stderr = audit("-drop-bad", ranges)
	for _, n := range d.Nodes {
		if n.Bad != nil {
			t.Errorf("-drop-bad: node %s still has bad records %+v", n.Node, n.Bad)
		}
	}
	if !strings.Contains(stderr, "qcal: warning: 1 record(s) with NaN/Inf values or min > max skipped (-drop-bad)") {
		t.Errorf("-drop-bad: stderr %s", stderr)
	}
}
