package graphio

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"qcal/internal/tfpb"
)

// FuzzDecode checks that Decode never panics, that every error names the
// input and wraps ErrNotGraphDef, and that whatever decodes survives both
// encodings unchanged.
func FuzzDecode(f *testing.F) {
	// Seeds are kept small: each new interesting input is minimized, which
	// takes a number of runs proportional to its size.
	seeds := []struct {
		g *tfpb.GraphDef
		f Format
	}{{smallGraph(), Binary}, {smallGraph(), Text}, {fullGraph(), Binary}}
	for _, s := range seeds {
		b, err := Encode(s.g, s.f)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	if dir := realGraphsDirIfPresent(); dir != "" {
		if b, err := os.ReadFile(filepath.Join(dir, "linreg_frozen.pb")); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte{})
	f.Add([]byte("node { name: \"a\" op: \"b\" }"))
	f.Add([]byte("# c\nnode: < name: 'a' op: \"b\" attr { key: \"k\" value { f: nan } } >"))
	f.Add([]byte("I0108 10:22:14.123 logging_ops.cc:79] ;a__print__;__requant_min_max:[0][1]\n"))
	f.Add([]byte{0x0a, 0x06, 0x0a, 0x01, 'a', 0x12, 0x01, 'b'})

	f.Fuzz(func(t *testing.T, data []byte) {
		g, _, err := Decode(data, "fuzz.pb")
		if err != nil {
			if !errors.Is(err, ErrNotGraphDef) || !strings.HasPrefix(err.Error(), "fuzz.pb") {
				t.Fatalf("error %q does not name the input or wrap ErrNotGraphDef", err)
			}
			return
		}
		bin, err := Encode(g, Binary)
		if err != nil {
			t.Fatalf("Encode(Binary): %v", err)
		}
		g2, f2, err := Decode(bin, "binary")
		if err != nil {
			t.Fatalf("Decode(Encode(Binary)): %v", err)
		}
		if f2 != Binary || !proto.Equal(g, g2) {
			t.Fatalf("binary round trip changed the graph (format %v)", f2)
		}
		txt, err := Encode(g, Text)
		if err != nil {
			if hasUnknown(g.ProtoReflect()) {
				return // text cannot carry fields outside the schema
			}
			t.Fatalf("Encode(Text): %v", err)
		}
		g3, f3, err := Decode(txt, "text")
		if err != nil {
			t.Fatalf("Decode(Encode(Text)): %v\n%s", err, txt)
		}
		if f3 != Text || !proto.Equal(g, g3) {
			t.Fatalf("text round trip changed the graph (format %v)", f3)
		}
	})
}

// hasUnknown reports whether m or any message inside it holds unknown fields.
func hasUnknown(m protoreflect.Message) bool {
	if len(m.GetUnknown()) > 0 {
		return true
	}
	found := false
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList() && fd.Message() != nil:
			l := v.List()
			for i := 0; i < l.Len() && !found; i++ {
				found = hasUnknown(l.Get(i).Message())
			}
		case fd.IsMap() && fd.MapValue().Message() != nil:
			v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
				found = hasUnknown(mv.Message())
				return !found
			})
		case !fd.IsList() && !fd.IsMap() && fd.Message() != nil:
			found = hasUnknown(v.Message())
		}
		return !found
	})
	return found
}
