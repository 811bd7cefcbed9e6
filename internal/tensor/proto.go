package tensor

import (
	"encoding/binary"
	"fmt"
	"math"

	"qcal/internal/tfpb"
)

// elemSize is the width in bytes of one element of t in tensor_content, or 0
// for a dtype tensor_content cannot hold (strings).
func elemSize(t tfpb.DataType) int {
	switch StorageOf(t) {
	case StoreF32, StoreI32:
		return 4
	case StoreF64, StoreI64:
		return 8
	case StoreU8, StoreI8, StoreBool:
		return 1
	case StoreI16, StoreU16:
		return 2
	}
	return 0
}

// ShapeFromProto converts a fully known TensorShapeProto into a shape.
func ShapeFromProto(s *tfpb.TensorShapeProto) ([]int, error) {
	if s == nil {
		return []int{}, nil
	}
	if s.UnknownRank {
		return nil, fmt.Errorf("shape of unknown rank")
	}
	shape := make([]int, len(s.Dim))
	for i, d := range s.Dim {
		if d.Size < 0 {
			return nil, fmt.Errorf("shape has an unknown dimension %d", i)
		}
		if d.Size > maxElements {
			return nil, fmt.Errorf("dimension %d is %d, beyond 2^40", i, d.Size)
		}
		shape[i] = int(d.Size)
	}
	if _, err := CheckShape(shape); err != nil {
		return nil, err
	}
	return shape, nil
}

// ShapeToProto converts a shape to a TensorShapeProto.
func ShapeToProto(shape []int) *tfpb.TensorShapeProto {
	s := &tfpb.TensorShapeProto{}
	for _, d := range shape {
		s.Dim = append(s.Dim, &tfpb.TensorShapeProto_Dim{Size: int64(d)})
	}
	return s
}

// FromProto decodes a TensorProto as TensorFlow does: from tensor_content
// (the elements little-endian, packed) when it is not empty, else from the
// typed field of the dtype (float_val, double_val, int_val for the integer
// types of 32 bits and fewer, int64_val, bool_val, string_val, half_val for
// half and bfloat16). A typed field with fewer values than the shape holds
// is filled with its last value, TensorFlow's rule for constants such as
// tf.zeros; an empty one means all zeros. Errors say what does not fit.
func FromProto(p *tfpb.TensorProto) (*Tensor, error) {
	if p == nil {
		return nil, fmt.Errorf("no tensor")
	}
	t := p.Dtype
	if !Supported(t) {
		return nil, fmt.Errorf("tensor of dtype %s is not supported", TypeName(t))
	}
	shape, err := ShapeFromProto(p.TensorShape)
	if err != nil {
		return nil, err
	}
	n := NumElements(shape)
	if len(p.TensorContent) > 0 {
		size := elemSize(t)
		if size == 0 {
			return nil, fmt.Errorf("%s tensor with tensor_content: only string_val is read for strings", TypeName(t))
		}
		if len(p.TensorContent) != n*size {
			return nil, fmt.Errorf("tensor_content has %d bytes, want %d for %s%s (%d bytes each)",
				len(p.TensorContent), n*size, TypeName(t), ShapeString(shape), size)
		}
		return fromContent(t, shape, p.TensorContent), nil
	}
	x := New(t, shape)
	switch StorageOf(t) {
	case StoreF32:
		err = fill(x.F32, p.FloatVal, "float_val", func(v float32) float32 { return v })
	case StoreF64:
		err = fill(x.F64, p.DoubleVal, "double_val", func(v float64) float64 { return v })
	case StoreI32:
		err = fill(x.I32, p.IntVal, "int_val", func(v int32) int32 { return v })
	case StoreI64:
		err = fill(x.I64, p.Int64Val, "int64_val", func(v int64) int64 { return v })
	case StoreU8:
		err = fill(x.U8, p.IntVal, "int_val", func(v int32) uint8 { return uint8(v) })
	case StoreI8:
		err = fill(x.I8, p.IntVal, "int_val", func(v int32) int8 { return int8(v) })
	case StoreI16:
		err = fill(x.I16, p.IntVal, "int_val", func(v int32) int16 { return int16(v) })
	case StoreU16:
		if t == tfpb.DataType_DT_HALF || t == tfpb.DataType_DT_BFLOAT16 {
			err = fill(x.U16, p.HalfVal, "half_val", func(v int32) uint16 { return uint16(v) })
		} else {
			err = fill(x.U16, p.IntVal, "int_val", func(v int32) uint16 { return uint16(v) })
		}
	case StoreBool:
		err = fill(x.Bool, p.BoolVal, "bool_val", func(v bool) bool { return v })
	case StoreStr:
		err = fill(x.Str, p.StringVal, "string_val", func(v []byte) []byte { return append([]byte{}, v...) })
	}
	if err != nil {
		return nil, fmt.Errorf("%s%s: %w", TypeName(t), ShapeString(shape), err)
	}
	return x, nil
}

// fill converts vals into dst, repeating the last value to the end when
// vals is shorter than dst (and leaving zeros when it is empty).
func fill[S, D any](dst []D, vals []S, field string, conv func(S) D) error {
	if len(vals) > len(dst) {
		return fmt.Errorf("%s has %d values for %d elements", field, len(vals), len(dst))
	}
	if len(vals) == 0 {
		return nil
	}
	for i, v := range vals {
		dst[i] = conv(v)
	}
	last := dst[len(vals)-1]
	for i := len(vals); i < len(dst); i++ {
		dst[i] = last
	}
	return nil
}

// fromContent decodes little-endian packed elements; len(b) is checked.
func fromContent(t tfpb.DataType, shape []int, b []byte) *Tensor {
	x := New(t, shape)
	le := binary.LittleEndian
	switch StorageOf(t) {
	case StoreF32:
		for i := range x.F32 {
			x.F32[i] = math.Float32frombits(le.Uint32(b[4*i:]))
		}
	case StoreF64:
		for i := range x.F64 {
			x.F64[i] = math.Float64frombits(le.Uint64(b[8*i:]))
		}
	case StoreI32:
		for i := range x.I32 {
			x.I32[i] = int32(le.Uint32(b[4*i:]))
		}
	case StoreI64:
		for i := range x.I64 {
			x.I64[i] = int64(le.Uint64(b[8*i:]))
		}
	case StoreU8:
		copy(x.U8, b)
	case StoreI8:
		for i := range x.I8 {
			x.I8[i] = int8(b[i])
		}
	case StoreI16:
		for i := range x.I16 {
			x.I16[i] = int16(le.Uint16(b[2*i:]))
		}
	case StoreU16:
		for i := range x.U16 {
			x.U16[i] = le.Uint16(b[2*i:])
		}
	case StoreBool:
		for i := range x.Bool {
			x.Bool[i] = b[i] != 0
		}
	}
	return x
}

// ToProto encodes x as a frozen graph stores it: tensor_content for every
// dtype but string, string_val for strings.
func (x *Tensor) ToProto() *tfpb.TensorProto {
	p := &tfpb.TensorProto{Dtype: x.DType, TensorShape: ShapeToProto(x.Shape)}
	le := binary.LittleEndian
	var b []byte
	switch StorageOf(x.DType) {
	case StoreF32:
		b = make([]byte, 0, 4*len(x.F32))
		for _, v := range x.F32 {
			b = le.AppendUint32(b, math.Float32bits(v))
		}
	case StoreF64:
		b = make([]byte, 0, 8*len(x.F64))
		for _, v := range x.F64 {
			b = le.AppendUint64(b, math.Float64bits(v))
		}
	case StoreI32:
		b = make([]byte, 0, 4*len(x.I32))
		for _, v := range x.I32 {
			b = le.AppendUint32(b, uint32(v))
		}
	case StoreI64:
		b = make([]byte, 0, 8*len(x.I64))
		for _, v := range x.I64 {
			b = le.AppendUint64(b, uint64(v))
		}
	case StoreU8:
		b = append([]byte{}, x.U8...)
	case StoreI8:
		b = make([]byte, len(x.I8))
		for i, v := range x.I8 {
			b[i] = byte(v)
		}
	case StoreI16:
		b = make([]byte, 0, 2*len(x.I16))
		for _, v := range x.I16 {
			b = le.AppendUint16(b, uint16(v))
		}
	case StoreU16:
		b = make([]byte, 0, 2*len(x.U16))
		for _, v := range x.U16 {
			b = le.AppendUint16(b, v)
		}
	case StoreBool:
		b = make([]byte, len(x.Bool))
		for i, v := range x.Bool {
			if v {
				b[i] = 1
			}
		}
	case StoreStr:
		for _, s := range x.Str {
			p.StringVal = append(p.StringVal, append([]byte{}, s...))
		}
		return p
	}
	if len(b) > 0 {
		p.TensorContent = b
	}
	return p
}

// HalfToF32 converts IEEE 754 half-precision bits to float32 exactly.
func HalfToF32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // Inf or NaN
		return math.Float32frombits(sign | 0xff<<23 | frac<<13)
	case exp == 0:
		// Zero or subnormal: frac·2^-24.
		v := float32(frac) * (1.0 / (1 << 24))
		if sign != 0 {
			v = -v
		}
		return v
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | frac<<13)
}

// F32ToHalf converts a float32 to the nearest half (ties to even), as
// TensorFlow's Cast to half does.
func F32ToHalf(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int32(b>>23) & 0xff
	frac := b & 0x7fffff
	if exp == 0xff { // Inf or NaN
		if frac != 0 {
			return sign | 0x7e00
		}
		return sign | 0x7c00
	}
	e := exp - 127 + 15
	if e >= 0x1f {
		return sign | 0x7c00
	}
	if e <= 0 {
		if e < -10 {
			return sign
		}
		m := frac | 0x800000
		shift := uint32(14 - e)
		h := m >> shift
		rem := m & (1<<shift - 1)
		half := uint32(1) << (shift - 1)
		if rem > half || (rem == half && h&1 == 1) {
			h++
		}
		return sign | uint16(h)
	}
	h := uint32(e)<<10 | frac>>13
	rem := frac & 0x1fff
	if rem > 0x1000 || (rem == 0x1000 && h&1 == 1) {
		h++ // may carry into the exponent, up to Inf: still right
	}
	return sign | uint16(h)
}

// BFloat16ToF32 converts bfloat16 bits to float32 exactly.
func BFloat16ToF32(h uint16) float32 { return math.Float32frombits(uint32(h) << 16) }

// Float32s returns the elements of a float, double, half or bfloat16 tensor as
// float32 (a copy unless x is float), or an error naming the dtype.
func (x *Tensor) Float32s() ([]float32, error) {
	switch x.DType {
	case tfpb.DataType_DT_FLOAT:
		return x.F32, nil
	case tfpb.DataType_DT_DOUBLE:
		return convert(x.F64, func(e float64) float32 { return float32(e) }), nil
	case tfpb.DataType_DT_HALF:
		return convert(x.U16, HalfToF32), nil
	case tfpb.DataType_DT_BFLOAT16:
		return convert(x.U16, BFloat16ToF32), nil
	}
	return nil, fmt.Errorf("want a floating-point tensor, got %s", TypeName(x.DType))
}
