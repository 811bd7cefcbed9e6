// Package tune chooses a calibration by the accuracy it measurably gives:
// the whole int8 workflow, run once per strategy from one calibration run.
//
// Its place in qcal's flow: `qcal tune` calls Run with an optimized FP32
// graph and two data sets. Run quantizes the graph (internal/rewrite/
// quantize), logs it once for both per-batch ranges and tensor values
// (insertlogging), runs one calibration (evaluate.Calibrate) into a file —
// the log, which grows with the model and the batches, is never held in
// memory — reads it once for every strategy (internal/calib), keeps it in
// a size-bounded cache (Options.CacheMax), and for each strategy freezes
// the ranges (freeze), fuses the convolutions with their Requantize
// (transform) and evaluates the int8 graph (evaluate); report/accuracy
// compares every candidate with FP32, paired by example, and the best one
// meeting the target is kept. It does not parse flags or print.
package tune
