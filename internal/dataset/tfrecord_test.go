package dataset

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"image"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"

	"qcal/internal/testutil"
)

func TestCRC32C(t *testing.T) {
	asc, desc := make([]byte, 32), make([]byte, 32)
	for i := range asc {
		asc[i], desc[i] = byte(i), byte(31-i)
	}
	cases := []struct {
		name string
		data []byte
		want uint32
	}{
		{"check string", []byte("123456789"), 0xe3069283}, // the CRC catalogue's check value for CRC-32C
		// RFC 3720 (iSCSI) appendix B.4 test vectors.
		{"32 zeros", make([]byte, 32), 0x8a9136aa},
		{"32 0xff", bytes.Repeat([]byte{0xff}, 32), 0x62a8ab43},
		{"0..31", asc, 0x46dd794e},
		{"31..0", desc, 0x113fdb5c},
		// TF-FILES.md §8's worked record: the length bytes of 42.
		{"length 42", []byte{0x2a, 0, 0, 0, 0, 0, 0, 0}, 0x516b2987},
	}
	for _, c := range cases {
		if got := CRC32C(c.data); got != c.want {
			t.Errorf("%s: crc32c 0x%08x, want 0x%08x", c.name, got, c.want)
		}
	}
	// TF-FILES.md §8: Mask(0x516b2987) = 0xf5918dae, Mask(0x9643eb2e) = 0x78e0175f.
	if MaskCRC(0x516b2987) != 0xf5918dae || MaskCRC(0x9643eb2e) != 0x78e0175f {
		t.Errorf("mask: 0x%08x 0x%08x", MaskCRC(0x516b2987), MaskCRC(0x9643eb2e))
	}
}

// workedRecord is TF-FILES.md §8's record: Example {a: int64_list[7],
// b: float_list[1.5], c: bytes_list["hi"]} framed with both masked CRCs.
const workedRecord = "2a00000000000000" + "ae8d91f5" +
	"0a28" + "0a0a0a016112051a030a0107" + "0a0d0a01621208120" + "60a040000c03f" + "0a0b0a016312060a040a026869" +
	"5f17e078"

func TestTFRecordWorkedExample(t *testing.T) {
	rec, err := hex.DecodeString(workedRecord)
	if err != nil || len(rec) != 58 {
		t.Fatalf("worked record: %d bytes, %v", len(rec), err)
	}
	r := NewTFRecordReader(bytes.NewReader(rec), "worked")
	if !r.Scan() {
		t.Fatalf("Scan: %v", r.Err())
	}
	ex := r.Record()
	if len(ex) != 42 || CRC32C(ex) != 0x9643eb2e {
		t.Fatalf("example %d bytes crc 0x%08x, want 42 and 0x9643eb2e", len(ex), CRC32C(ex))
	}
	if r.Scan() || r.Err() != nil {
		t.Fatalf("second Scan: %v", r.Err())
	}
	img, label, err := exampleImage(ex, "c", "a")
	if err != nil || string(img) != "hi" || label != 7 {
		t.Errorf("c, a = %q, %d, %v; want \"hi\", 7", img, label, err)
	}
	kind, list, err := feature(ex, "b")
	if err != nil || kind != floatList || hex.EncodeToString(list) != "0a040000c03f" {
		t.Errorf("b: kind %d list %x %v, want float_list 0a040000c03f (1.5 packed)", kind, list, err)
	}
	if _, _, err := exampleImage(ex, "b", "a"); err == nil || err.Error() != `feature "b" is a float_list, want bytes_list` {
		t.Errorf("b as image: %v", err)
	}
	if _, _, err := exampleImage(ex, "zz", "a"); err == nil || err.Error() != `no feature "zz"` {
		t.Errorf("missing image: %v", err)
	}
	if _, _, err := exampleImage(ex, "c", "c"); err == nil || err.Error() != `feature "c" is a bytes_list, want int64_list` {
		t.Errorf("c as label: %v", err)
	}
	if _, label, err := exampleImage(ex, "c", "none"); err != nil || label != -1 {
		t.Errorf("no label feature: %d, %v; want -1", label, err)
	}
}

// frame wraps data as one TFRecord.
func frame(data []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(data)))
	b = binary.LittleEndian.AppendUint32(b, MaskCRC(CRC32C(b)))
	b = append(b, data...)
	return binary.LittleEndian.AppendUint32(b, MaskCRC(CRC32C(data)))
}

// imageExample builds a tf.Example with image/encoded and an unpacked
// image/class/label (protobuf readers must accept both encodings).
func imageExample(img []byte, label int64) []byte {
	entry := func(key string, feature []byte) []byte {
		var e []byte
		e = protowire.AppendTag(e, 1, protowire.BytesType)
		e = protowire.AppendString(e, key)
		e = protowire.AppendTag(e, 2, protowire.BytesType)
		return protowire.AppendBytes(e, feature)
	}
	var bl, il, f1, f2 []byte
	bl = protowire.AppendTag(bl, 1, protowire.BytesType)
	bl = protowire.AppendBytes(bl, img)
	f1 = protowire.AppendTag(f1, bytesList, protowire.BytesType)
	f1 = protowire.AppendBytes(f1, bl)
	il = protowire.AppendTag(il, 1, protowire.VarintType)
	il = protowire.AppendVarint(il, uint64(label))
	f2 = protowire.AppendTag(f2, int64List, protowire.BytesType)
	f2 = protowire.AppendBytes(f2, il)
	var features []byte
	for _, e := range [][]byte{entry("image/encoded", f1), entry("image/class/label", f2)} {
		features = protowire.AppendTag(features, 1, protowire.BytesType)
		features = protowire.AppendBytes(features, e)
	}
	var ex []byte
	ex = protowire.AppendTag(ex, 1, protowire.BytesType)
	return protowire.AppendBytes(ex, features)
}

func TestTFRecordErrors(t *testing.T) {
	dir := t.TempDir()
	g := image.NewGray(image.Rect(0, 0, 2, 2))
	good := frame(imageExample(pngBytes(t, g), 3))
	var file []byte
	for range 3 {
		file = append(file, good...)
	}
	path := writeFile(t, dir, "ok.tfrecord", file)
	_, labels, ids, _ := readAll(t, path, Options{BatchSize: 2})
	if len(labels) != 3 || labels[2] != 3 || ids[2] != "ok.tfrecord:2" {
		t.Fatalf("labels %v ids %v", labels, ids)
	}
	flip := func(off int) []byte {
		b := bytes.Clone(file)
		b[off] ^= 0x10
		return b
	}
	rl := len(good)
	cases := []struct {
		name string
		data []byte
		want string
		is   error
	}{
		{"data-flip", flip(rl + 12 + 5), "data-flip.tfrecord: record 1: checksum mismatch: data crc", ErrChecksum},
		{"length-flip", flip(2*rl + 1), "length-flip.tfrecord: record 2: checksum mismatch: length crc", ErrChecksum},
		{"footer-flip", flip(rl - 1), "footer-flip.tfrecord: record 0: checksum mismatch: data crc", ErrChecksum},
		{"cut-data", file[:2*rl+20], "cut-data.tfrecord: record 2: record of", ErrTruncated},
		{"cut-header", file[:rl+5], "cut-header.tfrecord: record 1: record header: unexpected end of file", ErrTruncated},
		{"bad-image", frame(imageExample([]byte("\xff\xd8\xffjunk"), 1)), "bad-image.tfrecord: record 0: ", nil},
		{"bad-label", frame(imageExample(pngBytes(t, g), -4)), `bad-label.tfrecord: record 0: label out of range: feature "image/class/label" is -4`, ErrLabel},
		{"bad-proto", frame([]byte{0x0a, 0x05, 0x0a}), "bad-proto.tfrecord: record 0: tf.Example: ", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := readErr(writeFile(t, dir, c.name+".tfrecord", c.data), Options{BatchSize: 4})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
			if c.is != nil && !errors.Is(err, c.is) {
				t.Errorf("error %v is not %v", err, c.is)
			}
		})
	}
	// A label beyond Classes.
	err := readErr(path, Options{Classes: 3})
	if err == nil || !strings.HasSuffix(err.Error(), "ok.tfrecord: record 0: label out of range: 3 not in [0, 3)") {
		t.Errorf("classes: %v", err)
	}
}

func TestTFRecordFruits(t *testing.T) {
	dir := testutil.RealData(t, "tfrecord/fruits")
	// README: 375 train and 125 validation records, labels 1–5 (0 is
	// background), 75 / 25 per class, 100×100 RGB JPEGs. The first train
	// record is banana31-s.jpg, label 2; the first validation record
	// orange82-s.jpg, label 4 (independent Python read of the framing).
	count := func(path string, classes int) ([5]int, []int, []string) {
		var per [5]int
		_, labels, ids, _ := readAll(t, path, Options{BatchSize: 64, Classes: classes, Preprocess: Preprocess{Shape: []int{-1, 100, 100, 3}}})
		for _, l := range labels {
			per[l-1]++
		}
		return per, labels, ids
	}
	per, labels, ids := count(filepath.Join(dir, "train-00000-of-00001"), 6)
	if len(labels) != 375 || per != [5]int{75, 75, 75, 75, 75} || labels[0] != 2 || ids[0] != "train-00000-of-00001:0" {
		t.Errorf("train: %d records, per class %v, first label %d id %q", len(labels), per, labels[0], ids[0])
	}
	per, labels, _ = count(filepath.Join(dir, "validation-*"), 6)
	if len(labels) != 125 || per != [5]int{25, 25, 25, 25, 25} || labels[0] != 4 {
		t.Errorf("validation-*: %d records, per class %v, first label %d", len(labels), per, labels[0])
	}
	// Both shards through one glob, limited and sharded: examples 0..499
	// in file order, limit 400 → 375 train + 25 validation; shard 1/4 keeps
	// 1, 5, …, 397 → 100 examples, the last validation record 397 − 375 = 22.
	_, labels, ids, _ = readAll(t, filepath.Join(dir, "*-of-*"), Options{Limit: 400, Shard: 1, Shards: 4, BatchSize: 32, Preprocess: Preprocess{Height: 32, Width: 32}})
	if len(labels) != 100 || ids[0] != "train-00000-of-00001:1" || ids[99] != "validation-00000-of-00001:22" {
		t.Errorf("glob limit+shard: %d examples, first %q last %q", len(labels), ids[0], ids[len(ids)-1])
	}
	// A flipped byte inside a real record is caught.
	data, err := os.ReadFile(filepath.Join(dir, "validation-00000-of-00001"))
	if err != nil {
		t.Fatal(err)
	}
	data[5000] ^= 1
	r := NewTFRecordReader(bytes.NewReader(data), "flipped")
	n := 0
	for r.Scan() {
		n++
	}
	if !errors.Is(r.Err(), ErrChecksum) || !strings.HasPrefix(r.Err().Error(), "flipped: record ") {
		t.Errorf("after %d records: %v, want a checksum mismatch", n, r.Err())
	}
}

func TestOpenDetects(t *testing.T) {
	dir := t.TempDir()
	g := image.NewGray(image.Rect(0, 0, 1, 1))
	png := pngBytes(t, g)
	paths := map[string][]byte{
		"a.bin":     frame(imageExample(png, 1)),              // TFRecord by its length CRC
		"b.idx":     idxFile(0x08, []int{1, 1, 1}, []byte{7}), // IDX by magic
		"c.data":    npyFile("{'descr': '|u1', 'fortran_order': False, 'shape': (1, 1), }", []byte{9}),
		"d.img":     png,
		"e.unknown": []byte("hello, world!!!!"),
	}
	want := map[string]string{"a.bin": "tfrecord", "b.idx": "idx", "c.data": "npy", "d.img": "images"}
	for name, data := range paths {
		p := writeFile(t, dir, name, data)
		got, err := sniff(p)
		if w, ok := want[name]; ok {
			if err != nil || got != w {
				t.Errorf("%s: %q %v, want %q", name, got, err, w)
			}
			if err := readErr(p, Options{}); err != nil {
				t.Errorf("%s: read: %v", name, err)
			}
		} else if err == nil || !strings.HasSuffix(err.Error(), "e.unknown: unknown data set format (not IDX, NPY, JPEG, PNG or TFRecord); set the format") {
			t.Errorf("%s: %q %v, want an unknown-format error", name, got, err)
		}
	}
	if _, err := Open(filepath.Join(dir, "nothing-*"), Options{}); err == nil || !strings.HasSuffix(err.Error(), "nothing-*: no file matches") {
		t.Errorf("empty glob: %v", err)
	}
	if _, err := Open(filepath.Join(dir, "[a-c].*"), Options{}); err == nil || !strings.HasSuffix(err.Error(), "b.idx is idx, not tfrecord like a.bin") {
		t.Errorf("glob of mixed files: %v", err)
	}
	s, err := Open(filepath.Join(dir, "b.idx"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Error(err)
	}
}
