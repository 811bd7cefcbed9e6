package tfname

import (
	"strconv"
	"strings"
)

// NodeName returns the name of the node an input refers to, read as
// TensorFlow's graph transforms read it: the text before the first ':',
// without a leading '^'.
func NodeName(input string) string {
	name, _, _ := strings.Cut(input, ":")
	return strings.TrimPrefix(name, "^")
}

// Input is a node input taken apart.
type Input struct {
	Node    string // the node producing the value
	Index   int    // the output index; 0 for a control input
	Control bool   // a control dependency (`^name`)
}

// ParseInput parses a node input strictly: `name`, `name:N` with N decimal
// digits, or `^name`. It reports false for anything else (an empty string,
// an empty name, `^name:N`, `name:`, `name:x`, `name:1:2`, an index beyond
// int32).
func ParseInput(s string) (Input, bool) {
	if rest, ok := strings.CutPrefix(s, "^"); ok {
		if rest == "" || strings.Contains(rest, ":") {
			return Input{}, false
		}
		return Input{Node: rest, Control: true}, true
	}
	name, idx, hasIdx := strings.Cut(s, ":")
	if name == "" {
		return Input{}, false
	}
	if !hasIdx {
		return Input{Node: name}, true
	}
	if idx == "" {
		return Input{}, false
	}
	for i := 0; i < len(idx); i++ {
		if idx[i] < '0' || idx[i] > '9' {
			return Input{}, false
		}
	}
	n, err := strconv.ParseInt(idx, 10, 32)
	if err != nil {
		return Input{}, false
	}
	return Input{Node: name, Index: int(n)}, true
}
