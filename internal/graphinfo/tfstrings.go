package graphinfo

import (
	"math/bits"
	"strconv"
	"strings"

	"qcal/internal/tfpb"
)

// TypeName returns a DataType's name as TensorFlow's DataTypeString spells
// it: "float", "qint32", "float_ref", "INVALID", or "unknown dtype enum (N)"
// for a value TensorFlow does not know.
func TypeName(t tfpb.DataType) string {
	if t == tfpb.DataType_DT_INVALID {
		return "INVALID"
	}
	ref := false
	base := t
	if t > 100 {
		ref, base = true, t-100
	}
	name, ok := tfpb.DataType_name[int32(base)]
	if !ok || base == tfpb.DataType_DT_INVALID {
		return "unknown dtype enum (" + strconv.Itoa(int(t)) + ")"
	}
	s := strings.ToLower(strings.TrimPrefix(name, "DT_"))
	if ref {
		s += "_ref"
	}
	return s
}

// maxDims is TensorFlow's limit on the rank of a shape.
const maxDims = 254

// ShapeString returns a partial shape as TensorFlow prints it: "[?,28,28]"
// (-1 is an unknown dimension), "[]" for a scalar, "<unknown>" for an
// unknown rank. A shape TensorFlow rejects is described by TensorFlow's
// error message instead, as summarize_graph prints it.
func ShapeString(s *tfpb.TensorShapeProto) string {
	if s.GetUnknownRank() {
		if len(s.GetDim()) > 0 {
			return "An unknown shape must not have any dimensions set."
		}
		return "<unknown>"
	}
	if len(s.GetDim()) > maxDims {
		return "Shape " + rawShapeString(s) + " has too many dimensions"
	}
	n := int64(1)
	for _, d := range s.GetDim() {
		switch size := d.GetSize(); {
		case size < -1:
			return "Shape " + rawShapeString(s) + " has dimensions with values below -1 (where -1 means unknown)"
		case size == -1:
			n = -1
		case n >= 0:
			var ok bool
			if n, ok = mulNonNeg(n, size); !ok {
				return "Shape " + rawShapeString(s) + " is too large (more than 2**63 - 1 entries)"
			}
		}
	}
	return rawShapeString(s)
}

// rawShapeString prints the dimensions of s as TensorFlow's error messages
// do, whatever their values.
func rawShapeString(s *tfpb.TensorShapeProto) string {
	var b strings.Builder
	if s.GetUnknownRank() {
		b.WriteString("<unknown>")
	}
	b.WriteByte('[')
	for i, d := range s.GetDim() {
		if i > 0 {
			b.WriteByte(',')
		}
		if d.GetSize() == -1 {
			b.WriteByte('?')
		} else {
			b.WriteString(strconv.FormatInt(d.GetSize(), 10))
		}
	}
	b.WriteByte(']')
	return b.String()
}

// mulNonNeg multiplies two non-negative numbers, reporting false on
// overflow past 2**63-1.
func mulNonNeg(a, b int64) (int64, bool) {
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	if hi != 0 || lo > 1<<63-1 {
		return 0, false
	}
	return int64(lo), true
}

// ShapeElements returns the number of elements of a fully defined shape,
// and false when the shape is not one TensorFlow accepts for a tensor
// (unknown or negative dimensions, more than 254 of them, overflow).
// TensorFlow's tensors ignore unknown_rank, so it is ignored here too.
func ShapeElements(s *tfpb.TensorShapeProto) (int64, bool) {
	if len(s.GetDim()) > maxDims {
		return 0, false
	}
	n := int64(1)
	for _, d := range s.GetDim() {
		if d.GetSize() < 0 {
			return 0, false
		}
		var ok bool
		if n, ok = mulNonNeg(n, d.GetSize()); !ok {
			return 0, false
		}
	}
	return n, true
}

// typeSize is the size in bytes of one element of the types whose
// tensor_content TensorFlow checks against the shape.
var typeSize = map[tfpb.DataType]int64{
	tfpb.DataType_DT_FLOAT: 4, tfpb.DataType_DT_DOUBLE: 8, tfpb.DataType_DT_INT32: 4,
	tfpb.DataType_DT_UINT8: 1, tfpb.DataType_DT_INT16: 2, tfpb.DataType_DT_INT8: 1,
	tfpb.DataType_DT_COMPLEX64: 8, tfpb.DataType_DT_INT64: 8, tfpb.DataType_DT_BOOL: 1,
	tfpb.DataType_DT_QINT8: 1, tfpb.DataType_DT_QUINT8: 1, tfpb.DataType_DT_QINT32: 4,
	tfpb.DataType_DT_BFLOAT16: 2, tfpb.DataType_DT_QINT16: 2, tfpb.DataType_DT_QUINT16: 2,
	tfpb.DataType_DT_UINT16: 2, tfpb.DataType_DT_COMPLEX128: 16, tfpb.DataType_DT_HALF: 2,
	tfpb.DataType_DT_UINT32: 4, tfpb.DataType_DT_UINT64: 8,
	tfpb.DataType_DT_FLOAT8_E5M2: 1, tfpb.DataType_DT_FLOAT8_E4M3FN: 1,
	tfpb.DataType_DT_FLOAT8_E4M3FNUZ: 1, tfpb.DataType_DT_FLOAT8_E4M3B11FNUZ: 1,
	tfpb.DataType_DT_FLOAT8_E5M2FNUZ: 1,
}

// TensorElements returns the number of elements of a tensor, and whether
// TensorFlow's Tensor::FromProto would accept it: the shape must be fully
// defined, the dtype a value type, and tensor_content, when present, exactly
// as long as the shape says. Typed value fields may be shorter or longer
// than the shape (TensorFlow repeats the last value, or ignores the rest).
func TensorElements(t *tfpb.TensorProto) (int64, bool) {
	n, ok := ShapeElements(t.GetTensorShape())
	if !ok {
		return 0, false
	}
	dt := t.GetDtype()
	if dt == tfpb.DataType_DT_INVALID {
		return 0, false
	}
	if n == 0 {
		return 0, true
	}
	if dt > tfpb.DataType_DT_UINT2 {
		return 0, false // reference types and unknown values hold no tensor
	}
	if c := t.GetTensorContent(); len(c) > 0 {
		if size, ok := typeSize[dt]; ok {
			if total, ok := mulNonNeg(n, size); !ok || total != int64(len(c)) {
				return 0, false
			}
		}
	}
	return n, true
}
