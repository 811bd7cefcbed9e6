package transform

import (
	"fmt"
	"strings"
)

// Arg is one name=value argument of a transform, as written.
type Arg struct {
	Name, Value string
}

// Step is one transform of a -transforms list with its arguments in the
// order they were written. An argument may be repeated (remove_nodes(op=A,
// op=B)).
type Step struct {
	Name string
	Args []Arg
}

// Values returns every value given for the argument name, in order.
func (s Step) Values(name string) []string {
	var out []string
	for _, a := range s.Args {
		if a.Name == name {
			out = append(out, a.Value)
		}
	}
	return out
}

// String writes the step back in transform_graph's syntax, quoting every
// value that is not a plain word.
func (s Step) String() string {
	if len(s.Args) == 0 {
		return s.Name
	}
	var b strings.Builder
	b.WriteString(s.Name)
	b.WriteByte('(')
	for i, a := range s.Args {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(a.Name)
		b.WriteByte('=')
		if a.Value != "" && scanWhile(a.Value, 0, isValueByte) == len(a.Value) {
			b.WriteString(a.Value)
		} else {
			b.WriteByte('"')
			b.WriteString(a.Value)
			b.WriteByte('"')
		}
	}
	b.WriteByte(')')
	return b.String()
}

// SyntaxError is a mistake in a transform list. Col counts bytes from 1.
type SyntaxError struct {
	Col int
	Msg string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("-transforms: column %d: %s", e.Col, e.Msg) }

func isNameByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// isValueByte is TensorFlow's set for unquoted values: letters, digits and
// "-./_".
func isValueByte(c byte) bool { return isNameByte(c) || c == '-' || c == '.' || c == '/' }

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

func scanWhile(s string, i int, ok func(byte) bool) int {
	for i < len(s) && ok(s[i]) {
		i++
	}
	return i
}

// Parse reads a transform list in the syntax of TensorFlow's transform_graph
// (ParseTransformParameters in transform_graph.cc):
//
//	list  = { space } { step { space } }
//	step  = name [ "(" [ arg { [ "," ] { space } arg } ] ")" ]
//	arg   = name "=" ( '"' { char | '\' char } '"' | word ) [ '"' ] [ "'" ]
//	name  = letters, digits, "_"
//	word  = letters, digits, "-./_"
//
// so `strip_unused_nodes(type=float, shape="1,28,28,1") fold_constants
// remove_nodes(op=Identity op=CheckNumerics)` is three steps. A quoted value
// is kept as written between its quotes: a backslash escapes the next
// character and stays in the value, as in TensorFlow. Where TensorFlow is
// stricter or silent qcal is plain: spaces are also allowed before "," and
// ")", and a list that ends inside a "(...)" is an error (TensorFlow drops
// that transform without a word).
func Parse(spec string) ([]Step, error) {
	var steps []Step
	errAt := func(i int, format string, a ...any) error {
		return &SyntaxError{Col: i + 1, Msg: fmt.Sprintf(format, a...)}
	}
	found := func(i int) string {
		if i >= len(spec) {
			return "the end of the list"
		}
		rest := spec[i:]
		if len(rest) > 20 {
			rest = rest[:20] + "..."
		}
		return fmt.Sprintf("%q", rest)
	}
	i := 0
	for {
		i = scanWhile(spec, i, isSpace)
		if i == len(spec) {
			return steps, nil
		}
		j := scanWhile(spec, i, isNameByte)
		if j == i {
			return nil, errAt(i, "looking for a transform name, found %s", found(i))
		}
		step := Step{Name: spec[i:j]}
		i = j
		if i == len(spec) || spec[i] != '(' {
			steps = append(steps, step)
			continue
		}
		open := i
		i++
		for {
			i = scanWhile(spec, i, isSpace)
			if i == len(spec) {
				return nil, errAt(open, "%s( has no closing )", step.Name)
			}
			if spec[i] == ')' {
				i++
				break
			}
			if spec[i] == ',' {
				i = scanWhile(spec, i+1, isSpace)
			}
			j := scanWhile(spec, i, isNameByte)
			if j == i {
				return nil, errAt(i, "looking for an argument name of %s, found %s", step.Name, found(i))
			}
			name := spec[i:j]
			i = j
			if i == len(spec) || spec[i] != '=' {
				return nil, errAt(i, "looking for = after argument %s of %s, found %s", name, step.Name, found(i))
			}
			i++
			var value string
			if i < len(spec) && spec[i] == '"' {
				start := i + 1
				k := start
				for k < len(spec) && spec[k] != '"' {
					if spec[k] == '\\' {
						k++
					}
					k++
				}
				if k >= len(spec) {
					return nil, errAt(i, "the quoted value of %s in %s has no closing quote", name, step.Name)
				}
				value = spec[start:k]
				i = k + 1
			} else {
				k := scanWhile(spec, i, isValueByte)
				if k == i {
					return nil, errAt(i, "looking for the value of %s in %s, found %s (quote values holding other characters)", name, step.Name, found(i))
				}
				value = spec[i:k]
				i = k
			}
			// TensorFlow swallows one stray closing quote of each kind.
			if i < len(spec) && spec[i] == '"' {
				i++
			}
			if i < len(spec) && spec[i] == '\'' {
				i++
			}
			step.Args = append(step.Args, Arg{Name: name, Value: value})
		}
		steps = append(steps, step)
	}
}
