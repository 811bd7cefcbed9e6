package report

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"
)

// Format is an output format of a report document.
type Format string

// The formats, in the order usage messages list them. A new format is a
// constant here and in formats, its interface and its case in writer, and
// its file extensions in extensions.
const (
	Text     Format = "text"
	Markdown Format = "markdown"
	CSV      Format = "csv"
	JSON     Format = "json"
	HTML     Format = "html"
	// TF is exactly what a TensorFlow tool prints (summarize_graph).
	TF Format = "tf"
)

var formats = []Format{Text, Markdown, CSV, JSON, HTML, TF}

// aliases are other spellings -format accepts.
var aliases = map[string]Format{"md": Markdown}

// extensions map an output file's extension to its format.
var extensions = map[string]Format{
	".html": HTML, ".htm": HTML,
	".json":     JSON,
	".md":       Markdown,
	".markdown": Markdown,
	".csv":      CSV,
}

// The interfaces a document implements, one a format. JSON needs none: a
// document without WriteJSON is encoded by encoding/json, indented.
type (
	TextWriter     interface{ WriteText(io.Writer) error }
	MarkdownWriter interface{ WriteMarkdown(io.Writer) error }
	CSVWriter      interface{ WriteCSV(io.Writer) error }
	JSONWriter     interface{ WriteJSON(io.Writer) error }
	HTMLWriter     interface{ WriteHTML(io.Writer) error }
	TFWriter       interface{ WriteTF(io.Writer) error }
)

// Write renders doc in format f: the one dispatch from a format to a
// renderer.
func Write(w io.Writer, doc any, f Format) error {
	if write := writer(doc, f); write != nil {
		return write(w)
	}
	return fmt.Errorf("report: cannot write %T as %q (want %s)", doc, f, list(Formats(doc)))
}

// Formats lists the formats doc can be written in, in the usual order. doc
// may be a nil pointer of its type when its Write methods have pointer
// receivers (for usage text before the document exists).
func Formats(doc any) []Format {
	var out []Format
	for _, f := range formats {
		if writer(doc, f) != nil {
			out = append(out, f)
		}
	}
	return out
}

// writer returns doc's renderer for f, or nil when doc has none.
func writer(doc any, f Format) func(io.Writer) error {
	switch f {
	case Text:
		if d, ok := doc.(TextWriter); ok {
			return d.WriteText
		}
	case Markdown:
		if d, ok := doc.(MarkdownWriter); ok {
			return d.WriteMarkdown
		}
	case CSV:
		if d, ok := doc.(CSVWriter); ok {
			return d.WriteCSV
		}
	case JSON:
		if d, ok := doc.(JSONWriter); ok {
			return d.WriteJSON
		}
		return func(w io.Writer) error {
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			return enc.Encode(doc)
		}
	case HTML:
		if d, ok := doc.(HTMLWriter); ok {
			return d.WriteHTML
		}
	case TF:
		if d, ok := doc.(TFWriter); ok {
			return d.WriteTF
		}
	}
	return nil
}

// PickFormat is the one place a command's output format is chosen: the
// -format flag's value when set (one of allowed, or an alias such as
// "md"), else the output file's extension when it names an allowed format,
// else Text. A bad value gives an error "unknown -format "x" (want text,
// markdown or json)".
func PickFormat(flagValue, out string, allowed []Format) (Format, error) {
	if flagValue == "" {
		if f, ok := extensions[strings.ToLower(filepath.Ext(out))]; ok && has(allowed, f) {
			return f, nil
		}
		return Text, nil
	}
	f := Format(flagValue)
	if a, ok := aliases[flagValue]; ok {
		f = a
	}
	if !has(allowed, f) {
		return "", fmt.Errorf("unknown -format %q (want %s)", flagValue, list(allowed))
	}
	return f, nil
}

func has(fs []Format, f Format) bool {
	for _, g := range fs {
		if g == f {
			return true
		}
	}
	return false
}

// list joins formats as "text, markdown or json".
func list(fs []Format) string {
	s := make([]string, len(fs))
	for i, f := range fs {
		s[i] = string(f)
	}
	if len(s) < 2 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}
