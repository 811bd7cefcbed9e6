package tensor_test

import (
	"fmt"

	"qcal/internal/tensor"
	"qcal/internal/tfpb"
)

// A Const holding tf.fill([2, 3], 7) stores one value; FromProto repeats
// it, as TensorFlow does.
func ExampleFromProto() {
	p := &tfpb.TensorProto{
		Dtype:       tfpb.DataType_DT_INT32,
		TensorShape: tensor.ShapeToProto([]int{2, 3}),
		IntVal:      []int32{7},
	}
	x, err := tensor.FromProto(p)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(x, x.I32)
	// Output: int32[2,3] [7 7 7 7 7 7]
}
