package calib

import (
	"errors"
	"maps"
	"strings"
	"testing"
	"testing/iotest"
)

func TestMapName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"conv1/Conv2D", "conv1/Conv2D_eightbit_requant_range"},
		{"conv1/Conv2D__print__", "conv1/Conv2D_eightbit_requant_range"},
		{"conv1/Conv2D_eightbit_requant_range", "conv1/Conv2D_eightbit_requant_range"},
		{"conv1/Conv2D_eightbit_requant_range__print__", "conv1/Conv2D_eightbit_requant_range"},
		{"x__print____print__", "x__print___eightbit_requant_range"}, // one suffix is stripped
	}
	for _, tc := range tests {
		if got := MapName(tc.in); got != tc.want {
			t.Errorf("MapName(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestParseNameMap(t *testing.T) {
	in := "# logged  graph\n" +
		"a/conv a/conv_eightbit_requant_range\n" +
		"\n" +
		"   b\tb_q_requant_range   # trailing comment\r\n" +
		"a/conv a/conv_eightbit_requant_range\n" + // repeated, same: fine
		"c c2" // no final newline
	m, err := ParseNameMap(strings.NewReader(in), "names.map")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"a/conv": "a/conv_eightbit_requant_range", "b": "b_q_requant_range", "c": "c2"}
	if !maps.Equal(m, want) {
		t.Errorf("got %v, want %v", m, want)
	}

	bad := "a b\n" +
		"one\n" +
		"x y z\n" +
		"a c\n"
	_, err = ParseNameMap(strings.NewReader(bad), "bad.map")
	for _, want := range []string{
		"bad.map:2: want two fields `logged_name graph_name`, got 1",
		"bad.map:3: want two fields `logged_name graph_name`, got 3",
		`bad.map:4: "a" mapped to "c" here but to "b" at line 1`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v, want it to contain %q", err, want)
		}
	}

	many := strings.Repeat("x\n", 13)
	_, err = ParseNameMap(strings.NewReader(many), "m")
	if err == nil || !strings.Contains(err.Error(), "m:10: want two fields") || strings.Contains(err.Error(), "m:11:") ||
		!strings.HasSuffix(err.Error(), "(and 3 more)") {
		t.Errorf("error %v, want 10 lines and (and 3 more)", err)
	}

	boom := errors.New("disk on fire")
	_, err = ParseNameMap(iotest.ErrReader(boom), "f")
	if !errors.Is(err, boom) || !strings.HasPrefix(err.Error(), "f:1: ") {
		t.Errorf("I/O error %v, want f:1: wrapping it", err)
	}
}

func FuzzParseNameMap(f *testing.F) {
	f.Add("a b\n# c\n\nd e # f\n")
	f.Add("a\n b c d\n")
	f.Fuzz(func(t *testing.T, in string) {
		m, err := ParseNameMap(strings.NewReader(in), "fuzz")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz:") && !strings.Contains(err.Error(), "(and") {
				t.Fatalf("error without position: %v", err)
			}
			return
		}
		for k, v := range m {
			if k == "" || v == "" || strings.ContainsAny(k+v, "# \t\n") {
				t.Fatalf("bad entry %q → %q", k, v)
			}
		}
	})
}

// TestParseNameMapBOM: a byte order mark before the first logged name is
// not part of it.
func TestParseNameMapBOM(t *testing.T) {
	m, err := ParseNameMap(strings.NewReader("\ufeffconv1 conv1_eightbit_requant_range\n"), "bom.map")
	if err != nil || m["conv1"] != "conv1_eightbit_requant_range" || len(m) != 1 {
		t.Errorf("got %q, %v; want conv1 mapped", m, err)
	}
}
