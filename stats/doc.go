// Package stats accumulates per-node calibration samples and turns them into
// ranges.
//
// It sits between logparse and freeze/report in qcal's flow. Two kinds of
// samples come from logs:
//
//   - per-batch extremes (`__requant_min_max:[min][max]` records): an
//     Accumulator keeps them in log order at 8 bytes a record, in fixed-size
//     blocks, and a Strategy (tf, minmax, percentile:P, mean, median, ema:A)
//     picks one range per node; `tf` reproduces TensorFlow's
//     freeze_requantization_ranges bit for bit;
//   - tensor values (`__KL:[v v v ...]` records): a HistogramSet bins them
//     into mergeable 2048-bin histograms, and a HistStrategy (kl, entropy,
//     mse, vpercentile:P) picks the range.
//
// Every strategy documents its exact rule and its source. The package reads
// no files and knows nothing of graphs.
package stats
