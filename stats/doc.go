// Package stats accumulates per-node calibration samples and turns them into
// ranges with a Strategy.
//
// It sits between logparse and freeze/report in qcal's flow: the caller feeds
// each record's per-batch extremes into an Accumulator (8 bytes a record:
// one float32 min, one float32 max, kept in log order in fixed-size blocks),
// then asks a Strategy for each node's range. Strategies are exact and
// documented with their rule; `tf` reproduces TensorFlow's
// freeze_requantization_ranges bit for bit. The package reads no files and
// knows nothing of graphs.
package stats
