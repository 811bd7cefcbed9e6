// Package layererr measures how much accuracy each quantized layer loses:
// it runs an FP32 graph and its int8 graph on the same batches and
// compares, tensor by tensor, the FP32 output of each quantized layer with
// the int8 graph's dequantized output of the same name (SQNR, RMSE, the
// largest difference, sign changes).
//
// Its place in qcal's flow: after quantize, freeze and fuse have made the
// int8 graph, internal/dataset streams the calibration data and
// internal/exec runs both graphs; `qcal audit -fp32 -int8 -data` and the
// report of `qcal tune` render the per-layer table beside the range
// statistics (report/audit). It does not parse flags or print.
package layererr
