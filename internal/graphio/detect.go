package graphio

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"qcal/internal/tfpb"
)

// graphDefFields are the field names a text-format GraphDef can start with.
var graphDefFields = map[string]bool{
	"node": true, "library": true, "version": true, "versions": true, "debug_info": true,
}

// savedModelTextFields are top-level field names of the SavedModel and
// MetaGraphDef messages, which are often mistaken for graphs.
var savedModelTextFields = map[string]bool{
	"saved_model_schema_version": true, "meta_graphs": true,
	"meta_info_def": true, "graph_def": true, "saver_def": true,
	"collection_def": true, "signature_def": true,
}

func notGraphDef(name, reason string) error {
	return fmt.Errorf("%s: %w: %s", name, ErrNotGraphDef, reason)
}

// invalidGraph is a message that parsed but is not plausibly a GraphDef.
type invalidGraph struct{ reason string }

func (e *invalidGraph) Error() string { return e.reason }

// badStart returns why head, the start of an input, cannot begin a GraphDef
// in either format, or "" when it may.
func badStart(head []byte) string {
	num, typ, n := protowire.ConsumeTag(head)
	if n > 0 {
		switch {
		case num == 1 && typ == protowire.BytesType, num == 2 && typ == protowire.BytesType,
			num == 3 && typ == protowire.VarintType, num == 4 && typ == protowire.BytesType,
			num == 5 && typ == protowire.BytesType:
			return "" // node, library, version, versions, debug_info
		case num == 1 && typ == protowire.VarintType:
			return "" // a SavedModel's version: Decode says so
		}
	}
	s := skipSpaceAndComments(trimBOM(head))
	if len(s) == 0 || s[0] == '_' || 'a' <= s[0] && s[0] <= 'z' || 'A' <= s[0] && s[0] <= 'Z' {
		return "" // blank so far, or an identifier: maybe text format
	}
	if line, ok := printableText(head); ok {
		return fmt.Sprintf("it is text but not a GraphDef in protobuf text format (first line: %q)", line)
	}
	return fmt.Sprintf("its first bytes (% x) start neither a binary GraphDef (whose first byte is a tag of one of its fields) nor a text one", head[:min(8, len(head))])
}

func trimBOM(data []byte) []byte {
	return bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
}

// skipSpaceAndComments skips whitespace and # comments, as the text format
// does between tokens.
func skipSpaceAndComments(b []byte) []byte {
	for len(b) > 0 {
		switch b[0] {
		case ' ', '\t', '\n', '\r', '\v', '\f':
			b = b[1:]
		case '#':
			i := bytes.IndexByte(b, '\n')
			if i < 0 {
				return nil
			}
			b = b[i+1:]
		default:
			return b
		}
	}
	return b
}

// firstIdent returns the identifier at the start of text (after whitespace
// and comments) and the bytes after it.
func firstIdent(b []byte) (string, []byte) {
	b = skipSpaceAndComments(b)
	i := 0
	for i < len(b) {
		c := b[i]
		if c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && '0' <= c && c <= '9' {
			i++
			continue
		}
		break
	}
	return string(b[:i]), b[i:]
}

// looksLikeText reports whether b starts like a protobuf text-format message:
// an identifier followed by '{', '<' or ':'.
func looksLikeText(b []byte) bool {
	id, rest := firstIdent(b)
	if id == "" {
		return false
	}
	rest = skipSpaceAndComments(rest)
	return len(rest) > 0 && (rest[0] == '{' || rest[0] == ':' || rest[0] == '<')
}

// printableText reports whether the start of data reads as ordinary text,
// and returns its first non-blank line (shortened) for error messages.
func printableText(data []byte) (string, bool) {
	head := data
	if len(head) > 4096 {
		head = head[:4096]
		// Do not split a UTF-8 sequence at the cut.
		for i := 0; i < utf8.UTFMax && len(head) > 0 && !utf8.Valid(head); i++ {
			head = head[:len(head)-1]
		}
	}
	head = trimBOM(head)
	if !utf8.Valid(head) {
		return "", false
	}
	for _, r := range string(head) {
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0x7f {
			return "", false
		}
	}
	var line string
	for l := range strings.SplitSeq(string(head), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			line = l
			break
		}
	}
	if line == "" {
		return "", false
	}
	if len(line) > 72 {
		line = line[:72]
		for !utf8.ValidString(line) {
			line = line[:len(line)-1]
		}
		line += "..."
	}
	return line, true
}

func decodeText(body []byte) (*tfpb.GraphDef, error) {
	g := new(tfpb.GraphDef)
	if err := (prototext.UnmarshalOptions{}).Unmarshal(body, g); err != nil {
		return nil, err
	}
	if err := validate(g); err != nil {
		return nil, err
	}
	return g, nil
}

// textPos matches the position prototext puts in its errors. protobuf-go
// separates its "proto:" prefix with a space or, at random, a non-breaking
// space.
var textPos = regexp.MustCompile(`^(?:proto:)?[\s\x{a0}]*(syntax error )?\(line (\d+):(\d+)\):[\s\x{a0}]*`)

// textError explains why text that looked like a text-format message did not
// decode as a GraphDef.
func textError(name string, body []byte, err error) error {
	if iv, ok := errors.AsType[*invalidGraph](err); ok {
		return notGraphDef(name, "protobuf text format, but "+iv.reason)
	}
	if id, _ := firstIdent(body); !graphDefFields[id] {
		if savedModelTextFields[id] {
			return notGraphDef(name, fmt.Sprintf("this looks like a text SavedModel or MetaGraphDef (first field %q), whose graph_def field holds the GraphDef", id))
		}
		if line, ok := printableText(body); ok {
			return notGraphDef(name, fmt.Sprintf("it is text but not a GraphDef in protobuf text format (first line: %q)", line))
		}
		return notGraphDef(name, fmt.Sprintf("it starts like protobuf text format (field %q) but is neither a text nor a binary GraphDef", id))
	}
	msg := err.Error()
	if m := textPos.FindStringSubmatch(msg); m != nil {
		rest := msg[len(m[0]):]
		if m[1] != "" {
			rest = "syntax error: " + rest
		}
		return fmt.Errorf("%s:%s:%s: %w: text format: %s", name, m[2], m[3], ErrNotGraphDef, rest)
	}
	return notGraphDef(name, "text format: "+trimProtoPrefix(msg))
}

func decodeBinary(data []byte) (*tfpb.GraphDef, error) {
	g := new(tfpb.GraphDef)
	if err := proto.Unmarshal(data, g); err != nil {
		if hint := savedModelHint(data); hint != "" {
			return nil, errors.New(hint)
		}
		return nil, errors.New(diagnoseBinary(data, err))
	}
	if err := validate(g); err != nil {
		if hint := savedModelHint(data); hint != "" {
			return nil, errors.New(hint)
		}
		return nil, err
	}
	return g, nil
}

// savedModelHint recognizes the top level of a SavedModel (field 1 a varint,
// field 2 messages), which protobuf would otherwise half-parse as a GraphDef.
func savedModelHint(data []byte) string {
	var sawVersion, sawMeta bool
	for len(data) > 0 {
		num, typ, n := protowire.ConsumeTag(data)
		if n < 0 {
			return ""
		}
		m := protowire.ConsumeFieldValue(num, typ, data[n:])
		if m < 0 {
			return ""
		}
		switch {
		case num == 1 && typ == protowire.VarintType:
			sawVersion = true
		case num == 2 && typ == protowire.BytesType:
			sawMeta = true
		default:
			return ""
		}
		data = data[n+m:]
	}
	if sawVersion && sawMeta {
		return "this is a SavedModel (saved_model.pb), not a GraphDef; freeze it into a GraphDef first"
	}
	return ""
}

// diagnoseBinary turns a failed binary parse into a reason that says where
// the bytes stop making sense.
func diagnoseBinary(data []byte, err error) string {
	orig := trimProtoPrefix(err.Error())
	off, node := 0, 0
	for off < len(data) {
		num, typ, n := protowire.ConsumeTag(data[off:])
		if n < 0 {
			return fmt.Sprintf("binary protobuf: byte %d: invalid field tag: %s", off, trimProtoPrefix(protowire.ParseError(n).Error()))
		}
		m := protowire.ConsumeFieldValue(num, typ, data[off+n:])
		if m < 0 {
			what := fmt.Sprintf("field %d", num)
			if num == 1 {
				what = fmt.Sprintf("node #%d", node)
			}
			return fmt.Sprintf("binary protobuf: byte %d: %s: %s (the data is truncated or corrupt; its length is %d)",
				off, what, trimProtoPrefix(protowire.ParseError(m).Error()), len(data))
		}
		if num == 1 && typ == protowire.BytesType {
			payload, _ := protowire.ConsumeBytes(data[off+n:])
			if nerr := proto.Unmarshal(payload, new(tfpb.NodeDef)); nerr != nil {
				return fmt.Sprintf("binary protobuf: byte %d: node #%d: %s", off, node,
					trimProtoPrefix(nerr.Error()))
			}
			node++
		}
		off += n + m
	}
	return "binary protobuf: " + orig
}

// validate reports whether g is plausibly a GraphDef rather than some other
// message, or noise, that happened to parse as one.
func validate(g *tfpb.GraphDef) error {
	if u := g.ProtoReflect().GetUnknown(); len(u) > 0 {
		return &invalidGraph{"top-level " + describeFields(u) + " that GraphDef does not have"}
	}
	if len(g.GetNode()) == 0 {
		return &invalidGraph{"it has no nodes"}
	}
	for i, n := range g.GetNode() {
		if n.GetName() == "" {
			return &invalidGraph{fmt.Sprintf("node #%d has no name", i)}
		}
		if !printableName(n.GetName()) {
			return &invalidGraph{fmt.Sprintf("node #%d has an unprintable name %q", i, n.GetName())}
		}
		if n.GetOp() == "" {
			return &invalidGraph{fmt.Sprintf("node #%d (%q) has no op", i, n.GetName())}
		}
		if !printableName(n.GetOp()) {
			return &invalidGraph{fmt.Sprintf("node #%d (%q) has an unprintable op %q", i, n.GetName(), n.GetOp())}
		}
	}
	return nil
}

// printableName reports whether s is valid UTF-8 made of printable
// characters, as node and op names always are.
func printableName(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// describeFields lists the field numbers and wire types in raw wire bytes.
func describeFields(b []byte) string {
	var parts []string
	seen := map[string]bool{}
	for len(b) > 0 && len(parts) < 5 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			break
		}
		m := protowire.ConsumeFieldValue(num, typ, b[n:])
		if m < 0 {
			break
		}
		b = b[n+m:]
		p := strconv.Itoa(int(num)) + " (" + wireTypeName(typ) + ")"
		if !seen[p] {
			seen[p] = true
			parts = append(parts, p)
		}
	}
	if len(parts) == 1 {
		return "field " + parts[0]
	}
	return "fields " + strings.Join(parts, ", ")
}

func wireTypeName(t protowire.Type) string {
	switch t {
	case protowire.VarintType:
		return "varint"
	case protowire.Fixed32Type:
		return "fixed32"
	case protowire.Fixed64Type:
		return "fixed64"
	case protowire.BytesType:
		return "length-delimited"
	case protowire.StartGroupType, protowire.EndGroupType:
		return "group"
	}
	return "wire type " + strconv.Itoa(int(t))
}

// trimProtoPrefix removes protobuf-go's "proto:" prefix from an error text.
func trimProtoPrefix(s string) string {
	return strings.TrimSpace(strings.TrimPrefix(s, "proto:"))
}
