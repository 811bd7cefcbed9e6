package transform

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want []Step
	}{
		{"", nil},
		{"   ", nil},
		{"fold_constants", []Step{{Name: "fold_constants"}}},
		// TF's own example list, spaces and newlines between steps.
		{"strip_unused_nodes(type=float, shape=\"1,299,299,3\")\n  fold_constants(ignore_errors=true) fold_batch_norms",
			[]Step{
				{Name: "strip_unused_nodes", Args: []Arg{{"type", "float"}, {"shape", "1,299,299,3"}}},
				{Name: "fold_constants", Args: []Arg{{"ignore_errors", "true"}}},
				{Name: "fold_batch_norms"},
			}},
		// Repeated arguments keep their order; commas are optional.
		{"remove_nodes(op=Identity op=CheckNumerics, op=StopGradient)",
			[]Step{{Name: "remove_nodes", Args: []Arg{{"op", "Identity"}, {"op", "CheckNumerics"}, {"op", "StopGradient"}}}}},
		// Unquoted values take letters, digits and -./_ (TF's LETTER_DIGIT_DASH_DOT_SLASH_UNDERSCORE).
		{"freeze_requantization_ranges(min_max_log_file=/tmp/log-1.txt,min_percentile=0.5)",
			[]Step{{Name: "freeze_requantization_ranges", Args: []Arg{{"min_max_log_file", "/tmp/log-1.txt"}, {"min_percentile", "0.5"}}}}},
		// Quoted: anything; a backslash escape stays in the value as in TF's ScanEscapedUntil.
		{`insert_logging(message="a b;\"c\"")`, []Step{{Name: "insert_logging", Args: []Arg{{"message", `a b;\"c\"`}}}}},
		{`a() b`, []Step{{Name: "a"}, {Name: "b"}}},
		// No space needed after ")", and qcal allows spaces before ")" and ",".
		{`a(x=1 ,y=2 )b`, []Step{{Name: "a", Args: []Arg{{"x", "1"}, {"y", "2"}}}, {Name: "b"}}},
		// TF swallows one stray closing quote after a value.
		{`a(x=1")`, []Step{{Name: "a", Args: []Arg{{"x", "1"}}}}},
		{`a(x="")`, []Step{{Name: "a", Args: []Arg{{"x", ""}}}}},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Parse(%q) = %#v, want %#v", tt.in, got, tt.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"a,b", `column 2: looking for a transform name, found ",b"`},
		{"a(x)", `column 4: looking for = after argument x of a, found ")"`},
		{"a(=1)", `column 3: looking for an argument name of a, found "=1)"`},
		{"a(x=1", `column 2: a( has no closing )`},
		{`a(x="1)`, `column 5: the quoted value of x in a has no closing quote`},
		{`a(x=1,2)`, `column 8: looking for = after argument 2 of a, found ")"`},
		{`a(x=@)`, `column 5: looking for the value of x in a, found "@)" (quote values holding other characters)`},
		{`fold_constants(`, `column 15: fold_constants( has no closing )`},
	}
	for _, tt := range tests {
		_, err := Parse(tt.in)
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("Parse(%q) error = %v, want a *SyntaxError", tt.in, err)
			continue
		}
		if !strings.HasSuffix(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "-transforms: ") {
			t.Errorf("Parse(%q) error = %q, want ...%q", tt.in, err, tt.want)
		}
	}
}

func TestStepStringRoundTrip(t *testing.T) {
	in := `strip_unused_nodes(type=float, shape="1,28,28,1") remove_nodes(op=Identity, op=CheckNumerics) a(m="x y") fold_constants`
	steps, err := Parse(in)
	if err != nil {
		t.Fatal(err)
	}
	var parts []string
	for _, s := range steps {
		parts = append(parts, s.String())
	}
	if got := strings.Join(parts, " "); got != in {
		t.Errorf("String round trip:\n got %s\nwant %s", got, in)
	}
	again, err := Parse(strings.Join(parts, " "))
	if err != nil || !reflect.DeepEqual(again, steps) {
		t.Errorf("reparse = %v, %v", again, err)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"a(b=c) d", `x(y="z\"w")`, "a(", "(", "a(b=1,c=2)e(f=g)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		steps, err := Parse(s)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) || se.Col < 1 || se.Col > len(s)+1 {
				t.Fatalf("Parse(%q): error %v without a valid column", s, err)
			}
			return
		}
		// What parses writes back to a list that parses the same.
		var parts []string
		for _, st := range steps {
			parts = append(parts, st.String())
		}
		again, err := Parse(strings.Join(parts, " "))
		if err != nil || !reflect.DeepEqual(again, steps) {
			t.Fatalf("Parse(%q) = %v; written back and reparsed: %v, %v", s, steps, again, err)
		}
	})
}
