package report

import (
	"strings"
	"testing"

	"qcal/stats"
)

func TestTableFormats(t *testing.T) {
	tb := &Table{Header: []string{"node", "min"}, Right: []bool{false, true}, Rows: [][]string{{`a|b\c`, "-1.5"}, {"x,y", "2"}}}
	tests := []struct{ format, want string }{
		{"markdown", "| node | min |\n|---|---:|\n| a\\|b\\\\c | -1.5 |\n| x,y | 2 |\n"},
		{"csv", "node,min\na|b\\c,-1.5\n\"x,y\",2\n"},
	}
	for _, tc := range tests {
		var b strings.Builder
		if err := Write(&b, tb, Format(tc.format)); err != nil {
			t.Fatal(err)
		}
		if b.String() != tc.want {
			t.Errorf("%s:\n%q\nwant\n%q", tc.format, b.String(), tc.want)
		}
	}
	var b strings.Builder
	if err := Write(&b, tb, Text); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	if len(lines) != 6 || !strings.Contains(lines[1], "node") || !strings.Contains(lines[3], `a|b\c`) || !strings.HasSuffix(strings.TrimSuffix(lines[3], "│"), "-1.5 ") {
		t.Errorf("text table:\n%s", b.String())
	}
	if err := Write(&b, tb, "xml"); err == nil {
		t.Error("unknown format: no error")
	}
}

func TestRangesDoc(t *testing.T) {
	d := NewRangesDoc("tf", []string{"a.log"}, 7, []stats.Range{
		{Node: "rr", Side: stats.Both, Min: -0.5, Max: 12.0352411, Count: 4},
		{Node: "m", Side: stats.MinOnly, Min: -3, Count: 2},
	})
	var b strings.Builder
	if err := Write(&b, d, JSON); err != nil {
		t.Fatal(err)
	}
	want := `{
  "strategy": "tf",
  "logs": [
    "a.log"
  ],
  "records": 7,
  "ranges": [
    {
      "node": "rr",
      "kind": "min/max",
      "min": -0.5,
      "max": 12.035241,
      "count": 4
    },
    {
      "node": "m",
      "kind": "min",
      "min": -3,
      "count": 2
    }
  ]
}
`
	if b.String() != want {
		t.Errorf("json:\n%s\nwant\n%s", b.String(), want)
	}
}
