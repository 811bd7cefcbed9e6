// Package accuracy compares the accuracy of an FP32 model with int8
// candidates, the check after calibration (`qcal report`): metrics are
// extracted from inference logs and prediction files (Extract,
// ReadPredictions), compared with paired statistics (stats' McNemar exact
// test, Wilson and Newcombe intervals) and judged against the drop target
// (Compare). A Comparison renders through report.Write as text, Markdown,
// JSON or a self-contained HTML page with a gonum/plot chart.
package accuracy
