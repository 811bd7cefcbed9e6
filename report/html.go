package report

import (
	"bytes"
	"html/template"
	"io"
	"strings"
)

// Page is a self-contained HTML report: one file with inline CSS and
// inline SVG, no scripts and nothing fetched from the network. The
// accuracy report and (later) the audit report are Pages.
type Page struct {
	Title string
	// Lead is a short line under the title.
	Lead     string
	Sections []Section
	// Footer is plain text at the bottom (method notes, the tool).
	Footer []string
}

// Section is one part of a Page, with an id for links and tests.
type Section struct {
	ID    string
	Title string // no heading when empty
	// Class is added to the section's class attribute (e.g. "pass",
	// "warn", "fail" for a verdict banner).
	Class string
	Body  template.HTML
}

// pageCSS is the page's style: readable on screen and when printed,
// tables with right-aligned numbers, verdict colours.
const pageCSS = `
:root { --fg: #1d2330; --muted: #5b6475; --line: #d9dee7; --bg: #ffffff; --head: #f3f5f9;
  --pass: #1e7d4f; --pass-bg: #e6f4ec; --warn: #8a5a00; --warn-bg: #fff4d6; --fail: #b3261e; --fail-bg: #fde8e6; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg);
  font: 15px/1.45 "Liberation Sans", Arimo, Arial, Helvetica, sans-serif; }
main { max-width: 1100px; margin: 0 auto; padding: 24px 28px 40px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 28px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
p.lead { color: var(--muted); margin: 0 0 18px; }
p.caption { color: var(--muted); margin: 4px 0 10px; font-size: 14px; }
section.banner { border-radius: 8px; padding: 14px 18px; margin: 8px 0 18px; border: 1px solid; }
section.banner h2 { border: none; margin: 0 0 6px; padding: 0; font-size: 22px; }
section.banner ul { margin: 6px 0 0; padding-left: 20px; }
section.pass { background: var(--pass-bg); border-color: var(--pass); }
section.pass h2 { color: var(--pass); }
section.warn { background: var(--warn-bg); border-color: #d9a400; }
section.warn h2 { color: var(--warn); }
section.fail { background: var(--fail-bg); border-color: var(--fail); }
section.fail h2 { color: var(--fail); }
table { border-collapse: collapse; margin: 6px 0 12px; font-size: 14px; }
th, td { border: 1px solid var(--line); padding: 4px 9px; text-align: left; vertical-align: top; }
th { background: var(--head); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.v-pass { color: var(--pass); font-weight: 700; }
td.v-warn { color: var(--warn); font-weight: 700; }
td.v-fail { color: var(--fail); font-weight: 700; }
.scroll { overflow-x: auto; }
figure { margin: 8px 0; }
figure svg { width: 100%; height: auto; max-width: 900px; display: block; }
figcaption { color: var(--muted); font-size: 14px; margin-top: 4px; }
footer { margin-top: 32px; color: var(--muted); font-size: 13px; border-top: 1px solid var(--line); padding-top: 10px; }
footer p { margin: 4px 0; }
code { font-family: "Liberation Mono", Cousine, Menlo, Consolas, monospace; font-size: 13px; }
`

var pageTemplate = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>{{.CSS}}</style>
</head>
<body>
<main>
<h1>{{.Title}}</h1>
{{if .Lead}}<p class="lead">{{.Lead}}</p>
{{end}}{{range .Sections}}<section id="{{.ID}}"{{if .Class}} class="{{.Class}}"{{end}}>
{{if .Title}}<h2>{{.Title}}</h2>
{{end}}{{.Body}}
</section>
{{end}}{{if .Footer}}<footer>
{{range .Footer}}<p>{{.}}</p>
{{end}}</footer>
{{end}}</main>
</body>
</html>
`))

// WritePage writes p as one HTML document. Text is escaped; Section
// bodies are trusted HTML built with the helpers below.
func WritePage(w io.Writer, p *Page) error {
	var b bytes.Buffer
	err := pageTemplate.Execute(&b, struct {
		*Page
		CSS template.CSS
	}{p, template.CSS(pageCSS)})
	if err != nil {
		return err
	}
	_, err = w.Write(b.Bytes())
	return err
}

// HTML returns t as an HTML table; right-aligned columns get class "num".
// cellClass, when not nil, gives an extra class for a body cell.
func (t *Table) HTML(cellClass func(row, col int) string) template.HTML {
	return t.HTMLWith(cellClass, nil)
}

// HTMLWith is HTML with cellHTML, when not nil, writing a body cell's
// content (which it must escape) instead of the escaped text.
func (t *Table) HTMLWith(cellClass func(row, col int) string, cellHTML func(row, col int) string) template.HTML {
	var b strings.Builder
	b.WriteString(`<div class="scroll"><table>` + "\n<thead><tr>")
	for i, h := range t.Header {
		b.WriteString("<th")
		if i < len(t.Right) && t.Right[i] {
			b.WriteString(` class="num"`)
		}
		b.WriteString(">" + template.HTMLEscapeString(h) + "</th>")
	}
	b.WriteString("</tr></thead>\n<tbody>\n")
	for r, row := range t.Rows {
		b.WriteString("<tr>")
		for i, cell := range row {
			var cls []string
			if i < len(t.Right) && t.Right[i] {
				cls = append(cls, "num")
			}
			if cellClass != nil {
				if c := cellClass(r, i); c != "" {
					cls = append(cls, c)
				}
			}
			b.WriteString("<td")
			if len(cls) > 0 {
				b.WriteString(` class="` + template.HTMLEscapeString(strings.Join(cls, " ")) + `"`)
			}
			if cellHTML != nil {
				b.WriteString(">" + cellHTML(r, i) + "</td>")
			} else {
				b.WriteString(">" + template.HTMLEscapeString(cell) + "</td>")
			}
		}
		b.WriteString("</tr>\n")
	}
	b.WriteString("</tbody></table></div>")
	return template.HTML(b.String())
}

// Paragraph returns text as an escaped paragraph of the given class (none
// when empty).
func Paragraph(class, text string) template.HTML {
	open := "<p>"
	if class != "" {
		open = `<p class="` + template.HTMLEscapeString(class) + `">`
	}
	return template.HTML(open + template.HTMLEscapeString(text) + "</p>")
}

// List returns items as an escaped bullet list.
func List(items []string) template.HTML {
	var b strings.Builder
	b.WriteString("<ul>")
	for _, it := range items {
		b.WriteString("<li>" + template.HTMLEscapeString(it) + "</li>")
	}
	b.WriteString("</ul>")
	return template.HTML(b.String())
}

// Figure returns an SVG document (as written by gonum/plot's vgsvg) as an
// inline figure with an escaped caption. The XML declaration and comments
// before the <svg> element are dropped, and the plot's font family gets
// metric-compatible fallbacks, since the page embeds no fonts.
func Figure(svg []byte, alt, caption string) template.HTML {
	s := string(svg)
	if i := strings.Index(s, "<svg"); i >= 0 {
		s = s[i:]
	}
	s = strings.Replace(s, "<svg", `<svg role="img" aria-label="`+template.HTMLEscapeString(alt)+`"`, 1)
	s = svgFontFallbacks.Replace(s)
	var b strings.Builder
	b.WriteString("<figure>\n")
	b.WriteString(s)
	if caption != "" {
		b.WriteString("<figcaption>" + template.HTMLEscapeString(caption) + "</figcaption>\n")
	}
	b.WriteString("</figure>")
	return template.HTML(b.String())
}

// svgFontFallbacks adds fallbacks to the Liberation fonts gonum/plot
// measures text with; Arimo, Arial and Helvetica have the same metrics.
var svgFontFallbacks = strings.NewReplacer(
	"font-family:Liberation Sans;", "font-family:'Liberation Sans',Arimo,Arial,Helvetica,sans-serif;",
	"font-family:Liberation Serif;", "font-family:'Liberation Serif',Tinos,'Times New Roman',Times,serif;",
	"font-family:Liberation Mono;", "font-family:'Liberation Mono',Cousine,'Courier New',monospace;",
)
