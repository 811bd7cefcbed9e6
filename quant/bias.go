package quant

import (
	"fmt"
	"math"
)

// This file holds the bias pre-quantization of IntelAI's
// fuse_quantized_conv_and_requantize graph transform
// (IntelAI/tools tensorflow_quantization/graph_transforms/
// fuse_quantized_convolution.cc, INT8-ARITHMETIC.md §0 and §1c), facts
// re-implemented.

// BiasScale is the factor by which fuse_quantized_conv_and_requantize
// multiplies a float bias to make it a qint32 bias of a fused convolution
// whose input is quint8 with range [minX, maxX] and whose filter channel
// is qint8 with range [minW, maxW]:
//
//	R_x   = max(|maxX|, |minX|)                       (float32)
//	R_w   = max(|maxW|, |minW|)                       (float32)
//	scale = f32(255·127 / double(f32(R_x·R_w)))
//
// The product of the two ranges is a float32 product; the division is done
// in double (the constant 255.0·127.0 = 32385 is a double) and the result
// stored as float32. A zero range gives +Inf, as in the tool.
func BiasScale(minX, maxX, minW, maxW float32) float32 {
	rx := max(abs32(maxX), abs32(minX))
	rw := max(abs32(maxW), abs32(minW))
	return float32(32385.0 / float64(rx*rw))
}

// QuantizeBias returns the qint32 codes fuse_quantized_conv_and_requantize
// writes for the float bias b of a fused convolution fed by another fused
// …AndRequantize convolution: for each channel i,
//
//	code[i] = (int32)f32(b[i] · BiasScale(minX, maxX, minW[i], maxW[i]))
//
// a float32 product truncated toward zero (C's cast). minW and maxW are the
// filter's range: one value for the whole filter, or one per channel, in
// which case there must be as many as bias values (the tool's "Number of
// filter output channels is not equal to bias size"). Where C's cast is
// undefined (a NaN, or a product outside int32, e.g. from a zero range)
// QuantizeBias returns an error naming the channel instead of a code.
func QuantizeBias(b []float32, minX, maxX float32, minW, maxW []float32) ([]int32, error) {
	if len(minW) != len(maxW) {
		return nil, fmt.Errorf("filter range has %d minimums and %d maximums", len(minW), len(maxW))
	}
	if len(minW) == 0 {
		return nil, fmt.Errorf("filter range is empty")
	}
	if len(minW) > 1 && len(minW) != len(b) {
		return nil, fmt.Errorf("number of filter output channels (%d) is not equal to bias size (%d)", len(minW), len(b))
	}
	out := make([]int32, len(b))
	for i, v := range b {
		c := 0
		if len(minW) > 1 {
			c = i
		}
		s := BiasScale(minX, maxX, minW[c], maxW[c])
		p := float32(v * s)
		if math.IsNaN(float64(p)) || p >= 1<<31 || p < -(1<<31) {
			return nil, fmt.Errorf("bias %d: %g·%g = %g is not an int32 (input range [%g, %g], filter range [%g, %g])",
				i, v, s, p, minX, maxX, minW[c], maxW[c])
		}
		out[i] = int32(p) // Go's conversion truncates toward zero, as C's cast does
	}
	return out, nil
}

func abs32(v float32) float32 { return float32(math.Abs(float64(v))) }
