package kernels

import (
	"fmt"
	"math"

	"qcal/internal/gemm"
	"qcal/internal/tensor"
	"qcal/internal/tfpb"
)

// Neural-network ops: MatMul, BiasAdd, convolutions, pooling, Softmax and
// batch normalization, all float32 in TensorFlow's default layouts (NHWC
// activations, HWIO filters).

func init() {
	Register(Def{Op: "MatMul", Run: matMul, Check: CheckType("T", floatOnly...), TInputs: AllInputs})
	Register(Def{Op: "BiasAdd", Run: biasAdd, Check: checkAll(CheckType("T", floatOnly...), checkNHWC), TInputs: AllInputs})
	Register(Def{Op: "Conv2D", Run: conv2D, Check: checkAll(CheckType("T", floatOnly...), checkNHWC, checkPadding), TInputs: AllInputs})
	Register(Def{Op: "DepthwiseConv2dNative", Run: depthwiseConv2D, Check: checkAll(CheckType("T", floatOnly...), checkNHWC, checkPadding), TInputs: AllInputs})
	Register(Def{Op: "MaxPool", Run: maxPool, Check: checkAll(CheckType("T", floatOnly...), checkNHWC, checkPadding), TInputs: AllInputs})
	Register(Def{Op: "AvgPool", Run: avgPool, Check: checkAll(CheckType("T", floatOnly...), checkNHWC, checkPadding), TInputs: AllInputs})
	Register(Def{Op: "Softmax", Run: softmax, Check: CheckType("T", floatOnly...), TInputs: AllInputs})
	for _, op := range []string{"FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3"} {
		Register(Def{Op: op, Run: fusedBatchNorm, Check: checkAll(CheckType("T", floatOnly...), CheckType("U", floatOnly...), checkNHWC, checkInference), TInputs: 1})
	}
	Register(Def{Op: "BatchNormWithGlobalNormalization", Run: batchNormGlobal, Check: CheckType("T", floatOnly...), TInputs: AllInputs})
}

func checkAll(checks ...func(*tfpb.NodeDef) error) func(*tfpb.NodeDef) error {
	return func(n *tfpb.NodeDef) error {
		for _, c := range checks {
			if err := c(n); err != nil {
				return err
			}
		}
		return nil
	}
}

// checkNHWC refuses a data_format other than TensorFlow's default.
func checkNHWC(n *tfpb.NodeDef) error {
	if !HasAttr(n, "data_format") {
		return nil
	}
	f, err := AttrString(n, "data_format")
	if err != nil {
		return err
	}
	if f != "NHWC" {
		return fmt.Errorf("node %q (%s): data_format %q is not supported (only NHWC)", n.GetName(), n.GetOp(), f)
	}
	return nil
}

func checkPadding(n *tfpb.NodeDef) error {
	p, err := AttrString(n, "padding")
	if err != nil {
		return err
	}
	switch p {
	case "SAME", "VALID":
		return nil
	case "EXPLICIT":
		e, err := AttrInts(n, "explicit_paddings")
		if err != nil {
			return err
		}
		if len(e) != 8 || e[0] != 0 || e[1] != 0 || e[6] != 0 || e[7] != 0 {
			return fmt.Errorf("node %q (%s): explicit_paddings %v: want 8 values, zero for batch and depth", n.GetName(), n.GetOp(), e)
		}
		for _, v := range e {
			if v < 0 {
				return fmt.Errorf("node %q (%s): negative explicit padding %v", n.GetName(), n.GetOp(), e)
			}
		}
		return nil
	}
	return fmt.Errorf("node %q (%s): padding %q is not SAME, VALID or EXPLICIT", n.GetName(), n.GetOp(), p)
}

func checkInference(n *tfpb.NodeDef) error {
	if !HasAttr(n, "is_training") {
		return fmt.Errorf("node %q (%s): is_training is not set: TensorFlow's default (true) computes batch statistics, which inference does not do", n.GetName(), n.GetOp())
	}
	t, err := AttrBool(n, "is_training")
	if err != nil {
		return err
	}
	if t {
		return fmt.Errorf("node %q (%s): is_training is true: only inference (is_training=false) is supported", n.GetName(), n.GetOp())
	}
	return nil
}

func matMul(c *Context) ([]*tensor.Tensor, error) {
	if err := c.WantInputs(2); err != nil {
		return nil, err
	}
	a, b := c.Inputs[0], c.Inputs[1]
	if _, err := c.Float32Input(0); err != nil {
		return nil, err
	}
	if _, err := c.Float32Input(1); err != nil {
		return nil, err
	}
	if a.Rank() != 2 || b.Rank() != 2 {
		return nil, c.Errorf("inputs %s and %s are not both matrices", a, b)
	}
	ta, tb := false, false
	if c.Has("transpose_a") {
		var err error
		if ta, err = c.Bool("transpose_a"); err != nil {
			return nil, err
		}
	}
	if c.Has("transpose_b") {
		var err error
		if tb, err = c.Bool("transpose_b"); err != nil {
			return nil, err
		}
	}
	am, ak := a.Shape[0], a.Shape[1]
	av := a.F32
	if ta {
		am, ak = ak, am
		av = transpose2D(a.F32, a.Shape[0], a.Shape[1])
	}
	bk, bn := b.Shape[0], b.Shape[1]
	bv := b.F32
	if tb {
		bk, bn = bn, bk
		bv = transpose2D(b.F32, b.Shape[0], b.Shape[1])
	}
	if ak != bk {
		return nil, c.Errorf("inner dimensions differ: %s%s × %s%s (after transposes: %d against %d)",
			a, flag(ta), b, flag(tb), ak, bk)
	}
	y := c.New(tfpb.DataType_DT_FLOAT, []int{am, bn})
	if am > 0 && bn > 0 {
		if ak == 0 {
			return []*tensor.Tensor{y}, nil
		}
		gemm.F32(am, bn, ak, av, ak, bv, bn, y.F32, bn)
	}
	return []*tensor.Tensor{y}, nil
}

func flag(t bool) string {
	if t {
		return "ᵀ"
	}
	return ""
}

func transpose2D(x []float32, rows, cols int) []float32 {
	y := make([]float32, len(x))
	for i := 0; i < rows; i++ {
		for j := 0; j < cols; j++ {
			y[j*rows+i] = x[i*cols+j]
		}
	}
	return y
}

func biasAdd(c *Context) ([]*tensor.Tensor, error) {
	if err := c.WantInputs(2); err != nil {
		return nil, err
	}
	x, err := c.Float32Input(0)
	if err != nil {
		return nil, err
	}
	b, err := c.Float32Input(1)
	if err != nil {
		return nil, err
	}
	xs := c.Inputs[0].Shape
	if len(xs) < 2 || c.Inputs[1].Rank() != 1 || xs[len(xs)-1] != len(b) {
		return nil, c.Errorf("bias %s does not match the last dimension of %s", c.Inputs[1], c.Inputs[0])
	}
	y := c.NewUninit(tfpb.DataType_DT_FLOAT, xs)
	ch := len(b)
	if ch == 0 {
		return []*tensor.Tensor{y}, nil
	}
	rows := len(x) / ch
	Parallel(rows, parallelGrain/ch+1, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			xr, yr := x[r*ch:(r+1)*ch], y.F32[r*ch:(r+1)*ch]
			for j, v := range xr {
				yr[j] = v + b[j]
			}
		}
	})
	return []*tensor.Tensor{y}, nil
}

// Window is the geometry of a 2-D sliding window over an NHWC input: the
// kernel size, strides, dilations and the padding before each spatial
// dimension, and the output size.
type Window struct {
	KH, KW   int
	SH, SW   int
	DH, DW   int
	PadT     int // rows of padding above
	PadL     int // columns of padding to the left
	OH, OW   int
	InH, InW int
}

// inRow returns the input row that tap row ky of output row oy reads and
// whether it lies inside the image (not in the padding).
func (w Window) inRow(oy, ky int) (int, bool) {
	iy := oy*w.SH - w.PadT + ky*w.DH
	return iy, iy >= 0 && iy < w.InH
}

// inCol is inRow for tap column kx of output column ox.
func (w Window) inCol(ox, kx int) (int, bool) {
	ix := ox*w.SW - w.PadL + kx*w.DW
	return ix, ix >= 0 && ix < w.InW
}

// tapOffsets lists the taps of output pixel (oy, ox) inside the image, in
// ky-then-kx order, for an NHWC image of ch channels and a filter of ch
// values a tap: xoff[t] the offset of the tap's input pixel in the image,
// foff[t] that of its weights, (ky·KW + kx)·ch. It returns their count;
// xoff and foff hold KH·KW ints.
func (w Window) tapOffsets(oy, ox, ch int, xoff, foff []int) int {
	nt := 0
	for ky := 0; ky < w.KH; ky++ {
		iy, in := w.inRow(oy, ky)
		if !in {
			continue
		}
		for kx := 0; kx < w.KW; kx++ {
			ix, in := w.inCol(ox, kx)
			if !in {
				continue
			}
			xoff[nt], foff[nt] = (iy*w.InW+ix)*ch, (ky*w.KW+kx)*ch
			nt++
		}
	}
	return nt
}

// pointwise reports whether the window is 1×1 at stride 1 without
// padding over an output of the input's size: each output pixel reads
// its own input pixel, so the input's rows are already the im2col rows.
func (w Window) pointwise() bool {
	return w.KH == 1 && w.KW == 1 && w.SH == 1 && w.SW == 1 && w.PadT == 0 && w.PadL == 0 &&
		w.OH == w.InH && w.OW == w.InW
}

// interiorCols returns the output columns [lo, hi) whose whole window row
// lies inside the image: ox·SW − PadL ≥ 0 and ox·SW − PadL + (KW−1)·DW <
// InW (hi = lo when there are none).
func (w Window) interiorCols() (lo, hi int) {
	lo = min((w.PadL+w.SW-1)/w.SW, w.OW)
	hi = lo
	if last := w.InW - 1 - (w.KW-1)*w.DW + w.PadL; last >= 0 {
		hi = max(lo, min(w.OW, last/w.SW+1))
	}
	return lo, hi
}

// NewWindow computes TensorFlow's output size and padding for an input of
// h×w: VALID: out = ceil((in - (k-1)·d) / s); SAME: out = ceil(in / s),
// padding total = max((out-1)·s + (k-1)·d + 1 - in, 0), the smaller half
// before; EXPLICIT: the given paddings (top, bottom, left, right).
func NewWindow(h, w, kh, kw, sh, sw, dh, dw int, padding string, explicit []int) (Window, error) {
	win := Window{KH: kh, KW: kw, SH: sh, SW: sw, DH: dh, DW: dw, InH: h, InW: w}
	if kh <= 0 || kw <= 0 || sh <= 0 || sw <= 0 || dh <= 0 || dw <= 0 {
		return win, fmt.Errorf("window %dx%d, strides %dx%d, dilations %dx%d: all must be positive", kh, kw, sh, sw, dh, dw)
	}
	ekh, ekw := (kh-1)*dh+1, (kw-1)*dw+1
	switch padding {
	case "VALID":
		if h < ekh || w < ekw {
			return win, fmt.Errorf("input %dx%d is smaller than the window %dx%d (VALID padding)", h, w, ekh, ekw)
		}
		win.OH, win.OW = (h-ekh)/sh+1, (w-ekw)/sw+1
	case "SAME":
		win.OH, win.OW = (h+sh-1)/sh, (w+sw-1)/sw
		win.PadT = max((win.OH-1)*sh+ekh-h, 0) / 2
		win.PadL = max((win.OW-1)*sw+ekw-w, 0) / 2
	case "EXPLICIT":
		pt, pb, pl, pr := explicit[2], explicit[3], explicit[4], explicit[5]
		hh, ww := h+pt+pb, w+pl+pr
		if hh < ekh || ww < ekw {
			return win, fmt.Errorf("padded input %dx%d is smaller than the window %dx%d", hh, ww, ekh, ekw)
		}
		win.OH, win.OW = (hh-ekh)/sh+1, (ww-ekw)/sw+1
		win.PadT, win.PadL = pt, pl
	default:
		return win, fmt.Errorf("padding %q is not SAME, VALID or EXPLICIT", padding)
	}
	return win, nil
}

// windowAttrs reads strides, dilations and padding of a conv or pool node:
// for pools the window size comes from ksize.
func windowAttrs(c *Context, h, w, kh, kw int, pool bool) (Window, error) {
	strides, err := c.Ints("strides")
	if err != nil {
		return Window{}, err
	}
	if len(strides) != 4 || strides[0] != 1 || strides[3] != 1 {
		return Window{}, c.Errorf("strides %v: want [1, h, w, 1]", strides)
	}
	dil := []int{1, 1, 1, 1}
	if c.Has("dilations") {
		if dil, err = c.Ints("dilations"); err != nil {
			return Window{}, err
		}
		if len(dil) != 4 || dil[0] != 1 || dil[3] != 1 {
			return Window{}, c.Errorf("dilations %v: want [1, h, w, 1]", dil)
		}
	}
	if pool {
		k, err := c.Ints("ksize")
		if err != nil {
			return Window{}, err
		}
		if len(k) != 4 || k[0] != 1 || k[3] != 1 {
			return Window{}, c.Errorf("ksize %v: want [1, h, w, 1]", k)
		}
		kh, kw = k[1], k[2]
	}
	padding, err := c.String("padding")
	if err != nil {
		return Window{}, err
	}
	var explicit []int
	if padding == "EXPLICIT" {
		if explicit, err = c.Ints("explicit_paddings"); err != nil {
			return Window{}, err
		}
		if len(explicit) != 8 {
			return Window{}, c.Errorf("explicit_paddings %v: want 8 values", explicit)
		}
	}
	win, err := NewWindow(h, w, kh, kw, strides[1], strides[2], dil[1], dil[2], padding, explicit)
	return win, c.Wrap(err)
}

// im2colChunk is the most elements of the im2col buffer Conv2D fills at
// once (1 MiB of float32): big enough that GEMM sees hundreds of rows
// (910 for the Keras MNIST CNN's second convolution), small enough that
// the buffer and the output rows it gives (233 KB there) are still in the
// cache when GEMM reads the one and the epilogue the other.
const im2colChunk = 1 << 18

// float32ConvInputs checks that the node has want inputs and reads the
// first two as a float32 NHWC input x and a filter f whose third dimension
// is x's channel count (HWIO, or HWCM for depthwise), returning both with
// their shapes.
func float32ConvInputs(c *Context, want int) (x, f []float32, xs, fs []int, err error) {
	if err := c.WantInputs(want); err != nil {
		return nil, nil, nil, nil, err
	}
	if x, err = c.Float32Input(0); err != nil {
		return nil, nil, nil, nil, err
	}
	if f, err = c.Float32Input(1); err != nil {
		return nil, nil, nil, nil, err
	}
	xs, fs = c.Inputs[0].Shape, c.Inputs[1].Shape
	if len(xs) != 4 || len(fs) != 4 {
		return nil, nil, nil, nil, c.Errorf("input %s and filter %s must both have rank 4", c.Inputs[0], c.Inputs[1])
	}
	if fs[2] != xs[3] {
		return nil, nil, nil, nil, c.Errorf("filter %s has %d input channels, the input %s has %d", c.Inputs[1], fs[2], c.Inputs[0], xs[3])
	}
	return x, f, xs, fs, nil
}

func conv2D(c *Context) ([]*tensor.Tensor, error) {
	x, f, xs, fs, err := float32ConvInputs(c, 2)
	if err != nil {
		return nil, err
	}
	n, h, w, ch := xs[0], xs[1], xs[2], xs[3]
	kh, kw, oc := fs[0], fs[1], fs[3]
	win, err := windowAttrs(c, h, w, kh, kw, false)
	if err != nil {
		return nil, err
	}
	y := c.NewUninit(tfpb.DataType_DT_FLOAT, []int{n, win.OH, win.OW, oc})
	conv2DF32(x, n, ch, f, c.packedFilter(f, kh*kw*ch, oc), oc, win, y.F32, c.Scratch, nil)
	return []*tensor.Tensor{y}, nil
}

// packedFilter returns the filter (input 1, a k×oc matrix) packed for
// gemm.F32Packed when it is a Const and the Context keeps Packs, packed
// once per graph; otherwise nil, and GEMM packs it on each call.
func (c *Context) packedFilter(f []float32, k, oc int) *gemm.F32B {
	if c.Packs == nil || !c.isConst(1) || len(f) != k*oc || k == 0 || oc == 0 {
		return nil
	}
	return c.Packs.f32(f, k, oc)
}

// Conv2DF32 computes a 2-D convolution of x (n×InH×InW×ch, NHWC) with the
// filter f (KH×KW×ch×oc, HWIO) into y (n×OH×OW×oc) as im2col and GEMM: each
// output pixel's receptive field becomes one row of KH·KW·ch values (zeros
// for padding), and the rows times the filter, read as a
// (KH·KW·ch)×oc matrix, are the outputs. A 1×1 convolution with stride 1
// and no padding multiplies x itself. Rows are done in chunks through a
// buffer from s.
func Conv2DF32(x []float32, n, ch int, f []float32, oc int, win Window, y []float32, s *Scratch) {
	Conv2DF32Epilogue(x, n, ch, f, oc, win, y, s, nil)
}

// Conv2DF32Epilogue is Conv2DF32 followed by ep on each chunk of output
// rows as soon as GEMM has written it.
func Conv2DF32Epilogue(x []float32, n, ch int, f []float32, oc int, win Window, y []float32, s *Scratch, ep *Epilogue) {
	conv2DF32(x, n, ch, f, nil, oc, win, y, s, ep)
}

// conv2DF32 is Conv2DF32Epilogue with the filter also packed as pf for
// gemm.F32Packed, when not nil (the same bits: the same kernel and order).
func conv2DF32(x []float32, n, ch int, f []float32, pf *gemm.F32B, oc int, win Window, y []float32, s *Scratch, ep *Epilogue) {
	rows := n * win.OH * win.OW
	k := win.KH * win.KW * ch
	if rows == 0 || oc == 0 {
		return
	}
	mul := func(m int, a []float32, c []float32) {
		if pf != nil {
			gemm.F32Packed(m, a, k, pf, c, oc)
		} else {
			gemm.F32(m, oc, k, a, k, f, oc, c, oc)
		}
	}
	if k == 0 {
		clear(y)
		ep.Apply(y)
		return
	}
	if win.pointwise() {
		mul(rows, x, y)
		Parallel(rows, parallelGrain/oc+1, func(lo, hi int) { ep.Apply(y[lo*oc : hi*oc]) })
		return
	}
	chunk := max(1, min(rows, im2colChunk/k))
	buf := s.F32(chunk * k)
	for r0 := 0; r0 < rows; r0 += chunk {
		m := min(chunk, rows-r0)
		Im2Col(x, ch, win, r0, m, buf[:m*k], 0)
		out := y[r0*oc : (r0+m)*oc]
		mul(m, buf[:m*k], out)
		if ep != nil {
			Parallel(m, parallelGrain/oc+1, func(lo, hi int) { ep.Apply(out[lo*oc : hi*oc]) })
		}
	}
}

// Im2Col writes the receptive fields of output pixels r0 … r0+m-1 (in
// n, oh, ow order) of the NHWC input x into buf, one row of KH·KW·ch
// values each, in the filter's HWI order; positions in the padding get
// pad (0 for floats; the int8 kernels pass the zero point, the code of a
// real 0).
func Im2Col[T any](x []T, ch int, win Window, r0, m int, buf []T, pad T) {
	k := win.KH * win.KW * ch
	pix := win.OH * win.OW
	fill := func(v []T) {
		for i := range v {
			v[i] = pad
		}
	}
	Parallel(m, max(1, 4096/max(k, 1)), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			row := buf[r*k : (r+1)*k]
			g := r0 + r
			b, p := g/pix, g%pix
			oy, ox := p/win.OW, p%win.OW
			base := b * win.InH * win.InW * ch
			i := 0
			for ky := 0; ky < win.KH; ky++ {
				iy := oy*win.SH - win.PadT + ky*win.DH
				if iy < 0 || iy >= win.InH {
					fill(row[i : i+win.KW*ch])
					i += win.KW * ch
					continue
				}
				rowBase := base + iy*win.InW*ch
				if win.DW == 1 {
					ix0 := ox*win.SW - win.PadL
					if ix0 >= 0 && ix0+win.KW <= win.InW {
						copy(row[i:i+win.KW*ch], x[rowBase+ix0*ch:rowBase+(ix0+win.KW)*ch])
						i += win.KW * ch
						continue
					}
				}
				for kx := 0; kx < win.KW; kx++ {
					ix := ox*win.SW - win.PadL + kx*win.DW
					if ix < 0 || ix >= win.InW {
						fill(row[i : i+ch])
					} else {
						copy(row[i:i+ch], x[rowBase+ix*ch:rowBase+(ix+1)*ch])
					}
					i += ch
				}
			}
		}
	})
}

func depthwiseConv2D(c *Context) ([]*tensor.Tensor, error) {
	return depthwiseEpilogue(c, 2)
}

// depthwiseEpilogue runs DepthwiseConv2dNative (want = 2 inputs) or
// _FusedDepthwiseConv2dNative (want = 3: the bias, then the fused ops on
// each output row while it is in the cache).
func depthwiseEpilogue(c *Context, want int) ([]*tensor.Tensor, error) {
	x, f, xs, fs, err := float32ConvInputs(c, want)
	if err != nil {
		return nil, err
	}
	n, h, w, ch := xs[0], xs[1], xs[2], xs[3]
	kh, kw, mult := fs[0], fs[1], fs[3]
	win, err := windowAttrs(c, h, w, kh, kw, false)
	if err != nil {
		return nil, err
	}
	var ep *Epilogue
	if want == 3 {
		if ep, err = epilogue(c, ch*mult); err != nil {
			return nil, err
		}
	}
	y := c.NewUninit(tfpb.DataType_DT_FLOAT, []int{n, win.OH, win.OW, ch * mult})
	DepthwiseF32(x, n, ch, f, mult, win, y.F32, ep)
	return []*tensor.Tensor{y}, nil
}

func poolSetup(c *Context) ([]float32, []int, Window, error) {
	x, err := c.soleFloat32Input()
	if err != nil {
		return nil, nil, Window{}, err
	}
	xs := c.Inputs[0].Shape
	if len(xs) != 4 {
		return nil, nil, Window{}, c.Errorf("input %s must have rank 4", c.Inputs[0])
	}
	win, err := windowAttrs(c, xs[1], xs[2], 0, 0, true)
	return x, xs, win, err
}

func maxPool(c *Context) ([]*tensor.Tensor, error) {
	x, xs, win, err := poolSetup(c)
	if err != nil {
		return nil, err
	}
	n, h, w, ch := xs[0], xs[1], xs[2], xs[3]
	y := c.NewUninit(tfpb.DataType_DT_FLOAT, []int{n, win.OH, win.OW, ch})
	Parallel(n*win.OH, max(1, parallelGrain/(win.OW*ch*win.KH*win.KW+1)), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			b, oy := r/win.OH, r%win.OH
			y0, y1 := max(oy*win.SH-win.PadT, 0), min(oy*win.SH-win.PadT+win.KH, h)
			for ox := 0; ox < win.OW; ox++ {
				x0, x1 := max(ox*win.SW-win.PadL, 0), min(ox*win.SW-win.PadL+win.KW, w)
				out := y.F32[((b*win.OH+oy)*win.OW+ox)*ch:][:ch]
				for q := range out {
					out[q] = float32(math.Inf(-1))
				}
				for iy := y0; iy < y1; iy++ {
					for ix := x0; ix < x1; ix++ {
						in := x[((b*h+iy)*w+ix)*ch:][:ch]
						for q, v := range in {
							out[q] = max(out[q], v) // NaN wins, as in TensorFlow
						}
					}
				}
			}
		}
	})
	return []*tensor.Tensor{y}, nil
}

// avgPool averages each window over the input elements it covers: padding
// is left out of both sum and count, as TensorFlow does.
func avgPool(c *Context) ([]*tensor.Tensor, error) {
	x, xs, win, err := poolSetup(c)
	if err != nil {
		return nil, err
	}
	n, h, w, ch := xs[0], xs[1], xs[2], xs[3]
	y := c.New(tfpb.DataType_DT_FLOAT, []int{n, win.OH, win.OW, ch})
	Parallel(n*win.OH, max(1, parallelGrain/(win.OW*ch*win.KH*win.KW+1)), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			b, oy := r/win.OH, r%win.OH
			y0, y1 := max(oy*win.SH-win.PadT, 0), min(oy*win.SH-win.PadT+win.KH, h)
			for ox := 0; ox < win.OW; ox++ {
				x0, x1 := max(ox*win.SW-win.PadL, 0), min(ox*win.SW-win.PadL+win.KW, w)
				out := y.F32[((b*win.OH+oy)*win.OW+ox)*ch:][:ch]
				for iy := y0; iy < y1; iy++ {
					for ix := x0; ix < x1; ix++ {
						in := x[((b*h+iy)*w+ix)*ch:][:ch]
						for q, v := range in {
							out[q] += v
						}
					}
				}
				count := float32((y1 - y0) * (x1 - x0))
				for q := range out {
					out[q] /= count
				}
			}
		}
	})
	return []*tensor.Tensor{y}, nil
}

// softmax normalizes the last dimension: e^(x - max) / Σ e^(x - max).
func softmax(c *Context) ([]*tensor.Tensor, error) {
	x, xs, err := c.lastDimInput()
	if err != nil {
		return nil, err
	}
	y := c.NewUninit(tfpb.DataType_DT_FLOAT, xs)
	d := xs[len(xs)-1]
	if d == 0 {
		return []*tensor.Tensor{y}, nil
	}
	for r := 0; r < len(x)/d; r++ {
		xr, yr := x[r*d:(r+1)*d], y.F32[r*d:(r+1)*d]
		m := xr[0]
		for _, v := range xr {
			m = max(m, v)
		}
		var sum float32
		for j, v := range xr {
			e := float32(math.Exp(float64(v - m)))
			yr[j] = e
			sum += e
		}
		for j := range yr {
			yr[j] /= sum
		}
	}
	return []*tensor.Tensor{y}, nil
}

// fusedBatchNorm normalizes with the given statistics, as TensorFlow's
// inference path computes it: y = (x - mean) · (scale · rsqrt(var + ε)) +
// offset. Its other outputs are the mean and variance passed through (TF's
// batch_mean/batch_var and reserve spaces in inference), and an empty
// reserve_space_3 for the V3 op.
func fusedBatchNorm(c *Context) ([]*tensor.Tensor, error) {
	x, p, err := batchNormInputs(c)
	if err != nil {
		return nil, err
	}
	eps := float32(1e-4) // the op's default epsilon
	if c.Has("epsilon") {
		if eps, err = c.Float("epsilon"); err != nil {
			return nil, err
		}
	}
	xs, ch, err := batchNormChannels(c, p)
	if err != nil {
		return nil, err
	}
	scale, offset, mean, variance := p[0], p[1], p[2], p[3]
	mul := make([]float32, ch)
	for j := range mul {
		mul[j] = scale[j] * float32(1/math.Sqrt(float64(variance[j]+eps)))
	}
	y := normalizeChannels(c, x, xs, mean, mul, offset)
	outs := []*tensor.Tensor{y, c.Inputs[3], c.Inputs[4], c.Inputs[3], c.Inputs[4]}
	if c.Node.GetOp() == "FusedBatchNormV3" {
		outs = append(outs, c.New(tfpb.DataType_DT_FLOAT, []int{0}))
	}
	return outs, nil
}

// batchNormGlobal is the old BatchNormWithGlobalNormalization: inputs t, m,
// v, beta, gamma; y = (t - m) · rsqrt(v + ε) · γ + β, without γ when
// scale_after_normalization is false.
func batchNormGlobal(c *Context) ([]*tensor.Tensor, error) {
	x, p, err := batchNormInputs(c)
	if err != nil {
		return nil, err
	}
	eps, err := c.Float("variance_epsilon")
	if err != nil {
		return nil, err
	}
	scaleAfter, err := c.Bool("scale_after_normalization")
	if err != nil {
		return nil, err
	}
	xs, ch, err := batchNormChannels(c, p)
	if err != nil {
		return nil, err
	}
	mean, variance, beta, gamma := p[0], p[1], p[2], p[3]
	mul := make([]float32, ch)
	for j := range mul {
		mul[j] = float32(1 / math.Sqrt(float64(variance[j]+eps)))
		if scaleAfter {
			mul[j] *= gamma[j]
		}
	}
	return []*tensor.Tensor{normalizeChannels(c, x, xs, mean, mul, beta)}, nil
}

// batchNormInputs reads the five float32 inputs of a batch normalization:
// x and four per-channel vectors.
func batchNormInputs(c *Context) (x []float32, p [4][]float32, err error) {
	if err := c.WantInputs(5); err != nil {
		return nil, p, err
	}
	if x, err = c.Float32Input(0); err != nil {
		return nil, p, err
	}
	for i := range p {
		if p[i], err = c.Float32Input(i + 1); err != nil {
			return nil, p, err
		}
	}
	return x, p, nil
}

// batchNormChannels checks that x (input 0) is NHWC and that each of p
// holds one value per channel; it returns x's shape and channels.
func batchNormChannels(c *Context, p [4][]float32) (xs []int, ch int, err error) {
	xs = c.Inputs[0].Shape
	if len(xs) != 4 {
		return nil, 0, c.Errorf("input %s must have rank 4", c.Inputs[0])
	}
	ch = xs[3]
	for i := range p {
		if len(p[i]) != ch || c.Inputs[i+1].Rank() != 1 {
			return nil, 0, c.Errorf("input %d %s does not match the %d channels of %s", i+1, c.Inputs[i+1], ch, c.Inputs[0])
		}
	}
	return xs, ch, nil
}

// normalizeChannels returns y = (x - mean[j])·mul[j] + offset[j] for x of
// shape xs with channels last.
func normalizeChannels(c *Context, x []float32, xs []int, mean, mul, offset []float32) *tensor.Tensor {
	y := c.NewUninit(tfpb.DataType_DT_FLOAT, xs)
	ch := xs[len(xs)-1]
	if ch == 0 {
		return y
	}
	Parallel(len(x)/ch, parallelGrain/ch+1, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			xr, yr := x[r*ch:(r+1)*ch], y.F32[r*ch:(r+1)*ch]
			for j, v := range xr {
				yr[j] = (v-mean[j])*mul[j] + offset[j]
			}
		}
	})
	return y
}
