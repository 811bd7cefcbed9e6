package graphio

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"sync"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"qcal/internal/tfpb"
)

// marshalText writes g in protobuf text format with a fixed layout, so that
// the same graph always gives the same bytes. prototext is not used for this
// because its output inserts random extra spaces on purpose.
func marshalText(g *tfpb.GraphDef) ([]byte, error) {
	// Bytes fields grow up to four times in text (octal escapes); start
	// with room for that to avoid repeated copying of large graphs.
	w := textWriter{buf: make([]byte, 0, 3*proto.Size(g)+512)}
	if err := w.message(g.ProtoReflect(), 0); err != nil {
		return nil, err
	}
	return w.buf, nil
}

type textWriter struct {
	buf []byte
}

// fieldOrder caches, per message type, its fields sorted by number (the order
// TensorFlow's C++ text printer uses).
var fieldOrder sync.Map // protoreflect.FullName -> []protoreflect.FieldDescriptor

func sortedFields(md protoreflect.MessageDescriptor) []protoreflect.FieldDescriptor {
	if v, ok := fieldOrder.Load(md.FullName()); ok {
		return v.([]protoreflect.FieldDescriptor)
	}
	fds := md.Fields()
	out := make([]protoreflect.FieldDescriptor, fds.Len())
	for i := range out {
		out[i] = fds.Get(i)
	}
	slices.SortFunc(out, func(a, b protoreflect.FieldDescriptor) int { return cmp.Compare(a.Number(), b.Number()) })
	fieldOrder.Store(md.FullName(), out)
	return out
}

func (w *textWriter) indent(depth int) {
	for range depth {
		w.buf = append(w.buf, ' ', ' ')
	}
}

func (w *textWriter) message(m protoreflect.Message, depth int) error {
	if u := m.GetUnknown(); len(u) > 0 {
		return fmt.Errorf("graphio: %s holds %s unknown to qcal's schema, which text format cannot carry; save the graph in binary format",
			m.Descriptor().FullName(), describeFields(u))
	}
	for _, fd := range sortedFields(m.Descriptor()) {
		switch {
		case fd.IsList():
			l := m.Get(fd).List()
			for i := 0; i < l.Len(); i++ {
				if err := w.field(fd, string(fd.Name()), l.Get(i), depth); err != nil {
					return err
				}
			}
		case fd.IsMap():
			if err := w.mapField(fd, m.Get(fd).Map(), depth); err != nil {
				return err
			}
		default:
			if m.Has(fd) {
				if err := w.field(fd, string(fd.Name()), m.Get(fd), depth); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// mapField writes each entry as `name { key: K value: V }`, sorted by key.
func (w *textWriter) mapField(fd protoreflect.FieldDescriptor, mp protoreflect.Map, depth int) error {
	keys := make([]protoreflect.MapKey, 0, mp.Len())
	mp.Range(func(k protoreflect.MapKey, _ protoreflect.Value) bool {
		keys = append(keys, k)
		return true
	})
	switch fd.MapKey().Kind() {
	case protoreflect.StringKind:
		slices.SortFunc(keys, func(a, b protoreflect.MapKey) int { return cmp.Compare(a.String(), b.String()) })
	case protoreflect.BoolKind:
		slices.SortFunc(keys, func(a, b protoreflect.MapKey) int {
			return cmp.Compare(boolInt(a.Bool()), boolInt(b.Bool()))
		})
	case protoreflect.Uint32Kind, protoreflect.Uint64Kind, protoreflect.Fixed32Kind, protoreflect.Fixed64Kind:
		slices.SortFunc(keys, func(a, b protoreflect.MapKey) int { return cmp.Compare(a.Uint(), b.Uint()) })
	default:
		slices.SortFunc(keys, func(a, b protoreflect.MapKey) int { return cmp.Compare(a.Int(), b.Int()) })
	}
	name := string(fd.Name())
	for _, k := range keys {
		w.indent(depth)
		w.buf = append(w.buf, name...)
		w.buf = append(w.buf, " {\n"...)
		if err := w.field(fd.MapKey(), "key", k.Value(), depth+1); err != nil {
			return err
		}
		if err := w.field(fd.MapValue(), "value", mp.Get(k), depth+1); err != nil {
			return err
		}
		w.indent(depth)
		w.buf = append(w.buf, "}\n"...)
	}
	return nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// field writes one value of fd, as `name: scalar` or `name { ... }`.
func (w *textWriter) field(fd protoreflect.FieldDescriptor, name string, v protoreflect.Value, depth int) error {
	w.indent(depth)
	w.buf = append(w.buf, name...)
	if k := fd.Kind(); k == protoreflect.MessageKind || k == protoreflect.GroupKind {
		w.buf = append(w.buf, " {\n"...)
		if err := w.message(v.Message(), depth+1); err != nil {
			return err
		}
		w.indent(depth)
		w.buf = append(w.buf, "}\n"...)
		return nil
	}
	w.buf = append(w.buf, ": "...)
	w.scalar(fd, v)
	w.buf = append(w.buf, '\n')
	return nil
}

func (w *textWriter) scalar(fd protoreflect.FieldDescriptor, v protoreflect.Value) {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		w.buf = strconv.AppendBool(w.buf, v.Bool())
	case protoreflect.EnumKind:
		if ev := fd.Enum().Values().ByNumber(v.Enum()); ev != nil {
			w.buf = append(w.buf, ev.Name()...)
		} else {
			w.buf = strconv.AppendInt(w.buf, int64(v.Enum()), 10)
		}
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind,
		protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		w.buf = strconv.AppendInt(w.buf, v.Int(), 10)
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind,
		protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		w.buf = strconv.AppendUint(w.buf, v.Uint(), 10)
	case protoreflect.FloatKind:
		w.buf = appendFloat32(w.buf, float32(v.Float()))
	case protoreflect.DoubleKind:
		w.buf = appendFloat64(w.buf, v.Float())
	case protoreflect.StringKind:
		w.buf = appendQuoted(w.buf, v.String())
	case protoreflect.BytesKind:
		w.buf = appendQuoted(w.buf, v.Bytes())
	default:
		panic(fmt.Sprintf("graphio: unexpected field kind %v", fd.Kind()))
	}
}

// appendNonFinite writes the spellings of NaN and the infinities that
// protobuf text parsers accept, reporting whether f was one of them.
func appendNonFinite(b []byte, f float64) ([]byte, bool) {
	switch {
	case math.IsNaN(f):
		return append(b, "nan"...), true
	case math.IsInf(f, 1):
		return append(b, "inf"...), true
	case math.IsInf(f, -1):
		return append(b, "-inf"...), true
	}
	return b, false
}

// appendFloat32 writes f the way protobuf's C++ text printer (and so
// TensorFlow) does: %.6g when that reads back as exactly f, else %.9g, which
// always does. Readers differ in how they read a float field (correctly
// rounded to float32, or first to float64 and then to float32); the short
// form is used only when both ways give back f.
func appendFloat32(b []byte, f float32) []byte {
	if b, ok := appendNonFinite(b, float64(f)); ok {
		return b
	}
	start := len(b)
	b = strconv.AppendFloat(b, float64(f), 'g', 6, 64)
	s := string(b[start:])
	if x, err := strconv.ParseFloat(s, 32); err == nil && float32(x) == f {
		if y, err := strconv.ParseFloat(s, 64); err == nil && float32(y) == f {
			return b
		}
	}
	return strconv.AppendFloat(b[:start], float64(f), 'g', 9, 64)
}

// appendFloat64 writes f as protobuf's C++ text printer does: %.15g when
// that reads back as exactly f, else %.17g.
func appendFloat64(b []byte, f float64) []byte {
	if b, ok := appendNonFinite(b, f); ok {
		return b
	}
	start := len(b)
	b = strconv.AppendFloat(b, f, 'g', 15, 64)
	if x, err := strconv.ParseFloat(string(b[start:]), 64); err == nil && x == f {
		return b
	}
	return strconv.AppendFloat(b[:start], f, 'g', 17, 64)
}

// appendQuoted writes s as a double-quoted text-format string: printable
// ASCII as is, the usual C escapes for newline, tab, carriage return, quotes
// and backslash, and every other byte as a three-digit octal escape (the
// form TensorFlow writes for tensor_content).
func appendQuoted[S ~string | ~[]byte](b []byte, s S) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\n':
			b = append(b, `\n`...)
		case '\r':
			b = append(b, `\r`...)
		case '\t':
			b = append(b, `\t`...)
		case '"':
			b = append(b, `\"`...)
		case '\'':
			b = append(b, `\'`...)
		case '\\':
			b = append(b, `\\`...)
		default:
			if c < 0x20 || c >= 0x7f {
				b = append(b, '\\', '0'+c>>6, '0'+(c>>3)&7, '0'+c&7)
			} else {
				b = append(b, c)
			}
		}
	}
	return append(b, '"')
}
