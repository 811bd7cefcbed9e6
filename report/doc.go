// Package report is the shared rendering of qcal's results: it turns a
// document into something a person or a CI job can act on. It is the last
// stage of qcal's flow.
//
//   - Formats: one Format type, PickFormat (the one place a command's
//     output format is chosen, from -format or the output file's name) and
//     Write (the one dispatch from a format to a document's renderer: a
//     document renders a format by having its WriteText, WriteMarkdown,
//     WriteCSV, WriteJSON, WriteHTML or WriteTF method).
//   - Tables: one model (Table) rendered as text (tablewriter), Markdown or
//     CSV, so every format says the same thing; ranges (RangesDoc) and graph
//     summaries (SummaryDoc) are documents.
//   - HTML: the self-contained Page (inline CSS and SVG, no script) and the
//     plot style every chart shares (PlotFont, StylePlot, Ink).
//
// The jobs live in subpackages: report/accuracy compares FP32 and int8
// accuracy, report/audit judges a calibration. report computes no ranges
// (those come from internal/calib and stats) and runs no graphs.
package report
