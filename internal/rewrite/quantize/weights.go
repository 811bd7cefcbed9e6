package quantize

import (
	"qcal/quant"
)

// weightCodes is a quantized weight tensor and the range its Consts hold.
type weightCodes struct {
	codes    []int32
	min, max float32
}

// eightbitWeight is quantize_weight_eightbit with MIN_FIRST: the weight
// range (quant.WeightRange), then QuantizeV2(quint8, MIN_FIRST,
// HALF_AWAY_FROM_ZERO) on a Const. TF's own script stores the range it
// passed in; Intel's copy (intelScript) stores the range QuantizeV2 returns
// (the same unless the range is narrower than QuantizeV2's minimum).
func eightbitWeight(w []float32, intelScript bool) (weightCodes, error) {
	lo, hi, err := quant.WeightRange(w)
	if err != nil {
		return weightCodes{}, err
	}
	q := quant.QuantizeV2{T: quant.QUInt8, Mode: quant.MinFirst, RoundMode: quant.HalfAwayFromZero, EnsureMinimumRange: quant.DefaultEnsureMinimumRange}
	z, err := q.Prepare(lo, hi)
	if err != nil {
		return weightCodes{}, err
	}
	out := weightCodes{codes: make([]int32, len(w)), min: lo, max: hi}
	z.QuantizeSlice(out.codes, w)
	if intelScript {
		out.min, out.max = z.Min, z.Max
	}
	return out, nil
}

// scaledWeight is the non-per-channel branch of Intel's
// intel_cpu_quantize_weight_eightbit: the weight range, then the Eigen
// QuantizeV2(qint8, SCALED, HALF_TO_EVEN) on a Const (MKL skips constant
// inputs); the Consts hold the range QuantizeV2 returns, [-128/s, 127/s].
func scaledWeight(w []float32) (weightCodes, error) {
	lo, hi, err := quant.WeightRange(w)
	if err != nil {
		return weightCodes{}, err
	}
	z, err := quant.IntelQuantizeV2(quant.QInt8).Prepare(lo, hi)
	if err != nil {
		return weightCodes{}, err
	}
	out := weightCodes{codes: make([]int32, len(w)), min: z.Min, max: z.Max}
	z.QuantizeSlice(out.codes, w)
	return out, nil
}

// perChannelCodes is the per-channel and depthwise branch: codes made
// per channel (quant.PerChannelQInt8: truncated, as Intel's script does,
// or rounded) and the channel ranges r, the Consts holding -r and r.
func perChannelCodes(w []float32, channels int, rounding quant.WeightRounding) ([]int32, []float32) {
	c8, ranges := quant.PerChannelQInt8(w, channels, rounding)
	codes := make([]int32, len(c8))
	for i, c := range c8 {
		codes[i] = int32(c)
	}
	return codes, ranges
}
