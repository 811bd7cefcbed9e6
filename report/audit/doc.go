// Package audit judges a calibration (`qcal audit`): per node, the spread
// of the per-batch extremes, outlier batches, convergence (a bootstrap of
// the chosen strategy's range), graph checks (with the quantized graph:
// op, depth, fused Relu) and drift against an earlier calibration, each
// finding a reason with a level (OK, Warn, Risk). It reads the accumulators
// internal/calib fills and renders through report.Write as text, Markdown,
// CSV, JSON or a self-contained HTML page with box plots and histograms
// (Plots).
package audit
