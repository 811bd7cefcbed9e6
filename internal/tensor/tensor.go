package tensor

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"qcal/internal/tfpb"
)

// Tensor is an n-dimensional array. Exactly one of the typed slices, the one
// Storage(DType) names, holds the NumElements(Shape) elements in row-major
// order; the others are nil. Several dtypes share a slice:
//
//	F32  float
//	F64  double
//	I32  int32, qint32
//	I64  int64
//	U8   uint8, quint8
//	I8   int8, qint8
//	I16  int16, qint16
//	U16  uint16, quint16, half and bfloat16 (the raw 16 bits)
//	Bool bool
//	Str  string (bytes, as TensorFlow's strings are)
//
// A Tensor owns its slices; kernels never change the slices of their inputs.
type Tensor struct {
	DType tfpb.DataType
	Shape []int

	F32  []float32
	F64  []float64
	I32  []int32
	I64  []int64
	U8   []uint8
	I8   []int8
	I16  []int16
	U16  []uint16
	Bool []bool
	Str  [][]byte
}

// Storage names the field of Tensor holding a dtype's elements.
type Storage int

// The storages, one per typed slice of Tensor.
const (
	NoStorage Storage = iota
	StoreF32
	StoreF64
	StoreI32
	StoreI64
	StoreU8
	StoreI8
	StoreI16
	StoreU16
	StoreBool
	StoreStr
)

// StorageOf reports which slice holds the elements of dtype t, or NoStorage
// for a dtype the executor does not hold (complex, resource, variant, ...).
func StorageOf(t tfpb.DataType) Storage {
	switch t {
	case tfpb.DataType_DT_FLOAT:
		return StoreF32
	case tfpb.DataType_DT_DOUBLE:
		return StoreF64
	case tfpb.DataType_DT_INT32, tfpb.DataType_DT_QINT32:
		return StoreI32
	case tfpb.DataType_DT_INT64:
		return StoreI64
	case tfpb.DataType_DT_UINT8, tfpb.DataType_DT_QUINT8:
		return StoreU8
	case tfpb.DataType_DT_INT8, tfpb.DataType_DT_QINT8:
		return StoreI8
	case tfpb.DataType_DT_INT16, tfpb.DataType_DT_QINT16:
		return StoreI16
	case tfpb.DataType_DT_UINT16, tfpb.DataType_DT_QUINT16, tfpb.DataType_DT_HALF, tfpb.DataType_DT_BFLOAT16:
		return StoreU16
	case tfpb.DataType_DT_BOOL:
		return StoreBool
	case tfpb.DataType_DT_STRING:
		return StoreStr
	}
	return NoStorage
}

// Supported reports whether a Tensor can hold elements of dtype t.
func Supported(t tfpb.DataType) bool { return StorageOf(t) != NoStorage }

// TypeName returns t as TensorFlow writes it in messages: "float", "int32",
// "quint8"; "DT_X" for a dtype without a short name.
func TypeName(t tfpb.DataType) string {
	s := t.String()
	if n, ok := strings.CutPrefix(s, "DT_"); ok {
		return strings.ToLower(n)
	}
	return "dtype(" + strconv.Itoa(int(t)) + ")"
}

// NumElements returns the product of shape's dimensions (1 for a scalar).
// It panics on a negative dimension, a programmer's mistake: shapes from
// outside are checked by CheckShape first.
func NumElements(shape []int) int {
	n := 1
	for _, d := range shape {
		if d < 0 {
			panic("tensor: negative dimension in shape " + ShapeString(shape))
		}
		n *= d
	}
	return n
}

// maxElements bounds the elements of one tensor (2^40), so that products of
// dimensions cannot overflow and a corrupt shape is refused before any
// allocation.
const maxElements = min(1<<40, math.MaxInt)

// CheckShape returns the number of elements of shape, or an error when a
// dimension is negative or the product is beyond 2^40 elements.
func CheckShape(shape []int) (int, error) {
	n := 1
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("negative dimension in shape %s", ShapeString(shape))
		}
		if d != 0 && n > maxElements/d {
			return 0, fmt.Errorf("shape %s has more than 2^40 elements", ShapeString(shape))
		}
		n *= d
	}
	return n, nil
}

// ShapeString writes shape as "[2,3]"; a scalar is "[]".
func ShapeString(shape []int) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, d := range shape {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(d))
	}
	b.WriteByte(']')
	return b.String()
}

// New returns a zeroed tensor of dtype t and the given shape (copied). It
// panics when t has no storage or the shape is invalid: callers check both.
func New(t tfpb.DataType, shape []int) *Tensor {
	n := NumElements(shape)
	x := &Tensor{DType: t, Shape: append([]int{}, shape...)}
	switch StorageOf(t) {
	case StoreF32:
		x.F32 = make([]float32, n)
	case StoreF64:
		x.F64 = make([]float64, n)
	case StoreI32:
		x.I32 = make([]int32, n)
	case StoreI64:
		x.I64 = make([]int64, n)
	case StoreU8:
		x.U8 = make([]uint8, n)
	case StoreI8:
		x.I8 = make([]int8, n)
	case StoreI16:
		x.I16 = make([]int16, n)
	case StoreU16:
		x.U16 = make([]uint16, n)
	case StoreBool:
		x.Bool = make([]bool, n)
	case StoreStr:
		x.Str = make([][]byte, n)
	default:
		panic("tensor: New: unsupported dtype " + TypeName(t))
	}
	return x
}

// checkLen panics when a constructor is given the wrong number of elements.
func checkLen(fn string, shape []int, n int) {
	if NumElements(shape) != n {
		panic(fmt.Sprintf("tensor: %s: %d elements for shape %s", fn, n, ShapeString(shape)))
	}
}

// FromF32 returns a float tensor holding data (not copied) with the given shape.
func FromF32(shape []int, data []float32) *Tensor {
	checkLen("FromF32", shape, len(data))
	return &Tensor{DType: tfpb.DataType_DT_FLOAT, Shape: append([]int{}, shape...), F32: data}
}

// FromF64 returns a double tensor holding data (not copied).
func FromF64(shape []int, data []float64) *Tensor {
	checkLen("FromF64", shape, len(data))
	return &Tensor{DType: tfpb.DataType_DT_DOUBLE, Shape: append([]int{}, shape...), F64: data}
}

// FromI32 returns an int32 tensor holding data (not copied).
func FromI32(shape []int, data []int32) *Tensor {
	checkLen("FromI32", shape, len(data))
	return &Tensor{DType: tfpb.DataType_DT_INT32, Shape: append([]int{}, shape...), I32: data}
}

// FromI64 returns an int64 tensor holding data (not copied).
func FromI64(shape []int, data []int64) *Tensor {
	checkLen("FromI64", shape, len(data))
	return &Tensor{DType: tfpb.DataType_DT_INT64, Shape: append([]int{}, shape...), I64: data}
}

// FromU8 returns a tensor of dtype t (uint8 or quint8) holding data (not copied).
func FromU8(t tfpb.DataType, shape []int, data []uint8) *Tensor {
	if StorageOf(t) != StoreU8 {
		panic("tensor: FromU8: dtype " + TypeName(t))
	}
	checkLen("FromU8", shape, len(data))
	return &Tensor{DType: t, Shape: append([]int{}, shape...), U8: data}
}

// FromI8 returns a tensor of dtype t (int8 or qint8) holding data (not copied).
func FromI8(t tfpb.DataType, shape []int, data []int8) *Tensor {
	if StorageOf(t) != StoreI8 {
		panic("tensor: FromI8: dtype " + TypeName(t))
	}
	checkLen("FromI8", shape, len(data))
	return &Tensor{DType: t, Shape: append([]int{}, shape...), I8: data}
}

// FromBool returns a bool tensor holding data (not copied).
func FromBool(shape []int, data []bool) *Tensor {
	checkLen("FromBool", shape, len(data))
	return &Tensor{DType: tfpb.DataType_DT_BOOL, Shape: append([]int{}, shape...), Bool: data}
}

// Scalar returns a float scalar.
func Scalar(v float32) *Tensor { return FromF32(nil, []float32{v}) }

// Len returns the number of elements the tensor holds.
func (x *Tensor) Len() int {
	switch StorageOf(x.DType) {
	case StoreF32:
		return len(x.F32)
	case StoreF64:
		return len(x.F64)
	case StoreI32:
		return len(x.I32)
	case StoreI64:
		return len(x.I64)
	case StoreU8:
		return len(x.U8)
	case StoreI8:
		return len(x.I8)
	case StoreI16:
		return len(x.I16)
	case StoreU16:
		return len(x.U16)
	case StoreBool:
		return len(x.Bool)
	case StoreStr:
		return len(x.Str)
	}
	return 0
}

// NumElements returns the number of elements the shape describes.
func (x *Tensor) NumElements() int { return NumElements(x.Shape) }

// Rank returns the number of dimensions.
func (x *Tensor) Rank() int { return len(x.Shape) }

// Reshaped returns a tensor sharing x's elements with another shape of the
// same number of elements. It panics otherwise.
func (x *Tensor) Reshaped(shape []int) *Tensor {
	checkLen("Reshaped", shape, x.Len())
	y := *x
	y.Shape = append([]int{}, shape...)
	return &y
}

// Clone returns a deep copy of x.
func (x *Tensor) Clone() *Tensor {
	y := &Tensor{DType: x.DType, Shape: append([]int{}, x.Shape...)}
	y.F32 = cloneSlice(x.F32)
	y.F64 = cloneSlice(x.F64)
	y.I32 = cloneSlice(x.I32)
	y.I64 = cloneSlice(x.I64)
	y.U8 = cloneSlice(x.U8)
	y.I8 = cloneSlice(x.I8)
	y.I16 = cloneSlice(x.I16)
	y.U16 = cloneSlice(x.U16)
	y.Bool = cloneSlice(x.Bool)
	if x.Str != nil {
		y.Str = make([][]byte, len(x.Str))
		for i, s := range x.Str {
			y.Str[i] = append([]byte{}, s...)
		}
	}
	return y
}

func cloneSlice[T any](s []T) []T {
	if s == nil {
		return nil
	}
	return append(make([]T, 0, len(s)), s...)
}

// IntValues returns the elements of an int32 or int64 tensor as ints, as
// the shape-like inputs of ops (Reshape's shape, reduction axes, ...) are
// read, or an error naming the dtype.
func (x *Tensor) IntValues() ([]int, error) {
	switch x.DType {
	case tfpb.DataType_DT_INT32:
		return convert(x.I32, func(e int32) int { return int(e) }), nil
	case tfpb.DataType_DT_INT64:
		return convert(x.I64, func(e int64) int { return int(e) }), nil
	}
	return nil, fmt.Errorf("want an int32 or int64 tensor, got %s", TypeName(x.DType))
}

// convert returns f of each element of s, in a new slice of the same
// length.
func convert[S, D any](s []S, f func(S) D) []D {
	v := make([]D, len(s))
	for i, e := range s {
		v[i] = f(e)
	}
	return v
}

// String describes the tensor briefly: "float[2,3]".
func (x *Tensor) String() string { return TypeName(x.DType) + ShapeString(x.Shape) }
