package exec_test

import (
	"fmt"

	"qcal/internal/exec"
	"qcal/internal/tensor"
	"qcal/internal/tfpb"
)

// A graph y = Relu(x + b), built in code here; exec.Load reads one from a
// file instead.
func Example() {
	float := &tfpb.AttrValue{Value: &tfpb.AttrValue_Type{Type: tfpb.DataType_DT_FLOAT}}
	b := tensor.FromF32([]int{3}, []float32{1, -1, 0.5})
	g := &tfpb.GraphDef{Node: []*tfpb.NodeDef{
		{Name: "x", Op: "Placeholder", Attr: map[string]*tfpb.AttrValue{"dtype": float}},
		{Name: "b", Op: "Const", Attr: map[string]*tfpb.AttrValue{
			"dtype": float, "value": {Value: &tfpb.AttrValue_Tensor{Tensor: b.ToProto()}}}},
		{Name: "add", Op: "Add", Input: []string{"x", "b"}, Attr: map[string]*tfpb.AttrValue{"T": float}},
		{Name: "y", Op: "Relu", Input: []string{"add"}, Attr: map[string]*tfpb.AttrValue{"T": float}},
	}}
	gr, err := exec.New(g, "example")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("inputs:", gr.Inputs, "outputs:", gr.Outputs)
	x := tensor.FromF32([]int{2, 3}, []float32{0, 0, 0, -2, 2, -1})
	out, err := gr.Run(map[string]*tensor.Tensor{"x": x}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(out[0], out[0].F32)
	// Output:
	// inputs: [x float<unknown>] outputs: [y]
	// float[2,3] [1 0 0.5 0 1 0]
}
