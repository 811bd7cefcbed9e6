package kernels

import (
	"bytes"
	"runtime"
	"sync"
	"unsafe"

	"qcal/internal/gemm"
	"qcal/internal/tensor"
	"qcal/quant"
)

// The quantized convolutions (INT8-ARITHMETIC §2.3, §2.4, §0.3, §0.8).
//
// QuantizedConv2D with a quint8 filter is TF's reference kernel: codes
// minus their zero points (off = FloatToQuantizedUnclamped(0, min, max)),
// padding filled with the input's zero point, windows placed with TF's
// origin-offset quirk. Every other quantized convolution is Intel's
// (MklQuantizedConv2DOp; plain TF has no kernel for the fused ones):
// quint8 input times qint8 filter without zero points, padding 0, the bias
// brought to the accumulator's scale in float32, the result rounded half
// to even and saturated (oneDNN's epilogue).
//
// Both reduce to gemm.U8S8 on im2col rows of the quint8 codes: the
// reference's quint8 filter is shifted by 128 into int8 and the zero
// points are taken out algebraically,
//
//	Σ(x - ox)(w - ow) = Σ x·w' + d·Σx - ox·Σw' - k·ox·d,  w' = w - 128, d = 128 - ow,
//
// in wrapping int32 arithmetic, as TF's int32 accumulators.

// convSpec says which inputs and epilogue a fused convolution op has.
type convSpec struct {
	bias, relu, requant bool
	depthwise           bool
	sumRelu             bool
}

func init() {
	Register(Def{Op: "QuantizedConv2D", Run: quantizedConv2D, Check: checkAll(CheckType("Tinput", dtQU8), CheckType("Tfilter", dtQU8, dtQI8), CheckType("out_type", dtQI32), checkPadding)})
	mkl := map[string]convSpec{
		"QuantizedConv2DPerChannel":                            {},
		"QuantizedConv2DAndRelu":                               {relu: true},
		"QuantizedConv2DAndRequantize":                         {requant: true},
		"QuantizedConv2DAndReluAndRequantize":                  {relu: true, requant: true},
		"QuantizedConv2DWithBias":                              {bias: true},
		"QuantizedConv2DWithBiasAndRelu":                       {bias: true, relu: true},
		"QuantizedConv2DWithBiasAndRequantize":                 {bias: true, requant: true},
		"QuantizedConv2DWithBiasAndReluAndRequantize":          {bias: true, relu: true, requant: true},
		"QuantizedDepthwiseConv2D":                             {depthwise: true},
		"QuantizedDepthwiseConv2DWithBias":                     {depthwise: true, bias: true},
		"QuantizedDepthwiseConv2DWithBiasAndRelu":              {depthwise: true, bias: true, relu: true},
		"QuantizedDepthwiseConv2DWithBiasAndReluAndRequantize": {depthwise: true, bias: true, relu: true, requant: true},
	}
	for op, s := range mkl {
		Register(Def{Op: op, Run: mklConvKernel(s), Check: checkAll(CheckType("Tinput", dtQU8), CheckType("Tfilter", dtQI8),
			CheckType("out_type", dtQI32, dtQU8, dtQI8), checkPadding)})
	}
}

// convGeometry reads x (quint8 NHWC) and the filter (HWIO, or HWCM for
// depthwise) shapes and the window attrs.
func convGeometry(c *Context, depthwise bool) (n, ch, oc int, win Window, err error) {
	xs, fs := c.Inputs[0].Shape, c.Inputs[1].Shape
	if len(xs) != 4 || len(fs) != 4 {
		return 0, 0, 0, win, c.Errorf("input %s and filter %s must both have rank 4", tensor.ShapeString(xs), tensor.ShapeString(fs))
	}
	if fs[2] != xs[3] {
		return 0, 0, 0, win, c.Errorf("filter %s has %d input channels, the input %s has %d", tensor.ShapeString(fs), fs[2], tensor.ShapeString(xs), xs[3])
	}
	oc = fs[3]
	if depthwise {
		oc = fs[2] * fs[3]
	}
	win, err = windowAttrs(c, xs[1], xs[2], fs[0], fs[1], false)
	return xs[0], xs[3], oc, win, err
}

// quantizedConv2D is QuantizedConv2D(x, w, min_x, max_x, min_w, max_w) →
// (qint32, min, max). A qint8 filter means Intel's _MklQuantizedConv2D.
func quantizedConv2D(c *Context) ([]*tensor.Tensor, error) {
	if c.Has("Tfilter") {
		if ft, err := c.Type("Tfilter"); err == nil && ft == dtQI8 {
			return mklConvKernel(convSpec{})(c)
		}
	}
	if err := c.WantInputs(6); err != nil {
		return nil, err
	}
	x, w, err := c.quantOperands(dtQU8, dtQU8)
	if err != nil {
		return nil, err
	}
	r, err := c.scalarInputs(2, 4)
	if err != nil {
		return nil, err
	}
	n, ch, oc, win, err := convGeometry(c, false)
	if err != nil {
		return nil, err
	}
	if win.SH != win.SW {
		return nil, c.Errorf("strides %d and %d differ: TF's QuantizedConv2D needs equal strides", win.SH, win.SW)
	}
	if win.DH != 1 || win.DW != 1 {
		return nil, c.Errorf("dilations %dx%d: TF's QuantizedConv2D supports none", win.DH, win.DW)
	}
	padding, _ := c.String("padding")
	win = referenceOrigin(win, padding)
	ox := int32(quant.FloatToQuantizedUnclamped(quant.QUInt8, 0, r[0], r[1]))
	ow := int32(quant.FloatToQuantizedUnclamped(quant.QUInt8, 0, r[2], r[3]))
	y := c.New(dtQI32, []int{n, win.OH, win.OW, oc})
	ConvU8U8Offsets(x.U8, n, ch, w.U8, oc, win, ox, ow, y.I32, c.Scratch)
	mn, mx := quant.RangeForMultiplication(quant.QUInt8, quant.QUInt8, quant.QInt32, r[0], r[1], r[2], r[3])
	return []*tensor.Tensor{y, scalarF32(mn), scalarF32(mx)}, nil
}

// referenceOrigin places the windows as TF's reference QuantizedConv2D
// does (§0.3): the top (left) offset is ((out-1)·s + k - in + 1)/2 for
// VALID and ((out-1)·s + k - in)/2 for SAME, in C's truncating division,
// which for VALID is -1 (windows moved one pixel on) when (in-k) % s >= 3.
func referenceOrigin(win Window, padding string) Window {
	extra := 0
	if padding == "VALID" {
		extra = 1
	}
	win.PadT = ((win.OH-1)*win.SH + win.KH - win.InH + extra) / 2
	win.PadL = ((win.OW-1)*win.SW + win.KW - win.InW + extra) / 2
	return win
}

// int8Chunk bounds the im2col buffer of the int8 convolutions (1 MiB).
const int8Chunk = 1 << 20

// ConvU8S8 sets acc (n·OH·OW × oc, NHWC) to the convolution of the quint8
// codes x (n×InH×InW×ch) with the int8 filter w (KH×KW×ch×oc), padding
// with pad, exactly in int32: im2col rows through gemm.U8S8.
func ConvU8S8(x []uint8, n, ch int, w []int8, oc int, win Window, pad uint8, acc []int32, s *Scratch) {
	k := win.KH * win.KW * ch
	rows := n * win.OH * win.OW
	if k == 0 {
		clear(acc[:rows*oc])
		return
	}
	chunk := max(1, min(rows, int8Chunk/k))
	buf := s.U8(chunk * k)
	for r0 := 0; r0 < rows; r0 += chunk {
		m := min(chunk, rows-r0)
		Im2Col(x, ch, win, r0, m, buf[:m*k], pad)
		gemm.U8S8(m, oc, k, buf[:m*k], k, w, oc, acc[r0*oc:(r0+m)*oc], oc)
	}
}

// ConvU8U8Offsets sets acc to Σ(x - ox)(w - ow) over each window, the
// quint8 × quint8 convolution of TF's reference kernel, with padding
// filled by the code uint8(ox): gemm.U8S8 on w - 128 and the correction
// terms of the expansion in the file comment.
func ConvU8U8Offsets(x []uint8, n, ch int, w []uint8, oc int, win Window, ox, ow int32, acc []int32, s *Scratch) {
	k := win.KH * win.KW * ch
	rows := n * win.OH * win.OW
	ws := make([]int8, len(w))
	colSum := make([]int32, oc)
	for i, v := range w {
		ws[i] = int8(int32(v) - 128)
		colSum[i%oc] += int32(ws[i])
	}
	d := 128 - ow
	konst := int32(k) * ox * d
	if k == 0 {
		clear(acc[:rows*oc])
		return
	}
	chunk := max(1, min(rows, int8Chunk/k))
	buf := s.U8(chunk * k)
	for r0 := 0; r0 < rows; r0 += chunk {
		m := min(chunk, rows-r0)
		Im2Col(x, ch, win, r0, m, buf[:m*k], uint8(ox))
		out := acc[r0*oc : (r0+m)*oc]
		gemm.U8S8(m, oc, k, buf[:m*k], k, ws, oc, out, oc)
		Parallel(m, max(1, 4096/max(k, 1)), func(lo, hi int) {
			for r := lo; r < hi; r++ {
				var rs int32
				for _, v := range buf[r*k : (r+1)*k] {
					rs += int32(v)
				}
				row := out[r*oc : (r+1)*oc]
				base := d*rs - konst
				for j := range row {
					row[j] += base - ox*colSum[j]
				}
			}
		})
	}
}

// filterRanges reads min_w and max_w (inputs i, i+1): scalars or one value
// per output channel.
func (c *Context) filterRanges(i, oc int) (mins, maxs []float32, err error) {
	if mins, err = c.Float32Input(i); err != nil {
		return nil, nil, err
	}
	if maxs, err = c.Float32Input(i + 1); err != nil {
		return nil, nil, err
	}
	if len(mins) != len(maxs) || (len(mins) != 1 && len(mins) != oc) {
		return nil, nil, c.Errorf("min_filter has %d and max_filter %d elements, want 1 or %d (the output channels)", len(mins), len(maxs), oc)
	}
	return mins, maxs, nil
}

func at(v []float32, j int) float32 {
	if len(v) == 1 {
		return v[0]
	}
	return v[j]
}

// mklConvKernel returns the kernel of Intel's quantized convolution op
// with the inputs and epilogue spec says: inputs x, w, [bias], min_x,
// max_x, min_w, max_w, [min_freezed_output, max_freezed_output].
func mklConvKernel(spec convSpec) Kernel {
	return func(c *Context) ([]*tensor.Tensor, error) {
		want := 6
		if spec.bias {
			want++
		}
		if spec.requant {
			want += 2
		}
		if err := c.WantInputs(want); err != nil {
			return nil, err
		}
		x, w, err := c.quantOperands(dtQU8, dtQI8)
		if err != nil {
			return nil, err
		}
		n, ch, oc, win, err := convGeometry(c, spec.depthwise)
		if err != nil {
			return nil, err
		}
		ri := 2
		if spec.bias {
			ri = 3
		}
		minX, maxX, err := c.rangeInput(ri)
		if err != nil {
			return nil, err
		}
		minW, maxW, err := c.filterRanges(ri+2, oc)
		if err != nil {
			return nil, err
		}
		if err := c.checkBias(spec.bias, oc); err != nil {
			return nil, err
		}
		shape := []int{n, win.OH, win.OW, oc}
		var minO, maxO float32
		outT := dtQI32
		qt := quant.QInt32
		if spec.requant {
			if minO, maxO, err = c.rangeInput(ri + 4); err != nil {
				return nil, err
			}
			outT = dtQI8
			if spec.relu {
				outT = dtQU8
			}
			if c.Has("out_type") {
				if outT, err = c.Type("out_type"); err != nil {
					return nil, err
				}
			}
			var ok bool
			qt, ok = quantType(outT)
			if !ok || qt == quant.QInt32 {
				return nil, c.Errorf("out_type %s: a requantizing convolution writes quint8 or qint8", tensor.TypeName(outT))
			}
		}
		fs := c.Inputs[1].Shape
		k := fs[0] * fs[1] * fs[2]
		// The Const operands' derivations are kept in c.Packs, the filter
		// too as the inner loops read it (packed, or widened).
		cacheable := c.isConst(1) && c.isConst(ri+2) && c.isConst(ri+3) && (!spec.bias || c.isConst(2))
		build := func() (*convPrep, error) {
			bias, err := c.fusedBias(spec.bias, oc, minX, maxX, minW, maxW)
			if err != nil {
				return nil, err
			}
			var scale []float32
			if spec.requant {
				scale = make([]float32, oc)
				for j := range scale {
					scale[j] = quant.FusedConvRequantScale(quant.QUInt8, qt, minX, maxX, at(minW, j), at(maxW, j), minO, maxO)
				}
			}
			pr := &convPrep{ep: newConvEpilogue(oc, bias, scale, spec.relu, qt)}
			if !cacheable {
				return pr, nil // the kernels prepare the filter themselves
			}
			switch {
			case spec.depthwise && fs[3] == 1 && ch >= 8 && qt == quant.QUInt8 && useAVX2:
				pr.wq, pr.bs = widenDepthwise(w.I8[:k], ch, pr.ep)
			case spec.depthwise && fs[3] == 1:
				pr.wq = widenTaps(w.I8[:k]) // for depthwiseRows
			case !spec.depthwise && k > 0 && oc > 0:
				pr.packed = gemm.PackU8S8(k, oc, w.I8[:k*oc], oc)
			}
			return pr, nil
		}
		var key convPrepKey
		if cacheable {
			key = convPrepKey{w: bufPtr(w), nw: len(w.I8), fs: [4]int{fs[0], fs[1], fs[2], fs[3]},
				minW: bufPtr(c.Inputs[ri+2]), maxW: bufPtr(c.Inputs[ri+3]), nMinW: len(minW), oc: oc,
				minX: f32bits(minX), maxX: f32bits(maxX), minO: f32bits(minO), maxO: f32bits(maxO),
				relu: spec.relu, requant: spec.requant, dw: spec.depthwise, qt: qt}
			if spec.bias {
				key.bias, key.biasT = bufPtr(c.Inputs[2]), tensor.StorageOf(c.Inputs[2].DType)
			}
		}
		pr, err := c.convPrepFor(key, cacheable, build)
		if err != nil {
			return nil, err
		}
		var y *tensor.Tensor
		if win.KH*win.KW > 0 {
			y = c.NewUninit(outT, shape) // the kernels write every code
		} else {
			y = c.New(outT, shape)
		}
		if spec.depthwise {
			depthwisePrepared(x.U8, n, ch, w.I8, oc/ch, win, pr, y)
		} else {
			convMKLPacked(x.U8, n, ch, w.I8, oc, win, pr.ep, y, c.Scratch, pr.packed)
		}
		if spec.requant {
			return []*tensor.Tensor{y, scalarF32(minO), scalarF32(maxO)}, nil
		}
		mins := make([]float32, len(minW))
		maxs := make([]float32, len(minW))
		for j := range minW {
			mins[j], maxs[j] = quant.MklRangeForMultiplication(quant.QUInt8, quant.QInt8, quant.QInt32, minX, maxX, minW[j], maxW[j])
		}
		return []*tensor.Tensor{y, rangeTensor(mins), rangeTensor(maxs)}, nil
	}
}

// rangeTensor is a scalar for one value, else a vector.
func rangeTensor(v []float32) *tensor.Tensor {
	if len(v) == 1 {
		return scalarF32(v[0])
	}
	return tensor.FromF32([]int{len(v)}, v)
}

// checkBias checks, when has, that input 2, the bias, is a float or
// qint32 vector of oc values.
func (c *Context) checkBias(has bool, oc int) error {
	if !has {
		return nil
	}
	b := c.Inputs[2]
	if len(b.Shape) != 1 || b.Shape[0] != oc {
		return c.Errorf("bias %s: want [%d] (the output channels)", tensor.ShapeString(b.Shape), oc)
	}
	if b.DType != dtF32 && b.DType != dtQI32 {
		return c.Errorf("bias is %s, want float or qint32", tensor.TypeName(b.DType))
	}
	return nil
}

// fusedBias returns b'[c], the bias in accumulator units (nil without a
// bias): a float bias times quant.FusedConvBiasScale, in float32; a qint32
// bias as it is.
func (c *Context) fusedBias(has bool, oc int, minX, maxX float32, minW, maxW []float32) ([]float32, error) {
	if !has {
		return nil, nil
	}
	if err := c.checkBias(true, oc); err != nil {
		return nil, err
	}
	b := c.Inputs[2]
	out := make([]float32, oc)
	switch b.DType {
	case dtF32:
		for j, v := range b.F32 {
			out[j] = v * quant.FusedConvBiasScale(quant.QUInt8, minX, maxX, at(minW, j), at(maxW, j))
		}
	case dtQI32:
		for j, v := range b.I32 {
			out[j] = float32(v)
		}
	default:
		return nil, c.Errorf("bias is %s, want float or qint32", tensor.TypeName(b.DType))
	}
	return out, nil
}

// int8AccChunk bounds the int32 accumulators convMKL keeps at once
// (1 MiB), so that they are still in cache when the epilogue reads them.
const int8AccChunk = 1 << 18

// convMKL is Intel's quantized convolution (padding 0) with its epilogue
// fused: for each chunk of output pixels, im2col rows of x, gemm.U8S8 into
// the chunk's int32 accumulators, then ep writes the chunk's codes into y.
// The accumulators of the whole output never exist at once.
func convMKL(x []uint8, n, ch int, w []int8, oc int, win Window, ep *convEpilogue, y *tensor.Tensor, s *Scratch) {
	convMKLPacked(x, n, ch, w, oc, win, ep, y, s, nil)
}

// convMKLPacked is convMKL with w already packed as wp, or packed here
// (through packedFilters) when wp is nil.
func convMKLPacked(x []uint8, n, ch int, w []int8, oc int, win Window, ep *convEpilogue, y *tensor.Tensor, s *Scratch, wp *gemm.U8S8B) {
	k := win.KH * win.KW * ch
	rows := n * win.OH * win.OW
	if rows == 0 || oc == 0 {
		return // no output
	}
	chunk := max(1, min(rows, int8Chunk/max(k, 1), int8AccChunk/max(oc, 1)))
	pointwise := win.pointwise() // x's rows are already the im2col rows
	var buf []uint8
	if !pointwise {
		buf = s.U8(chunk * k)
	}
	acc := s.I32(chunk * oc)
	if k > 0 && wp == nil {
		wp = packedFilter(w, k, oc)
	}
	for r0 := 0; r0 < rows; r0 += chunk {
		m := min(chunk, rows-r0)
		a := acc[:m*oc]
		switch {
		case k == 0:
			clear(a)
		case pointwise:
			gemm.U8S8Packed(m, x[r0*k:(r0+m)*k], k, wp, a, oc)
		default:
			Im2Col(x, ch, win, r0, m, buf[:m*k], 0)
			gemm.U8S8Packed(m, buf[:m*k], k, wp, a, oc)
		}
		ep.apply(a, oc, y, r0*oc)
	}
}

// apply writes the codes of the accumulator rows acc (oc a row) into y
// from element off on, rows split over the cores. quint8 rows of a
// multiple of 8 codes go to the assembly a whole chunk of rows a call
// (a call a row cost more than the arithmetic for a few channels).
func (e *convEpilogue) apply(acc []int32, oc int, y *tensor.Tensor, off int) {
	if useAVX2 && y.DType == dtQU8 && oc > 0 && oc%8 == 0 {
		bias, scale, n := e.bias[:oc], e.scale[:oc], oc
		if e.bias32 != nil && len(acc) >= 32 {
			// 8 or 16 channels: rows of 32 codes (2 or 4 pixels), then
			// the pixels left over as rows of oc.
			bias, scale, n = e.bias32, e.scale32, 32
		}
		out := y.U8[off : off+len(acc)]
		whole := len(acc) / n * n
		Parallel(whole/n, max(1, parallelGrain/n), func(lo, hi int) {
			epilogueRowsU8AVX2(&acc[lo*n], &bias[0], &scale[0], &out[lo*n], n, hi-lo)
		})
		if whole < len(acc) {
			epilogueRowsU8AVX2(&acc[whole], &e.bias[0], &e.scale[0], &out[whole], oc, (len(acc)-whole)/oc)
		}
		return
	}
	Parallel(len(acc)/max(oc, 1), max(1, parallelGrain/max(oc, 1)), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			e.row(acc[r*oc:(r+1)*oc], y, off+r*oc)
		}
	})
}

// row writes the codes of acc into y from element off on.
func (e *convEpilogue) row(acc []int32, y *tensor.Tensor, off int) {
	switch y.DType {
	case dtQU8:
		e.rowU8(acc, y.U8[off:])
	case dtQI8:
		e.rowI8(acc, y.I8[off:])
	default:
		e.rowI32(acc, y.I32[off:])
	}
}

// depthwiseMKL is Intel's quantized depthwise convolution (padding 0,
// filter KH×KW×ch×mult) with its epilogue fused: each output pixel's
// accumulators are summed over the in-image taps and written as codes.
func depthwiseMKL(x []uint8, n, ch int, w []int8, mult int, win Window, ep *convEpilogue, y *tensor.Tensor) {
	depthwisePrepared(x, n, ch, w, mult, win, &convPrep{ep: ep}, y)
}

// depthwisePrepared is depthwiseMKL with the epilogue and, for a
// multiplier of 1, the widened filter of pr (made here when pr has none).
func depthwisePrepared(x []uint8, n, ch int, w []int8, mult int, win Window, pr *convPrep, y *tensor.Tensor) {
	ep := pr.ep
	if mult == 1 && useAVX2 && ch >= 8 && y.DType == dtQU8 {
		wq, bs := pr.wq, pr.bs
		if wq == nil || bs == nil {
			wq, bs = widenDepthwise(w[:win.KH*win.KW*ch], ch, ep)
		}
		depthwiseU8AVX2(x, n, ch, w, wq, bs, win, ep, y.U8)
		return
	}
	if mult == 1 {
		depthwiseRows(x, n, ch, w, pr.wq, win, ep, y)
		return
	}
	oc := ch * mult
	pix := win.OH * win.OW
	Parallel(n*pix, max(1, 2048/max(1, win.KH*win.KW*oc)), func(lo, hi int) {
		acc := make([]int32, oc)
		for r := lo; r < hi; r++ {
			depthwisePixel(x, ch, w, mult, win, r, acc)
			ep.row(acc, y, r*oc)
		}
	})
}

// depthwisePixel sets acc (ch·mult) to the depthwise sums of output pixel
// r (in n, oh, ow order): Σ over in-image taps of x[iy, ix, ci] ·
// w[ky, kx, ci, m] into acc[ci·mult + m].
func depthwisePixel(x []uint8, ch int, w []int8, mult int, win Window, r int, acc []int32) {
	oc := ch * mult
	pix := win.OH * win.OW
	b, p := r/pix, r%pix
	oy, ox := p/win.OW, p%win.OW
	acc = acc[:oc]
	clear(acc)
	for ky := 0; ky < win.KH; ky++ {
		iy, ok := win.inRow(oy, ky)
		if !ok {
			continue
		}
		for kx := 0; kx < win.KW; kx++ {
			ix, ok := win.inCol(ox, kx)
			if !ok {
				continue
			}
			xin := x[((b*win.InH+iy)*win.InW+ix)*ch:][:ch]
			wk := w[(ky*win.KW+kx)*oc:][:oc]
			if mult == 1 {
				wk = wk[:len(xin)]
				acc := acc[:len(xin)]
				for ci, xv := range xin {
					acc[ci] += int32(xv) * int32(wk[ci])
				}
				continue
			}
			for ci, xv := range xin {
				for m := 0; m < mult; m++ {
					acc[ci*mult+m] += int32(xv) * int32(wk[ci*mult+m])
				}
			}
		}
	}
}

// depthwiseRows is depthwiseMKL for a channel multiplier of 1, a row of
// output pixels at a time: each tap adds, for the run of output pixels
// whose input pixel lies in the image, x[iy, ix, c]·w[ky, kx, c] to their
// accumulators (madU8Rows: the inputs SW·ch bytes apart), then the
// epilogue runs on the whole row, its bias and scale repeated OW times.
// wq is w widened by widenTaps, or nil to widen it here.
func depthwiseRows(x []uint8, n, ch int, w []int8, wq []int32, win Window, ep *convEpilogue, y *tensor.Tensor) {
	taps := win.KH * win.KW
	rowLen := win.OW * ch
	if rowLen == 0 {
		return // no output
	}
	if wq == nil {
		wq = widenTaps(w[:taps*ch]) // tap t's weights, each as madU8Rows wants it
	}
	rowEp := ep.repeat(win.OW)
	Parallel(n*win.OH, max(1, 4096/max(1, taps*rowLen)), func(lo, hi int) {
		acc := make([]int32, rowLen)
		for r := lo; r < hi; r++ {
			b, oy := r/win.OH, r%win.OH
			clear(acc)
			for ky := 0; ky < win.KH; ky++ {
				iy, ok := win.inRow(oy, ky)
				if !ok {
					continue
				}
				xrow := x[(b*win.InH+iy)*win.InW*ch:][:win.InW*ch]
				for kx := 0; kx < win.KW; kx++ {
					// ix = ox·SW + d lies in [0, InW) for ox in [ox0, ox1).
					d := kx*win.DW - win.PadL
					ox0, ox1 := 0, 0
					if d < 0 {
						ox0 = (-d + win.SW - 1) / win.SW
					}
					if last := win.InW - 1 - d; last >= 0 {
						ox1 = min(win.OW, last/win.SW+1)
					}
					if ox0 >= ox1 {
						continue
					}
					t := ky*win.KW + kx
					madU8Rows(acc[ox0*ch:ox1*ch], xrow[(ox0*win.SW+d)*ch:], wq[t*ch:(t+1)*ch], ch, ox1-ox0, win.SW*ch)
				}
			}
			rowEp.row(acc, y, r*rowLen)
		}
	})
}

// depthwiseU8AVX2 is depthwiseRows for quint8 outputs and ch ≥ 8 on CPUs
// with AVX2: dwRunU8AVX2 keeps each block of 8 channels' sums in
// registers across the taps and writes their codes at once, rather than
// adding each tap into accumulators in memory and running the epilogue
// over them after. The channels past the last block go through Go.
// wq and bs are w and ep as widenDepthwise gives them.
func depthwiseU8AVX2(x []uint8, n, ch int, w []int8, wq []int32, bs []float32, win Window, ep *convEpilogue, y []uint8) {
	taps := win.KH * win.KW
	rowLen := win.OW * ch
	if rowLen == 0 || taps == 0 || n*win.OH == 0 {
		return // no output, or a window of no tap (y is zeroed then)
	}
	imgLen := win.InH * win.InW * ch
	Parallel(n*win.OH, max(1, 4096/max(1, taps*rowLen)), func(lo, hi int) {
		offs := make([]int, 2*taps)
		for r := lo; r < hi; r++ {
			b, oy := r/win.OH, r%win.OH
			dwRowU8(x[b*imgLen:(b+1)*imgLen], ch, w, wq, bs, ep, win, oy, y[r*rowLen:(r+1)*rowLen], offs)
		}
	})
}

// dwRowU8 is output row oy of depthwiseU8AVX2 for the image x; offs holds
// 2·KH·KW ints. The columns whose window lies inside the image go to the
// assembly as one run sharing one list of taps (depthwiseRowAVX's plan).
func dwRowU8(x []uint8, ch int, w []int8, wq []int32, bs []float32, ep *convEpilogue, win Window, oy int, out []uint8, offs []int) {
	taps := win.KH * win.KW
	xoff, woff := offs[:taps], offs[taps:2*taps]
	blocks := ch / 8
	_ = x[len(x)-1]
	_ = wq[taps*ch-1]
	// tail writes the channels past the last block of pixel ox, whose
	// taps are xoff (moved by shift) and woff.
	tail := func(ox, nt, shift int) {
		o := out[ox*ch : (ox+1)*ch]
		for q := blocks * 8; q < ch; q++ {
			var a int32
			for t := 0; t < nt; t++ {
				a += int32(x[shift+xoff[t]+q]) * int32(w[woff[t]+q])
			}
			o[q] = satU8((float32(a) + ep.bias[q]) * ep.scale[q])
		}
	}
	oxLo, oxHi := win.interiorCols()
	for ox := 0; ox < win.OW; ox++ {
		if ox == oxLo && oxHi > oxLo {
			nt := win.tapOffsets(oy, ox, ch, xoff, woff)
			npix := oxHi - oxLo
			if g := npix / 4; g > 0 && blocks < 4 {
				// Few channels: four pixels at a time.
				dwRun4U8AVX2(&out[ox*ch], &x[0], &wq[0], &bs[0], &xoff[0], &woff[0], nt, blocks, g, ch, win.SW*ch)
			}
			if blocks < 4 {
				done := npix &^ 3
				if npix > done {
					dwRunU8AVX2(&out[(ox+done)*ch], &x[done*win.SW*ch], &wq[0], &bs[0], &xoff[0], &woff[0], nt, blocks, npix-done, ch, win.SW*ch)
				}
			} else {
				dwRunU8AVX2(&out[ox*ch], &x[0], &wq[0], &bs[0], &xoff[0], &woff[0], nt, blocks, npix, ch, win.SW*ch)
			}
			for p := ox; p < oxHi && blocks*8 < ch; p++ {
				tail(p, nt, (p-ox)*win.SW*ch)
			}
			ox = oxHi - 1
			continue
		}
		nt := win.tapOffsets(oy, ox, ch, xoff, woff)
		dwRunU8AVX2(&out[ox*ch], &x[0], &wq[0], &bs[0], &xoff[0], &woff[0], nt, blocks, 1, ch, 0)
		tail(ox, nt, 0)
	}
}

// madU8Rows adds x[p·xstep + c]·int16(w[c]) to acc[p·ch + c] for p <
// npix, c < ch (w[c] = uint16(int16 weight)): npix pixels of one depthwise
// tap, their inputs xstep bytes apart. In AVX2 when ch is a multiple of 8.
func madU8Rows(acc []int32, x []uint8, w []int32, ch, npix, xstep int) {
	acc, w = acc[:npix*ch], w[:ch]
	if npix == 0 || ch == 0 {
		return
	}
	x = x[:(npix-1)*xstep+ch]
	if useAVX2 && ch%8 == 0 {
		madU8RowsAVX2(&acc[0], &x[0], &w[0], ch, npix, xstep)
		return
	}
	for p := 0; p < npix; p++ {
		a, xs := acc[p*ch:(p+1)*ch], x[p*xstep:p*xstep+ch]
		for c, xv := range xs {
			a[c] += int32(xv) * int32(int16(w[c]))
		}
	}
}

// packedFilters holds filters packed for gemm.U8S8Packed, so that a
// graph's filters are packed once rather than at every batch. An entry is
// found by the address, length and shape of the filter's codes and used
// only if its copy of the codes still equals them (a compare costs much
// less than packing), so memory that now holds another filter is packed
// afresh. The address is kept as a number: the cache holds no filter
// alive, and an entry leaves once its filter's memory is collected (a
// cleanup), so that the filters of graphs a process has dropped cost
// nothing. It is emptied when it reaches maxPackedFilters entries.
var packedFilters struct {
	mu sync.Mutex
	m  map[filterKey]*packed
}

const maxPackedFilters = 1024

type filterKey struct {
	addr uintptr
	k, n int
}

type packed struct {
	codes []byte // a copy of the filter's codes
	b     *gemm.U8S8B
}

// packedFilter returns w (k×n, k, n > 0) packed for gemm.U8S8Packed.
func packedFilter(w []int8, k, n int) *gemm.U8S8B {
	w = w[:k*n]
	codes := unsafe.Slice((*byte)(unsafe.Pointer(&w[0])), len(w))
	key := filterKey{uintptr(unsafe.Pointer(&w[0])), k, n}
	pf := &packedFilters
	pf.mu.Lock()
	e := pf.m[key]
	pf.mu.Unlock()
	if e != nil && bytes.Equal(e.codes, codes) {
		return e.b
	}
	e = &packed{codes: bytes.Clone(codes), b: gemm.PackU8S8(k, n, w, n)}
	pf.mu.Lock()
	if pf.m == nil || len(pf.m) >= maxPackedFilters {
		pf.m = map[filterKey]*packed{}
	}
	pf.m[key] = e
	pf.mu.Unlock()
	runtime.AddCleanup(&w[0], dropPacked, packedRef{key, e})
	return e.b
}

// packedRef names a cache entry for dropPacked.
type packedRef struct {
	key filterKey
	e   *packed
}

// dropPacked removes the entry r once its filter is collected, unless a
// filter allocated since at the same address has replaced it.
func dropPacked(r packedRef) {
	pf := &packedFilters
	pf.mu.Lock()
	if pf.m[r.key] == r.e {
		delete(pf.m, r.key)
	}
	pf.mu.Unlock()
}
