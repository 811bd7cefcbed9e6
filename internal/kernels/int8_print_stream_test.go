package kernels

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"qcal/internal/tensor"
	"qcal/internal/tfpb"
	"qcal/logparse"
)

// The reference: Print as it was before it streamed (commit c1acb48),
// building the whole line in memory. The streamed output must equal it
// byte for byte.

// refLine returns the line Print wrote for msg and inputs (without a
// PrintLog's prefix).
func refLine(msg string, inputs []*tensor.Tensor, summarize int) ([]byte, error) {
	line := []byte(msg)
	for i, x := range inputs {
		line = append(line, '[')
		var err error
		line, err = refAppendSummary(line, x, summarize)
		if err != nil {
			return nil, fmt.Errorf("input %d: %w", i, err)
		}
		line = append(line, ']')
	}
	return append(line, '\n'), nil
}

func refAppendSummary(b []byte, x *tensor.Tensor, maxEntries int) ([]byte, error) {
	n := tensor.NumElements(x.Shape)
	limit := n
	if maxEntries >= 0 {
		limit = min(maxEntries, n)
	}
	elem, err := refElementWriter(x)
	if err != nil {
		return b, err
	}
	if len(x.Shape) == 0 {
		for i := 0; i < limit; i++ {
			if i > 0 {
				b = append(b, ' ')
			}
			b = elem(b, i)
		}
	} else {
		idx := 0
		b = refSummarizeDim(b, x.Shape, 0, limit, &idx, elem)
	}
	if n > limit {
		b = append(b, "..."...)
	}
	return b, nil
}

func refSummarizeDim(b []byte, shape []int, dim, limit int, idx *int, elem func([]byte, int) []byte) []byte {
	if *idx >= limit {
		return b
	}
	count := shape[dim]
	if dim == len(shape)-1 {
		for i := 0; i < count; i++ {
			if *idx >= limit {
				if dim != 0 {
					b = append(b, "..."...)
				}
				return b
			}
			if i > 0 {
				b = append(b, ' ')
			}
			b = elem(b, *idx)
			*idx++
		}
		return b
	}
	for i := 0; i < count; i++ {
		opened := false
		if *idx < limit {
			b = append(b, '[')
			opened = true
		}
		b = refSummarizeDim(b, shape, dim+1, limit, idx, elem)
		if *idx < limit || opened {
			b = append(b, ']')
		}
	}
	return b
}

func refElementWriter(x *tensor.Tensor) (func([]byte, int) []byte, error) {
	switch tensor.StorageOf(x.DType) {
	case tensor.StoreF32:
		return func(b []byte, i int) []byte { return refAppendTFFloat(b, x.F32[i]) }, nil
	case tensor.StoreF64:
		return func(b []byte, i int) []byte { return refAppendTFDouble(b, x.F64[i]) }, nil
	case tensor.StoreI32:
		return func(b []byte, i int) []byte { return strconv.AppendInt(b, int64(x.I32[i]), 10) }, nil
	case tensor.StoreI64:
		return func(b []byte, i int) []byte { return strconv.AppendInt(b, x.I64[i], 10) }, nil
	case tensor.StoreU8:
		return func(b []byte, i int) []byte { return strconv.AppendInt(b, int64(x.U8[i]), 10) }, nil
	case tensor.StoreI8:
		return func(b []byte, i int) []byte { return strconv.AppendInt(b, int64(x.I8[i]), 10) }, nil
	case tensor.StoreI16:
		return func(b []byte, i int) []byte { return strconv.AppendInt(b, int64(x.I16[i]), 10) }, nil
	case tensor.StoreBool:
		return func(b []byte, i int) []byte {
			if x.Bool[i] {
				return append(b, '1')
			}
			return append(b, '0')
		}, nil
	case tensor.StoreStr:
		return func(b []byte, i int) []byte { return append(b, x.Str[i]...) }, nil
	}
	if x.DType == tfpb.DataType_DT_UINT16 || x.DType == tfpb.DataType_DT_QUINT16 {
		return func(b []byte, i int) []byte { return strconv.AppendInt(b, int64(x.U16[i]), 10) }, nil
	}
	return nil, errUnprintable(x.DType)
}

func refAppendTFFloat(b []byte, v float32) []byte {
	if s, ok := nonFinite(float64(v)); ok {
		return append(b, s...)
	}
	s := strconv.FormatFloat(float64(v), 'g', 6, 32)
	if f, err := strconv.ParseFloat(s, 32); err != nil || float32(f) != v {
		s = strconv.FormatFloat(float64(v), 'g', 9, 32)
	}
	return append(b, s...)
}

func refAppendTFDouble(b []byte, v float64) []byte {
	if s, ok := nonFinite(v); ok {
		return append(b, s...)
	}
	s := strconv.FormatFloat(v, 'g', 15, 64)
	if f, err := strconv.ParseFloat(s, 64); err != nil || f != v {
		s = strconv.FormatFloat(v, 'g', 17, 64)
	}
	return append(b, s...)
}

// printableTypes are the dtypes Print writes, each of the storages.
var printableTypes = []tfpb.DataType{
	tfpb.DataType_DT_FLOAT, tfpb.DataType_DT_DOUBLE,
	tfpb.DataType_DT_INT32, tfpb.DataType_DT_QINT32, tfpb.DataType_DT_INT64,
	tfpb.DataType_DT_UINT8, tfpb.DataType_DT_QUINT8, tfpb.DataType_DT_INT8, tfpb.DataType_DT_QINT8,
	tfpb.DataType_DT_INT16, tfpb.DataType_DT_QINT16, tfpb.DataType_DT_UINT16, tfpb.DataType_DT_QUINT16,
	tfpb.DataType_DT_BOOL, tfpb.DataType_DT_STRING,
}

// randFloat64 mixes ordinary values of many magnitudes with arbitrary bit
// patterns (NaNs of both signs, infinities, subnormals, ±0).
func randFloat64(r *rand.Rand) float64 {
	switch r.IntN(4) {
	case 0:
		return math.Float64frombits(r.Uint64())
	case 1:
		return float64(r.IntN(2001) - 1000)
	default:
		return r.NormFloat64() * math.Pow(10, float64(r.IntN(30)-15))
	}
}

func randFloat32(r *rand.Rand) float32 {
	if r.IntN(4) == 0 {
		return math.Float32frombits(r.Uint32())
	}
	return float32(randFloat64(r))
}

// randPrintTensor returns a tensor of dtype t and shape with random elements.
func randPrintTensor(r *rand.Rand, t tfpb.DataType, shape []int) *tensor.Tensor {
	n := tensor.NumElements(shape)
	x := &tensor.Tensor{DType: t, Shape: shape}
	switch tensor.StorageOf(t) {
	case tensor.StoreF32:
		x.F32 = make([]float32, n)
		for i := range x.F32 {
			x.F32[i] = randFloat32(r)
		}
	case tensor.StoreF64:
		x.F64 = make([]float64, n)
		for i := range x.F64 {
			x.F64[i] = randFloat64(r)
		}
	case tensor.StoreI32:
		x.I32 = make([]int32, n)
		for i := range x.I32 {
			x.I32[i] = int32(r.Uint32()) >> r.IntN(32)
		}
	case tensor.StoreI64:
		x.I64 = make([]int64, n)
		for i := range x.I64 {
			x.I64[i] = int64(r.Uint64()) >> r.IntN(64)
		}
	case tensor.StoreU8:
		x.U8 = make([]uint8, n)
		for i := range x.U8 {
			x.U8[i] = uint8(r.Uint32())
		}
	case tensor.StoreI8:
		x.I8 = make([]int8, n)
		for i := range x.I8 {
			x.I8[i] = int8(r.Uint32())
		}
	case tensor.StoreI16:
		x.I16 = make([]int16, n)
		for i := range x.I16 {
			x.I16[i] = int16(r.Uint32())
		}
	case tensor.StoreU16:
		x.U16 = make([]uint16, n)
		for i := range x.U16 {
			x.U16[i] = uint16(r.Uint32())
		}
	case tensor.StoreBool:
		x.Bool = make([]bool, n)
		for i := range x.Bool {
			x.Bool[i] = r.IntN(2) == 1
		}
	case tensor.StoreStr:
		x.Str = make([][]byte, n)
		for i := range x.Str {
			s := make([]byte, r.IntN(6)) // empty strings too
			if r.IntN(500) == 0 {
				s = make([]byte, 70<<10) // one element longer than a chunk
			}
			for j := range s {
				s[j] = " []\n.ab0"[r.IntN(8)]
			}
			x.Str[i] = s
		}
	default:
		panic("randPrintTensor: " + t.String())
	}
	return x
}

// randShape returns a shape of rank 0 to 4 with small dimensions (zero
// among them now and then), or one of a few shapes whose line crosses the
// 64 KiB chunk.
func randShape(r *rand.Rand) []int {
	if r.IntN(6) == 0 {
		big := [][]int{{30000}, {3, 7, 4000}, {2, 5, 3, 1500}, {12000, 1}, {1, 1, 20000}}
		return slices.Clone(big[r.IntN(len(big))])
	}
	shape := make([]int, r.IntN(5))
	for i := range shape {
		shape[i] = r.IntN(5) + 1
		if r.IntN(15) == 0 {
			shape[i] = 0
		}
	}
	return shape
}

// writeRecorder records each Write.
type writeRecorder struct {
	buf    bytes.Buffer
	writes []int
}

func (w *writeRecorder) Write(p []byte) (int, error) {
	w.writes = append(w.writes, len(p))
	return w.buf.Write(p)
}

// maxElemLen is the longest element text among xs.
func maxElemLen(xs []*tensor.Tensor) int {
	m := 24 // "-2.2250738585072014e-308", the longest double
	for _, x := range xs {
		for _, s := range x.Str {
			m = max(m, len(s))
		}
	}
	return m
}

// TestPrintStreamMatchesReference: the streamed line equals the reference
// line byte for byte for every printable dtype, many shapes (scalars, zero
// dimensions, lines of several chunks), the summarize values TF and qcal
// use (-1 all, 0, 1, TF's default 3, insert_logging's 1024) and chunk
// sizes from 1 byte up to printChunk; no Write is larger than a chunk plus
// what can follow its last check (the message, one element, brackets).
func TestPrintStreamMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	trials := 600
	if testing.Short() {
		trials = 150
	}
	bigLines := 0
	for trial := range trials {
		var xs []*tensor.Tensor
		for range 1 + r.IntN(3) {
			xs = append(xs, randPrintTensor(r, printableTypes[r.IntN(len(printableTypes))], randShape(r)))
		}
		summarize := []int{-1, 0, 1, 3, 1024}[r.IntN(5)]
		msg := ";n" + strconv.Itoa(trial) + "__print__;__KL:"
		want, err := refLine(msg, xs, summarize)
		if err != nil {
			t.Fatal(err)
		}
		for _, chunk := range []int{1, 7, 100, printChunk} {
			sums := make([]summary, len(xs))
			for i, x := range xs {
				if sums[i], err = newSummary(x, summarize); err != nil {
					t.Fatal(err)
				}
			}
			var rec writeRecorder
			lw := lineWriter{w: &rec, mu: new(sync.Mutex), chunk: chunk}
			if err := lw.writeLine(msg, sums); err != nil {
				t.Fatal(err)
			}
			if got := rec.buf.Bytes(); !bytes.Equal(got, want) {
				i := 0
				for i < min(len(got), len(want)) && got[i] == want[i] {
					i++
				}
				t.Fatalf("trial %d, chunk %d, summarize %d, shapes %v: line differs at byte %d of %d/%d:\n got …%q\nwant …%q",
					trial, chunk, summarize, shapesOf(xs), i, len(got), len(want),
					got[max(i-40, 0):min(i+40, len(got))], want[max(i-40, 0):min(i+40, len(want))])
			}
			bound := chunk + len(msg) + maxElemLen(xs) + 32
			for k, n := range rec.writes {
				if n > bound {
					t.Fatalf("trial %d, chunk %d: write %d of %d bytes, beyond %d", trial, chunk, k, n, bound)
				}
			}
			if chunk == printChunk && len(want) > 2*bound {
				bigLines++
				if len(rec.writes) < len(want)/bound {
					t.Errorf("trial %d: a line of %d bytes in %d writes", trial, len(want), len(rec.writes))
				}
			}
		}
	}
	if bigLines < trials/20 {
		t.Errorf("only %d lines crossed the chunk size", bigLines)
	}
}

func shapesOf(xs []*tensor.Tensor) [][]int {
	var s [][]int
	for _, x := range xs {
		s = append(s, x.Shape)
	}
	return s
}

// TestPrintStreamEdgeSummaries pins the summaries at the limit's edges,
// worked by hand from TF 1.15's PrintOneDim (the reference agrees):
// a cut at a row's end adds no "..." inside, a cut inside a row of a
// rank ≥ 2 tensor does; zero elements give empty brackets.
func TestPrintStreamEdgeSummaries(t *testing.T) {
	cases := []struct {
		shape     []int
		summarize int
		want      string
	}{
		{[]int{2, 2, 2}, -1, "[[[1 2][3 4]][[5 6][7 8]]]"},
		{[]int{2, 2, 2}, 4, "[[[1 2][3 4]]...]"},
		{[]int{2, 2, 2}, 5, "[[[1 2][3 4]][[5...]]...]"},
		{[]int{2, 2, 2}, 0, "[...]"},
		{[]int{3, 1}, 2, "[[1][2]...]"},
		{[]int{}, 0, "[...]"},
		{[]int{}, 3, "[1]"},
		{[]int{2, 0}, -1, "[]"},
		{[]int{0}, 3, "[]"},
		{[]int{5}, 5, "[1 2 3 4 5]"},
	}
	for _, c := range cases {
		var buf bytes.Buffer
		runPrint(t, "p", attrs{"summarize": aInt(c.summarize)}, NewPrintLog(&buf), sc(0), ramp(c.shape...))
		if got := strings.TrimSuffix(buf.String(), "\n"); got != c.want {
			t.Errorf("shape %v summarize %d: %q, want %q", c.shape, c.summarize, got, c.want)
		}
		ref, _ := refLine("", []*tensor.Tensor{ramp(c.shape...)}, c.summarize)
		if string(ref) != c.want+"\n" {
			t.Errorf("shape %v summarize %d: reference %q, want %q", c.shape, c.summarize, ref, c.want)
		}
	}
}

// TestPrintFloatsMatchReference: AppendTFFloat and appendTFDouble
// append in place (no string allocated) and still write what the old
// FormatFloat-based code wrote, on a million random bit patterns.
func TestPrintFloatsMatchReference(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	n := 1 << 20
	if testing.Short() {
		n = 1 << 16
	}
	var got, want []byte
	for range n {
		f := randFloat32(r)
		got = AppendTFFloat(append(got[:0], 'x'), f)
		want = refAppendTFFloat(append(want[:0], 'x'), f)
		if !bytes.Equal(got, want) {
			t.Fatalf("AppendTFFloat(%08x) = %q, want %q", math.Float32bits(f), got, want)
		}
		d := randFloat64(r)
		got = appendTFDouble(append(got[:0], 'x'), d)
		want = refAppendTFDouble(append(want[:0], 'x'), d)
		if !bytes.Equal(got, want) {
			t.Fatalf("appendTFDouble(%016x) = %q, want %q", math.Float64bits(d), got, want)
		}
	}
	buf := make([]byte, 0, 64)
	if a := testing.AllocsPerRun(100, func() { buf = AppendTFFloat(buf[:0], 5.72005272) }); a != 0 {
		t.Errorf("AppendTFFloat allocates %v times per call, want 0", a)
	}
}

// TestPrintThroughOp: the op with a PrintLog (prefix, first_n), a plain
// writer and the default summarize writes the reference lines.
func TestPrintThroughOp(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	const prefix = "I0108 10:22:14.123456 12345 logging_ops.cc:79] "
	for _, firstN := range []int{-1, 0, 1, 3} {
		for _, summarize := range []int{-2, -1, 0, 1, 3, 1024} {
			var buf bytes.Buffer
			log := NewPrintLog(&buf)
			log.Prefix = prefix
			var want bytes.Buffer
			a := attrs{"message": aStr(";big__print__;__KL:"), "first_n": aInt(firstN), "summarize": aInt(summarize)}
			for run := range 5 {
				x := randPrintTensor(r, printableTypes[r.IntN(len(printableTypes))], []int{2, 3, 1 + r.IntN(20000)})
				y := randPrintTensor(r, tfpb.DataType_DT_QINT32, []int{r.IntN(40000)})
				runPrint(t, "big__print__", a, log, sc(1), x, y)
				if firstN < 0 || run < firstN {
					line, _ := refLine(";big__print__;__KL:", []*tensor.Tensor{x, y}, summarize)
					want.WriteString(prefix)
					want.Write(line)
				}
			}
			if !bytes.Equal(buf.Bytes(), want.Bytes()) {
				t.Errorf("first_n %d summarize %d: %d bytes logged, want %d (or different bytes)", firstN, summarize, buf.Len(), want.Len())
			}
		}
	}
	// A plain writer, the attr defaults (summarize 3, empty message).
	var buf bytes.Buffer
	x := randPrintTensor(r, tfpb.DataType_DT_FLOAT, []int{300, 400})
	runPrint(t, "p", attrs{}, &buf, sc(1), x, x)
	want, _ := refLine("", []*tensor.Tensor{x, x}, 3)
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("plain writer: %q, want %q", buf.Bytes(), want)
	}
}

// TestPrintBadInputWritesNothing: an unprintable or malformed input fails
// the node before any byte of the line is written, whatever the writer
// (io.Discard included, where nothing would be formatted).
func TestPrintBadInputWritesNothing(t *testing.T) {
	big := randPrintTensor(rand.New(rand.NewPCG(7, 8)), tfpb.DataType_DT_INT32, []int{100000})
	short := &tensor.Tensor{DType: tfpb.DataType_DT_INT32, Shape: []int{2, 3}, I32: []int32{1, 2, 3}}
	half := &tensor.Tensor{DType: tfpb.DataType_DT_HALF, Shape: []int{1}, U16: []uint16{0x3c00}}
	cases := []struct {
		bad  *tensor.Tensor
		want string
	}{
		{short, `input 2 ("in"): int32 tensor of shape [2,3] holds 3 elements, not 6`},
		{half, `input 2 ("in"): Print of half tensors is not supported`},
	}
	for _, c := range cases {
		var buf bytes.Buffer
		for _, log := range []io.Writer{NewPrintLog(&buf), &buf, io.Discard} {
			n := &tfpb.NodeDef{Name: "p", Op: "Print", Attr: attrs{"summarize": aInt(-1)}, Input: []string{"in", "in", "in"}}
			d, _ := Lookup("Print")
			_, err := d.Run(&Context{Node: n, Inputs: []*tensor.Tensor{sc(1), big, c.bad}, Log: log})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%T: error %v, want one containing %q", log, err, c.want)
			}
			if buf.Len() != 0 {
				t.Errorf("%T: %d bytes written before the error", log, buf.Len())
			}
		}
	}
}

// failWriter fails once it has taken more than n bytes.
type failWriter struct{ n int }

func (w *failWriter) Write(p []byte) (int, error) {
	if w.n -= len(p); w.n < 0 {
		return 0, errors.New("disk full")
	}
	return len(p), nil
}

// TestPrintWriteErrorReleasesLock: a write failing in the middle of a
// line is returned (wrapped, naming the print log) and the PrintLog's lock
// is released: the next Print on it does not block.
func TestPrintWriteErrorReleasesLock(t *testing.T) {
	fw := &failWriter{n: 3 * printChunk}
	log := NewPrintLog(fw)
	x := randPrintTensor(rand.New(rand.NewPCG(9, 10)), tfpb.DataType_DT_INT32, []int{200000})
	n := &tfpb.NodeDef{Name: "p", Op: "Print", Attr: attrs{"summarize": aInt(-1)}, Input: []string{"a", "b"}}
	d, _ := Lookup("Print")
	for i := range 2 {
		done := make(chan error, 1)
		go func() {
			_, err := d.Run(&Context{Node: n, Inputs: []*tensor.Tensor{sc(1), x}, Log: log})
			done <- err
		}()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), "print log: disk full") {
				t.Errorf("call %d: error %v, want print log: disk full", i, err)
			}
		case <-time.After(time.Minute):
			t.Fatalf("call %d: Print blocked after a write error", i)
		}
	}
}

// inFlight fails the test when two Writes overlap.
type inFlight struct {
	buf     bytes.Buffer
	active  atomic.Int32
	overlap atomic.Bool
}

func (w *inFlight) Write(p []byte) (int, error) {
	if w.active.Add(1) > 1 {
		w.overlap.Store(true)
	}
	defer w.active.Add(-1)
	return w.buf.Write(p)
}

// TestPrintConcurrentLines: goroutines printing tensors of several chunks
// each through one PrintLog (and through one plain writer) give whole
// lines: every line is one of the expected lines, each once, and logparse
// reads every tensor back value for value.
func TestPrintConcurrentLines(t *testing.T) {
	const goroutines, prints = 8, 4
	r := rand.New(rand.NewPCG(11, 12))
	xs := make([][]*tensor.Tensor, goroutines)
	want := map[string]int{}
	for g := range xs {
		for p := range prints {
			// Integers below 2^24 read back exactly as float32.
			x := &tensor.Tensor{DType: tfpb.DataType_DT_QINT32, Shape: []int{2, 10, 1000 + r.IntN(2000)}}
			x.I32 = make([]int32, tensor.NumElements(x.Shape))
			for i := range x.I32 {
				x.I32[i] = int32(r.IntN(1<<24) - 1<<23)
			}
			xs[g] = append(xs[g], x)
			line, _ := refLine(fmt.Sprintf(";g%d_%d__print__;__KL:", g, p), []*tensor.Tensor{x}, -1)
			want[string(line)]++
		}
	}
	for _, plain := range []bool{false, true} {
		var w inFlight
		var log io.Writer = &w
		if !plain {
			log = NewPrintLog(&w)
		}
		var wg sync.WaitGroup
		errs := make(chan error, goroutines*prints)
		for g := range goroutines {
			wg.Go(func() {
				d, _ := Lookup("Print")
				for p, x := range xs[g] {
					name := fmt.Sprintf("g%d_%d__print__", g, p)
					n := &tfpb.NodeDef{Name: name, Op: "Print", Input: []string{"a", "b"},
						Attr: attrs{"message": aStr(";" + name + ";__KL:"), "summarize": aInt(-1)}}
					if _, err := d.Run(&Context{Node: n, Inputs: []*tensor.Tensor{sc(1), x}, Log: log}); err != nil {
						errs <- err
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if w.overlap.Load() {
			t.Errorf("plain %v: two Writes overlapped", plain)
		}
		got := map[string]int{}
		lines := strings.SplitAfter(w.buf.String(), "\n")
		for _, l := range lines[:len(lines)-1] {
			got[l]++
		}
		if len(got) != len(want) || len(lines) != goroutines*prints+1 {
			t.Errorf("plain %v: %d lines (%d distinct), want %d", plain, len(lines)-1, len(got), len(want))
		}
		for l, k := range got {
			if want[l] != k {
				t.Errorf("plain %v: a line of %d bytes (%.40q…) appears %d times, want %d", plain, len(l), l, k, want[l])
			}
		}

		rd := logparse.NewReader(bytes.NewReader(w.buf.Bytes()), "concurrent.log")
		rd.Values = []string{"__KL:"}
		vals := map[string][]float32{}
		for rd.Scan() {
			if se := rd.SyntaxError(); se != nil {
				t.Errorf("plain %v: %v", plain, se)
				continue
			}
			if rec := rd.Record(); rec.Kind == logparse.Values {
				vals[rec.Node] = append(vals[rec.Node], rec.Values...)
			}
		}
		if err := rd.Err(); err != nil {
			t.Fatal(err)
		}
		for g := range goroutines {
			for p, x := range xs[g] {
				node := fmt.Sprintf("g%d_%d", g, p)
				v := vals[node]
				if len(v) != len(x.I32) {
					t.Errorf("plain %v: node %s: %d values read back, want %d", plain, node, len(v), len(x.I32))
					continue
				}
				for i, q := range x.I32 {
					if v[i] != float32(q) {
						t.Errorf("plain %v: node %s value %d: %v, want %d", plain, node, i, v[i], q)
						break
					}
				}
			}
		}
	}
}

// countWriter counts bytes, keeping none.
type countWriter struct{ n int64 }

func (w *countWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

// TestPrintMemory: printing a 20 M-element int32 tensor whole (a line of
// ~170 MB) allocates well under 1 MiB and keeps the heap in use within a
// few MiB of where it was, sampled every millisecond while it runs. The
// old Print built the line in a slice, allocating 2× the line or more.
func TestPrintMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("a 20 M-element tensor: skipped in -short")
	}
	shape := []int{20, 100, 100, 100}
	x := &tensor.Tensor{DType: tfpb.DataType_DT_QINT32, Shape: shape, I32: make([]int32, 20_000_000)}
	r := rand.New(rand.NewPCG(13, 14))
	digits := 0
	for i := range x.I32 {
		x.I32[i] = int32(r.IntN(2_000_001) - 1_000_000)
		digits += len(strconv.Itoa(int(x.I32[i])))
	}
	const msg = ";conv__print__;__KL:"
	// Worked out: msg, "[" ... "]", "\n"; per row of 100, 99 spaces; a
	// bracket pair per element of each outer dimension: 20 + 20·100 +
	// 20·100·100 = 202020 pairs.
	lineLen := int64(len(msg) + 2 + digits + 200000*99 + 2*202020 + 1)

	var w countWriter
	log := NewPrintLog(&w)
	n := &tfpb.NodeDef{Name: "conv__print__", Op: "Print", Input: []string{"a", "b"},
		Attr: attrs{"message": aStr(msg), "summarize": aInt(-1)}}
	d, _ := Lookup("Print")
	ctx := &Context{Node: n, Inputs: []*tensor.Tensor{sc(1), x}, Log: log}

	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	stop, peakc := make(chan struct{}), make(chan uint64)
	go func() {
		var ms runtime.MemStats
		peak := uint64(0)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			select {
			case <-stop:
				peakc <- peak
				return
			case <-tick.C:
			}
		}
	}()
	if _, err := d.Run(ctx); err != nil {
		t.Fatal(err)
	}
	close(stop)
	peak := <-peakc
	runtime.ReadMemStats(&after)

	if w.n != lineLen {
		t.Errorf("line of %d bytes, want %d", w.n, lineLen)
	}
	alloc := after.TotalAlloc - before.TotalAlloc
	grew := int64(peak) - int64(before.HeapInuse)
	t.Logf("line %d MB; allocated %d KiB; peak HeapInuse %+d KiB over %d MiB before", lineLen>>20, alloc>>10, grew>>10, before.HeapInuse>>20)
	if alloc > 1<<20 {
		t.Errorf("Print allocated %d bytes for a line of %d", alloc, lineLen)
	}
	if grew > 16<<20 {
		t.Errorf("heap in use grew by %d bytes while printing a line of %d", grew, lineLen)
	}
	runtime.KeepAlive(x)
}

// BenchmarkPrint: a whole tensor (summarize -1, as qcal tune logs) through
// a PrintLog into a writer that keeps nothing; "stream" is Print,
// "reference" the old whole-line code. MB/s counts the line's bytes.
func BenchmarkPrint(b *testing.B) {
	r := rand.New(rand.NewPCG(15, 16))
	qi := randPrintTensor(r, tfpb.DataType_DT_QINT32, []int{8, 56, 56, 64})
	for i := range qi.I32 {
		qi.I32[i] = int32(r.IntN(1<<20) - 1<<19) // accumulators: ~6 digits
	}
	f := randPrintTensor(r, tfpb.DataType_DT_FLOAT, []int{8, 28, 28, 64})
	for i := range f.F32 {
		f.F32[i] = float32(r.NormFloat64())
	}
	for _, x := range []*tensor.Tensor{qi, f} {
		const msg = ";conv__print__;__KL:"
		line, _ := refLine(msg, []*tensor.Tensor{x}, -1)
		name := tensor.TypeName(x.DType)
		report := func(b *testing.B) {
			b.ReportMetric(float64(x.Len())*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mvalues/s")
		}
		b.Run(name+"/stream", func(b *testing.B) {
			log := NewPrintLog(&countWriter{})
			n := &tfpb.NodeDef{Name: "conv__print__", Op: "Print", Input: []string{"a", "b"},
				Attr: attrs{"message": aStr(msg), "summarize": aInt(-1)}}
			d, _ := Lookup("Print")
			ctx := &Context{Node: n, Inputs: []*tensor.Tensor{sc(1), x}, Log: log}
			b.SetBytes(int64(len(line)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := d.Run(ctx); err != nil {
					b.Fatal(err)
				}
			}
			report(b)
		})
		b.Run(name+"/reference", func(b *testing.B) {
			w := NewPrintLog(&countWriter{})
			b.SetBytes(int64(len(line)))
			b.ReportAllocs()
			for b.Loop() {
				l, err := refLine(msg, []*tensor.Tensor{x}, -1)
				if err != nil {
					b.Fatal(err)
				}
				if err := w.line(l); err != nil {
					b.Fatal(err)
				}
			}
			report(b)
		})
	}
}

// TestPrintDiscard: with io.Discard or a nil Log (the executor's default
// when no log is wanted) Print passes input 0 through, first_n needs no
// PrintLog (no call prints anything), and a bad input is still an error.
func TestPrintDiscard(t *testing.T) {
	for _, log := range []io.Writer{io.Discard, nil} {
		x := ramp(2, 3)
		out := runPrint(t, "p", attrs{"first_n": aInt(2), "summarize": aInt(-1)}, log, x, randPrintTensor(rand.New(rand.NewPCG(1, 1)), tfpb.DataType_DT_INT32, []int{1000}))
		if out[0] != x {
			t.Errorf("%T: output 0 is not input 0", log)
		}
		n := &tfpb.NodeDef{Name: "p", Op: "Print", Input: []string{"a", "b"}}
		d, _ := Lookup("Print")
		bad := &tensor.Tensor{DType: tfpb.DataType_DT_BFLOAT16, Shape: []int{1}, U16: []uint16{1}}
		if _, err := d.Run(&Context{Node: n, Inputs: []*tensor.Tensor{x, bad}, Log: log}); err == nil || !strings.Contains(err.Error(), "Print of bfloat16 tensors is not supported") {
			t.Errorf("%T: error %v, want the bfloat16 one", log, err)
		}
	}
}
