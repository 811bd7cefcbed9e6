package checkpoint

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"qcal/internal/graphio"
	"qcal/internal/testutil"
	"qcal/internal/tfpb"
)

func TestCRC(t *testing.T) {
	// TF-FILES.md §1: crc32c("123456789") = 0xE3069283.
	if got := crc32c([]byte("123456789")); got != 0xe3069283 {
		t.Errorf("crc32c(123456789) = %#x, want 0xe3069283", got)
	}
	// TF-FILES.md §3.4: stored (masked) and computed CRCs of the prathmesh
	// entries beta1_power, beta2_power, conv1/bias.
	for _, c := range []struct{ stored, crc uint32 }{
		{0x3a117ba6, 0x48674bc7}, {0x8aae96cb, 0xd5f9f415}, {0xa99b21a2, 0x1b65038c},
	} {
		if got := unmask(c.stored); got != c.crc {
			t.Errorf("unmask(%#x) = %#x, want %#x", c.stored, got, c.crc)
		}
		if got := mask(c.crc); got != c.stored {
			t.Errorf("mask(%#x) = %#x, want %#x", c.crc, got, c.stored)
		}
	}
}

func prathmesh(t testing.TB) string {
	return filepath.Join(testutil.RealData(t, "checkpoints/prathmesh_mnist_cnn"), "mnist.ckpt-75")
}

func estimator(t testing.TB) string {
	return filepath.Join(testutil.RealData(t, "batchnorm/mengwanguc_cifar10_resnet_ckpt"), "model.ckpt-19540")
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestPrathmeshIndexWorkedExample checks the table layer against the worked
// example of TF-FILES.md §3.4 (mnist.ckpt-75.index, 901 bytes).
func TestPrathmeshIndexWorkedExample(t *testing.T) {
	data, err := os.ReadFile(prathmesh(t) + ".index")
	if err != nil {
		t.Fatal(err)
	}
	if len(data) != 901 {
		t.Fatalf("index is %d bytes, want 901", len(data))
	}
	footer := data[853:]
	meta, n := decodeHandle(footer)
	index, _ := decodeHandle(footer[n:])
	if meta != (handle{820, 8}) || index != (handle{833, 15}) {
		t.Errorf("footer handles = %v, %v; want {820 8}, {833 15}", meta, index)
	}
	ib, err := readBlock(data[:853], index, "index")
	if err != nil {
		t.Fatal(err)
	}
	if want := unhex(t, "00 01 03 65 00af06 00000000 01000000"); !bytes.Equal(ib, want) {
		t.Errorf("index block = %x, want %x", ib, want)
	}
	block, err := readBlock(data[:853], handle{0, 815}, "data")
	if err != nil {
		t.Fatal(err)
	}
	// Restarts [0, 472], count 2, at the end of the block.
	if got := block[len(block)-12:]; !bytes.Equal(got, unhex(t, "00000000 d8010000 02000000")) {
		t.Errorf("restart array = %x, want restarts 0 and 472, count 2", got)
	}
	entries, err := readTable(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 27 {
		t.Fatalf("%d entries, want 27 (header + 26 tensors)", len(entries))
	}
	want := []struct{ key, prefix, value string }{
		{"", "00 00 06", "08011a020801"},
		{"beta1_power", "00 0b 0b", "0801 1200 2804 35a67b113a"},
		{"beta2_power", "04 07 0d", "0801 1200 2004 2804 35cb96ae8a"},
		{"conv1/bias", "00 0a 11", "0801 12041202 0808 2008 2820 35a2219ba9"},
	}
	for i, w := range want {
		if string(entries[i].key) != w.key || !bytes.Equal(entries[i].value, unhex(t, w.value)) {
			t.Errorf("entry %d = %q %x, want %q %s", i, entries[i].key, entries[i].value, w.key, w.value)
		}
		// The entry's encoding in the block starts with its three varints.
		enc := append(unhex(t, w.prefix), []byte(w.key)[unhex(t, w.prefix)[0]:]...)
		if !bytes.Contains(block, append(enc, unhex(t, w.value)...)) {
			t.Errorf("entry %q is not encoded as %s + suffix + value", w.key, w.prefix)
		}
	}
	// "dense10/bias/Adam" starts at block offset 472, a restart: shared 0.
	if !bytes.HasPrefix(block[472:], append([]byte{0, 17}, []byte{}...)) || !bytes.HasPrefix(block[475:], []byte("dense10/bias/Adam")) {
		t.Errorf("block offset 472 = %x, want restart entry dense10/bias/Adam with shared 0", block[472:495])
	}
}

// TestWriterMatchesRealIndex rebuilds both real indexes from their entries
// with the test writer and TensorFlow's options: the bytes must come out the
// same, which makes the writer a fair source of test checkpoints.
func TestWriterMatchesRealIndex(t *testing.T) {
	for _, prefix := range []string{prathmesh(t), estimator(t)} {
		data, err := os.ReadFile(prefix + ".index")
		if err != nil {
			t.Fatal(err)
		}
		entries, err := readTable(data)
		if err != nil {
			t.Fatalf("%s: %v", prefix, err)
		}
		if got := buildTable(entries, tfTableOptions); !bytes.Equal(got, data) {
			t.Errorf("%s.index: rebuilt %d bytes differ from the real %d", prefix, len(got), len(data))
		}
	}
}

func TestPrathmeshEntries(t *testing.T) {
	r, err := Open(prathmesh(t))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if got := len(r.Names()); got != 26 {
		t.Errorf("%d names, want 26 (TF-FILES.md §4)", got)
	}
	// TF-FILES.md §3.4 table.
	for _, w := range []struct {
		name         string
		shape        string
		offset, size int64
		crc          uint32
	}{
		{"beta1_power", "[]", 0, 4, 0x3a117ba6},
		{"beta2_power", "[]", 4, 4, 0x8aae96cb},
		{"conv1/bias", "[8]", 8, 32, 0xa99b21a2},
	} {
		e, ok := r.Entry(w.name)
		if !ok {
			t.Fatalf("no entry %q", w.name)
		}
		if e.GetDtype() != tfpb.DataType_DT_FLOAT || ShapeString(e.GetShape()) != w.shape || e.GetOffset() != w.offset || e.GetSize() != w.size || e.GetCrc32C() != w.crc {
			t.Errorf("%s: dtype %v shape %s offset %d size %d crc %#x; want float %s %d %d %#x", w.name,
				e.GetDtype(), ShapeString(e.GetShape()), e.GetOffset(), e.GetSize(), e.GetCrc32C(), w.shape, w.offset, w.size, w.crc)
		}
	}
	if h := r.Header(); h.GetNumShards() != 1 || h.GetVersion().GetProducer() != 1 {
		t.Errorf("header = %v, want num_shards 1, producer 1", h)
	}
}

// TestFrozenConstsEqualCheckpoint: TF-FILES.md §7 — the 8 Consts of the
// repository's own freeze_graph output hold exactly the .data bytes.
func TestFrozenConstsEqualCheckpoint(t *testing.T) {
	prefix := prathmesh(t)
	g, _, err := graphio.Load(filepath.Join(filepath.Dir(prefix), "frozen_graph.pb"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := Open(prefix)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	n := 0
	for _, node := range g.GetNode() {
		if node.GetOp() != "Const" {
			continue
		}
		if _, ok := r.Entry(node.GetName()); !ok {
			continue
		}
		n++
		got, err := r.Tensor(node.GetName())
		if err != nil {
			t.Fatal(err)
		}
		want := node.GetAttr()["value"].GetTensor()
		if !bytes.Equal(got.GetTensorContent(), want.GetTensorContent()) || ShapeString(got.GetTensorShape()) != ShapeString(want.GetTensorShape()) {
			t.Errorf("%s: checkpoint %s %d bytes differ from frozen %s %d bytes", node.GetName(),
				ShapeString(got.GetTensorShape()), len(got.GetTensorContent()), ShapeString(want.GetTensorShape()), len(want.GetTensorContent()))
		}
	}
	if n != 8 {
		t.Errorf("%d frozen Consts are checkpoint variables, want 8", n)
	}
}

// TestEstimatorCheckpoint: TF-FILES.md §3.4 — 181 tensors (180 float, 1
// int64), global_step first at offset 0, the data file ends at the last
// tensor's end (2,188,504 bytes); every CRC verifies.
func TestEstimatorCheckpoint(t *testing.T) {
	r, err := Open(filepath.Dir(estimator(t))) // through the checkpoint state file
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if filepath.Base(r.Prefix()) != "model.ckpt-19540" {
		t.Errorf("prefix %s, want model.ckpt-19540 from the state file", r.Prefix())
	}
	counts := map[tfpb.DataType]int{}
	var end int64
	for _, name := range r.Names() {
		e, _ := r.Entry(name)
		counts[e.GetDtype()]++
		end = max(end, e.GetOffset()+e.GetSize())
		tp, err := r.Tensor(name)
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(tp.GetTensorContent())) != e.GetSize() {
			t.Errorf("%s: %d bytes, entry says %d", name, len(tp.GetTensorContent()), e.GetSize())
		}
	}
	if len(r.Names()) != 181 || counts[tfpb.DataType_DT_FLOAT] != 180 || counts[tfpb.DataType_DT_INT64] != 1 {
		t.Errorf("%d names, dtypes %v; want 181: 180 float, 1 int64", len(r.Names()), counts)
	}
	if end != 2188504 {
		t.Errorf("last tensor ends at %d, want 2188504", end)
	}
	e, _ := r.Entry("global_step")
	if e.GetDtype() != tfpb.DataType_DT_INT64 || ShapeString(e.GetShape()) != "[]" || e.GetOffset() != 0 || e.GetSize() != 8 || e.GetCrc32C() != 0x3db62f4b {
		t.Errorf("global_step entry = %v", e)
	}
	// The step is in the name: model.ckpt-19540.
	gs, err := r.Tensor("global_step")
	if err != nil {
		t.Fatal(err)
	}
	if got := binary.LittleEndian.Uint64(gs.GetTensorContent()); got != 19540 {
		t.Errorf("global_step = %d, want 19540", got)
	}
}

func TestResolve(t *testing.T) {
	prefix := prathmesh(t)
	dir := filepath.Dir(prefix)
	for _, in := range []string{prefix, prefix + ".index", prefix + ".data-00000-of-00001", dir, filepath.Join(dir, "checkpoint")} {
		got, err := Resolve(in)
		if err != nil || got != prefix {
			t.Errorf("Resolve(%s) = %q, %v; want %q", in, got, err, prefix)
		}
	}
	empty := t.TempDir()
	if _, err := Resolve(empty); err == nil || !strings.Contains(err.Error(), "no checkpoint state file") {
		t.Errorf("Resolve(empty dir) error = %v", err)
	}
	if _, err := Resolve(filepath.Join(empty, "nope")); err == nil || !strings.Contains(err.Error(), "nope.index not found") {
		t.Errorf("Resolve(missing) error = %v", err)
	}
	os.WriteFile(filepath.Join(empty, "checkpoint"), []byte(`model_checkpoint_path: "gone-1"`), 0o644)
	if _, err := Resolve(empty); err == nil || !strings.Contains(err.Error(), `model_checkpoint_path "gone-1"`) {
		t.Errorf("Resolve(dir with stale state) error = %v", err)
	}
}

// allDTypes are one tensor per dtype a frozen graph can hold, with values
// whose little-endian bytes are worked by hand in want.
func allDTypes(big bool) (ts []testTensor, want map[string]string) {
	ts = []testTensor{
		{name: "f", dtype: tfpb.DataType_DT_FLOAT, shape: []int64{2}, raw: le(big, float32(1.5), float32(-2))},
		{name: "h", dtype: tfpb.DataType_DT_HALF, shape: []int64{2}, raw: le(big, uint16(0x3c00), uint16(0xc000))},
		{name: "d", dtype: tfpb.DataType_DT_DOUBLE, shape: []int64{1}, raw: le(big, float64(0.5))},
		{name: "i8", dtype: tfpb.DataType_DT_INT8, shape: []int64{2}, raw: le(big, int8(-1), int8(2))},
		{name: "i16", dtype: tfpb.DataType_DT_INT16, shape: []int64{1}, raw: le(big, int16(-2))},
		{name: "i32", dtype: tfpb.DataType_DT_INT32, shape: []int64{1, 2}, raw: le(big, int32(7), int32(-7))},
		{name: "i64", dtype: tfpb.DataType_DT_INT64, shape: []int64{}, raw: le(big, int64(19540))},
		{name: "u8", dtype: tfpb.DataType_DT_UINT8, shape: []int64{3}, raw: le(big, uint8(0), uint8(128), uint8(255))},
		{name: "u16", dtype: tfpb.DataType_DT_UINT16, shape: []int64{1}, raw: le(big, uint16(0x1234))},
		{name: "b", dtype: tfpb.DataType_DT_BOOL, shape: []int64{2}, raw: le(big, true, false)},
		{name: "empty", dtype: tfpb.DataType_DT_FLOAT, shape: []int64{0, 3}, raw: nil},
	}
	want = map[string]string{
		"f":     "0000c03f 000000c0", // 1.5 = 0x3fc00000, -2 = 0xc0000000
		"h":     "003c 00c0",         // half 1 = 0x3c00, -2 = 0xc000
		"d":     "000000000000e03f",  // 0.5 = 0x3fe0000000000000
		"i8":    "ff02",
		"i16":   "feff",
		"i32":   "07000000 f9ffffff",
		"i64":   "544c000000000000", // 19540 = 0x4c54
		"u8":    "0080ff",
		"u16":   "3412",
		"b":     "0100",
		"empty": "",
	}
	return ts, want
}

func TestEveryDType(t *testing.T) {
	for _, big := range []bool{false, true} {
		ts, want := allDTypes(big)
		ts = append(ts, testTensor{name: "s", dtype: tfpb.DataType_DT_STRING, shape: []int64{3}, strings: [][]byte{[]byte("hi"), {}, []byte("abc")}})
		prefix := writeBundle(t, filepath.Join(t.TempDir(), "model.ckpt-1"), ts, big, tfTableOptions)
		r, err := Open(prefix)
		if err != nil {
			t.Fatal(err)
		}
		for _, tt := range ts {
			got, err := r.Tensor(tt.name)
			if err != nil {
				t.Fatalf("big=%v: %v", big, err)
			}
			if got.GetDtype() != tt.dtype || ShapeString(got.GetTensorShape()) != ShapeString(shapeProto(tt.shape)) {
				t.Errorf("big=%v %s: %v %s", big, tt.name, got.GetDtype(), ShapeString(got.GetTensorShape()))
			}
			if tt.dtype == tfpb.DataType_DT_STRING {
				if len(got.GetStringVal()) != 3 || string(got.GetStringVal()[0]) != "hi" || len(got.GetStringVal()[1]) != 0 || string(got.GetStringVal()[2]) != "abc" {
					t.Errorf("big=%v strings = %q, want [hi  abc]", big, got.GetStringVal())
				}
				continue
			}
			if w := unhex(t, want[tt.name]); !bytes.Equal(got.GetTensorContent(), w) {
				t.Errorf("big=%v %s: tensor_content %x, want %x", big, tt.name, got.GetTensorContent(), w)
			}
		}
		r.Close()
	}
}

// TestStringLayout: ["hi"] is stored as varint 2, the masked CRC32C of the
// length as a 4-byte LE word (02 00 00 00), then "hi" (TF-FILES.md §3.3).
func TestStringLayout(t *testing.T) {
	b, crc := encodeStrings([][]byte{[]byte("hi")})
	lcrc := crc32c([]byte{2, 0, 0, 0})
	want := append([]byte{2}, binary.LittleEndian.AppendUint32(nil, mask(lcrc))...)
	want = append(want, 'h', 'i')
	if !bytes.Equal(b, want) {
		t.Fatalf("layout %x, want %x", b, want)
	}
	if crc != crc32cUpdate(lcrc, want[1:]) {
		t.Errorf("entry crc %#x, want the length CRC continued over the stored checksum and the bytes", crc)
	}
	vals, err := decodeStrings(b, 1, mask(crc))
	if err != nil || len(vals) != 1 || string(vals[0]) != "hi" {
		t.Errorf("decode = %q, %v", vals, err)
	}
	bad := append([]byte(nil), b...)
	bad[1] ^= 1
	if _, err := decodeStrings(bad, 1, mask(crc)); err == nil || !strings.Contains(err.Error(), "the length checksum does not match") {
		t.Errorf("corrupt length checksum: %v", err)
	}
}

func TestSnappy(t *testing.T) {
	// Worked by hand from the snappy format: length 9; literal "abc" (tag
	// (3-1)<<2 = 0x08); copy of 6 bytes at offset 3 with a 1-byte offset
	// (tag (6-4)<<2 | 1 = 0x09, offset byte 0x03).
	got, err := snappyDecode(unhex(t, "09 08 616263 09 03"))
	if err != nil || string(got) != "abcabcabc" {
		t.Errorf("snappyDecode = %q, %v; want abcabcabc", got, err)
	}
	// Copies with 2- and 4-byte offsets: literal "ab" (tag 0x04), then 4
	// bytes at offset 2 (tag (4-1)<<2 | 2 = 0x0e, or | 3 = 0x0f).
	for _, in := range []string{"06 04 6162 0e 0200", "06 04 6162 0f 02000000"} {
		if got, err := snappyDecode(unhex(t, in)); err != nil || string(got) != "ababab" {
			t.Errorf("snappyDecode(%s) = %q, %v; want ababab", in, got, err)
		}
	}
	// A 61-byte literal needs one length byte: tag 60<<2 = 0xf0, then 60.
	long := strings.Repeat("x", 61)
	if got, err := snappyDecode(append(unhex(t, "3d f0 3c"), long...)); err != nil || string(got) != long {
		t.Errorf("61-byte literal: %q, %v", got, err)
	}
	for _, bad := range []string{"", "0a 08 616263 09 03", "09 08 6162", "09 09 04", "02 0c 6162", "06 04 6162 0e 0300"} {
		if _, err := snappyDecode(unhex(t, bad)); err == nil {
			t.Errorf("snappyDecode(%s) succeeded", bad)
		}
	}
	ts, want := allDTypes(false)
	prefix := writeBundle(t, filepath.Join(t.TempDir(), "snappy"), ts, false, tableOptions{blockSize: 64, restartInterval: 2, snappy: true})
	r, err := Open(prefix)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, tt := range ts {
		got, err := r.Tensor(tt.name)
		if err != nil || !bytes.Equal(got.GetTensorContent(), unhex(t, want[tt.name])) {
			t.Errorf("%s: %x, %v", tt.name, got.GetTensorContent(), err)
		}
	}
}

// TestManyBlocks: small blocks and restart interval 3 give several data
// blocks, separator index keys and shared prefixes; every name survives.
func TestManyBlocks(t *testing.T) {
	var ts []testTensor
	for i := range 50 {
		ts = append(ts, testTensor{name: "layer" + strings.Repeat("x", i%4) + "/w" + string(rune('a'+i%26)) + string(rune('a'+i/26)), dtype: tfpb.DataType_DT_INT32, shape: []int64{1}, raw: le(false, int32(i))})
	}
	prefix := writeBundle(t, filepath.Join(t.TempDir(), "many"), ts, false, tableOptions{blockSize: 100, restartInterval: 3})
	data, _ := os.ReadFile(prefix + ".index")
	footer := data[len(data)-footerLen:]
	_, n := decodeHandle(footer)
	ih, _ := decodeHandle(footer[n:])
	ib, _ := readBlock(data[:len(data)-footerLen], ih, "index")
	blocks, _ := blockEntries(ib)
	if len(blocks) < 5 {
		t.Fatalf("%d data blocks, want several", len(blocks))
	}
	r, err := Open(prefix)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if len(r.Names()) != 50 {
		t.Fatalf("%d names, want 50", len(r.Names()))
	}
	for i, tt := range ts {
		got, err := r.Tensor(tt.name)
		if err != nil || binary.LittleEndian.Uint32(got.GetTensorContent()) != uint32(i) {
			t.Errorf("%s: %x, %v; want %d", tt.name, got.GetTensorContent(), err, i)
		}
	}
}

func TestCheck(t *testing.T) {
	ts, _ := allDTypes(false)
	prefix := writeBundle(t, filepath.Join(t.TempDir(), "m"), ts, false, tfTableOptions)
	r, err := Open(prefix)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	unknown := shapeProto([]int64{1, -1})
	for _, c := range []struct {
		name  string
		dtype tfpb.DataType
		shape *tfpb.TensorShapeProto
		err   string
	}{
		{"i32", tfpb.DataType_DT_INT32, shapeProto([]int64{1, 2}), ""},
		{"i32", tfpb.DataType_DT_INT32_REF, unknown, ""},
		{"i32", tfpb.DataType_DT_INT32, &tfpb.TensorShapeProto{UnknownRank: true}, ""},
		{"i32", tfpb.DataType_DT_FLOAT, shapeProto([]int64{1, 2}), `variable "i32": the checkpoint ` + prefix + ` has dtype int32, the graph has float`},
		{"i32", tfpb.DataType_DT_INT32, shapeProto([]int64{2, 1}), `variable "i32": the checkpoint ` + prefix + ` has shape [1,2], the graph has [2,1]`},
		{"i64", tfpb.DataType_DT_INT64, shapeProto([]int64{1}), `variable "i64": the checkpoint ` + prefix + ` has shape [], the graph has [1]`},
		{"nope", tfpb.DataType_DT_FLOAT, nil, `variable "nope": not in the checkpoint ` + prefix},
	} {
		err := r.Check(c.name, c.dtype, c.shape)
		if c.err == "" && err != nil || c.err != "" && (err == nil || err.Error() != c.err) {
			t.Errorf("Check(%s, %v, %s) = %v, want %q", c.name, c.dtype, ShapeString(c.shape), err, c.err)
		}
	}
	if _, err := r.Tensor("nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Tensor(nope) = %v, want ErrNotFound", err)
	}
}

// TestCorruption flips, cuts and rewrites the files of a good checkpoint and
// expects a clear error each time, never a panic or a wrong value.
func TestCorruption(t *testing.T) {
	ts, _ := allDTypes(false)
	dir := t.TempDir()
	prefix := writeBundle(t, filepath.Join(dir, "m"), ts, false, tfTableOptions)
	index, _ := os.ReadFile(prefix + ".index")
	data, _ := os.ReadFile(prefix + ".data-00000-of-00001")

	for _, c := range []struct {
		what  string
		index []byte
		want  string
	}{
		{"flipped byte", flip(index, 10), "data block at offset 0: block checksum mismatch"},
		{"truncated", index[:len(index)-1], "not an sstable (bad magic number"},
		{"short", index[:20], "truncated table: 20 bytes"},
		{"footer only", index[len(index)-48:], "truncated table"},
	} {
		os.WriteFile(prefix+".index", c.index, 0o644)
		_, err := Open(prefix)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), prefix+".index: ") {
			t.Errorf("%s: error %v, want one naming %s.index with %q", c.what, err, prefix, c.want)
		}
	}
	os.WriteFile(prefix+".index", index, 0o644)

	// "f" is first in the data file: 8 bytes at offset 0.
	for _, c := range []struct {
		what string
		data []byte
		want string
	}{
		{"flipped data byte", flip(data, 3), `variable "f": data checksum mismatch in ` + prefix + `.data-00000-of-00001 at offset 0`},
		{"truncated data", data[:5], `variable "f": truncated data file ` + prefix + `.data-00000-of-00001: bytes [0, 0+8) past its end at 5`},
	} {
		os.WriteFile(prefix+".data-00000-of-00001", c.data, 0o644)
		r, err := Open(prefix)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.Tensor("f"); err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.what, err, c.want)
		}
		r.Close()
	}
	os.Remove(prefix + ".data-00000-of-00001")
	r, _ := Open(prefix)
	if _, err := r.Tensor("f"); err == nil || !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), `variable "f"`) {
		t.Errorf("missing data file: %v", err)
	}
}

func flip(b []byte, i int) []byte {
	c := append([]byte(nil), b...)
	c[i] ^= 0x40
	return c
}

// TestBadEntries: entries whose size disagrees with dtype and shape, and
// dtypes a bundle cannot hold, are refused by name.
func TestBadEntries(t *testing.T) {
	prefix := writeBundle(t, filepath.Join(t.TempDir(), "m"), []testTensor{
		{name: "short", dtype: tfpb.DataType_DT_FLOAT, shape: []int64{3}, raw: le(false, float32(1), float32(2))},
		{name: "res", dtype: tfpb.DataType_DT_RESOURCE, shape: []int64{}, raw: []byte{1}},
		{name: "neg", dtype: tfpb.DataType_DT_FLOAT, shape: []int64{-1}, raw: nil},
	}, false, tfTableOptions)
	r, err := Open(prefix)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for name, want := range map[string]string{
		"short": `variable "short": invalid size in bundle entry in ` + prefix + `.index: 8 bytes for 3 elements of float, want 12`,
		"res":   `variable "res": dtype resource in ` + prefix + `.index is not supported`,
		"neg":   `variable "neg": entry in ` + prefix + `.index: shape [?] has a negative dimension`,
	} {
		if _, err := r.Tensor(name); err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%s: %v, want %q", name, err, want)
		}
	}
}
