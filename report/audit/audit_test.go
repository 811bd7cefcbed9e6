package audit

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"qcal/internal/synth"
	"qcal/internal/testutil"
	"qcal/logparse"
	"qcal/report"
	"qcal/stats"
)

// auditGolden compares got with testdata/NAME, or rewrites it with
// -update.
func auditGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	testutil.Golden(t, filepath.Join("testdata", name), got)
}

// readAcc reads a log into an accumulator that keeps lines, as `qcal
// audit` does; unusable records go to the returned map.
func readAcc(t testing.TB, name string, log []byte) (*stats.Accumulator, map[string]*BadRecords, int64) {
	t.Helper()
	acc := stats.NewAccumulator()
	acc.KeepLines = true
	bad := map[string]*BadRecords{}
	r := logparse.NewReader(bytes.NewReader(log), name)
	defer r.Close()
	for r.Scan() {
		rec := r.Record()
		if rec == nil {
			continue
		}
		if !rec.Finite() || rec.Min > rec.Max {
			b := bad[rec.Node]
			if b == nil {
				b = &BadRecords{File: rec.File, Line: rec.Line}
				bad[rec.Node] = b
			}
			if rec.Finite() {
				b.Inverted++
			} else {
				b.NonFinite++
			}
			continue
		}
		side := stats.Both
		switch rec.Kind {
		case logparse.Min:
			side = stats.MinOnly
		case logparse.Max:
			side = stats.MaxOnly
		}
		if err := acc.Add(rec.Node, side, rec.Min, rec.Max, rec.File, rec.Line); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	return acc, bad, r.Counts().Records
}

func strategies(t testing.TB, specs ...string) []stats.Strategy {
	t.Helper()
	var out []stats.Strategy
	for _, s := range specs {
		st, err := stats.ParseStrategy(s, 5, 5)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, st)
	}
	return out
}

func findNode(t *testing.T, a *Report, name string) *NodeAudit {
	t.Helper()
	for _, n := range a.Nodes {
		if n.Name == name {
			return n
		}
	}
	t.Fatalf("node %q not in the audit", name)
	return nil
}

// lineOf returns the 1-based number of the only line of log containing s.
func lineOf(t *testing.T, log []byte, s string) int64 {
	t.Helper()
	var found int64
	for i, l := range bytes.Split(log, []byte("\n")) {
		if bytes.Contains(l, []byte(s)) {
			if found != 0 {
				t.Fatalf("%q on lines %d and %d", s, found, i+1)
			}
			found = int64(i + 1)
		}
	}
	if found == 0 {
		t.Fatalf("%q not in the log", s)
	}
	return found
}

func hasReason(n *NodeAudit, parts ...string) bool {
	for _, r := range n.Reasons {
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(r, p)
		}
		if ok {
			return true
		}
	}
	return false
}

// TestAuditOutlier: synth.LogOptions.Outliers makes batch Batches/2 (0-based)
// of layer 0 ten times wider; the audit must name that node, that batch and
// its line, and judge it by what the chosen strategy does with it.
func TestAuditOutlier(t *testing.T) {
	layers := synth.DemoLayers()
	var log bytes.Buffer
	batches, err := synth.Log(&log, layers, synth.LogOptions{Batches: 40, Seed: 1, Noise: true, Outliers: true})
	if err != nil {
		t.Fatal(err)
	}
	out := batches[20*len(layers)] // batch 20 (0-based), layer 0
	line := lineOf(t, log.Bytes(), string(synth.AppendRecord(nil, layers[0].RequantRange(), out.Min, out.Max)))
	acc, _, records := readAcc(t, "calib.log", log.Bytes())

	for _, tc := range []struct {
		strategy string
		level    Level
		reason   []string
	}{
		// minmax reaches the outlier: the range is about ten times wider
		// than without it.
		{"minmax", Risk, []string{"stretched", "int8 step", fmt.Sprintf("calib.log:%d", line)}},
		// tf at n = 40 takes the second-largest max (index round(38) = 38),
		// so the outlier is clipped; with z far beyond 10 it still warns.
		{"tf", Warn, []string{"clipped by the tf range", fmt.Sprintf("calib.log:%d", line)}},
	} {
		t.Run(tc.strategy, func(t *testing.T) {
			a, err := New(acc, Options{Strategies: strategies(t, tc.strategy), Logs: []string{"calib.log"}, Records: records})
			if err != nil {
				t.Fatal(err)
			}
			n := findNode(t, a, layers[0].RequantRange())
			if len(n.Outliers) != 1 {
				t.Fatalf("outliers %+v, want exactly batch 21", n.Outliers)
			}
			o := n.Outliers[0]
			if o.Batch != 21 || o.Line != line || o.File != "calib.log" || o.Max != out.Max || o.ZMax < 10 {
				t.Errorf("outlier %+v, want batch 21 at calib.log:%d with max %v and z > 10", o, line, out.Max)
			}
			if n.Level != tc.level || !hasReason(n, tc.reason...) {
				t.Errorf("level %s, reasons %q; want %s with %q", n.Level, n.Reasons, tc.level, tc.reason)
			}
			if a.Nodes[0] != n {
				t.Errorf("riskiest node is %s, want the outlier's %s", a.Nodes[0].Name, n.Name)
			}
			for _, other := range a.Nodes[1:] {
				if len(other.Outliers) > 0 && math.Abs(other.Outliers[0].ZMax) > 10 {
					t.Errorf("%s: unexpected gross outlier %+v", other.Name, other.Outliers[0])
				}
			}
		})
	}
}

// writeRecords writes a log of records (one a line, after a noise line)
// and returns it with each record's line.
func writeRecords(recs [][3]any) ([]byte, []int64) {
	var b bytes.Buffer
	b.WriteString("2019-03-12 16:31:29.964490: I tensorflow/core/platform/cpu_feature_guard.cc:141] noise\n")
	lines := make([]int64, len(recs))
	for i, r := range recs {
		b.Write(synth.AppendRecord(nil, r[0].(string), r[1].(float32), r[2].(float32)))
		b.WriteByte('\n')
		lines[i] = int64(i + 2)
	}
	return b.Bytes(), lines
}

func TestAuditUnconverged(t *testing.T) {
	const drift, steady = "net/drift_eightbit_requant_range", "net/steady_eightbit_requant_range"
	var recs [][3]any
	for i := range 40 {
		recs = append(recs, [3]any{drift, float32(0), float32(1 + i)})
		recs = append(recs, [3]any{steady, float32(-3), float32(6 + float32(i%4)/100)})
	}
	log, lines := writeRecords(recs)
	acc, _, _ := readAcc(t, "drift.log", log)
	a, err := New(acc, Options{Strategies: strategies(t, "tf")})
	if err != nil {
		t.Fatal(err)
	}
	d := findNode(t, a, drift)
	// Maxima 1..40: tf takes index round(38) = 38 → 39 (width 39). The
	// prefix of 38 batches gives index round(36.1) = 36 → 37: 2/39 = 5.1%
	// off, beyond the 5% tolerance, so the range is stable only at batch 40.
	c := d.Convergence
	if c == nil || c.Converged || c.StableAfter != 40 || c.StableLine != lines[2*39] {
		t.Fatalf("convergence %+v; want not converged, stable after 40 at line %d", c, lines[2*39])
	}
	if d.Level != Warn || !hasReason(d, "not converged", fmt.Sprintf("drift.log:%d", lines[2*39]), "log more batches") {
		t.Errorf("drift: %s %q", d.Level, d.Reasons)
	}
	s := findNode(t, a, steady)
	if !s.Convergence.Converged || s.Level != OK {
		t.Errorf("steady: %s %q, convergence %+v", s.Level, s.Reasons, s.Convergence)
	}
	if a.Nodes[0].Name != drift || a.Verdict != Warn || a.Warn != 1 || a.OK != 1 {
		t.Errorf("order %s..., verdict %s (%d warn, %d ok)", a.Nodes[0].Name, a.Verdict, a.Warn, a.OK)
	}
}

// TestAuditGraph: a graph of three layers (c0 and c2 fused with Relu), a
// log that logs c0 with one negative min, c1, and a node the graph lacks,
// but never c2.
func TestAuditGraph(t *testing.T) {
	layers := []synth.Layer{{Name: "net/c0/Conv2D", Relu: true, Scale: 4}, {Name: "net/c1/Conv2D", Scale: 3}, {Name: "net/c2/Conv2D", Relu: true, Scale: 2}}
	ag := NewGraph(synth.Graph(layers), "g.pb")
	const ghost = "net/ghost_eightbit_requant_range"
	var recs [][3]any
	for i := range 12 {
		lo := float32(0)
		if i == 5 {
			lo = -0.5
		}
		recs = append(recs, [3]any{ghost, float32(-1), float32(1 + float32(i%3)/10)})
		recs = append(recs, [3]any{layers[0].RequantRange(), lo, float32(4 + float32(i%3)/10)})
		recs = append(recs, [3]any{layers[1].RequantRange(), float32(-2 - float32(i%2)/10), float32(3 + float32(i%2)/10)})
	}
	log, lines := writeRecords(recs)
	acc, _, _ := readAcc(t, "g.log", log)
	a, err := New(acc, Options{Strategies: strategies(t, "tf"), Graph: ag})
	if err != nil {
		t.Fatal(err)
	}
	c0, c1, c2, gh := findNode(t, a, layers[0].RequantRange()), findNode(t, a, layers[1].RequantRange()),
		findNode(t, a, layers[2].RequantRange()), findNode(t, a, ghost)
	if c2.Level != Warn || c2.Batches != 0 || !hasReason(c2, "never logged", "stays dynamic") {
		t.Errorf("c2: %s, %d batches, %q; want warn, never logged", c2.Level, c2.Batches, c2.Reasons)
	}
	if gh.Level != Risk || !hasReason(gh, "not in graph g.pb", fmt.Sprintf("g.log:%d", lines[0])) {
		t.Errorf("ghost: %s %q; want risk, not in graph, logged from g.log:%d", gh.Level, gh.Reasons, lines[0])
	}
	if c0.Level != Risk || c0.Op != "QuantizedConv2DWithBiasAndRelu" ||
		!hasReason(c0, "fused Relu", "-0.5", fmt.Sprintf("g.log:%d", lines[3*5+1])) {
		t.Errorf("c0: %s, op %s, %q; want risk naming the negative min at g.log:%d", c0.Level, c0.Op, c0.Reasons, lines[3*5+1])
	}
	if c1.Level != OK {
		t.Errorf("c1: %s %q; want ok", c1.Level, c1.Reasons)
	}
	// Graph order and depth: input → ... → c0 → c1 → c2; the ghost last.
	if !(c0.Index < c1.Index && c1.Index < c2.Index && c2.Index < gh.Index) || gh.Index != 4 {
		t.Errorf("indices c0 %d, c1 %d, c2 %d, ghost %d; want graph order, ghost last", c0.Index, c1.Index, c2.Index, gh.Index)
	}
	// The first QuantizeV2 sits at depth 3 (input → reshape → min/max →
	// quantize), so the first conv is at 4 and its RequantizationRange at 5;
	// each further layer adds conv, range: Requantize → conv → range = +3.
	if c0.Depth != 5 || c1.Depth != 8 || c2.Depth != 11 || gh.Depth != -1 {
		t.Errorf("depths %d %d %d %d; want 5 8 11 -1", c0.Depth, c1.Depth, c2.Depth, gh.Depth)
	}
	if a.Verdict != Risk || a.Risk != 2 || a.Warn != 1 || a.OK != 1 {
		t.Errorf("verdict %s: %d risk, %d warn, %d ok; want risk 2/1/1", a.Verdict, a.Risk, a.Warn, a.OK)
	}
}

func TestAuditSignsOfTrouble(t *testing.T) {
	const (
		flat  = "flat_eightbit_requant_range"
		bad   = "bad_eightbit_requant_range"
		dead  = "dead_eightbit_requant_range"
		same  = "same_eightbit_requant_range"
		wide  = "wide_eightbit_requant_range"
		fine  = "fine_eightbit_requant_range"
		zmed  = "zmed_eightbit_requant_range" // mins with median 0 and IQR > 0
		nanV  = float32(0)
		width = 12
	)
	var b bytes.Buffer
	line := int64(0)
	add := func(s string) int64 { b.WriteString(s + "\n"); line++; return line }
	var nanLine, invLine, deadLine int64
	for i := range width {
		add(string(synth.AppendRecord(nil, flat, 2, 2)))
		add(string(synth.AppendRecord(nil, same, -1.5, 2.5)))
		add(string(synth.AppendRecord(nil, wide, float32(-1-i%4*3), float32(1+i%4*3))))
		add(string(synth.AppendRecord(nil, fine, -1, float32(3+float32(i%3)/100))))
		add(string(synth.AppendRecord(nil, zmed, -float32(i%3/2), 4)))
		if i == 3 {
			nanLine = add(";" + bad + "__print__;__requant_min_max:[nan][1]")
			invLine = add(string(synth.AppendRecord(nil, bad, 2, 1)))
			deadLine = add(";" + dead + "__print__;__requant_min_max:[-inf][inf]")
		} else {
			add(string(synth.AppendRecord(nil, bad, -1, 1+float32(i%2)/100)))
		}
	}
	acc, badRecs, _ := readAcc(t, "trouble.log", b.Bytes())
	a, err := New(acc, Options{Strategies: strategies(t, "tf"), Bad: badRecs})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		node  string
		level Level
		parts []string
	}{
		{flat, Risk, []string{"zero-width range [2, 2]"}},
		{bad, Risk, []string{"1 with NaN/Inf, 1 with min > max", fmt.Sprintf("trouble.log:%d", nanLine)}},
		{dead, Risk, []string{"no usable record"}},
		{same, Warn, []string{"all 12 batches logged the same extremes"}},
		{wide, Warn, []string{"per-batch maxima vary widely"}},
		{fine, OK, nil},
	} {
		n := findNode(t, a, tc.node)
		if n.Level != tc.level || tc.parts != nil && !hasReason(n, tc.parts...) {
			t.Errorf("%s: %s %q; want %s with %q", tc.node, n.Level, n.Reasons, tc.level, tc.parts)
		}
	}
	if d := findNode(t, a, dead); d.Batches != 0 || d.Bad.NonFinite != 1 || d.Bad.Line != deadLine {
		t.Errorf("dead: %d batches, bad %+v; want 0 and the NaN at line %d", d.Batches, d.Bad, deadLine)
	}
	if bd := findNode(t, a, bad); bd.Batches != width-1 || bd.Bad.Inverted != 1 || bd.Bad.NonFinite != 1 || invLine != nanLine+1 {
		t.Errorf("bad: %d batches, %+v", bd.Batches, bd.Bad)
	}
	// JSON has no infinity: the relative IQR of zmed's minima (median 0)
	// is written as null.
	if z := findNode(t, a, zmed); !math.IsInf(float64(z.Mins.RelIQR), 1) {
		t.Errorf("zmed: relative IQR of the minima %v, want +Inf", z.Mins.RelIQR)
	}
	var js bytes.Buffer
	if err := report.Write(&js, a, report.JSON); err != nil {
		t.Fatalf("JSON with an infinite value: %v", err)
	}
	if !json.Valid(js.Bytes()) || !bytes.Contains(js.Bytes(), []byte(`"rel_iqr": null`)) {
		t.Errorf("JSON lacks rel_iqr null:\n%s", js.Bytes())
	}

	// Risk first, then by stretch, then by number of reasons.
	for i := 1; i < len(a.Nodes); i++ {
		p, n := a.Nodes[i-1], a.Nodes[i]
		if p.Level < n.Level || p.Level == n.Level && (p.Stretch < n.Stretch || p.Stretch == n.Stretch && len(p.Reasons) < len(n.Reasons)) {
			t.Errorf("not sorted by risk: %s (%s, %d) before %s (%s, %d)", p.Name, p.Level, len(p.Reasons), n.Name, n.Level, len(n.Reasons))
		}
	}
}

func TestAuditAgainst(t *testing.T) {
	layers := synth.DemoLayers()
	var old, cur bytes.Buffer
	if _, err := synth.Log(&old, layers[:6], synth.LogOptions{Batches: 30, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	// Now: layer 2 logs ranges 30% wider, layer 0 is gone, layer 6 is new.
	moved := slices2(layers[1:7])
	moved[1].Scale *= 1.3
	if _, err := synth.Log(&cur, moved, synth.LogOptions{Batches: 30, Seed: 2}); err != nil {
		t.Fatal(err)
	}
	oldAcc, _, _ := readAcc(t, "old.log", old.Bytes())
	acc, _, _ := readAcc(t, "new.log", cur.Bytes())
	a, err := New(acc, Options{Strategies: strategies(t, "tf"), Against: oldAcc, AgainstName: "old.log", Drift: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	c := a.Changes
	if c == nil || len(c.New) != 1 || c.New[0] != layers[6].RequantRange() || len(c.Vanished) != 1 || c.Vanished[0] != layers[0].RequantRange() {
		t.Fatalf("changes %+v; want %s new and %s vanished", c, layers[6].RequantRange(), layers[0].RequantRange())
	}
	n := findNode(t, a, layers[2].RequantRange())
	if n.Change == nil || !n.Change.Drifted || n.Change.Relative < 0.15 || !hasReason(n, "drifted", "since old.log") {
		t.Errorf("%s: change %+v, reasons %q; want a drift of about 30%%", n.Name, n.Change, n.Reasons)
	}
	// Relative change: max(|Δmin|, |Δmax|) over the old width, by hand.
	ch := n.Change
	want := math.Max(math.Abs(float64(ch.NewMin)-float64(ch.OldMin)), math.Abs(float64(ch.NewMax)-float64(ch.OldMax))) / float64(ch.OldMax-ch.OldMin)
	if math.Abs(float64(ch.Relative)-want) > 1e-12 {
		t.Errorf("relative change %g, want %g", ch.Relative, want)
	}
	if c.Drifted < 1 || len(c.Changed) != 5 {
		t.Errorf("%d drifted of %d changed; want at least 1 of 5", c.Drifted, len(c.Changed))
	}
}

func slices2(l []synth.Layer) []synth.Layer { return append([]synth.Layer(nil), l...) }

// goldenAudit is the audit the golden files show: the demo layers with an
// outlier and a graph, two strategies, against an earlier calibration.
func goldenAudit(t testing.TB) *Report {
	layers := synth.DemoLayers()
	var log, old bytes.Buffer
	if _, err := synth.Log(&log, layers, synth.LogOptions{Batches: 24, Seed: 3, JoinEvery: 13, Noise: true, Outliers: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := synth.Log(&old, layers[:7], synth.LogOptions{Batches: 24, Seed: 4}); err != nil {
		t.Fatal(err)
	}
	acc, bad, records := readAcc(t, "min_max_log.txt", log.Bytes())
	oldAcc, _, _ := readAcc(t, "last_week.txt", old.Bytes())
	a, err := New(acc, Options{
		Strategies:  strategies(t, "tf", "minmax"),
		Graph:       NewGraph(synth.Graph(layers), "graph.pb"),
		Bad:         bad,
		Against:     oldAcc,
		AgainstName: "last_week.txt",
		Logs:        []string{"min_max_log.txt"},
		Records:     records,
		Convergence: stats.ConvergenceOptions{Seed: 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestAuditGolden(t *testing.T) {
	a := goldenAudit(t)
	for _, f := range []struct {
		format report.Format
		ext    string
	}{
		{report.Text, "txt"}, {report.Markdown, "md"}, {report.CSV, "csv"}, {report.JSON, "json"},
	} {
		t.Run(string(f.format), func(t *testing.T) {
			var b bytes.Buffer
			if err := report.Write(&b, a, f.format); err != nil {
				t.Fatal(err)
			}
			auditGolden(t, "demo."+f.ext+".golden", b.Bytes())
			// Same inputs, same bytes.
			var again bytes.Buffer
			if err := report.Write(&again, goldenAudit(t), f.format); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b.Bytes(), again.Bytes()) {
				t.Error("a second audit of the same inputs wrote other bytes")
			}
		})
	}
	if err := report.Write(&bytes.Buffer{}, a, "xml"); err == nil || !strings.Contains(err.Error(), `as "xml" (want text, markdown, csv, json or html)`) {
		t.Errorf("format xml: %v", err)
	}
}

// TestAuditGoldenValues checks numbers of the golden audit against their
// definitions, computed here from the log's values.
func TestAuditGoldenValues(t *testing.T) {
	a := goldenAudit(t)
	for _, n := range a.Nodes {
		sn := a.acc.Node(n.Name)
		if sn == nil {
			continue
		}
		maxs, mins := sn.Maxs(), sn.Mins()
		for _, r := range n.Ranges {
			if want := (float64(r.Max) - float64(r.Min)) / 255; math.Abs(r.Step-want) > 1e-12 {
				t.Errorf("%s %s: step %g, want (max-min)/255 = %g", n.Name, r.Strategy, r.Step, want)
			}
			clipped := 0
			for i := range maxs {
				if maxs[i] > r.Max || mins[i] < r.Min {
					clipped++
				}
			}
			if clipped != r.Clipped {
				t.Errorf("%s %s: %d clipped, counted %d", n.Name, r.Strategy, r.Clipped, clipped)
			}
		}
		if mm := n.Ranges[1]; mm.Clipped != 0 {
			t.Errorf("%s: minmax clips %d batches, want 0", n.Name, mm.Clipped)
		}
	}
}

func TestShortenName(t *testing.T) {
	for _, tc := range []struct {
		name  string
		limit int
		want  string
	}{
		{"net/conv1/Conv2D", 30, "net/conv1/Conv2D"},
		{"resnet_v1_50/block1/unit_1/bottleneck_v1/conv2/Conv2D", 42, "…/block1/unit_1/bottleneck_v1/conv2/Conv2D"},
		{"resnet_v1_50/block1/unit_1/bottleneck_v1/conv2/Conv2D", 30, "…/bottleneck_v1/conv2/Conv2D"},
		{"a_very_long_name_without_any_slash_at_all", 21, "a_very_lon…ash_at_all"},
	} {
		if got := shortenName(tc.name, tc.limit); got != tc.want {
			t.Errorf("shortenName(%q, %d) = %q, want %q", tc.name, tc.limit, got, tc.want)
		}
	}
}

func realLogsDir(tb testing.TB) string { return testutil.RealData(tb, "calib_logs") }

// recordRE finds the records of a line independently of logparse: the name
// is the text after the previous ';' (or the line's start).
var recordRE = regexp.MustCompile(`(?:^|;)([^;]*)__print__;__requant_min_max:\[([^\]]*)\]\[([^\]]*)\]`)

// TestAuditRealLogs audits every real log and checks the findings for
// plausibility against counts made here with a regular expression.
func TestAuditRealLogs(t *testing.T) {
	dir := realLogsDir(t)
	files, err := filepath.Glob(filepath.Join(dir, "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no logs in %s (%v)", dir, err)
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			counts := map[string]int{}
			recordLines := map[int64][]string{}
			sc := bufio.NewScanner(bytes.NewReader(data))
			sc.Buffer(nil, 16<<20)
			for ln := int64(1); sc.Scan(); ln++ {
				for _, m := range recordRE.FindAllStringSubmatch(sc.Text(), -1) {
					counts[m[1]]++
					recordLines[ln] = append(recordLines[ln], m[1])
				}
			}
			acc, bad, records := readAcc(t, path, data)
			a, err := New(acc, Options{Strategies: strategies(t, "tf", "minmax"), Bad: bad, Records: records})
			if err != nil {
				t.Fatal(err)
			}
			if len(a.Nodes) != len(counts) {
				t.Errorf("%d nodes audited, %d in the log", len(a.Nodes), len(counts))
			}
			if a.OK+a.Warn+a.Risk != len(a.Nodes) {
				t.Errorf("counts %d+%d+%d != %d nodes", a.OK, a.Warn, a.Risk, len(a.Nodes))
			}
			levels := map[Level]int{}
			for _, n := range a.Nodes {
				levels[n.Level]++
				unusable := int64(0)
				if n.Bad != nil {
					unusable = n.Bad.NonFinite + n.Bad.Inverted
				}
				if int64(n.Batches)+unusable != int64(counts[n.Name]) {
					t.Errorf("%s: %d batches + %d unusable, the log has %d records", n.Name, n.Batches, unusable, counts[n.Name])
				}
				if n.Batches == 0 {
					continue
				}
				for _, r := range n.Ranges {
					if !(r.Min <= r.Max) || r.Step < 0 || r.ClipShare < 0 || r.ClipShare > 1 {
						t.Errorf("%s %s: implausible range %+v", n.Name, r.Strategy, r)
					}
				}
				tf, mm := n.Ranges[0], n.Ranges[1]
				if mm.Min > tf.Min || mm.Max < tf.Max || float32(n.Maxs.Max) != mm.Max || float32(n.Mins.Min) != mm.Min {
					t.Errorf("%s: minmax %v..%v must contain tf %v..%v and equal the extremes", n.Name, mm.Min, mm.Max, tf.Min, tf.Max)
				}
				if c := n.Convergence; c.StableAfter < 1 || c.StableAfter > n.Batches || c.StableLine < n.FirstLine || c.StableLine > n.LastLine {
					t.Errorf("%s: convergence %+v outside the node's %d batches, lines %d..%d", n.Name, c, n.Batches, n.FirstLine, n.LastLine)
				}
				for _, o := range n.Outliers {
					if !slicesContains(recordLines[o.Line], n.Name) || math.Max(math.Abs(o.ZMin), math.Abs(o.ZMax)) <= stats.OutlierZ {
						t.Errorf("%s: outlier %+v: line %d holds %q", n.Name, o, o.Line, recordLines[o.Line])
					}
				}
				if n.Level == OK && n.Batches < stats.DefaultMinBatches {
					t.Errorf("%s: %d batches judged ok", n.Name, n.Batches)
				}
			}
			t.Logf("%s: %d nodes, %d records; %v", filepath.Base(path), len(a.Nodes), records, levels)
			switch filepath.Base(path) {
			case "resnet101_min_max_log.txt":
				// Four batches a node: too few to judge.
				for _, n := range a.Nodes {
					if n.Batches != 4 || !hasReason(n, "only 4 batches", "log more batches") {
						t.Errorf("%s: %d batches, %q", n.Name, n.Batches, n.Reasons)
						break
					}
				}
			case "inceptionv4_min_max_log.txt":
				// Every batch of this run logged the same numbers.
				same := 0
				for _, n := range a.Nodes {
					if hasReason(n, "logged the same extremes") {
						same++
					}
				}
				if same < len(a.Nodes)*3/4 {
					t.Errorf("%d of %d nodes flagged as identical batches", same, len(a.Nodes))
				}
			}
		})
	}
}

func slicesContains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func TestAuditJSONRoundTrip(t *testing.T) {
	var b bytes.Buffer
	if err := report.Write(&b, goldenAudit(t), report.JSON); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Verdict string `json:"verdict"`
		Nodes   []struct {
			Node    string   `json:"node"`
			Verdict string   `json:"verdict"`
			Reasons []string `json:"reasons"`
			Index   int      `json:"index"`
		} `json:"nodes"`
		Changes struct {
			Against string `json:"against"`
		} `json:"changes"`
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Verdict == "" || len(doc.Nodes) != 8 || doc.Changes.Against != "last_week.txt" || doc.Nodes[0].Reasons == nil {
		t.Errorf("JSON document: %+v", doc)
	}
	for _, n := range doc.Nodes {
		if n.Verdict != "ok" && n.Verdict != "warn" && n.Verdict != "risk" {
			t.Errorf("%s: verdict %q", n.Node, n.Verdict)
		}
	}
}

func BenchmarkAudit(b *testing.B) {
	for _, batches := range []int{40, 400} {
		layers := synth.ModelLayers(250)
		var log bytes.Buffer
		if _, err := synth.Log(&log, layers, synth.LogOptions{Batches: batches, Seed: 1, Outliers: true}); err != nil {
			b.Fatal(err)
		}
		acc, _, records := readAcc(b, "bench.log", log.Bytes())
		st := strategies(b, "tf")
		b.Run("batches="+strconv.Itoa(batches), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(8 * records) // the samples audited: a float32 min and max a record
			for b.Loop() {
				if _, err := New(acc, Options{Strategies: st}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
