package graphio

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"qcal/internal/testutil"
	"qcal/internal/tfpb"
)

func realGraphsDir(tb testing.TB) string { return testutil.RealData(tb, "graphs") }

// realGraphs lists the graph files in the real-data folder.
func realGraphs(tb testing.TB) []string {
	tb.Helper()
	dir := realGraphsDir(tb)
	entries, err := os.ReadDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	var files []string
	for _, e := range entries {
		switch filepath.Ext(e.Name()) {
		case ".pb", ".pbtxt":
			files = append(files, filepath.Join(dir, e.Name()))
		}
	}
	if len(files) == 0 {
		tb.Skipf("no .pb or .pbtxt files in %s", dir)
	}
	return files
}

// wantFormat is the format each real graph is known to be in (see
// SOURCES.md there): two are text, one of them under a .pb name.
var wantFormat = map[string]Format{
	"fcn_frozen_textformat.pb":          Text,
	"tf1_training_graph_unfrozen.pbtxt": Text,
	"fashion_fcn_frozen.pb":             Binary,
	"linreg_frozen.pb":                  Binary,
	"logreg_frozen.pb":                  Binary,
	"mnist_cnn_frozen.pb":               Binary,
	"mnist_keras_cnn_frozen.pb":         Binary,
}

func TestRealGraphsLoadAndRoundTrip(t *testing.T) {
	for _, path := range realGraphs(t) {
		base := filepath.Base(path)
		t.Run(base, func(t *testing.T) {
			orig, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			g, f, err := Load(path)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			want, known := wantFormat[base]
			if !known {
				want = FormatForPath(path)
			}
			if f != want {
				t.Errorf("format = %v, want %v", f, want)
			}

			// Independent node count: top-level field-1 entries in the
			// wire bytes, or "node {" lines at column 0 in a text file.
			if f == Binary {
				if n := countTopLevelField(t, orig, 1); n != len(g.GetNode()) {
					t.Errorf("decoded %d nodes, wire bytes hold %d", len(g.GetNode()), n)
				}
			} else {
				if n := strings.Count("\n"+string(orig), "\nnode {"); n != len(g.GetNode()) {
					t.Errorf("decoded %d nodes, text holds %d `node {` lines", len(g.GetNode()), n)
				}
			}

			for _, enc := range []Format{Binary, Text} {
				data, err := Encode(g, enc)
				if err != nil {
					t.Fatalf("Encode(%v): %v", enc, err)
				}
				again, err := Encode(g, enc)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(data, again) {
					t.Errorf("Encode(%v) is not deterministic", enc)
				}
				g2, f2, err := Decode(data, base+" re-encoded")
				if err != nil {
					t.Fatalf("Decode(Encode(%v)): %v", enc, err)
				}
				if f2 != enc {
					t.Errorf("re-encoded %v detected as %v", enc, f2)
				}
				if !proto.Equal(g, g2) {
					t.Errorf("Decode(Encode(%v)) differs from the decoded graph", enc)
				}
			}

			if f == Binary {
				checkBinaryReencoding(t, g, orig)
			}
		})
	}
}

// checkBinaryReencoding compares qcal's binary encoding of a real graph with
// the bytes TensorFlow wrote. TensorFlow serializes map entries in hash-table
// order while qcal sorts them by key, so the bytes are equal only when every
// map was already sorted; what must hold in any case is that the two differ
// at most in the order of the attr entries inside each node.
func checkBinaryReencoding(t *testing.T, g *tfpb.GraphDef, orig []byte) {
	t.Helper()
	data, err := Encode(g, Binary)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(data, orig) {
		return
	}
	t.Logf("binary re-encoding differs from the original bytes (TensorFlow wrote attr maps unsorted); comparing with attr entries sorted")
	if len(data) != len(orig) {
		t.Fatalf("re-encoded %d bytes, original has %d", len(data), len(orig))
	}
	a, b := canonicalAttrOrder(t, orig), canonicalAttrOrder(t, data)
	if !bytes.Equal(a, b) {
		t.Errorf("re-encoding differs from the original by more than attr order")
	}
}

// canonicalAttrOrder rewrites a binary GraphDef with the attr entries (field
// 5) of each top-level node (field 1) sorted bytewise, leaving every other
// byte as it is. Sorting the raw entries sorts them by key, since each entry
// starts with its key.
func canonicalAttrOrder(t *testing.T, b []byte) []byte {
	t.Helper()
	var out []byte
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		m := protowire.ConsumeFieldValue(num, typ, b[max(n, 0):])
		if n < 0 || m < 0 {
			t.Fatalf("bad wire data at top level")
		}
		if num != 1 || typ != protowire.BytesType {
			out = append(out, b[:n+m]...)
			b = b[n+m:]
			continue
		}
		node, _ := protowire.ConsumeBytes(b[n:])
		var rest []byte
		var attrs [][]byte
		for len(node) > 0 {
			fnum, ftyp, fn := protowire.ConsumeTag(node)
			fm := protowire.ConsumeFieldValue(fnum, ftyp, node[max(fn, 0):])
			if fn < 0 || fm < 0 {
				t.Fatalf("bad wire data in a node")
			}
			if fnum == 5 {
				attrs = append(attrs, node[:fn+fm])
			} else {
				rest = append(rest, node[:fn+fm]...)
			}
			node = node[fn+fm:]
		}
		slices.SortFunc(attrs, bytes.Compare)
		out = protowire.AppendTag(out, 1, protowire.BytesType)
		out = protowire.AppendVarint(out, uint64(len(rest)+len(slices.Concat(attrs...))))
		out = append(out, rest...)
		for _, a := range attrs {
			out = append(out, a...)
		}
		b = b[n+m:]
	}
	return out
}

// countTopLevelField counts the occurrences of field num at the top level of
// binary protobuf bytes.
func countTopLevelField(t *testing.T, b []byte, num protowire.Number) int {
	t.Helper()
	count := 0
	for len(b) > 0 {
		fnum, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			t.Fatalf("bad tag: %v", protowire.ParseError(n))
		}
		m := protowire.ConsumeFieldValue(fnum, typ, b[n:])
		if m < 0 {
			t.Fatalf("bad field %d: %v", fnum, protowire.ParseError(m))
		}
		if fnum == num {
			count++
		}
		b = b[n+m:]
	}
	return count
}

// TestRealGraphFacts checks facts about linreg_frozen.pb read straight from
// its wire bytes, independently of the loader: the node count, the first
// node's name and op, and versions.producer.
func TestRealGraphFacts(t *testing.T) {
	path := filepath.Join(realGraphsDir(t), "linreg_frozen.pb")
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("linreg_frozen.pb not available: %v", err)
	}
	var nodes int
	var firstName, firstOp string
	var producer int64 = -1
	for b := orig; len(b) > 0; {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			t.Fatal("bad tag")
		}
		val, m := protowire.ConsumeBytes(b[n:])
		if typ != protowire.BytesType || m < 0 {
			t.Fatalf("top-level field %d is not length-delimited", num)
		}
		switch num {
		case 1:
			if nodes == 0 {
				firstName, firstOp = stringField(t, val, 1), stringField(t, val, 2)
			}
			nodes++
		case 4:
			producer = varintField(t, val, 1)
		}
		b = b[n+m:]
	}
	// The source description (SOURCES.md) calls it an 8-node model with
	// input x[-1,4].
	if nodes != 8 {
		t.Errorf("wire walk found %d nodes; SOURCES.md describes an 8-node model", nodes)
	}

	g, f, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if f != Binary {
		t.Errorf("format = %v, want binary", f)
	}
	if got := len(g.GetNode()); got != nodes {
		t.Errorf("Load: %d nodes, wire walk: %d", got, nodes)
	}
	if n := g.GetNode()[0]; n.GetName() != firstName || n.GetOp() != firstOp {
		t.Errorf("first node = %q/%q, wire walk: %q/%q", n.GetName(), n.GetOp(), firstName, firstOp)
	}
	if got := int64(g.GetVersions().GetProducer()); got != producer {
		t.Errorf("versions.producer = %d, wire walk: %d", got, producer)
	}
	t.Logf("linreg_frozen.pb: %d nodes, first %q (%s), producer %d", nodes, firstName, firstOp, producer)
}

// stringField returns the last occurrence of a length-delimited field.
func stringField(t *testing.T, b []byte, want protowire.Number) string {
	t.Helper()
	var s string
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		m := protowire.ConsumeFieldValue(num, typ, b[max(n, 0):])
		if n < 0 || m < 0 {
			t.Fatal("bad wire data")
		}
		if num == want && typ == protowire.BytesType {
			v, _ := protowire.ConsumeBytes(b[n:])
			s = string(v)
		}
		b = b[n+m:]
	}
	return s
}

// varintField returns the last occurrence of a varint field, or -1.
func varintField(t *testing.T, b []byte, want protowire.Number) int64 {
	t.Helper()
	v := int64(-1)
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		m := protowire.ConsumeFieldValue(num, typ, b[max(n, 0):])
		if n < 0 || m < 0 {
			t.Fatal("bad wire data")
		}
		if num == want && typ == protowire.VarintType {
			x, _ := protowire.ConsumeVarint(b[n:])
			v = int64(x)
		}
		b = b[n+m:]
	}
	return v
}

// TestRealTextGraphsReencode checks the text writer against text files that
// TensorFlow wrote: re-encoding must give the same lines, except that a float
// may be spelled differently ("0.0" by Python, "0" by C++) with the same
// value.
func TestRealTextGraphsReencode(t *testing.T) {
	dir := realGraphsDir(t)
	for _, tc := range []struct {
		base  string
		exact bool // the file was written by TensorFlow's C++ printer
	}{
		{"fcn_frozen_textformat.pb", true},
		{"tf1_training_graph_unfrozen.pbtxt", false},
	} {
		base := tc.base
		t.Run(base, func(t *testing.T) {
			orig, err := os.ReadFile(filepath.Join(dir, base))
			if err != nil {
				t.Skipf("%s not available: %v", base, err)
			}
			g, _, err := Decode(orig, base)
			if err != nil {
				t.Fatal(err)
			}
			out, err := Encode(g, Text)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Equal(out, orig) {
				return
			}
			if tc.exact {
				t.Errorf("re-encoded text differs from the original: %s", firstLineDiff(string(orig), string(out)))
			}
			ol := strings.Split(string(orig), "\n")
			nl := strings.Split(string(out), "\n")
			if len(ol) != len(nl) {
				t.Fatalf("re-encoded text has %d lines, original %d", len(nl), len(ol))
			}
			respelled := 0
			for i := range ol {
				if ol[i] == nl[i] {
					continue
				}
				if !sameFloatLine(ol[i], nl[i]) {
					t.Fatalf("line %d differs:\n  original:   %s\n  re-encoded: %s", i+1, ol[i], nl[i])
				}
				respelled++
			}
			t.Logf("%d float values spelled differently (same values)", respelled)
		})
	}
}

func firstLineDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(al), len(bl)) {
		if al[i] != bl[i] {
			return "line " + strconv.Itoa(i+1) + ": " + strconv.Quote(al[i]) + " vs " + strconv.Quote(bl[i])
		}
	}
	return "line counts " + strconv.Itoa(len(al)) + " vs " + strconv.Itoa(len(bl))
}

// sameFloatLine reports whether a and b are `name: number` lines that differ
// only in how the same float32 value is spelled.
func sameFloatLine(a, b string) bool {
	an, av, ok1 := strings.Cut(a, ": ")
	bn, bv, ok2 := strings.Cut(b, ": ")
	if !ok1 || !ok2 || an != bn {
		return false
	}
	x, err1 := strconv.ParseFloat(av, 32)
	y, err2 := strconv.ParseFloat(bv, 32)
	return err1 == nil && err2 == nil && x == y
}
