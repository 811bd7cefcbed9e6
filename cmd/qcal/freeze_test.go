package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"qcal/internal/graphio"
	"qcal/internal/synth"
	"qcal/internal/testutil"
	"qcal/internal/tfpb"
)

const (
	rrA = "a/conv_eightbit_requant_range"
	rrB = "b/conv_eightbit_requant_range"
)

func rec(name, lo, hi string) string {
	return ";" + name + "__print__;__requant_min_max:[" + lo + "][" + hi + "]\n"
}

// TestFreezeBadInput runs every bad-input case of the freeze command: each
// must exit non-zero with a message naming the file and line or node, and
// leave no output file behind.
func TestFreezeBadInput(t *testing.T) {
	dir := t.TempDir()
	graph := writeGraph(t, dir, rrA, rrB)
	good := writeText(t, dir, "good.log", rec(rrA, "-1", "2")+rec(rrB, "0", "3"))
	tests := []struct {
		name string
		log  string // log text; "" means the log path is missing
		args []string
		code int
		want []string
	}{
		{"missing log", "", nil, 1, []string{"missing.log", "no such file"}},
		{"no records", "I0108 noise\nmore noise\n\n", nil, 1,
			[]string{"no-records.log: No min/max range logs were found in the log file (3 lines read)", "__requant_min_max:[-1.5][2.25]"}},
		{"names absent from graph", rec(rrA, "-1", "2") + rec("a/conv_eightbit_requant_rang", "0", "1") +
			rec("zzz", "0", "1") + rec("zzz", "0", "1"), nil, 1,
			[]string{"2 node(s) from the log not found in the graph", "a/conv_eightbit_requant_rang (closest in graph: a/conv_eightbit_requant_range",
				"\n\tzzz", "-allow-missing"}},
		{"not a RequantizationRange", rec("a/conv_eightbit_quantized_conv", "0", "1"), nil, 1,
			[]string{"Node is expected to be a RequantizationRange op: a/conv_eightbit_quantized_conv, but is: QuantizedConv2DWithBias"}},
		{"nan", rec(rrA, "-1", "2") + rec(rrA, "nan", "2"), nil, 1,
			[]string{"nan.log:2: node \"" + rrA + "\": non-finite value", "-drop-bad"}},
		{"inf", "noise\n" + rec(rrB, "0", "inf"), nil, 1, []string{"inf.log:2: node \"" + rrB + "\": non-finite"}},
		{"min > max", rec(rrA, "3", "2"), nil, 1, []string{"min--max.log:1: node \"" + rrA + "\": min 3 > max 2"}},
		{"unlogged with -strict", rec(rrA, "-1", "2"), []string{"-strict"}, 1,
			[]string{"1 RequantizationRange node(s) in the graph have no range", rrB, "-strict"}},
		{"output is the graph", rec(rrA, "-1", "2"), []string{"-o", graph}, 1, []string{"refusing to overwrite input file"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			logName := strings.NewReplacer(" ", "-", ">", "").Replace(tc.name) + ".log"
			logPath := filepath.Join(dir, logName)
			if tc.name == "missing log" {
				logPath = filepath.Join(dir, "missing.log")
			} else {
				writeText(t, dir, logName, tc.log)
			}
			out := filepath.Join(dir, "out-"+logName+".pb")
			args := append([]string{"freeze", "-graph", graph, "-log", logPath, "-o", out}, tc.args...)
			before, _ := os.ReadFile(graph)
			code, _, stderr := qcal(t, "", args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tc.code, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("output %s was written", out)
			}
			after, _ := os.ReadFile(graph)
			if string(before) != string(after) {
				t.Error("the input graph changed")
			}
			assertNoTempFiles(t, dir)
		})
	}
	// -o equal to the log, through another spelling of the path.
	code, _, stderr := qcal(t, "", "freeze", "-graph", graph, "-log", good, "-o", filepath.Join(dir, ".", "good.log"))
	if code != 1 || !strings.Contains(stderr, "refusing to overwrite input file") {
		t.Errorf("-o = log: exit %d, %s", code, stderr)
	}
	// A file that is not a GraphDef.
	notGraph := writeText(t, dir, "not-a-graph.log", rec(rrA, "-1", "2"))
	code, _, stderr = qcal(t, "", "freeze", "-graph", notGraph, "-log", good, "-o", filepath.Join(dir, "x.pb"))
	if code != 1 || !strings.Contains(stderr, "not-a-graph.log: not a TensorFlow GraphDef") {
		t.Errorf("graph = a log: exit %d, %s", code, stderr)
	}
	// The same file as graph and log is a usage error before anything is read.
	code, _, stderr = qcal(t, "", "freeze", "-graph", good, "-log", good, "-o", filepath.Join(dir, "x.pb"))
	if code != 2 || !strings.Contains(stderr, good+" is given twice as an input") {
		t.Errorf("graph = log: exit %d, %s", code, stderr)
	}
}

func assertNoTempFiles(t *testing.T, dir string) {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}

// TestFreezeRecoveries covers the flags that let a user get past bad input.
func TestFreezeRecoveries(t *testing.T) {
	dir := t.TempDir()
	graph := writeGraph(t, dir, rrA, rrB)
	log := writeText(t, dir, "x.log", rec(rrA, "-1", "2")+rec(rrA, "nan", "5")+rec(rrA, "4", "3")+rec("gone", "0", "1")+rec(rrB, "0", "3"))
	out := filepath.Join(dir, "out.pbtxt")
	code, _, stderr := qcal(t, "", "freeze", "-graph", graph, "-log", log, "-o", out, "-drop-bad", "-allow-missing")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, w := range []string{"2 record(s) with NaN/Inf values or min > max skipped (-drop-bad)",
		"1 logged node(s) not in the graph were skipped (-allow-missing): gone", "froze 2 of 3 logged nodes"} {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr lacks %q:\n%s", w, stderr)
		}
	}
	text, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(text), `name: "`+rrA+`/frozen_min"`) {
		t.Errorf(".pbtxt output is not a text graph with the frozen nodes:\n%.400s", text)
	}
	// Unlogged nodes are a warning without -strict.
	log2 := writeText(t, dir, "y.log", rec(rrA, "-1", "2"))
	code, _, stderr = qcal(t, "", "freeze", "-graph", graph, "-log", log2, "-o", filepath.Join(dir, "o2.pb"))
	if code != 0 || !strings.Contains(stderr, "warning: 1 RequantizationRange node(s) in the graph have no range in the log and stay dynamic: "+rrB) {
		t.Errorf("exit %d, %s", code, stderr)
	}
}

var recordRE = regexp.MustCompile(`;([^;\n]*)__print__;__requant_min_max:\[`)

// TestFreezeRealLogs freezes each real calibration log into a graph the test
// builds with exactly the log's RequantizationRange names, found here with a
// regular expression independent of logparse.
func TestFreezeRealLogs(t *testing.T) {
	root := testutil.RealData(t, "calib_logs")
	// Counts from the logs (grep -o '__print__;__requant_min_max:' | wc -l, and distinct names).
	want := map[string]struct{ records, nodes, joined int }{
		"faster_rcnn_min_max_log.txt":   {10120, 55, 0},
		"inceptionv3_min_max_log.txt":   {3296, 93, 0},
		"inceptionv4_min_max_log.txt":   {3108, 148, 17},
		"resnet101_min_max_log.txt":     {400, 100, 0},
		"resnet50_min_max_log.txt":      {520, 52, 0},
		"ssd_mobilenet_min_max_log.txt": {2277, 33, 2},
	}
	for file, w := range want {
		t.Run(file, func(t *testing.T) {
			path := filepath.Join(root, file)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			var names []string
			for _, m := range recordRE.FindAllStringSubmatch(string(data), -1) {
				if !seen[m[1]] {
					seen[m[1]] = true
					names = append(names, m[1])
				}
			}
			if len(names) != w.nodes {
				t.Fatalf("regexp found %d names, want %d", len(names), w.nodes)
			}
			dir := t.TempDir()
			graph := writeGraph(t, dir, names...)
			out := filepath.Join(dir, "frozen.pb")
			code, _, stderr := qcal(t, "", "freeze", "-graph", graph, "-log", path, "-o", out, "-strict")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			summary := regexp.MustCompile(`(\d+) records from 1 log \(\d+ lines, (\d+) joined lines split\), (\d+) nodes`).FindStringSubmatch(stderr)
			if summary == nil || summary[1] != strconv.Itoa(w.records) || summary[2] != strconv.Itoa(w.joined) || summary[3] != strconv.Itoa(w.nodes) {
				t.Errorf("summary %q, want %d records, %d joined lines, %d nodes", stderr, w.records, w.joined, w.nodes)
			}
			g := loadGraph(t, out)
			frozen := 0
			for _, n := range g.GetNode() {
				if strings.HasSuffix(n.GetName(), "/frozen_min") && seen[strings.TrimSuffix(n.GetName(), "/frozen_min")] {
					frozen++
				}
				if n.GetOp() == "RequantizationRange" {
					t.Errorf("%s left unfrozen", n.GetName())
				}
			}
			if frozen != w.nodes {
				t.Errorf("%d nodes frozen, want %d", frozen, w.nodes)
			}
			// Determinism: freezing again gives the same bytes.
			out2 := filepath.Join(dir, "frozen2.pb")
			if code, _, stderr := qcal(t, "", "freeze", "-graph", graph, "-log", path, "-o", out2); code != 0 {
				t.Fatal(stderr)
			}
			a, _ := os.ReadFile(out)
			b, _ := os.ReadFile(out2)
			if !proto.Equal(loadGraph(t, out), loadGraph(t, out2)) || string(a) != string(b) {
				t.Error("two freezes of the same input differ")
			}
		})
	}
}

// TestFreezeInvalidGraph: a graph TF would refuse (an input naming no node,
// a cycle) is an error naming the nodes, before any log is read.
func TestFreezeInvalidGraph(t *testing.T) {
	dir := t.TempDir()
	g := synth.Graph(synth.DemoLayers()[:1])
	g.Node = append(g.Node,
		&tfpb.NodeDef{Name: "x", Op: "Identity", Input: []string{"nowhere:0"}},
		&tfpb.NodeDef{Name: "c1", Op: "Identity", Input: []string{"c2"}},
		&tfpb.NodeDef{Name: "c2", Op: "Identity", Input: []string{"c1"}})
	graph := filepath.Join(dir, "bad.pb")
	if err := graphio.Save(graph, g, graphio.Binary); err != nil {
		t.Fatal(err)
	}
	log := writeText(t, dir, "x.log", rec(synth.DemoLayers()[0].RequantRange(), "0", "1"))
	out := filepath.Join(dir, "out.pb")
	code, _, stderr := qcal(t, "", "freeze", "-graph", graph, "-log", log, "-o", out)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	for _, w := range []string{"bad.pb: invalid graph", `"x"`, "nowhere", `"c1"`, `"c2"`} {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr lacks %q:\n%s", w, stderr)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("output written")
	}
}
