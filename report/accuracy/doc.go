// Package accuracy compares the accuracy of an FP32 model with int8
// candidates, the check after calibration (`qcal report`): metrics are
// extracted from inference logs of many tools, each read in the scale it
// prints (Extract), and from prediction files (ReadPredictions), compared
// with paired statistics (stats' McNemar exact test, Wilson and Newcombe
// intervals) and judged against the drop target (Compare). A comparison
// whose sides were not measured on the same samples is at best WARN, and
// FAIL below a coverage threshold. Either side may be the shards of a
// sharded evaluation (qcal eval -shard K/N), merged by id. A Comparison
// renders through report.Write as text, Markdown, JSON or a
// self-contained HTML page with a gonum/plot chart.
package accuracy
