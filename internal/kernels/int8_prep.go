package kernels

import (
	"math"
	"unsafe"

	"qcal/internal/gemm"
	"qcal/internal/tensor"
	"qcal/quant"
)

// convPrep is what an Intel quantized convolution derives from its Const
// operands and its range inputs before it reads x: the epilogue (the
// bias in accumulator units, the requantizing scales), and the filter as
// the inner loops want it. At batch 1 deriving it cost more than the
// arithmetic of MobileNet's late layers, so a graph's runs share it
// through Context.Packs.
type convPrep struct {
	ep     *convEpilogue
	wq     []int32     // depthwise, multiplier 1: the filter widened (widenTaps)
	bs     []float32   // for depthwiseU8AVX2: the biases and scales by blocks of 8
	packed *gemm.U8S8B // convolution: the k×oc filter packed for gemm.U8S8Packed
}

// convPrepKey identifies the operands a convPrep derives from: the
// buffers of the Const filter, bias and filter ranges (the same Const
// tensors for the graph's life), their lengths, the range values and
// the epilogue's kind.
type convPrepKey struct {
	w, bias, minW, maxW    unsafe.Pointer
	nw, nMinW, oc          int
	fs                     [4]int // the filter's shape
	biasT                  tensor.Storage
	minX, maxX, minO, maxO uint32 // float32 bits
	relu, requant, dw      bool
	qt                     quant.Type
}

// maxConvPreps bounds the preparations a Packs keeps (a graph whose range
// inputs change every batch would otherwise add one each run); past it
// the map starts afresh.
const maxConvPreps = 4096

// convPrepFor returns the preparation of the convolution c runs: from
// c.Packs when the filter, the bias and the filter ranges are Const
// inputs, made and kept there the first time; made afresh otherwise.
// build makes it.
func (c *Context) convPrepFor(key convPrepKey, cacheable bool, build func() (*convPrep, error)) (*convPrep, error) {
	p := c.Packs
	if p == nil || !cacheable {
		return build()
	}
	p.mu.Lock()
	e := p.conv[key]
	p.mu.Unlock()
	if e != nil {
		return e, nil
	}
	e, err := build() // outside the lock: two runs may both make it once
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	if p.conv == nil || len(p.conv) >= maxConvPreps {
		p.conv = map[convPrepKey]*convPrep{}
	}
	p.conv[key] = e
	p.mu.Unlock()
	return e, nil
}

// bufPtr is the address of a tensor's first element (float32, int32 or
// 8-bit), or nil.
func bufPtr(x *tensor.Tensor) unsafe.Pointer {
	switch {
	case len(x.F32) > 0:
		return unsafe.Pointer(&x.F32[0])
	case len(x.I32) > 0:
		return unsafe.Pointer(&x.I32[0])
	case len(x.I8) > 0:
		return unsafe.Pointer(&x.I8[0])
	case len(x.U8) > 0:
		return unsafe.Pointer(&x.U8[0])
	}
	return nil
}

func f32bits(v float32) uint32 { return math.Float32bits(v) }

// widenDepthwise returns the depthwise filter w (taps×ch, multiplier 1)
// as madU8Rows and dwRunU8AVX2 want it, and the epilogue's biases and
// scales by blocks of 8 channels (8 biases, then 8 scales).
func widenDepthwise(w []int8, ch int, ep *convEpilogue) ([]int32, []float32) {
	wq := widenTaps(w)
	blocks := ch / 8
	bs := make([]float32, 16*blocks)
	for b := 0; b < blocks; b++ {
		copy(bs[16*b:16*b+8], ep.bias[8*b:8*b+8])
		copy(bs[16*b+8:16*b+16], ep.scale[8*b:8*b+8])
	}
	return wq, bs
}

// widenTaps returns each weight of w as uint16(int16(w[i])) in an int32,
// the high half zero: the form madU8Rows and dwRunU8AVX2 read.
func widenTaps(w []int8) []int32 {
	wq := make([]int32, len(w))
	for i, v := range w {
		wq[i] = int32(uint16(int16(v)))
	}
	return wq
}
