package logparse

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// realFact holds what is known about a real log. Sources: the task brief
// (records, record lines, joined lines, distinct nodes, TF's record count
// for inceptionv4), `wc -l` (+1 for inceptionv4, whose last line has no
// '\n'), and for ssd_mobilenet's distinct nodes
// `grep -o '[^;]*__print__;__requant_min_max:' | sort -u | wc -l`.
type realFact struct {
	records, recordLines, joined, nodes, tfRecords, lines int64
}

var realFacts = map[string]realFact{
	"inceptionv4_min_max_log.txt":   {records: 3108, recordLines: 3091, joined: 17, nodes: 148, tfRecords: 3091, lines: 3320 + 1},
	"ssd_mobilenet_min_max_log.txt": {records: 2277, recordLines: 2275, joined: 2, nodes: 33, tfRecords: 2275, lines: 2984},
	"resnet50_min_max_log.txt":      {records: 520, recordLines: 520, joined: 0, nodes: 52, tfRecords: 520, lines: 727},
	"resnet101_min_max_log.txt":     {records: 400, recordLines: 400, joined: 0, nodes: 100, tfRecords: 400, lines: 625},
	"inceptionv3_min_max_log.txt":   {records: 3296, recordLines: 3296, joined: 0, nodes: 93, tfRecords: 3296, lines: 3995},
	"faster_rcnn_min_max_log.txt":   {records: 10120, recordLines: 10120, joined: 0, nodes: 55, tfRecords: 10120, lines: 10203},
}

func TestRealLogs(t *testing.T) {
	seen := 0
	for _, path := range realLogFiles(t) {
		base := filepath.Base(path)
		t.Run(base, func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			rd, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			got, c, err := collect(t, rd)
			rd.Close()
			if err != nil {
				t.Fatal(err)
			}

			// Independent derivations: the reference parser and counting
			// bytes by hand.
			want, wc := refParse(string(data), 0)
			if d := diffItems(got, want); d != "" {
				t.Fatalf("reader and reference differ:\n%s", d)
			}
			if c != wc {
				t.Fatalf("counts:\n got %+v\nwant %+v", c, wc)
			}
			lines := int64(bytes.Count(data, []byte("\n")))
			if len(data) > 0 && data[len(data)-1] != '\n' {
				lines++
			}
			if c.Lines != lines {
				t.Errorf("Lines = %d, want %d (newlines + final unterminated line)", c.Lines, lines)
			}
			nodes := map[string]bool{}
			for _, it := range want {
				nodes[it.Node] = true
			}
			if c.Malformed != 0 || c.NonFinite != 0 || c.OtherPrints != 0 {
				t.Errorf("unexpected malformed/non-finite/other records: %+v", c)
			}

			tfGot, tfc, err := readAll(t, data, readerOpts{tf: true})
			if err != nil {
				t.Fatal(err)
			}
			tfWant, tfwc := refTF(string(data), 0)
			if d := diffItems(tfGot, tfWant); d != "" || tfc != tfwc {
				t.Fatalf("TFCompat and reference differ: %s\n got %+v\nwant %+v", d, tfc, tfwc)
			}
			if tfc.Records+tfc.Ignored != c.Records {
				t.Errorf("TFCompat: %d records + %d ignored != %d", tfc.Records, tfc.Ignored, c.Records)
			}

			// Block boundaries everywhere on real data, and the prefetcher
			// on small blocks.
			for _, o := range []readerOpts{{block: 61}, {block: 4096, async: 1}, {block: 997, tf: true, async: 1}} {
				checkAgainstReference(t, data, o)
			}

			f, ok := realFacts[base]
			if !ok {
				t.Logf("no literal facts for %s; checked against the reference only", base)
				return
			}
			seen++
			check := func(what string, got, want int64) {
				if got != want {
					t.Errorf("%s = %d, want %d", what, got, want)
				}
			}
			check("records", c.Records, f.records)
			check("record lines", c.RecordLines, f.recordLines)
			check("joined lines", c.JoinedLines, f.joined)
			check("distinct nodes", int64(len(nodes)), f.nodes)
			check("TFCompat records", tfc.Records, f.tfRecords)
			check("TFCompat ignored", tfc.Ignored, f.records-f.tfRecords)
			check("lines", c.Lines, f.lines)
		})
	}
	if seen != len(realFacts) {
		t.Errorf("found %d of the %d known real logs in %s", seen, len(realFacts), realLogDir)
	}
}

// TestRealLogFirstRecord finds resnet50's first record with strings and
// compares it with the Reader's.
func TestRealLogFirstRecord(t *testing.T) {
	realLogFiles(t)
	path := filepath.Join(realLogDir, "resnet50_min_max_log.txt")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var line int64
	var name, minText, maxText string
	for i, l := range strings.Split(string(data), "\n") {
		if !strings.Contains(l, "__print__;__requant_min_max:") {
			continue
		}
		parts := strings.Split(l, ";")
		name = strings.TrimSuffix(parts[1], "__print__")
		vals := strings.Split(strings.TrimPrefix(parts[2], "__requant_min_max:"), "]")
		minText, maxText = strings.TrimPrefix(vals[0], "["), strings.TrimPrefix(vals[1], "[")
		line = int64(i + 1)
		break
	}
	if name != "v0/resnet_v10/conv2/conv2d/Conv2D_eightbit_requant_range" ||
		minText != "-5.75943518" || maxText != "3.43590856" || line != 208 {
		t.Fatalf("strings found %q [%s][%s] on line %d", name, minText, maxText, line)
	}
	rd, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	if !rd.Scan() || rd.Record() == nil {
		t.Fatalf("no first record: %v %v", rd.SyntaxError(), rd.Err())
	}
	r := rd.Record()
	min, _ := strconv.ParseFloat(minText, 32)
	max, _ := strconv.ParseFloat(maxText, 32)
	if r.Kind != RequantMinMax || r.Node != name || r.Line != line || r.File != path ||
		r.Min != float32(-5.75943518) || r.Max != float32(3.43590856) ||
		math.Float32bits(r.Min) != math.Float32bits(float32(min)) || math.Float32bits(r.Max) != math.Float32bits(float32(max)) {
		t.Errorf("first record = %+v", *r)
	}
}
