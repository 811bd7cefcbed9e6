package kernels

import (
	"math"

	"qcal/quant"
)

// The int8 kernels' inner loops: rounding and saturating a float32 to an
// 8-bit code without float64 or math calls, the fused convolution
// epilogue written straight into the output codes, and QuantizeV2's
// loops. Each is bit-identical to the obvious form it replaces (kept in
// int8_fast_test.go as the tests' reference): quant.SatRNE,
// quant.MklScaled.Quantize and quant.Quantization.Quantize.

// rneMagic is 1.5·2²³. For a float32 v with |v| ≤ 2²², v + rneMagic lies
// in [2²³, 2²⁴), where float32's spacing is 1, so the addition itself
// rounds v to an integer, half to even (the FPU's rounding mode); the
// integer part of the sum minus rneMagic is that integer.
const rneMagic = 0x1.8p23

// rneSmall rounds v half to even; |v| ≤ 2²² (callers clamp first). The
// conversion float32(v) rounds v first: without it, once inlined into
// rneSmall(x·s), Go may fuse x·s + rneMagic into one FMA under GOAMD64=v3,
// rounding the exact product rather than the float32 one (TF's), which
// differs where that product lies within half an ulp of a half.
func rneSmall(v float32) int32 { return int32(float32(v)+rneMagic) - 0xC00000 }

// satU8 is quant.SatRNE(quant.QUInt8, v): NaN and v ≤ 0 give 0. Clamping
// to [0, 255] before rounding gives the same code as after, since the
// bounds are integers and rounding is monotone.
func satU8(v float32) uint8 {
	if !(v > 0) {
		return 0
	}
	if v >= 255 {
		return 255
	}
	return uint8(rneSmall(v))
}

// satI8 is quant.SatRNE(quant.QInt8, v): NaN gives 0.
func satI8(v float32) int8 {
	switch {
	case v != v:
		return 0
	case v <= -128:
		return -128
	case v >= 127:
		return 127
	}
	return int8(rneSmall(v))
}

// convEpilogue is oneDNN's int8 convolution epilogue for one output
// channel count: d = float32(acc); d += b'[j]; d *= scale[j]; Relu; round
// half to even and saturate to the output type. A missing bias is b' = 0
// and a missing scale 1, which change no value: float32(acc) is never
// -0, so d + 0 = d, and d·1 = d.
type convEpilogue struct {
	bias, scale []float32 // one a channel
	relu        bool
	t           quant.Type
	// bias32 and scale32 repeat bias and scale to 32 values when 8 or 16
	// channels divide 32, so that apply runs rows of them 32 codes a step.
	bias32, scale32 []float32
}

func newConvEpilogue(oc int, bias, scale []float32, relu bool, t quant.Type) *convEpilogue {
	e := &convEpilogue{bias: bias, scale: scale, relu: relu, t: t}
	if e.bias == nil {
		e.bias = make([]float32, oc)
	}
	if e.scale == nil {
		e.scale = make([]float32, oc)
		for j := range e.scale {
			e.scale[j] = 1
		}
	}
	if oc == 8 || oc == 16 {
		r := e.repeat(32 / oc)
		e.bias32, e.scale32 = r.bias, r.scale
	}
	return e
}

// repeat returns the epilogue of k pixels side by side: bias and scale
// repeated k times, so that one row call covers them.
func (e *convEpilogue) repeat(k int) *convEpilogue {
	r := &convEpilogue{relu: e.relu, t: e.t, bias: make([]float32, k*len(e.bias)), scale: make([]float32, k*len(e.scale))}
	for i := 0; i < k; i++ {
		copy(r.bias[i*len(e.bias):], e.bias)
		copy(r.scale[i*len(e.scale):], e.scale)
	}
	return r
}

// rowU8 writes the quint8 codes of one output pixel's accumulators. The
// Relu changes nothing here: saturating to [0, 255] already maps d < 0
// (and NaN) to 0.
func (e *convEpilogue) rowU8(acc []int32, out []uint8) {
	epilogueU8(acc, e.bias[:len(acc)], e.scale[:len(acc)], out[:len(acc)])
}

// epilogueU8 sets out[j] = satU8((float32(acc[j]) + bias[j])·scale[j]),
// all four of one length: eight at a time in AVX2 (the same operations,
// rounded the same way), the rest in Go.
func epilogueU8(acc []int32, bias, scale []float32, out []uint8) {
	done := 0
	if useAVX2 && len(acc) >= 8 {
		epilogueU8AVX2(&acc[0], &bias[0], &scale[0], &out[0], len(acc))
		done = len(acc) &^ 7
	}
	for j := done; j < len(acc); j++ {
		out[j] = satU8((float32(acc[j]) + bias[j]) * scale[j])
	}
}

// rowI8 writes qint8 codes.
func (e *convEpilogue) rowI8(acc []int32, out []int8) {
	bias, scale := e.bias[:len(acc)], e.scale[:len(acc)]
	out = out[:len(acc)]
	for j, a := range acc {
		d := (float32(a) + bias[j]) * scale[j]
		if e.relu && d < 0 {
			d = 0
		}
		out[j] = satI8(d)
	}
}

// rowI32 writes qint32 codes (the unrequantized convolutions).
func (e *convEpilogue) rowI32(acc []int32, out []int32) {
	bias, scale := e.bias[:len(acc)], e.scale[:len(acc)]
	out = out[:len(acc)]
	for j, a := range acc {
		d := (float32(a) + bias[j]) * scale[j]
		if e.relu && d < 0 {
			d = 0
		}
		if e.t == quant.QInt32 {
			out[j] = satI32(d)
		} else {
			out[j] = quant.SatRNE(e.t, d)
		}
	}
}

// rneMagic64 is 1.5·2⁵²: rneSmall's trick in float64, exact for |v| < 2⁵¹.
const rneMagic64 = 0x1.8p52

// satI32 is quant.SatRNE(quant.QInt32, v): NaN gives 0, v ≥ 2³¹ and
// v ≤ −2³¹ the bounds, the rest rounds half to even in float64 (every
// float32 below 2³¹ in magnitude is far inside rneMagic64's range).
func satI32(v float32) int32 {
	switch {
	case v != v:
		return 0
	case v >= 0x1p31:
		return math.MaxInt32
	case v <= -0x1p31:
		return math.MinInt32
	}
	return int32(float64(v) + rneMagic64 - rneMagic64)
}

// quantizeMklU8 is _MklQuantizeV2 SCALED to quint8 over src:
// sat(rne(float32(v·scale))), as quant.MklScaled.Quantize.
func quantizeMklU8(dst []uint8, src []float32, scale float32) {
	dst = dst[:len(src)]
	done := 0
	if useAVX2 && len(src) >= 8 {
		quantizeU8AVX2(&src[0], &dst[0], len(src), scale)
		done = len(src) &^ 7
	}
	for i := done; i < len(src); i++ {
		dst[i] = satU8(src[i] * scale)
	}
}

// quantizeMklI8 is the qint8 form of quantizeMklU8.
func quantizeMklI8(dst []int8, src []float32, scale float32) {
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] = satI8(v * scale)
	}
}

// quantizeMinFirst8 is Eigen's MIN_FIRST QuantizeV2 to an 8-bit type
// (quant.Quantization.Quantize) over src, writing each code's byte:
// rha(float32(v·rs)) − off, clamped to [lo, hi], where off =
// float32(range_min_scaled − lowest). Rounding half away from zero is
// float64(p) ± 0.5 truncated toward zero, exact for |p| ≤ 2²²; a larger
// |p| is clamped to 2²² first, which saturates the same way, since |off|
// ≤ 383 for 8-bit types. A NaN product goes through slow (the obvious
// form).
func quantizeMinFirst8(dst []byte, src []float32, rs, off, lo, hi float32, slow func(float32) int32) {
	const lim = 1 << 22
	dst = dst[:len(src)]
	for i, v := range src {
		p := v * rs
		switch {
		case p != p:
			dst[i] = byte(slow(v))
			continue
		case p > lim:
			p = lim
		case p < -lim:
			p = -lim
		}
		var r float32
		if p < 0 {
			r = float32(int32(float64(p) - 0.5))
		} else {
			r = float32(int32(float64(p) + 0.5))
		}
		x := r - off // not NaN: compares clamp it
		if x < lo {
			x = lo
		} else if x > hi {
			x = hi
		}
		dst[i] = byte(int32(x))
	}
}
