package checkpoint

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"

	"qcal/internal/tfpb"
)

// bundleVersion is the tensor bundle format version this reader implements
// (TensorFlow's kTensorBundleVersion).
const bundleVersion = 1

// ErrNotFound is wrapped by the errors for a variable the checkpoint lacks.
var ErrNotFound = errors.New("not in the checkpoint")

// Reader reads the tensors of one V2 checkpoint. Open it with Open and close
// it when done; it keeps the data shards open between calls. A Reader is not
// safe for concurrent use.
type Reader struct {
	prefix  string
	header  *tfpb.BundleHeaderProto
	entries map[string]*tfpb.BundleEntryProto
	names   []string
	shards  []*shard
}

// shard is one lazily opened .data file.
type shard struct {
	path string
	f    *os.File
	size int64
}

var dataSuffix = regexp.MustCompile(`\.data-\d{5}-of-\d{5}$`)

// Resolve returns the checkpoint prefix that path names. path may be the
// prefix itself (PREFIX.index exists), the .index file, a .data shard, a
// directory holding a `checkpoint` state file, or that state file; the
// state file's model_checkpoint_path is taken relative to its directory, as
// TensorFlow does.
func Resolve(path string) (string, error) {
	if path == "" {
		return "", errors.New("empty checkpoint path")
	}
	if fi, err := os.Stat(path); err == nil {
		switch {
		case fi.IsDir():
			return fromStateFile(filepath.Join(path, "checkpoint"))
		case filepath.Base(path) == "checkpoint":
			return fromStateFile(path)
		case strings.HasSuffix(path, ".index"):
			return strings.TrimSuffix(path, ".index"), nil
		case dataSuffix.MatchString(path):
			return dataSuffix.ReplaceAllString(path, ""), nil
		}
	}
	if _, err := os.Stat(path + ".index"); err == nil {
		return path, nil
	}
	return "", fmt.Errorf("%s: not a V2 checkpoint: %s.index not found (give the prefix, the .index file, or the directory with its checkpoint file)", path, path)
}

// fromStateFile reads a text-format CheckpointState file.
func fromStateFile(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("no checkpoint state file: %w", err)
	}
	var st tfpb.CheckpointState
	if err := prototext.Unmarshal(data, &st); err != nil {
		return "", fmt.Errorf("%s: bad checkpoint state file: %w", path, err)
	}
	p := st.GetModelCheckpointPath()
	if p == "" {
		return "", fmt.Errorf("%s: model_checkpoint_path is empty", path)
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(filepath.Dir(path), p)
	}
	if _, err := os.Stat(p + ".index"); err != nil {
		return "", fmt.Errorf("%s: model_checkpoint_path %q: %s.index not found", path, st.GetModelCheckpointPath(), p)
	}
	return p, nil
}

// Open reads the index of the checkpoint that path names (see Resolve),
// checking the table's block checksums and the bundle header.
func Open(path string) (*Reader, error) {
	prefix, err := Resolve(path)
	if err != nil {
		return nil, err
	}
	indexPath := prefix + ".index"
	data, err := os.ReadFile(indexPath)
	if err != nil {
		return nil, err
	}
	r, err := parseIndex(data, prefix)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", indexPath, err)
	}
	return r, nil
}

// parseIndex builds a Reader from the bytes of PREFIX.index.
func parseIndex(data []byte, prefix string) (*Reader, error) {
	table, err := readTable(data)
	if err != nil {
		return nil, err
	}
	if len(table) == 0 || len(table[0].key) != 0 {
		return nil, errors.New("no bundle header (the entry with the empty key)")
	}
	r := &Reader{prefix: prefix, header: new(tfpb.BundleHeaderProto), entries: make(map[string]*tfpb.BundleEntryProto, len(table))}
	if err := proto.Unmarshal(table[0].value, r.header); err != nil {
		return nil, fmt.Errorf("bad bundle header: %w", err)
	}
	h := r.header
	// Shard files are numbered with five digits.
	if h.GetNumShards() <= 0 || h.GetNumShards() > 99999 {
		return nil, fmt.Errorf("bundle header: num_shards %d, want 1 to 99999", h.GetNumShards())
	}
	if v := h.GetVersion(); v.GetMinConsumer() > bundleVersion {
		return nil, fmt.Errorf("bundle header: needs a reader of version %d or later, this one is %d", v.GetMinConsumer(), bundleVersion)
	} else {
		for _, bad := range v.GetBadConsumers() {
			if bad == bundleVersion {
				return nil, fmt.Errorf("bundle header: version %d readers are excluded", bundleVersion)
			}
		}
	}
	switch h.GetEndianness() {
	case tfpb.BundleHeaderProto_LITTLE, tfpb.BundleHeaderProto_BIG:
	default:
		return nil, fmt.Errorf("bundle header: unknown endianness %d", h.GetEndianness())
	}
	r.shards = make([]*shard, h.GetNumShards())
	for _, e := range table[1:] {
		name := string(e.key)
		entry := new(tfpb.BundleEntryProto)
		if err := proto.Unmarshal(e.value, entry); err != nil {
			return nil, fmt.Errorf("entry %q: %w", name, err)
		}
		r.entries[name] = entry
		// Keys of partitioned variables' slices start with a zero byte
		// (OrderedCode); they are not variable names.
		if name[0] != 0 {
			r.names = append(r.names, name)
		}
	}
	sort.Strings(r.names)
	return r, nil
}

// Prefix returns the checkpoint's prefix: its files are PREFIX.index and
// PREFIX.data-NNNNN-of-NNNNN.
func (r *Reader) Prefix() string { return r.prefix }

// Header returns the bundle header. The caller must not modify it.
func (r *Reader) Header() *tfpb.BundleHeaderProto { return r.header }

// Names returns the names of the saved tensors in sorted order, without the
// header and without the slice entries of partitioned variables. The caller
// must not modify the slice.
func (r *Reader) Names() []string { return r.names }

// Entry returns the index entry of the tensor name and reports whether there
// is one. The caller must not modify it.
func (r *Reader) Entry(name string) (*tfpb.BundleEntryProto, bool) {
	e, ok := r.entries[name]
	return e, ok
}

// Has reports whether the checkpoint holds a tensor called name.
func (r *Reader) Has(name string) bool {
	_, ok := r.entries[name]
	return ok
}

// Close closes the data shards that were opened.
func (r *Reader) Close() error {
	var first error
	for _, s := range r.shards {
		if s != nil && s.f != nil {
			if err := s.f.Close(); err != nil && first == nil {
				first = err
			}
			s.f = nil
		}
	}
	return first
}

// DataFiles returns the names of the checkpoint's .data shards.
func (r *Reader) DataFiles() []string {
	out := make([]string, len(r.shards))
	for i := range out {
		out[i] = r.dataPath(i)
	}
	return out
}

// dataPath returns the file name of shard i (TensorFlow's DataFilename).
func (r *Reader) dataPath(i int) string {
	return fmt.Sprintf("%s.data-%05d-of-%05d", r.prefix, i, len(r.shards))
}

// openShard returns shard i, opening it on first use.
func (r *Reader) openShard(i int) (*shard, error) {
	if s := r.shards[i]; s != nil && s.f != nil {
		return s, nil
	}
	path := r.dataPath(i)
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	s := &shard{path: path, f: f, size: fi.Size()}
	r.shards[i] = s
	return s, nil
}

// Check reports an error when the checkpoint lacks the variable name or
// holds it with another dtype or shape than the graph's. Ref dtypes count as
// their base type; graph dimensions of -1 and an unknown rank match anything.
// The error names the variable and both sides.
func (r *Reader) Check(name string, dtype tfpb.DataType, shape *tfpb.TensorShapeProto) error {
	e, ok := r.entries[name]
	if !ok {
		return fmt.Errorf("variable %q: %w %s", name, ErrNotFound, r.prefix)
	}
	if dtype > 100 {
		dtype -= 100
	}
	if e.GetDtype() != dtype {
		return fmt.Errorf("variable %q: the checkpoint %s has dtype %s, the graph has %s", name, r.prefix, DTypeName(e.GetDtype()), DTypeName(dtype))
	}
	if shape == nil || shape.GetUnknownRank() {
		return nil
	}
	cd, gd := e.GetShape().GetDim(), shape.GetDim()
	same := len(cd) == len(gd)
	for i := 0; same && i < len(cd); i++ {
		if gd[i].GetSize() >= 0 && gd[i].GetSize() != cd[i].GetSize() {
			same = false
		}
	}
	if !same {
		return fmt.Errorf("variable %q: the checkpoint %s has shape %s, the graph has %s", name, r.prefix, ShapeString(e.GetShape()), ShapeString(shape))
	}
	return nil
}

// DTypeName returns TensorFlow's short name of a dtype: "float", "int32".
func DTypeName(t tfpb.DataType) string {
	if s, ok := tfpb.DataType_name[int32(t)]; ok {
		return strings.ToLower(strings.TrimPrefix(s, "DT_"))
	}
	return fmt.Sprintf("dtype(%d)", int32(t))
}

// ShapeString writes a shape as TensorFlow does: [2,3], [] for a scalar,
// ? for an unknown dimension, <unknown> for an unknown rank.
func ShapeString(s *tfpb.TensorShapeProto) string {
	if s.GetUnknownRank() {
		return "<unknown>"
	}
	var b strings.Builder
	b.WriteByte('[')
	for i, d := range s.GetDim() {
		if i > 0 {
			b.WriteByte(',')
		}
		if d.GetSize() < 0 {
			b.WriteByte('?')
		} else {
			fmt.Fprint(&b, d.GetSize())
		}
	}
	b.WriteByte(']')
	return b.String()
}
