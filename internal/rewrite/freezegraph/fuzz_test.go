package freezegraph

import (
	"testing"

	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"

	"qcal/internal/tfpb"
)

// anyVars answers every name with a float scalar.
type anyVars struct{}

func (anyVars) Has(string) bool { return true }
func (anyVars) Check(string, tfpb.DataType, *tfpb.TensorShapeProto) error {
	return nil
}
func (anyVars) Tensor(string) (*tfpb.TensorProto, error) { return floats(dims(), 1), nil }

// FuzzFreeze: any graph that decodes, frozen toward its last node, gives a
// graph or an error, never a panic, and leaves its input unchanged.
func FuzzFreeze(f *testing.F) {
	g := new(tfpb.GraphDef)
	if err := prototext.Unmarshal([]byte(resourceGraph), g); err != nil {
		f.Fatal(err)
	}
	b, _ := proto.Marshal(g)
	f.Add(b)
	f.Fuzz(func(t *testing.T, data []byte) {
		g := new(tfpb.GraphDef)
		if proto.Unmarshal(data, g) != nil || len(g.GetNode()) == 0 {
			return
		}
		before, _ := proto.MarshalOptions{Deterministic: true}.Marshal(g)
		Freeze(g, anyVars{}, Options{Outputs: []string{g.GetNode()[len(g.GetNode())-1].GetName()}, ClearDevices: true})
		after, _ := proto.MarshalOptions{Deterministic: true}.Marshal(g)
		if string(before) != string(after) {
			t.Fatalf("Freeze changed its input")
		}
	})
}
