package report

import (
	"bytes"
	"fmt"
	"io"
	"testing"
)

type textOnly struct{}

func (textOnly) WriteText(w io.Writer) error { _, err := io.WriteString(w, "t\n"); return err }

func TestPickFormat(t *testing.T) {
	all := []Format{Text, Markdown, CSV, JSON, HTML}
	tests := []struct {
		flag, out string
		allowed   []Format
		want      Format
		err       string
	}{
		{"", "-", all, Text, ""},
		{"", "a/b.HTML", all, HTML, ""},               // extensions are case-insensitive
		{"", "r.csv", all, CSV, ""},                   // the audit's CSV
		{"", "r.csv", []Format{Text, JSON}, Text, ""}, // not allowed: text
		{"", "r.markdown", all, Markdown, ""},
		{"md", "r.json", all, Markdown, ""}, // the flag wins; md is an alias
		{"json", "", all, JSON, ""},
		{"xml", "", []Format{Text, JSON, TF}, "", `unknown -format "xml" (want text, json or tf)`},
		{"csv", "", []Format{Text, Markdown, JSON, HTML}, "", `unknown -format "csv" (want text, markdown, json or html)`},
	}
	for _, tc := range tests {
		got, err := PickFormat(tc.flag, tc.out, tc.allowed)
		if got != tc.want || fmt.Sprint(err) != map[bool]string{true: "<nil>", false: tc.err}[tc.err == ""] {
			t.Errorf("PickFormat(%q, %q) = %q, %v; want %q, %q", tc.flag, tc.out, got, err, tc.want, tc.err)
		}
	}
}

func TestWriteDispatch(t *testing.T) {
	// A document without WriteJSON is encoded by encoding/json, indented.
	var b bytes.Buffer
	if err := Write(&b, map[string]int{"b": 2, "a": 1}, JSON); err != nil || b.String() != "{\n  \"a\": 1,\n  \"b\": 2\n}\n" {
		t.Errorf("JSON: %q, %v", b.String(), err)
	}
	b.Reset()
	if err := Write(&b, textOnly{}, Text); err != nil || b.String() != "t\n" {
		t.Errorf("Text: %q, %v", b.String(), err)
	}
	if err := Write(&b, textOnly{}, CSV); err == nil || err.Error() != `report: cannot write report.textOnly as "csv" (want text or json)` {
		t.Errorf("CSV of a text-only document: %v", err)
	}
	// Formats reads the renderers off a nil pointer, for usage text.
	if got := fmt.Sprint(Formats((*RangesDoc)(nil))); got != "[text markdown csv json]" {
		t.Errorf("Formats(*RangesDoc) = %s", got)
	}
	if got := fmt.Sprint(Formats(SummaryDoc{})); got != "[text json tf]" {
		t.Errorf("Formats(SummaryDoc) = %s", got)
	}
}
