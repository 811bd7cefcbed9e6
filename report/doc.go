// Package report turns qcal's results into something a person or a CI job
// can act on. It is the last stage of qcal's flow.
//
//   - Tables: one model (Table) rendered as text (tablewriter), Markdown or
//     CSV, so every format says the same thing; ranges as a table or JSON.
//   - Accuracy: metrics extracted from inference logs and prediction files,
//     FP32 against int8 compared with paired statistics (McNemar's exact
//     test, Wilson and Newcombe intervals) and judged against the drop
//     target, rendered as text, Markdown, JSON or a self-contained HTML page
//     with gonum/plot charts.
//
// It does not compute calibration ranges: those come from stats, and graphs
// from freeze.
package report
