package kernels

import (
	"fmt"
	"io"
	"strings"
	"sync"

	"qcal/internal/tensor"
	"qcal/internal/tfpb"
	"qcal/quant"
)

// Int8Options chooses, where TensorFlow's reference (Eigen) int8 kernels
// and Intel's (MKL, oneDNN) kernels give different results, which one the
// int8 kernels reproduce. The zero value is the MKL behaviour: the graphs
// qcal calibrates were quantized for and run on MKL builds of TF 1.14/1.15.
type Int8Options struct {
	// EigenQuantizeV2 makes QuantizeV2 with mode SCALED and round_mode
	// HALF_TO_EVEN use the Eigen kernel (scale from the nearer side of
	// the range) instead of _MklQuantizeV2 (scale 255/max|·| or
	// 127/max|·|). TF uses the Eigen kernel for a Const input even on MKL
	// builds, and so does qcal (Context.ConstInputs).
	EigenQuantizeV2 bool
	// EigenAvgPool makes QuantizedAvgPool truncate sum/count (the Eigen
	// kernel) instead of rounding sum·float32(1/count) half to even
	// (_MklQuantizedAvgPool).
	EigenAvgPool bool
}

// int8Options is what the int8 kernels read. The executor sets it with
// SetInt8Options before running graphs.
var (
	int8Mu   sync.RWMutex
	int8Opts Int8Options
)

// SetInt8Options sets the options every int8 kernel uses from now on.
//
// It is package-wide because Context (registry.go) has no field for it
// yet; the lead may move it into Context (a field Int8 Int8Options) and
// make currentInt8Options read that instead.
func SetInt8Options(o Int8Options) {
	int8Mu.Lock()
	int8Opts = o
	int8Mu.Unlock()
}

func currentInt8Options(*Context) Int8Options {
	int8Mu.RLock()
	defer int8Mu.RUnlock()
	return int8Opts
}

// quantType maps a TF quantized dtype to quant's Type.
func quantType(t tfpb.DataType) (quant.Type, bool) {
	switch t {
	case tfpb.DataType_DT_QUINT8:
		return quant.QUInt8, true
	case tfpb.DataType_DT_QINT8:
		return quant.QInt8, true
	case tfpb.DataType_DT_QINT32:
		return quant.QInt32, true
	}
	return 0, false
}

var (
	dtQU8  = tfpb.DataType_DT_QUINT8
	dtQI8  = tfpb.DataType_DT_QINT8
	dtQI32 = tfpb.DataType_DT_QINT32
	dtF32  = tfpb.DataType_DT_FLOAT
)

// scalarInput returns the single float of input i (a min or max input).
func (c *Context) scalarInput(i int) (float32, error) {
	v, err := c.Float32Input(i)
	if err != nil {
		return 0, err
	}
	if len(v) != 1 {
		hint := ""
		if op := c.Node.GetOp(); (op == "RequantizationRange" || op == "Requantize") && strings.Contains(c.inputName(i), "depthwise") {
			hint = "; a depthwise convolution's range has one entry per channel: Intel's quantize_graph.py without --per_channel writes a scalar " + op +
				" here, and TensorFlow would apply channel 0's range to every channel; qcal quantize writes the per-channel pair (RequantizationRangePerChannel, RequantizePerChannel)"
		}
		return 0, c.Errorf("input %d (%q) has %d elements, want 1 (a scalar range bound)%s", i, c.inputName(i), len(v), hint)
	}
	return v[0], nil
}

// rangeInput reads inputs i and i+1 as the scalar bounds of a range
// (min_x, max_x and their kin).
func (c *Context) rangeInput(i int) (lo, hi float32, err error) {
	if lo, err = c.scalarInput(i); err != nil {
		return 0, 0, err
	}
	if hi, err = c.scalarInput(i + 1); err != nil {
		return 0, 0, err
	}
	return lo, hi, nil
}

// scalarInputs reads the n inputs from first on as scalars.
func (c *Context) scalarInputs(first, n int) ([]float32, error) {
	r := make([]float32, n)
	for i := range r {
		v, err := c.scalarInput(first + i)
		if err != nil {
			return nil, err
		}
		r[i] = v
	}
	return r, nil
}

// quantOperands returns inputs 0 and 1 checked to be of dtypes t0 and t1.
func (c *Context) quantOperands(t0, t1 tfpb.DataType) (x, y *tensor.Tensor, err error) {
	if x, err = c.quantInput(0, t0); err != nil {
		return nil, nil, err
	}
	if y, err = c.quantInput(1, t1); err != nil {
		return nil, nil, err
	}
	return x, y, nil
}

// quantInput returns input i checked to be of dtype want.
func (c *Context) quantInput(i int, want tfpb.DataType) (*tensor.Tensor, error) {
	x := c.Inputs[i]
	if x.DType != want {
		return nil, c.Errorf("input %d (%q) is %s, want %s", i, c.inputName(i), tensor.TypeName(x.DType), tensor.TypeName(want))
	}
	return x, nil
}

// codesOf returns the elements of a quantized tensor as int32 (a copy for
// 8-bit types; the tensor's own slice for qint32, not to be changed).
func codesOf(x *tensor.Tensor) []int32 {
	switch x.DType {
	case dtQU8:
		out := make([]int32, len(x.U8))
		for i, v := range x.U8 {
			out[i] = int32(v)
		}
		return out
	case dtQI8:
		out := make([]int32, len(x.I8))
		for i, v := range x.I8 {
			out[i] = int32(v)
		}
		return out
	}
	return x.I32
}

// setCodes stores codes into the quantized tensor y (which has their length).
func setCodes(y *tensor.Tensor, codes []int32) {
	switch y.DType {
	case dtQU8:
		for i, v := range codes {
			y.U8[i] = uint8(v)
		}
	case dtQI8:
		for i, v := range codes {
			y.I8[i] = int8(v)
		}
	default:
		copy(y.I32, codes)
	}
}

func scalarF32(v float32) *tensor.Tensor { return tensor.FromF32(nil, []float32{v}) }

// attrOr returns the string attr name, or def when the node lacks it.
func (c *Context) stringOr(name, def string) (string, error) {
	if !c.Has(name) {
		return def, nil
	}
	return c.String(name)
}

// PrintLog is the writer the executor passes as Context.Log so that Print
// nodes behave as TensorFlow's: it keeps each Print node's call count
// across runs (first_n counts per node over the life of the session, as
// TF's kernel object does) and writes each Print line whole, so that
// concurrent Print nodes never interleave inside a line.
//
// The executor should create one PrintLog per loaded graph (a TF session)
// and pass it as Context.Log for every run and batch. With a plain writer
// as Context.Log, a Print node with first_n >= 0 fails with an error
// saying so rather than printing more lines than TF would.
type PrintLog struct {
	mu     sync.Mutex
	w      io.Writer
	counts map[string]int64
	// Prefix is written before each line (TF 1.14/1.15 write none: Print
	// goes to std::cerr; older builds logged through glog with a prefix
	// such as "I0108 10:22:14.123456 12345 logging_ops.cc:79] ").
	Prefix string
}

// NewPrintLog returns a PrintLog writing to w.
func NewPrintLog(w io.Writer) *PrintLog {
	return &PrintLog{w: w, counts: map[string]int64{}}
}

// Write writes p as is (for other writers of the same log).
func (l *PrintLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// take reports whether node may print once more under first_n (negative:
// always) and counts the call.
func (l *PrintLog) take(node string, firstN int64) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if firstN < 0 {
		return true
	}
	if l.counts[node] >= firstN {
		return false
	}
	l.counts[node]++
	return true
}

func (l *PrintLog) line(s []byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.Prefix != "" {
		if _, err := io.WriteString(l.w, l.Prefix); err != nil {
			return err
		}
	}
	if _, err := l.w.Write(s); err != nil {
		return fmt.Errorf("print log: %w", err)
	}
	return nil
}
