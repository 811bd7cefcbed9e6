package kernels

import (
	"math"
	"strconv"

	"qcal/internal/tensor"
	"qcal/internal/tfpb"
)

// Print is TensorFlow's Print op (tensorflow/core/kernels/logging_ops.cc,
// TF 1.15): output 0 is input 0, passed through; unless first_n (default
// -1: no limit) calls of this node have printed already, it writes one
// line: the message attr, then "[" + summary + "]" for each input from the
// second on, then a newline (TF-FORMATS §2). The summary is TF 1.15's
// Tensor::SummarizeValue(summarize) (attr default 3; insert_logging sets
// 1024; negative: all): elements space-separated, each dimension but the
// last in its own brackets ([[1 2][3 4]]), "..." where elements were cut.
// Floats are written as TF's FloatToBuffer writes them: %.6g, or %.9g when
// that does not read back as the same float32.

func init() {
	Register(Def{Op: "Print", Run: printOp, Stateful: true})
}

func printOp(c *Context) ([]*tensor.Tensor, error) {
	if err := c.WantInputsAtLeast(1); err != nil {
		return nil, err
	}
	msg, err := c.stringOr("message", "")
	if err != nil {
		return nil, err
	}
	firstN, summarize := -1, 3
	if c.Has("first_n") {
		if firstN, err = c.Int("first_n"); err != nil {
			return nil, err
		}
	}
	if c.Has("summarize") {
		if summarize, err = c.Int("summarize"); err != nil {
			return nil, err
		}
	}
	out := []*tensor.Tensor{c.Inputs[0]}
	log, ok := c.Log.(*PrintLog)
	if !ok && firstN >= 0 {
		return nil, c.Errorf("first_n = %d needs a *kernels.PrintLog as Context.Log to count calls across runs", firstN)
	}
	if ok && !log.take(c.Node.GetName(), int64(firstN)) {
		return out, nil
	}
	line := []byte(msg)
	for i := 1; i < len(c.Inputs); i++ {
		line = append(line, '[')
		line, err = appendSummary(line, c.Inputs[i], summarize)
		if err != nil {
			return nil, c.Errorf("input %d (%q): %w", i, c.inputName(i), err)
		}
		line = append(line, ']')
	}
	line = append(line, '\n')
	if ok {
		err = log.line(line)
	} else if c.Log != nil {
		_, err = c.Log.Write(line)
	}
	if err != nil {
		return nil, c.Wrap(err)
	}
	return out, nil
}

// appendSummary appends TF 1.15's Tensor::SummarizeValue(maxEntries) of x.
func appendSummary(b []byte, x *tensor.Tensor, maxEntries int) ([]byte, error) {
	n := tensor.NumElements(x.Shape)
	limit := n
	if maxEntries >= 0 {
		limit = min(maxEntries, n)
	}
	elem, err := elementWriter(x)
	if err != nil {
		return b, err
	}
	if len(x.Shape) == 0 {
		for i := 0; i < limit; i++ {
			if i > 0 {
				b = append(b, ' ')
			}
			b = elem(b, i)
		}
	} else {
		idx := 0
		b = summarizeDim(b, x.Shape, 0, limit, &idx, elem)
	}
	if n > limit {
		b = append(b, "..."...)
	}
	return b, nil
}

// summarizeDim is TF's PrintOneDim: the innermost dimension is written
// space-separated (with "..." when the limit cuts it and it is not the
// only dimension); each element of an outer dimension is written in
// brackets while elements remain.
func summarizeDim(b []byte, shape []int, dim, limit int, idx *int, elem func([]byte, int) []byte) []byte {
	if *idx >= limit {
		return b
	}
	count := shape[dim]
	if dim == len(shape)-1 {
		for i := 0; i < count; i++ {
			if *idx >= limit {
				if dim != 0 {
					b = append(b, "..."...)
				}
				return b
			}
			if i > 0 {
				b = append(b, ' ')
			}
			b = elem(b, *idx)
			*idx++
		}
		return b
	}
	for i := 0; i < count; i++ {
		opened := false
		if *idx < limit {
			b = append(b, '[')
			opened = true
		}
		b = summarizeDim(b, shape, dim+1, limit, idx, elem)
		if *idx < limit || opened {
			b = append(b, ']')
		}
	}
	return b
}

// elementWriter returns the function appending element i of x as TF's
// StrCat writes it.
func elementWriter(x *tensor.Tensor) (func([]byte, int) []byte, error) {
	switch tensor.StorageOf(x.DType) {
	case tensor.StoreF32:
		return func(b []byte, i int) []byte { return AppendTFFloat(b, x.F32[i]) }, nil
	case tensor.StoreF64:
		return func(b []byte, i int) []byte { return appendTFDouble(b, x.F64[i]) }, nil
	case tensor.StoreI32:
		return func(b []byte, i int) []byte { return strconv.AppendInt(b, int64(x.I32[i]), 10) }, nil
	case tensor.StoreI64:
		return func(b []byte, i int) []byte { return strconv.AppendInt(b, x.I64[i], 10) }, nil
	case tensor.StoreU8:
		return func(b []byte, i int) []byte { return strconv.AppendInt(b, int64(x.U8[i]), 10) }, nil
	case tensor.StoreI8:
		return func(b []byte, i int) []byte { return strconv.AppendInt(b, int64(x.I8[i]), 10) }, nil
	case tensor.StoreI16:
		return func(b []byte, i int) []byte { return strconv.AppendInt(b, int64(x.I16[i]), 10) }, nil
	case tensor.StoreBool:
		return func(b []byte, i int) []byte {
			if x.Bool[i] {
				return append(b, '1')
			}
			return append(b, '0')
		}, nil
	case tensor.StoreStr:
		return func(b []byte, i int) []byte { return append(b, x.Str[i]...) }, nil
	}
	if x.DType == tfpb.DataType_DT_UINT16 || x.DType == tfpb.DataType_DT_QUINT16 {
		return func(b []byte, i int) []byte { return strconv.AppendInt(b, int64(x.U16[i]), 10) }, nil
	}
	return nil, errUnprintable(x.DType)
}

type errUnprintable tfpb.DataType

func (e errUnprintable) Error() string {
	return "Print of " + tensor.TypeName(tfpb.DataType(e)) + " tensors is not supported"
}

// AppendTFFloat appends v as TensorFlow's FloatToBuffer writes a float:
// printf("%.6g"), or "%.9g" when the 6-digit form does not parse back to
// v; NaN as "nan" or "-nan", infinities as "inf" and "-inf" (glibc's
// spellings).
func AppendTFFloat(b []byte, v float32) []byte {
	if s, ok := nonFinite(float64(v)); ok {
		return append(b, s...)
	}
	s := strconv.FormatFloat(float64(v), 'g', 6, 32)
	if f, err := strconv.ParseFloat(s, 32); err != nil || float32(f) != v {
		s = strconv.FormatFloat(float64(v), 'g', 9, 32)
	}
	return append(b, s...)
}

// appendTFDouble is DoubleToBuffer: %.15g, or %.17g when that does not
// round-trip.
func appendTFDouble(b []byte, v float64) []byte {
	if s, ok := nonFinite(v); ok {
		return append(b, s...)
	}
	s := strconv.FormatFloat(v, 'g', 15, 64)
	if f, err := strconv.ParseFloat(s, 64); err != nil || f != v {
		s = strconv.FormatFloat(v, 'g', 17, 64)
	}
	return append(b, s...)
}

func nonFinite(v float64) (string, bool) {
	switch {
	case math.IsNaN(v):
		if math.Signbit(v) {
			return "-nan", true
		}
		return "nan", true
	case math.IsInf(v, 1):
		return "inf", true
	case math.IsInf(v, -1):
		return "-inf", true
	}
	return "", false
}
