package accuracy

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"qcal/stats"
)

// Column names recognised in a prediction file's header (or a JSONL
// object's keys), compared lower-case without "_", "-" and spaces. The
// first name of a list that the header has wins.
var (
	idColumns    = []string{"id", "imageid", "sampleid", "image", "img", "filename", "file", "path", "imagepath", "sample", "name", "key", "uid"}
	labelColumns = []string{"label", "actual", "target", "gt", "groundtruth", "gtlabel", "truelabel", "truth", "ytrue", "labelid", "classid", "class", "true", "y"}
	predColumns  = []string{"pred", "prediction", "predicted", "predlabel", "top1", "top1pred", "ypred", "pred1", "argmax", "output"}
	topkColumns  = []string{"top5", "topk", "top5pred", "top5preds", "topkpred", "topkpreds", "top5predictions", "topkpredictions", "predtop5", "preds", "predictions", "ranked"}
)

// topK is the largest k that qcal scores (top-5); longer ranked lists are
// cut.
const topK = 5

// predRow is one row of a prediction file. Its strings are valid until the
// next call to next.
type predRow struct {
	id    string
	label string
	preds []string // ranked, best first; at most topK
	line  int
}

// predReader reads rows from a CSV, TSV or JSONL prediction file.
type predReader struct {
	name   string
	format InputFormat
	byRow  bool // no id column: rows are matched by their order

	cr               *csv.Reader
	idCol, labelCol  int
	predCol, topkCol int // -1 when absent

	br               *bufio.Reader
	buf              []byte
	idKey, labelKey  string
	predKey, topkKey string
	line             int
	rows             int
	errs             []error
	maxErrs          int
	minPreds         int // the fewest predictions in a row so far
	row              predRow
	predBuf          [topK]string
}

// columnIndex returns the index in names of the first of want found.
func columnIndex(names []string, want []string) int {
	for _, w := range want {
		for i, n := range names {
			if normKey(n) == w {
				return i
			}
		}
	}
	return -1
}

// newPredReader sniffs the first line of br. It returns nil (and no
// error) when the input does not look like a prediction file: no header
// with label and prediction columns, and no first JSON object with such
// keys. A file named *.csv, *.tsv or *.jsonl whose header lacks a column
// (or any file, when force is set) is an error naming what is missing.
func newPredReader(br *bufio.Reader, name string, force bool) (*predReader, error) {
	head, err := peekLine(br)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	head = bytes.TrimRight(head, "\r\n")
	p := &predReader{name: name, br: br, maxErrs: 1000, minPreds: math.MaxInt}
	lower := strings.ToLower(name)
	lower = strings.TrimSuffix(lower, ".gz")
	strict := force || strings.HasSuffix(lower, ".csv") || strings.HasSuffix(lower, ".tsv") || strings.HasSuffix(lower, ".jsonl")
	var names []string
	if t := bytes.TrimSpace(head); len(t) > 0 && t[0] == '{' {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(t, &obj); err != nil {
			if strict {
				return nil, fmt.Errorf("%s:1: bad JSON: %v", name, err)
			}
			return nil, nil
		}
		names = sortedKeys(obj)
		p.format = InputJSONL
	} else {
		p.format = InputCSV
		comma := ','
		if bytes.Count(head, []byte("\t")) > bytes.Count(head, []byte(",")) {
			comma, p.format = '\t', InputTSV
		}
		hr := csv.NewReader(bytes.NewReader(head))
		hr.Comma = comma
		hr.LazyQuotes = true
		names, _ = hr.Read()
		if len(names) < 2 {
			if strict {
				return nil, fmt.Errorf("%s:1: prediction file header has fewer than two columns", name)
			}
			return nil, nil
		}
		p.cr = csv.NewReader(br)
		p.cr.Comma = comma
		p.cr.LazyQuotes = comma == '\t'
		p.cr.ReuseRecord = true
		p.cr.FieldsPerRecord = len(names)
	}
	p.idCol = columnIndex(names, idColumns)
	p.labelCol = columnIndex(names, labelColumns)
	p.predCol = columnIndex(names, predColumns)
	p.topkCol = columnIndex(names, topkColumns)
	if p.labelCol < 0 || p.predCol < 0 && p.topkCol < 0 {
		if !strict {
			return nil, nil
		}
		var missing []string
		if p.labelCol < 0 {
			missing = append(missing, "a label column (label, target, gt, ...)")
		}
		if p.predCol < 0 && p.topkCol < 0 {
			missing = append(missing, "a prediction column (pred, prediction, top1, ...) or a ranked list (top5, topk, ...)")
		}
		return nil, fmt.Errorf("%s:1: prediction file header %q lacks %s", name, strings.Join(names, ","), strings.Join(missing, " and "))
	}
	p.byRow = p.idCol < 0
	if p.format == InputJSONL {
		key := func(i int) string {
			if i < 0 {
				return ""
			}
			return names[i]
		}
		p.idKey, p.labelKey, p.predKey, p.topkKey = key(p.idCol), key(p.labelCol), key(p.predCol), key(p.topkCol)
	} else if _, err := p.cr.Read(); err != nil { // the header
		return nil, fmt.Errorf("%s:1: %w", name, err)
	}
	return p, nil
}

// peekLine returns the first line of br (up to the buffer's size) without
// consuming it.
func peekLine(br *bufio.Reader) ([]byte, error) {
	for n := 256; ; n *= 2 {
		b, err := br.Peek(n)
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			return b[:i+1], nil
		}
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, bufio.ErrBufferFull) {
				return b, nil
			}
			return nil, err
		}
	}
}

// errorf records a bad row; reading goes on.
func (p *predReader) errorf(line int, format string, a ...any) {
	if len(p.errs) < p.maxErrs {
		p.errs = append(p.errs, fmt.Errorf("%s:%d: %s", p.name, line, fmt.Sprintf(format, a...)))
	} else {
		p.errs = append(p.errs[:p.maxErrs], errors.New("(more errors)"))
	}
}

// err returns the rows' errors, the first few of them.
func (p *predReader) err() error {
	if len(p.errs) == 0 {
		return nil
	}
	return joinFirst(p.errs, 5)
}

// next reads the next good row into p.row; bad rows are recorded and
// skipped. It returns false at the end of the input or on an I/O error
// (returned as err).
func (p *predReader) next() (bool, error) {
	for {
		ok, good, err := p.read()
		if err != nil || !ok {
			return false, err
		}
		if good {
			p.rows++
			if p.byRow {
				p.row.id = strconv.Itoa(p.rows)
			}
			p.minPreds = min(p.minPreds, len(p.row.preds))
			return true, nil
		}
	}
}

// read reads one row: ok is false at the end, good is false for a bad row.
func (p *predReader) read() (ok, good bool, err error) {
	if p.format == InputJSONL {
		return p.readJSON()
	}
	rec, err := p.cr.Read()
	if errors.Is(err, io.EOF) {
		return false, false, nil
	}
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			if errors.Is(pe.Err, csv.ErrFieldCount) {
				p.errorf(pe.Line, "%d fields, want %d as in the header", len(rec), p.cr.FieldsPerRecord)
			} else {
				p.errorf(pe.Line, "%v", pe.Err)
			}
			return true, false, nil
		}
		return false, false, fmt.Errorf("%s: %w", p.name, err)
	}
	line, _ := p.cr.FieldPos(0)
	p.row = predRow{line: line, preds: p.predBuf[:0]}
	if p.idCol >= 0 {
		p.row.id = strings.TrimSpace(rec[p.idCol])
	}
	p.row.label = strings.TrimSpace(rec[p.labelCol])
	var pred, topk string
	if p.predCol >= 0 {
		pred = rec[p.predCol]
	}
	if p.topkCol >= 0 {
		topk = rec[p.topkCol]
	}
	return true, p.fill(pred, topk, p.predCol >= 0, p.topkCol >= 0), nil
}

func (p *predReader) readJSON() (ok, good bool, err error) {
	var line []byte
	for {
		b, truncated, err := readLine(p.br, &p.buf)
		if err != nil && !errors.Is(err, io.EOF) {
			return false, false, fmt.Errorf("%s: %w", p.name, err)
		}
		if len(b) == 0 && err != nil {
			return false, false, nil
		}
		p.line++
		if truncated {
			p.errorf(p.line, "line longer than %d bytes", maxLine)
			return true, false, nil
		}
		if line = bytes.TrimSpace(b); len(line) > 0 {
			break
		}
		if err != nil {
			return false, false, nil
		}
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(line, &obj); err != nil {
		p.errorf(p.line, "bad JSON: %v", err)
		return true, false, nil
	}
	p.row = predRow{line: p.line, preds: p.predBuf[:0]}
	get := func(key, what string) (string, bool) {
		if key == "" {
			return "", true
		}
		raw, ok := obj[key]
		if !ok {
			p.errorf(p.line, "no %q field (the %s)", key, what)
			return "", false
		}
		return jsonText(raw), true
	}
	var ok1, ok2, ok3, ok4 bool
	p.row.id, ok1 = get(p.idKey, "id")
	p.row.label, ok2 = get(p.labelKey, "label")
	pred, ok3 := get(p.predKey, "prediction")
	topk, ok4 := get(p.topkKey, "ranked predictions")
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return true, false, nil
	}
	return true, p.fill(pred, topk, p.predKey != "", p.topkKey != ""), nil
}

// jsonText returns a JSON value as text: a string's content, a number's
// digits, an array as is (for splitList).
func jsonText(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return strings.TrimSpace(s)
		}
	}
	if string(raw) == "null" {
		return ""
	}
	return string(raw)
}

// fill sets the row's predictions from the pred and topk cells and checks
// the row.
func (p *predReader) fill(pred, topk string, hasPred, hasTopk bool) bool {
	r := &p.row
	if !p.byRow && r.id == "" {
		p.errorf(r.line, "empty id")
		return false
	}
	if r.label == "" {
		p.errorf(r.line, "empty label")
		return false
	}
	if hasTopk {
		r.preds = splitList(topk, r.preds, true)
	}
	if hasPred {
		var one [topK]string
		ps := splitList(pred, one[:0], false)
		switch {
		case len(ps) == 0:
			p.errorf(r.line, "empty prediction")
			return false
		case !hasTopk || len(r.preds) == 0:
			r.preds = append(r.preds[:0], ps...)
		case r.preds[0] != ps[0]:
			p.errorf(r.line, "prediction %q is not the first of the ranked list %q", ps[0], topk)
			return false
		}
	}
	if len(r.preds) == 0 {
		p.errorf(r.line, "empty prediction list")
		return false
	}
	return true
}

// splitList splits a ranked list cell into dst (at most topK entries): a
// JSON array, or entries separated by "|", ",", ";" or (when spaces is
// true, or the cell is bracketed) white space. A single value is a list of
// one.
func splitList(s string, dst []string, spaces bool) []string {
	s = strings.TrimSpace(s)
	if s == "" {
		return dst
	}
	if len(s) >= 2 && s[0] == '[' && s[len(s)-1] == ']' && strings.ContainsRune(s, '"') {
		var arr []json.RawMessage
		if json.Unmarshal([]byte(s), &arr) == nil {
			for _, e := range arr[:min(len(arr), topK)] {
				dst = append(dst, jsonText(e))
			}
			return dst
		}
		s, spaces = s[1:len(s)-1], true
	} else if len(s) >= 2 && s[0] == '[' && s[len(s)-1] == ']' { // numbers: no JSON decoding needed
		s, spaces = s[1:len(s)-1], true
	}
	sep := ""
	for _, c := range []string{"|", ",", ";"} {
		if strings.Contains(s, c) {
			sep = c
			break
		}
	}
	switch {
	case sep != "":
		for n := 0; n < topK; n++ {
			e, rest, more := strings.Cut(s, sep)
			dst = append(dst, strings.Trim(strings.TrimSpace(e), `"'`))
			if !more {
				break
			}
			s = rest
		}
	case spaces:
		for n := 0; n < topK; n++ {
			s = strings.TrimLeftFunc(s, unicode.IsSpace)
			if s == "" {
				break
			}
			end := strings.IndexFunc(s, unicode.IsSpace)
			if end < 0 {
				end = len(s)
			}
			dst = append(dst, strings.Trim(s[:end], `"'`))
			s = s[end:]
		}
	default:
		dst = append(dst, s)
	}
	return dst
}

// classTable interns class names (labels and predictions).
type classTable struct {
	ids   map[string]uint32
	names []string
}

func (t *classTable) id(s string) uint32 {
	if id, ok := t.ids[s]; ok {
		return id
	}
	if t.ids == nil {
		t.ids = make(map[string]uint32)
	}
	id := uint32(len(t.names))
	s = strings.Clone(s)
	t.ids[s] = id
	t.names = append(t.names, s)
	return id
}

// lookup returns the id of s, or false if s was never interned.
func (t *classTable) lookup(s string) (uint32, bool) {
	id, ok := t.ids[s]
	return id, ok
}

// Row flags of Predictions.
const (
	flagTop1 = 1 << iota
	flagTop5
	flagMatched
)

// Predictions is the FP32 side of a paired comparison: the rows of a
// prediction file, kept compact so that int8 prediction files can be
// matched to them by id. Each row costs its id's bytes plus about 25
// bytes (4-byte id end, label and top-1 class numbers, a flag byte, and
// 8–16 bytes of hash index); class names are stored once. Nothing else
// grows with the rows.
type Predictions struct {
	File   string
	Format InputFormat
	// ByRow reports whether the file has no id column, so that rows are
	// matched by their order.
	ByRow bool
	// Rows is the number of rows; Top1 and Top5 count the rows whose
	// label is the top prediction and among the first five.
	Rows, Top1, Top5 int64
	// K is the length of the shortest ranked list, at most 5: top-5 is
	// scored when K is 5.
	K int

	// shardEnd[j] is the row after the last of shard j, whose file is
	// shardName[j]; nil for one file.
	shardEnd  []uint32
	shardName []string

	classes *classTable
	seed    maphash.Seed
	ids     []byte   // every id, end to end
	idEnd   []uint32 // the end of row i's id in ids
	slots   []uint32 // open-addressing hash index: row+1, 0 empty
	label   []uint32
	pred1   []uint32
	flags   []uint8
}

// ReadPredictions reads a prediction file (the FP32 side of a comparison)
// and keeps its rows compactly for Pair. A prediction file is CSV or TSV
// with a header, or JSONL, with an id column (id, image, file, ...), a
// label (label, target, gt, ...) and a prediction (pred, prediction, top1,
// ...) and/or a ranked list (top5, topk, ...: entries separated by spaces,
// "|" or ",", or a JSON array). Without an id column rows are matched by
// their order. Gzip input is detected. Bad rows (a missing field, an empty
// label, a duplicate id) are errors naming the line; all rows are read and
// the first few errors returned.
func ReadPredictions(r io.Reader, name string) (*Predictions, error) {
	pr, err := openPredictions(r, name)
	if err != nil {
		return nil, err
	}
	return readPredictions(pr)
}

func openPredictions(r io.Reader, name string) (*predReader, error) {
	br, err := maybeGunzip(bufio.NewReaderSize(r, 64<<10), name)
	if err != nil {
		return nil, err
	}
	return newPredReader(br, name, true)
}

func readPredictions(pr *predReader) (*Predictions, error) {
	return readShards([]*predReader{pr})
}

// readShards reads the prediction files of one side, the shards of a
// sharded evaluation, into one Predictions. An id in two shards is an
// error naming both files.
func readShards(prs []*predReader) (*Predictions, error) {
	pr := prs[0]
	p := &Predictions{File: shardsName(prs), Format: pr.format, ByRow: pr.byRow, classes: &classTable{}, seed: maphash.MakeSeed(), slots: make([]uint32, 1024)}
	if len(prs) > 1 {
		for _, q := range prs {
			if q.byRow {
				return nil, fmt.Errorf("%s: has no id column, so its rows cannot be merged with other shards", q.name)
			}
		}
	}
	for _, pr := range prs {
		if err := p.readShard(pr); err != nil {
			return nil, err
		}
		p.shardEnd = append(p.shardEnd, uint32(p.Rows))
		p.shardName = append(p.shardName, pr.name)
	}
	if len(prs) == 1 {
		p.shardEnd, p.shardName = nil, nil
	}
	p.K = topK
	for _, pr := range prs {
		p.K = min(p.K, pr.minPreds)
	}
	return p, nil
}

// shardsName names the files of one side for tables: the file, or the
// first and how many more.
func shardsName(prs []*predReader) string {
	if len(prs) == 1 {
		return prs[0].name
	}
	return fmt.Sprintf("%s +%d shards", prs[0].name, len(prs)-1)
}

// shardOf returns the name of the file row i was read from.
func (p *Predictions) shardOf(i uint32) string {
	if len(p.shardEnd) == 0 {
		return p.File
	}
	j := sort.Search(len(p.shardEnd), func(j int) bool { return p.shardEnd[j] > i })
	if j == len(p.shardEnd) {
		return p.shardName[len(p.shardName)-1] // the file being read
	}
	return p.shardName[j]
}

// readShard adds the rows of one file.
func (p *Predictions) readShard(pr *predReader) error {
	name := pr.name
	if pr.byRow != p.ByRow {
		return fmt.Errorf("%s: has %s id column but %s has %s id column; cannot merge", name, noIf(pr.byRow), p.shardName[0], noIf(p.ByRow))
	}
	for {
		ok, err := pr.next()
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		row := &pr.row
		if uint64(len(p.ids))+uint64(len(row.id)) > math.MaxUint32 || p.Rows >= math.MaxUint32-1 {
			return fmt.Errorf("%s:%d: too many rows for one comparison", name, row.line)
		}
		if slot, found := p.find(row.id); found {
			if other := p.shardOf(p.slots[slot] - 1); other != name {
				pr.errorf(row.line, "id %q is also in %s: shards overlap", row.id, other)
			} else {
				pr.errorf(row.line, "duplicate id %q", row.id)
			}
			continue
		}
		label := p.classes.id(row.label)
		var f uint8
		if row.preds[0] == row.label {
			f |= flagTop1
			p.Top1++
		}
		for _, q := range row.preds[:min(len(row.preds), topK)] {
			if q == row.label {
				f |= flagTop5
				p.Top5++
				break
			}
		}
		p.add(row.id, label, p.classes.id(row.preds[0]), f)
	}
	if err := pr.err(); err != nil {
		return err
	}
	if pr.rows == 0 {
		return fmt.Errorf("%s: prediction file has a header but no rows", name)
	}
	return nil
}

func (p *Predictions) hash(id string) uint64 { return maphash.String(p.seed, id) }

func (p *Predictions) id(i uint32) string {
	start := uint32(0)
	if i > 0 {
		start = p.idEnd[i-1]
	}
	return string(p.ids[start:p.idEnd[i]])
}

func (p *Predictions) idEquals(i uint32, id string) bool {
	start := uint32(0)
	if i > 0 {
		start = p.idEnd[i-1]
	}
	return string(p.ids[start:p.idEnd[i]]) == id // no allocation: compared in place
}

// find returns the row of id, or the empty slot where it would go.
func (p *Predictions) find(id string) (slot int, found bool) {
	mask := uint64(len(p.slots) - 1)
	for h := p.hash(id) & mask; ; h = (h + 1) & mask {
		s := p.slots[h]
		if s == 0 {
			return int(h), false
		}
		if p.idEquals(s-1, id) {
			return int(h), true
		}
	}
}

func (p *Predictions) add(id string, label, pred1 uint32, f uint8) {
	if 2*(p.Rows+1) > int64(len(p.slots)) {
		p.grow()
	}
	slot, _ := p.find(id)
	p.ids = append(p.ids, id...)
	p.idEnd = append(p.idEnd, uint32(len(p.ids)))
	p.label = append(p.label, label)
	p.pred1 = append(p.pred1, pred1)
	p.flags = append(p.flags, f)
	p.slots[slot] = uint32(p.Rows + 1)
	p.Rows++
}

// grow doubles the hash index.
func (p *Predictions) grow() {
	p.slots = make([]uint32, 2*len(p.slots))
	mask := uint64(len(p.slots) - 1)
	for i := range uint32(p.Rows) {
		h := p.hash(p.id(i)) & mask
		for p.slots[h] != 0 {
			h = (h + 1) & mask
		}
		p.slots[h] = i + 1
	}
}

// lookup returns the row of id.
func (p *Predictions) lookup(id string) (uint32, bool) {
	slot, ok := p.find(id)
	if !ok {
		return 0, false
	}
	return p.slots[slot] - 1, true
}

// ClassCount is one class's row of a paired comparison: how many samples
// have the label, and how many of them each model got right.
type ClassCount struct {
	Class string `json:"class"`
	N     int64  `json:"n"`
	FP32  int64  `json:"fp32_correct"`
	Int8  int64  `json:"int8_correct"`
}

// Paired is the comparison of an int8 prediction file with the FP32
// Predictions, row by row over the ids both have.
type Paired struct {
	File   string
	Format InputFormat
	// K is the k of the compared metric: 1 for top-1, 5 for top-5.
	K int
	// Counts is the 2×2 table of the compared metric over matched rows;
	// Counts.Agree counts the rows whose top-1 predictions are equal.
	Counts stats.PairedCounts
	// Int8Rows is the number of rows in the int8 file; Int8K the length
	// of its shortest ranked list.
	Int8Rows int64
	Int8K    int
	// FP32Top5 and Int8Top5 count top-5 hits over matched rows.
	FP32Top1, FP32Top5, Int8Top1, Int8Top5 int64
	// Missing counts the FP32 ids absent from the int8 file, Extra the
	// int8 ids absent from the FP32 file; the First slices hold the first
	// few of each, in file order.
	Missing, Extra           int64
	FirstMissing, FirstExtra []string
	// Classes holds the per-class counts by label, sorted by class name.
	Classes []ClassCount
}

// firstIDs is how many unmatched ids a Paired keeps.
const firstIDs = 5

// Pair streams an int8 prediction file against p and counts, over the ids
// both files have, the paired outcomes of the top-k metric (k = 1 or 5).
// Memory grows only with the ids the int8 file has and p lacks (to find
// duplicates among them) and with the classes; the int8 rows themselves
// are not kept. A duplicate id, or a label differing from FP32's for the
// same id, is an error naming the int8 file's line.
func (p *Predictions) Pair(r io.Reader, name string, k int) (*Paired, error) {
	pr, err := openPredictions(r, name)
	if err != nil {
		return nil, err
	}
	return p.pair(pr, k)
}

func (p *Predictions) pair(pr *predReader, k int) (*Paired, error) {
	return p.pairShards([]*predReader{pr}, k)
}

// pairShards pairs the int8 prediction files of one candidate, the shards
// of a sharded evaluation, with p as one file. An id in two shards is an
// error naming both files.
func (p *Predictions) pairShards(prs []*predReader, k int) (*Paired, error) {
	for _, pr := range prs {
		if pr.byRow != p.ByRow {
			return nil, fmt.Errorf("%s: has %s id column but %s has %s id column; cannot match rows", pr.name, noIf(pr.byRow), p.File, noIf(p.ByRow))
		}
		if len(prs) > 1 && pr.byRow {
			return nil, fmt.Errorf("%s: has no id column, so its rows cannot be merged with other shards", pr.name)
		}
	}
	for i := range p.flags {
		p.flags[i] &^= flagMatched
	}
	flag := uint8(flagTop1)
	if k == topK {
		flag = flagTop5
	}
	res := &Paired{File: shardsName(prs), Format: prs[0].format, K: k}
	counts := make([]ClassCount, len(p.classes.names))
	extra := make(map[string]uint16) // int8 ids not in p, by the shard they are in
	var matchedIn []uint16           // with shards: the shard that matched each FP32 row
	if len(prs) > 1 {
		matchedIn = make([]uint16, p.Rows)
	}
	res.Int8K = topK
	for si, pr := range prs {
		if err := p.pairShard(pr, si, prs, k, flag, res, counts, extra, matchedIn); err != nil {
			return nil, err
		}
		res.Int8K = min(res.Int8K, pr.minPreds)
	}
	return p.finishPair(res, counts)
}

// pairShard streams shard si of an int8 side against p into res.
func (p *Predictions) pairShard(pr *predReader, si int, prs []*predReader, k int, flag uint8, res *Paired, counts []ClassCount, extra map[string]uint16, matchedIn []uint16) error {
	name := pr.name
	dup := func(line int, id string, other uint16) {
		if int(other) != si {
			pr.errorf(line, "id %q is also in %s: shards overlap", id, prs[other].name)
		} else {
			pr.errorf(line, "duplicate id %q", id)
		}
	}
	rows0 := res.Int8Rows
	for {
		ok, err := pr.next()
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		row := &pr.row
		res.Int8Rows++
		i, found := p.lookup(row.id)
		if !found {
			if other, seen := extra[row.id]; seen {
				dup(row.line, row.id, other)
				continue
			}
			extra[strings.Clone(row.id)] = uint16(min(si, math.MaxUint16))
			res.Extra++
			if len(res.FirstExtra) < firstIDs {
				res.FirstExtra = append(res.FirstExtra, strings.Clone(row.id))
			}
			continue
		}
		if p.flags[i]&flagMatched != 0 {
			other := uint16(si)
			if matchedIn != nil {
				other = matchedIn[i]
			}
			dup(row.line, row.id, other)
			continue
		}
		p.flags[i] |= flagMatched
		if matchedIn != nil {
			matchedIn[i] = uint16(min(si, math.MaxUint16))
		}
		if l, ok := p.classes.lookup(row.label); !ok || l != p.label[i] {
			pr.errorf(row.line, "id %q has label %q but %s has %q", row.id, row.label, p.File, p.classes.names[p.label[i]])
			continue
		}
		var hit1, hit5 bool
		hit1 = row.preds[0] == row.label
		for _, q := range row.preds {
			if q == row.label {
				hit5 = true
				break
			}
		}
		if pred1, ok := p.classes.lookup(row.preds[0]); ok && pred1 == p.pred1[i] {
			res.Counts.Agree++
		}
		fp := p.flags[i]&flag != 0
		in := hit1
		if k == topK {
			in = hit5
		}
		switch {
		case fp && in:
			res.Counts.Both++
		case fp:
			res.Counts.FP32Only++
		case in:
			res.Counts.Int8Only++
		default:
			res.Counts.Neither++
		}
		res.FP32Top1 += int64(p.flags[i] & flagTop1)
		if p.flags[i]&flagTop5 != 0 {
			res.FP32Top5++
		}
		if hit1 {
			res.Int8Top1++
		}
		if hit5 {
			res.Int8Top5++
		}
		c := &counts[p.label[i]]
		c.N++
		if fp {
			c.FP32++
		}
		if in {
			c.Int8++
		}
	}
	if err := pr.err(); err != nil {
		return err
	}
	if res.Int8Rows == rows0 {
		return fmt.Errorf("%s: prediction file has a header but no rows", name)
	}
	return nil
}

// finishPair counts the FP32 ids no shard had and the per-class table.
func (p *Predictions) finishPair(res *Paired, counts []ClassCount) (*Paired, error) {
	for i := range p.flags {
		if p.flags[i]&flagMatched == 0 {
			res.Missing++
			if len(res.FirstMissing) < firstIDs {
				res.FirstMissing = append(res.FirstMissing, p.id(uint32(i)))
			}
		}
	}
	if res.Counts.N() == 0 {
		return nil, fmt.Errorf("%s: no id in common with %s (first ids: %s; %s)", res.File, p.File, quoteList(res.FirstExtra), quoteList(res.FirstMissing))
	}
	for id, c := range counts {
		if c.N > 0 {
			c.Class = p.classes.names[id]
			res.Classes = append(res.Classes, c)
		}
	}
	sort.Slice(res.Classes, func(i, j int) bool { return classLess(res.Classes[i].Class, res.Classes[j].Class) })
	return res, nil
}

func noIf(byRow bool) string {
	if byRow {
		return "no"
	}
	return "an"
}

// classLess orders class names numerically when both are integers.
func classLess(a, b string) bool {
	x, err1 := strconv.ParseInt(a, 10, 64)
	y, err2 := strconv.ParseInt(b, 10, 64)
	if err1 == nil && err2 == nil {
		return x < y
	}
	return a < b
}

func quoteList(ids []string) string {
	q := make([]string, len(ids))
	for i, id := range ids {
		q[i] = strconv.Quote(id)
	}
	return strings.Join(q, ", ")
}
