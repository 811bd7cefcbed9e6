package kernels

import (
	"qcal/internal/tensor"
	"qcal/internal/tfpb"
)

// The ops that move tensors without computing: sources, Identity and its
// kin, NoOp.

func init() {
	Register(Def{Op: "Const", Run: constOp, Check: checkConst})
	Register(Def{Op: "Placeholder", Run: placeholder})
	Register(Def{Op: "PlaceholderWithDefault", Run: identity})
	Register(Def{Op: "Identity", Run: identity, TInputs: 1})
	Register(Def{Op: "StopGradient", Run: identity, TInputs: 1})
	Register(Def{Op: "NoOp", Run: noOp})
}

func checkConst(n *tfpb.NodeDef) error {
	_, err := AttrTensor(n, "value")
	return err
}

// constOp decodes the value attr. The executor decodes each Const once at
// load time instead; this kernel serves callers that run single nodes.
func constOp(c *Context) ([]*tensor.Tensor, error) {
	t, err := AttrTensor(c.Node, "value")
	if err != nil {
		return nil, err
	}
	return []*tensor.Tensor{t}, nil
}

// placeholder runs only when nothing feeds the node: the executor supplies
// fed values itself.
func placeholder(c *Context) ([]*tensor.Tensor, error) {
	return nil, c.Errorf("placeholder is not fed")
}

// identity passes its first input through; control inputs are the
// executor's business. The output shares the input's elements, as
// TensorFlow's does.
func identity(c *Context) ([]*tensor.Tensor, error) {
	if err := c.WantInputsAtLeast(1); err != nil {
		return nil, err
	}
	return []*tensor.Tensor{c.Inputs[0]}, nil
}

func noOp(c *Context) ([]*tensor.Tensor, error) { return nil, nil }
