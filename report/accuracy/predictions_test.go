package accuracy

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"testing"

	"qcal/stats"
)

func TestReadPredictionsFormats(t *testing.T) {
	tests := []struct {
		name, file, text string
		format           InputFormat
		rows, top1, top5 int64
		k                int
	}{
		{"csv pred", "p.csv", "id,label,pred\na,1,1\nb,2,3\nc,3,3\n", InputCSV, 3, 2, 2, 1},
		{"csv aliases", "p.csv", "image,target,top1\na.jpg,cat,cat\nb.jpg,dog,cat\n", InputCSV, 2, 1, 1, 1},
		{"csv top5 spaces", "p.csv", "file,gt,top5\na,1,1 2 3 4 5\nb,2,3 2 1 4 5\nc,9,3 2 1 4 5\n", InputCSV, 3, 1, 2, 5},
		{"csv quoted json array", "p.csv", "id,label,top5\na,1,\"[2, 1, 3, 4, 5]\"\nb,2,\"[2,1,3,4,5]\"\n", InputCSV, 2, 1, 2, 5},
		{"csv pred and topk agree", "p.csv", "id,label,pred,top5\na,1,1,1|2|3|4|5\nb,2,1,1|2|3|4|5\n", InputCSV, 2, 1, 2, 5},
		{"tsv pipes", "p.tsv", "id\tlabel\ttop5\na\tgolden retriever\tgolden retriever|tabby|car|dog|cat\nb\ttabby\tcar|tabby|x|y|z\n", InputTSV, 2, 1, 2, 5},
		{"tsv class names with spaces in pred", "p.txt", "id\tlabel\tprediction\na\tgolden retriever\tgolden retriever\n", InputTSV, 1, 1, 1, 1},
		{"jsonl arrays", "p.jsonl", `{"id": "a", "label": 1, "top5": [1, 2, 3, 4, 5]}` + "\n\n" + `{"id": "b", "label": 7, "top5": [2, 7, 3, 4, 5]}` + "\n", InputJSONL, 2, 1, 2, 5},
		{"jsonl strings", "p.json", `{"image":"x","target":"cat","pred":"cat"}` + "\n" + `{"image":"y","target":"dog","pred":"cat"}`, InputJSONL, 2, 1, 1, 1},
		{"crlf", "p.csv", "id,label,pred\r\na,1,1\r\nb,2,2\r\n", InputCSV, 2, 2, 2, 1},
		{"no id column", "p.csv", "label,pred\n1,1\n2,1\n", InputCSV, 2, 1, 1, 1},
		{"long lists are cut", "p.csv", "id,label,topk\na,6,1 2 3 4 5 6 7\n", InputCSV, 1, 0, 0, 5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ReadPredictions(strings.NewReader(tc.text), tc.file)
			if err != nil {
				t.Fatal(err)
			}
			if p.Format != tc.format || p.Rows != tc.rows || p.Top1 != tc.top1 || p.Top5 != tc.top5 || p.K != tc.k {
				t.Errorf("got format %s rows %d top1 %d top5 %d k %d, want %s %d %d %d %d",
					p.Format, p.Rows, p.Top1, p.Top5, p.K, tc.format, tc.rows, tc.top1, tc.top5, tc.k)
			}
		})
	}
}

func TestReadPredictionsErrors(t *testing.T) {
	tests := []struct {
		name, file, text string
		want             []string
	}{
		{"empty", "p.csv", "", []string{"p.csv:1: prediction file header has fewer than two columns"}},
		{"header only", "p.csv", "id,label,pred\n", []string{"p.csv: prediction file has a header but no rows"}},
		{"missing columns", "p.csv", "id,score\na,1\n", []string{"p.csv:1: prediction file header \"id,score\" lacks a label column", "and a prediction column"}},
		{"duplicate id", "p.csv", "id,label,pred\na,1,1\nb,1,1\na,2,2\n", []string{`p.csv:4: duplicate id "a"`}},
		{"field count", "p.csv", "id,label,pred\na,1,1\nb,1\nc,1,1,1\n", []string{"p.csv:3: 2 fields, want 3", "p.csv:4: 4 fields, want 3"}},
		{"empty label", "p.csv", "id,label,pred\na,,1\n", []string{"p.csv:2: empty label"}},
		{"empty prediction", "p.csv", "id,label,pred\na,1, \n", []string{"p.csv:2: empty prediction"}},
		{"pred disagrees with list", "p.csv", "id,label,pred,top5\na,1,2,1|2|3|4|5\n", []string{`p.csv:2: prediction "2" is not the first of the ranked list`}},
		{"jsonl bad line", "p.jsonl", `{"id":"a","label":1,"pred":1}` + "\n" + `{"id":` + "\n", []string{"p.jsonl:2: bad JSON"}},
		{"jsonl missing field", "p.jsonl", `{"id":"a","label":1,"pred":1}` + "\n" + `{"id":"b","pred":1}` + "\n", []string{`p.jsonl:2: no "label" field`}},
		{"many errors are cut", "p.csv", "id,label,pred\n" + strings.Repeat("a,,1\n", 9), []string{"p.csv:2: empty label", "p.csv:6: empty label", "(and 4 more)"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadPredictions(strings.NewReader(tc.text), tc.file)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

// predCSV writes rows "id,label,top5" where labels and predictions come
// from f(i).
func predCSV(n int, f func(i int) (id, label, top5 string)) string {
	var b strings.Builder
	b.WriteString("id,label,top5\n")
	for i := range n {
		id, l, p := f(i)
		fmt.Fprintf(&b, "%s,%s,%s\n", id, l, p)
	}
	return b.String()
}

func TestPair(t *testing.T) {
	// 100 rows: FP32 right on rows 0-84, int8 right on 0-69 and 85-89:
	// a = 70, b = 15, c = 5, d = 10 (the NewcombeDiff example).
	right := func(i int, fp bool) bool {
		if fp {
			return i < 85
		}
		return i < 70 || (i >= 85 && i < 90)
	}
	gen := func(fp bool) func(i int) (string, string, string) {
		return func(i int) (string, string, string) {
			label := fmt.Sprint(i % 4)
			if right(i, fp) {
				return fmt.Sprintf("img%03d", i), label, label + "|9|8|7|6"
			}
			if fp {
				return fmt.Sprintf("img%03d", i), label, "9|8|7|6|5"
			}
			return fmt.Sprintf("img%03d", i), label, "8|9|7|6|5"
		}
	}
	fp, err := ReadPredictions(strings.NewReader(predCSV(100, gen(true))), "fp32.csv")
	if err != nil {
		t.Fatal(err)
	}
	// The int8 file lists the rows in reverse order.
	int8 := predCSV(100, func(i int) (string, string, string) { return gen(false)(99 - i) })
	pd, err := fp.Pair(strings.NewReader(int8), "int8.csv", 1)
	if err != nil {
		t.Fatal(err)
	}
	want := stats.PairedCounts{Both: 70, FP32Only: 15, Int8Only: 5, Neither: 10, Agree: 70} // the wrong predictions differ (9 vs 8)
	if pd.Counts != want {
		t.Errorf("counts %+v, want %+v", pd.Counts, want)
	}
	if pd.Missing != 0 || pd.Extra != 0 || pd.Int8Rows != 100 || pd.Int8K != 5 {
		t.Errorf("missing %d extra %d rows %d k %d", pd.Missing, pd.Extra, pd.Int8Rows, pd.Int8K)
	}
	if len(pd.Classes) != 4 {
		t.Fatalf("classes %v", pd.Classes)
	}
	var sum ClassCount
	for _, c := range pd.Classes {
		sum.N += c.N
		sum.FP32 += c.FP32
		sum.Int8 += c.Int8
	}
	if sum.N != 100 || sum.FP32 != 85 || sum.Int8 != 75 || pd.Classes[0].Class != "0" || pd.Classes[0].N != 25 {
		t.Errorf("per-class sums %+v, first %+v", sum, pd.Classes[0])
	}
	// Pairing again (a second candidate) starts afresh.
	pd2, err := fp.Pair(strings.NewReader(int8), "int8b.csv", 1)
	if err != nil || pd2.Counts != want {
		t.Errorf("second pairing: %v, %+v", err, pd2)
	}
	// Top-5: all rows have the label in FP32's list when right; int8's
	// wrong lists lack it too.
	pd5, err := fp.Pair(strings.NewReader(int8), "int8.csv", 5)
	if err != nil || pd5.Counts.Both != 70 || pd5.K != 5 {
		t.Errorf("top5: %v %+v", err, pd5)
	}
}

func TestPairMismatchedIDs(t *testing.T) {
	fp, err := ReadPredictions(strings.NewReader("id,label,pred\na,1,1\nb,1,1\nc,1,0\nd,1,1\ne,1,1\n"), "fp32.csv")
	if err != nil {
		t.Fatal(err)
	}
	pd, err := fp.Pair(strings.NewReader("id,label,pred\nb,1,1\nx,1,1\nd,1,0\ny,2,2\n"), "int8.csv", 1)
	if err != nil {
		t.Fatal(err)
	}
	if pd.Counts.N() != 2 || pd.Missing != 3 || pd.Extra != 2 {
		t.Errorf("matched %d missing %d extra %d", pd.Counts.N(), pd.Missing, pd.Extra)
	}
	if strings.Join(pd.FirstMissing, ",") != "a,c,e" || strings.Join(pd.FirstExtra, ",") != "x,y" {
		t.Errorf("first missing %v, extra %v", pd.FirstMissing, pd.FirstExtra)
	}
}

func TestPairErrors(t *testing.T) {
	fpText := "id,label,pred\na,1,1\nb,2,2\nc,3,3\n"
	tests := []struct {
		name, text string
		want       []string
	}{
		{"duplicate matched id", "id,label,pred\na,1,1\nb,2,2\na,1,1\n", []string{`int8.csv:4: duplicate id "a"`}},
		{"duplicate extra id", "id,label,pred\nz,1,1\nz,1,1\n", []string{`int8.csv:3: duplicate id "z"`}},
		{"label differs", "id,label,pred\na,1,1\nb,5,2\n", []string{`int8.csv:3: id "b" has label "5" but fp32.csv has "2"`}},
		{"nothing in common", "id,label,pred\nx,1,1\ny,1,1\n", []string{`int8.csv: no id in common with fp32.csv (first ids: "x", "y"; "a", "b", "c")`}},
		{"empty", "", []string{"int8.csv:1: prediction file header has fewer than two columns"}},
		{"no rows", "id,label,pred\n", []string{"int8.csv: prediction file has a header but no rows"}},
		{"not predictions", "Accuracy: 0.76\n", []string{"int8.csv:1:"}},
		{"by row vs by id", "label,pred\n1,1\n", []string{"int8.csv: has no id column but fp32.csv has an id column"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fp, err := ReadPredictions(strings.NewReader(fpText), "fp32.csv")
			if err != nil {
				t.Fatal(err)
			}
			_, err = fp.Pair(strings.NewReader(tc.text), "int8.csv", 1)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestSplitList(t *testing.T) {
	for _, tc := range []struct {
		in     string
		spaces bool
		want   string
	}{
		{"1 2 3", true, "1/2/3"},
		{"1 2 3", false, "1 2 3"},
		{"a|b|c", false, "a/b/c"},
		{"[1, 2, 3]", false, "1/2/3"},
		{`["tabby cat", "dog"]`, false, "tabby cat/dog"},
		{"[a, b]", false, "a/b"},
		{"[a b c]", false, "a/b/c"},
		{"1,2,3,4,5,6,7", true, "1/2/3/4/5"},
		{"", true, ""},
	} {
		if got := strings.Join(splitList(tc.in, nil, tc.spaces), "/"); got != tc.want {
			t.Errorf("splitList(%q, %v) = %q, want %q", tc.in, tc.spaces, got, tc.want)
		}
	}
}

// predStream generates a prediction file of n rows without holding it in
// memory: ids "img0000001", labels i%1000, top-5 lists; the int8 side
// (shift 1) is wrong where i%50 == 0.
type predStream struct {
	n, i  int
	int8  bool
	buf   []byte
	hdone bool
}

func (s *predStream) Read(p []byte) (int, error) {
	if !s.hdone {
		s.buf = append(s.buf, "id,label,top5\n"...)
		s.hdone = true
	}
	for len(s.buf) < len(p) && s.i < s.n {
		l := s.i % 1000
		pred := l
		if s.int8 && s.i%50 == 0 || !s.int8 && s.i%70 == 0 {
			pred = (l + 1) % 1000
		}
		s.buf = fmt.Appendf(s.buf, "img%07d,%d,%d %d %d %d %d\n", s.i, l, pred, (l+2)%1000, (l+3)%1000, (l+4)%1000, (l+5)%1000)
		s.i++
	}
	if len(s.buf) == 0 {
		return 0, io.EOF
	}
	n := copy(p, s.buf)
	s.buf = s.buf[:copy(s.buf, s.buf[n:])]
	return n, nil
}

// pipe streams r through an io.Pipe, as a file read from disk or stdin
// would arrive.
func pipe(r io.Reader) io.Reader {
	pr, pw := io.Pipe()
	go func() {
		bw := bufio.NewWriterSize(pw, 32<<10)
		_, err := io.Copy(bw, r)
		if err == nil {
			err = bw.Flush()
		}
		pw.CloseWithError(err)
	}()
	return pr
}

// TestPredictionsMillionRows streams a 1,000,000-row FP32 file and a
// 1,000,000-row int8 file. The FP32 rows are kept compactly (the bound
// allows 48 bytes a row for 10-byte ids); pairing the int8 file adds
// nothing that grows with its rows.
func TestPredictionsMillionRows(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000,000 rows")
	}
	const n = 1_000_000
	before := heapInUse()
	var peak uint64
	fp, err := ReadPredictions(&probe{r: pipe(&predStream{n: n}), every: 4 << 20, peak: &peak}, "fp32.csv")
	if err != nil {
		t.Fatal(err)
	}
	kept := heapInUse() - before
	t.Logf("FP32 side: %d rows kept in %d bytes (%.1f a row); peak while reading %d", fp.Rows, kept, float64(kept)/n, peak-before)
	if kept > 48*n {
		t.Errorf("FP32 rows take %d bytes, more than 48 a row", kept)
	}
	var peak8 uint64
	pr := &probe{r: pipe(&predStream{n: n, int8: true}), every: 4 << 20, peak: &peak8}
	pd, err := fp.Pair(pr, "int8.csv", 1)
	if err != nil {
		t.Fatal(err)
	}
	grew := int64(peak8) - int64(kept+before)
	t.Logf("int8 side: %d probes, heap grew at most %d bytes over the FP32 rows", pr.probes, grew)
	if grew > 8<<20 {
		t.Errorf("pairing 1,000,000 int8 rows grew the heap by %d bytes", grew)
	}
	// FP32 wrong where i%70 == 0 (14286 rows), int8 where i%50 == 0
	// (20000); both where i%350 == 0 (2858).
	want := stats.PairedCounts{Both: n - 14286 - 20000 + 2858, FP32Only: 20000 - 2858, Int8Only: 14286 - 2858, Neither: 2858, Agree: n - 14286 - 20000 + 2*2858}
	if pd.Counts != want {
		t.Errorf("counts %+v, want %+v", pd.Counts, want)
	}
	if len(pd.Classes) != 1000 {
		t.Errorf("%d classes", len(pd.Classes))
	}
}

// FuzzPredictions checks that no prediction file makes reading or pairing
// panic, and that errors name the file.
func FuzzPredictions(f *testing.F) {
	for _, s := range []string{
		"id,label,pred\na,1,1\nb,2,3\n",
		"id\tlabel\ttop5\na\tx\tx|y|z|w|v\n",
		`{"id": "a", "label": 1, "top5": [1, 2, 3, 4, 5]}` + "\n",
		"image,target,top1,top5\na,1,1,\"[1, 2]\"\n",
		"label,pred\n1,1\n",
		"id,label,pred\n\"a,1,1\n",
	} {
		f.Add(s, "id,label,pred\na,1,2\nb,2,2\n")
	}
	f.Fuzz(func(t *testing.T, fp32, int8 string) {
		p, err := ReadPredictions(strings.NewReader(fp32), "fp32.csv")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fp32.csv") {
				t.Fatalf("error without the file name: %v", err)
			}
			return
		}
		if p.Top1 > p.Top5 || p.Top5 > p.Rows {
			t.Fatalf("top1 %d top5 %d rows %d", p.Top1, p.Top5, p.Rows)
		}
		pd, err := p.Pair(strings.NewReader(int8), "int8.csv", 1)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "int8.csv") {
				t.Fatalf("error without the file name: %v", err)
			}
			return
		}
		if pd.Counts.N()+pd.Missing != p.Rows {
			t.Fatalf("matched %d + missing %d != %d rows", pd.Counts.N(), pd.Missing, p.Rows)
		}
	})
}
