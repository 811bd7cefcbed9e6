package tfname

import (
	"slices"
	"testing"
)

func TestParseInput(t *testing.T) {
	tests := []struct {
		in   string
		want Input
		ok   bool
	}{
		{"a", Input{Node: "a"}, true},
		{"a/b:2", Input{Node: "a/b", Index: 2}, true},
		{"^a", Input{Node: "a", Control: true}, true},
		{"a:0", Input{Node: "a"}, true},
		{"", Input{}, false},
		{"^", Input{}, false},
		{":1", Input{}, false},
		{"a:", Input{}, false},
		{"a:x", Input{}, false},
		{"a:-1", Input{}, false},
		{"a:+1", Input{}, false},
		{"a:1:2", Input{}, false},
		{"^a:1", Input{}, false},
		{"a:99999999999", Input{}, false},
	}
	for _, tc := range tests {
		got, ok := ParseInput(tc.in)
		if ok != tc.ok || got != tc.want {
			t.Errorf("ParseInput(%q) = %+v, %v; want %+v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
	for in, want := range map[string]string{"a": "a", "^a": "a", "a:1": "a", "^a:1:2": "a", "": ""} {
		if got := NodeName(in); got != want {
			t.Errorf("NodeName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestIsRequantizationRange(t *testing.T) {
	for op, want := range map[string]bool{
		"RequantizationRange": true, "RequantizationRangePerChannel": true,
		"Requantize": false, "requantizationrange": false, "": false,
	} {
		if got := IsRequantizationRange(op); got != want {
			t.Errorf("IsRequantizationRange(%q) = %v, want %v", op, got, want)
		}
	}
}

type node struct {
	name, op string
	inputs   []string
}

func (n node) GetName() string    { return n.name }
func (n node) GetInput() []string { return n.inputs }

func TestDepths(t *testing.T) {
	// Worked by hand: a and k are sources (0); b reads a (1); c reads b and,
	// by control, a: its longest chain is a→b→c (2); d reads c:1 (3); x and y
	// read each other (a cycle: -1) and z reads y (behind it: -1); the second
	// node named "a" reads k but never counts as a producer (the first a
	// does), and "missing" names no node, so e reads only a (1).
	nodes := []node{
		{name: "a"},
		{name: "b", inputs: []string{"a"}},
		{name: "c", inputs: []string{"b", "^a"}},
		{name: "d", inputs: []string{"c:1"}},
		{name: "x", inputs: []string{"y"}},
		{name: "y", inputs: []string{"x"}},
		{name: "z", inputs: []string{"y:0"}},
		{name: "k"},
		{name: "a", inputs: []string{"k"}},
		{name: "e", inputs: []string{"missing", "a"}},
	}
	want := []int{0, 1, 2, 3, -1, -1, -1, 0, 1, 1}
	if got := Depths(nodes, nil); !slices.Equal(got, want) {
		t.Errorf("Depths = %v, want %v", got, want)
	}
	// A loop: enter → merge ← next ← body ← merge. Skipping the edge out of
	// NextIteration breaks the cycle: enter 0, merge 1, body 2, next 3.
	loop := []node{
		{name: "enter"},
		{name: "merge", inputs: []string{"enter", "next"}},
		{name: "body", inputs: []string{"merge"}},
		{name: "next", op: "NextIteration", inputs: []string{"body"}},
	}
	if got, want := Depths(loop, nil), []int{0, -1, -1, -1}; !slices.Equal(got, want) {
		t.Errorf("Depths(loop, nil) = %v, want %v", got, want)
	}
	skip := func(n node) bool { return n.op == "NextIteration" }
	if got, want := Depths(loop, skip), []int{0, 1, 2, 3}; !slices.Equal(got, want) {
		t.Errorf("Depths(loop, skip NextIteration) = %v, want %v", got, want)
	}
	if got := Depths([]node(nil), nil); len(got) != 0 {
		t.Errorf("Depths(nil) = %v, want empty", got)
	}
}

// TestList: up to k names are joined; beyond, the first k and a count.
func TestList(t *testing.T) {
	for _, c := range []struct {
		names []string
		k     int
		want  string
	}{
		{nil, 3, ""},
		{[]string{"a", "b"}, 2, "a, b"},
		{[]string{"a", "b", "c", "d", "e"}, 2, "a, b (and 3 more)"},
	} {
		if got := List(c.names, c.k); got != c.want {
			t.Errorf("List(%q, %d) = %q, want %q", c.names, c.k, got, c.want)
		}
	}
}
