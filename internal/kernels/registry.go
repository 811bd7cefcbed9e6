package kernels

import (
	"fmt"
	"io"
	"math"
	"qcal/internal/gemm"
	"slices"
	"sort"
	"sync"

	"qcal/internal/tensor"
	"qcal/internal/tfpb"
)

// Kernel computes a node's outputs from ctx.Inputs. It must not change its
// input tensors' elements. An output may share an input's elements only
// whole (the same slice, as Reshape's does), never a part of them: the
// executor recycles a buffer once no live tensor starts at it. It
// returns one tensor per output of the op; outputs nothing consumes may be
// nil only where the op's doc says so.
type Kernel func(ctx *Context) ([]*tensor.Tensor, error)

// Def is one op's entry in the registry.
type Def struct {
	// Op is the op type, as NodeDef.op spells it.
	Op string
	// Run computes the node.
	Run Kernel
	// Check, when set, validates a node's attrs before any input is read
	// (the executor calls it while loading a graph): dtypes the kernel
	// supports, paddings, data formats. Its error need not name the node.
	Check func(n *tfpb.NodeDef) error
	// Stateful ops (Print) have effects beyond their outputs: rewrites
	// such as fold_constants must not evaluate them away.
	Stateful bool
	// TInputs says how many of the node's first data inputs have the
	// dtype of its T attr (AllInputs: every one), so that the executor can
	// check the graph's edges before running it. 0: no such rule.
	TInputs int
}

// AllInputs is the TInputs of ops whose every data input has dtype T.
const AllInputs = -1

var registry = map[string]Def{}

// Register adds an op to the registry. It panics when the op is already
// registered or d is incomplete: both are programmer's mistakes, found the
// first time the package is loaded.
func Register(d Def) {
	if d.Op == "" || d.Run == nil {
		panic("kernels: Register: op name and Run are required")
	}
	if _, dup := registry[d.Op]; dup {
		panic("kernels: Register: op " + d.Op + " registered twice")
	}
	registry[d.Op] = d
}

// Lookup returns the registered definition of op.
func Lookup(op string) (Def, bool) {
	d, ok := registry[op]
	return d, ok
}

// Supported reports whether a kernel is registered for op.
func Supported(op string) bool {
	_, ok := registry[op]
	return ok
}

// Ops returns the registered op types, sorted.
func Ops() []string {
	ops := make([]string, 0, len(registry))
	for op := range registry {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	return ops
}

// Context is what a kernel gets: the node, its inputs, and the run's
// services. A Context is used by one goroutine at a time.
type Context struct {
	Node   *tfpb.NodeDef
	Inputs []*tensor.Tensor
	// Log receives the text Print nodes write (TensorFlow writes it to
	// stderr); io.Discard when the caller wants none.
	Log io.Writer
	// Scratch holds buffers kernels reuse across nodes and runs (im2col).
	// It may be nil; the methods of a nil *Scratch allocate afresh.
	Scratch *Scratch
	// ConstInputs has bit i set when input i comes straight from a Const
	// node (the executor sets it): TF's MKL layout pass leaves an op on its
	// Eigen kernel when its input is a Const (QuantizeV2, INT8-ARITHMETIC
	// §0.1). An Identity of a Const is not a Const node.
	ConstInputs uint64
	// Const marks the inputs (float, 8-bit, int32) whose buffers belong
	// to the graph's Consts (through Identity too), the same for the
	// graph's life: kernels may keep what they derive from them in Packs
	// (Conv2D's packed filter). Nil or short means none.
	Const []bool
	// Packs keeps Const filters packed for GEMM for the graph's life,
	// shared by its concurrent runs; nil packs on every call.
	Packs *Packs

	// extremes remembers the last whole-tensor Min/Max input, so that the
	// Min and Max of quantize_graph's prologue read it once (minMaxOf).
	// The executor makes one Context a run, and within a run a tensor
	// never changes.
	extremes extremes
}

// InputIsConst reports whether input i comes straight from a Const node.
func (c *Context) InputIsConst(i int) bool {
	return i >= 0 && i < 64 && c.ConstInputs&(1<<uint(i)) != 0
}

// isConst reports whether input i is marked Const.
func (c *Context) isConst(i int) bool { return i < len(c.Const) && c.Const[i] }

// MaxElements bounds the elements of a tensor whose size comes from input
// values rather than input sizes (Fill's dims, Tile's multiples, Range,
// paddings, broadcasting): a corrupt graph gets an error, not an
// allocation that exhausts memory. Tests lower it.
var MaxElements = min(1<<31, math.MaxInt)

// CheckSize returns an error when shape holds more than MaxElements
// elements.
func (c *Context) CheckSize(shape []int) error {
	n := 1
	for _, d := range shape {
		if d < 0 {
			return c.Errorf("negative dimension in shape %s", tensor.ShapeString(shape))
		}
		if d != 0 && n > MaxElements/d {
			return c.Errorf("output shape %s is beyond %d elements", tensor.ShapeString(shape), MaxElements)
		}
		n *= d
	}
	return nil
}

// Errorf returns an error prefixed with the node's name: `node "x": msg`.
func (c *Context) Errorf(format string, a ...any) error {
	return fmt.Errorf("node %q (%s): %w", c.Node.GetName(), c.Node.GetOp(), fmt.Errorf(format, a...))
}

// Wrap prefixes err with the node's name, or returns nil for nil.
func (c *Context) Wrap(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("node %q (%s): %w", c.Node.GetName(), c.Node.GetOp(), err)
}

// WantInputs returns an error unless the node has exactly n inputs.
func (c *Context) WantInputs(n int) error {
	if len(c.Inputs) != n {
		return c.Errorf("has %d inputs, want %d", len(c.Inputs), n)
	}
	return nil
}

// WantInputsAtLeast returns an error unless the node has at least n inputs.
func (c *Context) WantInputsAtLeast(n int) error {
	if len(c.Inputs) < n {
		return c.Errorf("has %d inputs, want at least %d", len(c.Inputs), n)
	}
	return nil
}

// Float32Input returns input i's elements, or an error naming the input
// when it is not a float tensor.
func (c *Context) Float32Input(i int) ([]float32, error) {
	x := c.Inputs[i]
	if x.DType != tfpb.DataType_DT_FLOAT {
		return nil, c.Errorf("input %d (%q) is %s, want float", i, c.inputName(i), x)
	}
	return x.F32, nil
}

// soleFloat32Input checks that the node has exactly one input and returns
// its elements as Float32Input does.
func (c *Context) soleFloat32Input() ([]float32, error) {
	if err := c.WantInputs(1); err != nil {
		return nil, err
	}
	return c.Float32Input(0)
}

// lastDimInput is soleFloat32Input for ops over the last dimension
// (Softmax, LogSoftmax): the input must have rank 1 or more; xs is its
// shape.
func (c *Context) lastDimInput() (x []float32, xs []int, err error) {
	if x, err = c.soleFloat32Input(); err != nil {
		return nil, nil, err
	}
	xs = c.Inputs[0].Shape
	if len(xs) < 1 {
		return nil, nil, c.Errorf("input %s must have rank 1 or more", c.Inputs[0])
	}
	return x, xs, nil
}

// tensorAndInts checks that the node has two inputs and returns the first
// and the second's values as ints: the data and the shape-like operand of
// Reshape, Transpose, Tile, Pad, ExpandDims, ArgMax.
func (c *Context) tensorAndInts() (*tensor.Tensor, []int, error) {
	if err := c.WantInputs(2); err != nil {
		return nil, nil, err
	}
	v, err := c.IntsInput(1)
	if err != nil {
		return nil, nil, err
	}
	return c.Inputs[0], v, nil
}

// IntsInput returns input i, an int32 or int64 tensor, as ints.
func (c *Context) IntsInput(i int) ([]int, error) {
	v, err := c.Inputs[i].IntValues()
	if err != nil {
		return nil, c.Errorf("input %d (%q): %w", i, c.inputName(i), err)
	}
	return v, nil
}

func (c *Context) inputName(i int) string {
	n := 0
	for _, in := range c.Node.GetInput() {
		if len(in) > 0 && in[0] == '^' {
			continue
		}
		if n == i {
			return in
		}
		n++
	}
	return "?"
}

// Attr helpers. Each returns an error naming the node and the attr when the
// attr is missing or of another kind.

// Attr returns the node's attr name, or an error when it is missing.
func (c *Context) Attr(name string) (*tfpb.AttrValue, error) { return attr(c.Node, name) }

func attr(n *tfpb.NodeDef, name string) (*tfpb.AttrValue, error) {
	a, ok := n.GetAttr()[name]
	if !ok || a == nil {
		return nil, fmt.Errorf("node %q (%s): attr %q is missing", n.GetName(), n.GetOp(), name)
	}
	return a, nil
}

func attrKind(n *tfpb.NodeDef, name, want string) error {
	return fmt.Errorf("node %q (%s): attr %q is not %s", n.GetName(), n.GetOp(), name, want)
}

// Int returns an int attr.
func (c *Context) Int(name string) (int, error) { return AttrInt(c.Node, name) }

// Ints returns a list(int) attr.
func (c *Context) Ints(name string) ([]int, error) { return AttrInts(c.Node, name) }

// String returns a string attr.
func (c *Context) String(name string) (string, error) { return AttrString(c.Node, name) }

// Float returns a float attr.
func (c *Context) Float(name string) (float32, error) { return AttrFloat(c.Node, name) }

// Bool returns a bool attr.
func (c *Context) Bool(name string) (bool, error) { return AttrBool(c.Node, name) }

// Type returns a type attr.
func (c *Context) Type(name string) (tfpb.DataType, error) { return AttrType(c.Node, name) }

// Has reports whether the node has the attr.
func (c *Context) Has(name string) bool { return HasAttr(c.Node, name) }

// HasAttr reports whether n has the attr name.
func HasAttr(n *tfpb.NodeDef, name string) bool {
	_, ok := n.GetAttr()[name]
	return ok
}

// AttrInt returns n's int attr name.
func AttrInt(n *tfpb.NodeDef, name string) (int, error) {
	a, err := attr(n, name)
	if err != nil {
		return 0, err
	}
	v, ok := a.Value.(*tfpb.AttrValue_I)
	if !ok {
		return 0, attrKind(n, name, "an int")
	}
	return int(v.I), nil
}

// AttrInts returns n's list(int) attr name.
func AttrInts(n *tfpb.NodeDef, name string) ([]int, error) {
	a, err := attr(n, name)
	if err != nil {
		return nil, err
	}
	v, ok := a.Value.(*tfpb.AttrValue_List)
	if !ok {
		return nil, attrKind(n, name, "a list of ints")
	}
	out := make([]int, len(v.List.GetI()))
	for i, e := range v.List.GetI() {
		out[i] = int(e)
	}
	return out, nil
}

// AttrString returns n's string attr name.
func AttrString(n *tfpb.NodeDef, name string) (string, error) {
	a, err := attr(n, name)
	if err != nil {
		return "", err
	}
	v, ok := a.Value.(*tfpb.AttrValue_S)
	if !ok {
		return "", attrKind(n, name, "a string")
	}
	return string(v.S), nil
}

// AttrFloat returns n's float attr name.
func AttrFloat(n *tfpb.NodeDef, name string) (float32, error) {
	a, err := attr(n, name)
	if err != nil {
		return 0, err
	}
	v, ok := a.Value.(*tfpb.AttrValue_F)
	if !ok {
		return 0, attrKind(n, name, "a float")
	}
	return v.F, nil
}

// AttrBool returns n's bool attr name.
func AttrBool(n *tfpb.NodeDef, name string) (bool, error) {
	a, err := attr(n, name)
	if err != nil {
		return false, err
	}
	v, ok := a.Value.(*tfpb.AttrValue_B)
	if !ok {
		return false, attrKind(n, name, "a bool")
	}
	return v.B, nil
}

// AttrType returns n's type attr name.
func AttrType(n *tfpb.NodeDef, name string) (tfpb.DataType, error) {
	a, err := attr(n, name)
	if err != nil {
		return 0, err
	}
	v, ok := a.Value.(*tfpb.AttrValue_Type)
	if !ok {
		return 0, attrKind(n, name, "a type")
	}
	return v.Type, nil
}

// AttrTensor returns n's tensor attr name, decoded.
func AttrTensor(n *tfpb.NodeDef, name string) (*tensor.Tensor, error) {
	a, err := attr(n, name)
	if err != nil {
		return nil, err
	}
	v, ok := a.Value.(*tfpb.AttrValue_Tensor)
	if !ok {
		return nil, attrKind(n, name, "a tensor")
	}
	t, err := tensor.FromProto(v.Tensor)
	if err != nil {
		return nil, fmt.Errorf("node %q (%s): attr %q: %w", n.GetName(), n.GetOp(), name, err)
	}
	return t, nil
}

// CheckType returns a Check function accepting a node whose type attr
// named attrName (when present; absent means the op's default, float) is one of types.
func CheckType(attrName string, types ...tfpb.DataType) func(n *tfpb.NodeDef) error {
	return func(n *tfpb.NodeDef) error {
		if !HasAttr(n, attrName) {
			return nil
		}
		t, err := AttrType(n, attrName)
		if err != nil {
			return err
		}
		if !slices.Contains(types, t) {
			names := make([]string, len(types))
			for i, u := range types {
				names[i] = tensor.TypeName(u)
			}
			return fmt.Errorf("node %q (%s): %s %s is not supported (supported: %v)",
				n.GetName(), n.GetOp(), attrName, tensor.TypeName(t), names)
		}
		return nil
	}
}

// Scratch holds reusable buffers. The zero value is ready; a nil *Scratch
// allocates on every call.
type Scratch struct {
	f32 []float32
	i32 []int32
	u8  []uint8
	// free holds float32 buffers of dead tensors by length, for New;
	// freeU8 the same for the 8-bit codes stored as bytes (quint8, uint8).
	free   map[int][][]float32
	freeU8 map[int][][]uint8
}

// Packs holds Const filters packed for gemm.F32Packed, by their first
// element (which keeps them, the graph's Consts, alive as long as the
// Packs: one per graph). The zero value is ready; it is safe for
// concurrent use.
type Packs struct {
	mu   sync.Mutex
	m    map[*float32]packedF32
	conv map[convPrepKey]*convPrep // the int8 convolutions' (convPrepFor)
}

type packedF32 struct {
	k, n int
	b    *gemm.F32B
}

// f32 returns the Const k×n matrix f packed for gemm.F32Packed, packing
// it the first time (or the first time with this shape). A nil Packs
// packs afresh.
func (p *Packs) f32(f []float32, k, n int) *gemm.F32B {
	if p == nil || len(f) == 0 {
		return gemm.PackF32(k, n, f, n)
	}
	key := &f[0]
	p.mu.Lock()
	e, ok := p.m[key]
	p.mu.Unlock()
	if ok && e.k == k && e.n == n {
		return e.b
	}
	b := gemm.PackF32(k, n, f, n) // outside the lock: two runs may both pack it once
	p.mu.Lock()
	if p.m == nil {
		p.m = map[*float32]packedF32{}
	}
	p.m[key] = packedF32{k, n, b}
	p.mu.Unlock()
	return b
}

// maxFreePerSize bounds the recycled buffers kept for one length.
const maxFreePerSize = 4

// Recycle hands x's float32 or byte (quint8, uint8) elements back for
// New to reuse. The caller guarantees that no live tensor shares them.
// Other dtypes are left to the collector.
func (s *Scratch) Recycle(x *tensor.Tensor) {
	if s == nil || x == nil {
		return
	}
	switch {
	case x.DType == tfpb.DataType_DT_FLOAT && len(x.F32) > 0 && len(x.F32) == cap(x.F32):
		if s.free == nil {
			s.free = map[int][][]float32{}
		}
		if l := s.free[len(x.F32)]; len(l) < maxFreePerSize {
			s.free[len(x.F32)] = append(l, x.F32)
		}
	case tensor.StorageOf(x.DType) == tensor.StoreU8 && len(x.U8) > 0 && len(x.U8) == cap(x.U8):
		if s.freeU8 == nil {
			s.freeU8 = map[int][][]uint8{}
		}
		if l := s.freeU8[len(x.U8)]; len(l) < maxFreePerSize {
			s.freeU8[len(x.U8)] = append(l, x.U8)
		}
	}
}

// takeU8 is takeF32 for byte buffers.
func (s *Scratch) takeU8(n int) []uint8 {
	if s == nil {
		return nil
	}
	l := s.freeU8[n]
	if len(l) == 0 {
		return nil
	}
	v := l[len(l)-1]
	s.freeU8[n] = l[:len(l)-1]
	return v
}

// takeF32 returns a recycled buffer of length n, or nil.
func (s *Scratch) takeF32(n int) []float32 {
	if s == nil {
		return nil
	}
	l := s.free[n]
	if len(l) == 0 {
		return nil
	}
	v := l[len(l)-1]
	s.free[n] = l[:len(l)-1]
	return v
}

// F32 returns a float32 buffer of length n whose contents are undefined. It
// stays valid until the next call of F32 on the same Scratch.
func (s *Scratch) F32(n int) []float32 {
	if s == nil {
		return make([]float32, n)
	}
	if cap(s.f32) < n {
		s.f32 = make([]float32, n)
	}
	return s.f32[:n]
}

// I32 is F32 for int32 buffers (int8 kernels' accumulators).
func (s *Scratch) I32(n int) []int32 {
	if s == nil {
		return make([]int32, n)
	}
	if cap(s.i32) < n {
		s.i32 = make([]int32, n)
	}
	return s.i32[:n]
}

// U8 is F32 for uint8 buffers (int8 kernels' im2col).
func (s *Scratch) U8(n int) []uint8 {
	if s == nil {
		return make([]uint8, n)
	}
	if cap(s.u8) < n {
		s.u8 = make([]uint8, n)
	}
	return s.u8[:n]
}

// New returns a zeroed output tensor of dtype t and shape. Kernels allocate
// their outputs through it so that float and byte buffers the executor
// recycled (Scratch.Recycle) are reused.
func (c *Context) New(t tfpb.DataType, shape []int) *tensor.Tensor {
	return c.newTensor(t, shape, true)
}

// NewUninit is New for kernels that write every element of the output:
// a recycled buffer is not cleared first.
func (c *Context) NewUninit(t tfpb.DataType, shape []int) *tensor.Tensor {
	return c.newTensor(t, shape, false)
}

func (c *Context) newTensor(t tfpb.DataType, shape []int, zero bool) *tensor.Tensor {
	if t == tfpb.DataType_DT_FLOAT {
		if v := c.Scratch.takeF32(tensor.NumElements(shape)); v != nil {
			if zero {
				clear(v)
			}
			return tensor.FromF32(shape, v)
		}
	}
	if tensor.StorageOf(t) == tensor.StoreU8 {
		if v := c.Scratch.takeU8(tensor.NumElements(shape)); v != nil {
			if zero {
				clear(v)
			}
			return tensor.FromU8(t, shape, v)
		}
	}
	return tensor.New(t, shape)
}

// fmtNode formats an error naming n.
func fmtNode(n *tfpb.NodeDef, format string, a ...any) error {
	return fmt.Errorf("node %q (%s): %w", n.GetName(), n.GetOp(), fmt.Errorf(format, a...))
}
