package graphio

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"google.golang.org/protobuf/proto"

	"qcal/internal/atomicfile"
	"qcal/internal/tfpb"
)

// Format is a serialization of a GraphDef.
type Format int

const (
	// Binary is the protobuf wire format (TensorFlow's usual .pb files).
	Binary Format = iota
	// Text is the protobuf text format (.pbtxt files).
	Text
)

// String returns "binary" or "text".
func (f Format) String() string {
	switch f {
	case Binary:
		return "binary"
	case Text:
		return "text"
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// ErrNotGraphDef is wrapped by the errors Decode and Load return for input
// that is not a GraphDef in either format.
var ErrNotGraphDef = errors.New("not a TensorFlow GraphDef (binary or text)")

// Decode parses a GraphDef from data and reports which format it was in.
// The format is detected from the bytes: data that starts (after blank lines
// and # comments) with a field name followed by '{' or ':' is parsed as
// text, anything else as binary. The result is then checked to be plausibly
// a GraphDef (at least one node, every node with a printable name and op, no
// fields at the top level that GraphDef does not have), since many byte
// strings happen to parse as some protobuf message.
//
// name identifies the input in error messages, typically its file name.
// Errors for input that is not a GraphDef wrap ErrNotGraphDef and read
// "NAME: not a TensorFlow GraphDef (binary or text): REASON", with
// "NAME:LINE:COL:" when a position in a text file is known.
func Decode(data []byte, name string) (*tfpb.GraphDef, Format, error) {
	if len(data) == 0 {
		return nil, Binary, notGraphDef(name, "empty file")
	}
	body := trimBOM(data)
	if looksLikeText(body) {
		g, terr := decodeText(body)
		if terr == nil {
			return g, Text, nil
		}
		// A binary graph whose first bytes happen to look like text.
		if g, err := decodeBinary(data); err == nil {
			return g, Binary, nil
		}
		return nil, Text, textError(name, body, terr)
	}
	g, err := decodeBinary(data)
	if err == nil {
		return g, Binary, nil
	}
	if line, ok := printableText(data); ok {
		return nil, Binary, notGraphDef(name, fmt.Sprintf("it is text but not a GraphDef in protobuf text format (first line: %q)", line))
	}
	return nil, Binary, notGraphDef(name, err.Error())
}

// Load reads and decodes the GraphDef in the file at path; see Read.
func Load(path string) (*tfpb.GraphDef, Format, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, Binary, err
	}
	defer f.Close()
	return Read(f, path)
}

// sniffLen is how much of a large input Read looks at before deciding
// whether the rest is worth reading.
const sniffLen = 1 << 20

// Read reads and decodes the GraphDef r holds (named name in errors); see
// Decode. An input longer than 1 MiB whose first bytes can start neither a
// binary GraphDef (a tag of one of GraphDef's fields, or the SavedModel
// version that Decode names) nor a text one is refused after its first MiB,
// without reading the rest: a gigabyte of zeros costs a megabyte.
func Read(r io.Reader, name string) (*tfpb.GraphDef, Format, error) {
	data, err := io.ReadAll(io.LimitReader(r, sniffLen+1))
	if err != nil {
		return nil, Binary, fmt.Errorf("%s: %w", name, err)
	}
	if len(data) > sniffLen {
		if reason := badStart(data); reason != "" {
			return nil, Binary, notGraphDef(name, reason+" (refused after its first MiB, without reading the rest)")
		}
		rest, err := io.ReadAll(r)
		if err != nil {
			return nil, Binary, fmt.Errorf("%s: %w", name, err)
		}
		data = append(data, rest...)
	}
	return Decode(data, name)
}

// Encode serializes g in format f. The same graph always gives the same
// bytes. Text encoding fails if g holds fields unknown to qcal's schema
// (possible only for graphs decoded from binary), because the text format
// cannot carry them; binary encoding keeps them.
func Encode(g *tfpb.GraphDef, f Format) ([]byte, error) {
	if g == nil {
		return nil, errors.New("graphio: nil GraphDef")
	}
	switch f {
	case Binary:
		return proto.MarshalOptions{Deterministic: true}.Marshal(g)
	case Text:
		return marshalText(g)
	}
	return nil, fmt.Errorf("graphio: unknown format %v", f)
}

// Write encodes g in format f and writes it to w.
func Write(w io.Writer, g *tfpb.GraphDef, f Format) error {
	data, err := Encode(g, f)
	if err != nil {
		return err
	}
	_, err = w.Write(data)
	return err
}

// FormatForPath returns the format a graph written to path should have by
// default: Text for names ending in .pbtxt, .prototxt or .txt (in any case),
// Binary otherwise.
func FormatForPath(path string) Format {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".pbtxt", ".prototxt", ".txt":
		return Text
	}
	return Binary
}

// Save encodes g in format f and stores it at path through
// atomicfile.Create: "-" and "/dev/stdout" write to os.Stdout (use Write for
// another writer); otherwise the bytes go to a temporary file in the same
// directory, which is synced and then renamed over path, and removed if
// anything fails or the process is interrupted. A path that exists and is
// not a regular file (a device, FIFO, directory or socket) is refused. An
// existing file keeps its permission bits; a new one gets 0644. If path is a
// symbolic link, the link itself is replaced, not its target.
//
// inputs are the files the graph was computed from; Save refuses to write
// when path names one of them, by cleaned absolute path or, for existing
// files, as the same file (a hard link, or a symbolic link to it).
func Save(path string, g *tfpb.GraphDef, f Format, inputs ...string) error {
	if err := atomicfile.Check(path, inputs); err != nil {
		return err
	}
	data, err := Encode(g, f)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return atomicfile.WriteFile(path, data, inputs...)
}
