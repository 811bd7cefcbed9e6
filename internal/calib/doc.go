// Package calib is the calibration pipeline: it reads calibration logs into
// per-node accumulators (per-batch extremes) and histograms (tensor
// values), the input of every range strategy. `qcal ranges`, `qcal freeze`
// and `qcal audit` all read their logs through Read.
//
// In qcal's flow it sits between logparse (which turns bytes into records)
// and the consumers of ranges (freeze, the audit, the ranges report). Read
//
//   - parses the strategy list (ParseMethods; a bad entry is a typed
//     *StrategyError) and reads tensor values only when a strategy needs
//     them;
//   - scans each log on two goroutines (parsing on one, accumulating on the
//     other) and splits a large plain file in halves read at once, merged
//     so that the result is the same as reading it in one pass;
//   - dequantizes Intel's quantized tensor dumps (MSG[q ...][min][max])
//     with TensorFlow's QuantizedToFloat rule;
//   - applies the bad-record policy (fail, drop, or count per node for the
//     audit) and maps value-logged names to RequantizationRange names
//     (MapName, ParseNameMap).
//
// It prints nothing: warnings go to Options.Note, progress to
// Options.Progress, and the caller decides what to show.
package calib
