package freezegraph

import (
	"path/filepath"
	"testing"

	"qcal/internal/graphio"
	"qcal/internal/testutil"
	"qcal/internal/tfpb"
)

func byNameOf(g *tfpb.GraphDef) map[string]int {
	m := map[string]int{}
	for i, n := range g.GetNode() {
		m[n.GetName()] = i
	}
	return m
}

// TestSaverKeysReal: in the real graphs every saved variable is restored
// from the key that is its own name (TF-FILES.md §4): 26 reference
// variables (prathmesh .meta), 181 resource variables (Estimator .meta,
// through Identity and AssignVariableOp), 113 in the SavedModel.
func TestSaverKeysReal(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 2 MB of meta graphs")
	}
	pm := testutil.RealData(t, "checkpoints/prathmesh_mnist_cnn")
	mw := testutil.RealData(t, "batchnorm/mengwanguc_cifar10_resnet_ckpt")
	sm, err := graphio.LoadSavedModel(mw, nil)
	if err != nil {
		t.Fatal(err)
	}
	graphs := map[string]*tfpb.GraphDef{"saved_model.pb": sm.MetaGraph.GetGraphDef()}
	for _, p := range []string{filepath.Join(pm, "mnist.ckpt-75.meta"), filepath.Join(mw, "model.ckpt-19540.meta")} {
		mg, err := graphio.LoadMetaGraph(p)
		if err != nil {
			t.Fatal(err)
		}
		graphs[filepath.Base(p)] = mg.GetGraphDef()
	}
	for name, want := range map[string]int{"mnist.ckpt-75.meta": 26, "model.ckpt-19540.meta": 181, "saved_model.pb": 113} {
		g := graphs[name]
		keys, sliced := saverKeys(g.GetNode(), byNameOf(g))
		if len(keys) != want || len(sliced) != 0 {
			t.Errorf("%s: %d restored variables, %d slices; want %d, 0", name, len(keys), len(sliced), want)
		}
		for v, k := range keys {
			if v != k {
				t.Errorf("%s: variable %q restored from key %q", name, v, k)
			}
		}
	}
}

// TestSaverKeyRenamed: a Saver built with var_list={"renamed": w} stores w
// under "renamed"; freezing follows the restore op, not the node name.
func TestSaverKeyRenamed(t *testing.T) {
	g := parseGraph(t, `
node { name: "w" op: "VariableV2" attr { key: "dtype" value { type: DT_FLOAT } } attr { key: "shape" value { shape { } } } }
node { name: "w/read" op: "Identity" input: "w" attr { key: "T" value { type: DT_FLOAT } } }
node { name: "save/Const" op: "Const" attr { key: "dtype" value { type: DT_STRING } } attr { key: "value" value { tensor { dtype: DT_STRING tensor_shape { } string_val: "model" } } } }
node { name: "save/RestoreV2/tensor_names" op: "Const" attr { key: "dtype" value { type: DT_STRING } }
  attr { key: "value" value { tensor { dtype: DT_STRING tensor_shape { dim { size: 1 } } string_val: "renamed" } } } }
node { name: "save/RestoreV2/shape_and_slices" op: "Const" attr { key: "dtype" value { type: DT_STRING } }
  attr { key: "value" value { tensor { dtype: DT_STRING tensor_shape { dim { size: 1 } } string_val: "" } } } }
node { name: "save/RestoreV2" op: "RestoreV2" input: "save/Const" input: "save/RestoreV2/tensor_names" input: "save/RestoreV2/shape_and_slices" }
node { name: "save/Identity" op: "Identity" input: "save/RestoreV2" }
node { name: "save/Assign" op: "Assign" input: "w" input: "save/Identity" }
`)
	vars := fakeVars{"renamed": floats(dims(), 0.25), "w": floats(dims(), 99)}
	res, err := Freeze(g, vars, Options{Outputs: []string{"w/read"}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Keys["w"] != "renamed" || res.Graph.GetNode()[0].GetAttr()["value"].GetTensor().GetFloatVal()[0] != 0.25 {
		t.Errorf("keys %v, value %v; want w from key renamed = 0.25", res.Keys, res.Graph.GetNode()[0])
	}
	if len(res.Graph.GetNode()) != 2 {
		t.Errorf("%d nodes kept, want w and w/read (the saver is pruned)", len(res.Graph.GetNode()))
	}
}

// TestSaverPartitioned: a variable restored from a slice of a partitioned
// variable (shape_and_slices "4 2 0,2:0,2", TF's slice spec: full shape,
// then start,length per dimension) is refused by name.
func TestSaverPartitioned(t *testing.T) {
	g := parseGraph(t, `
node { name: "w/part_0" op: "VariableV2" attr { key: "dtype" value { type: DT_FLOAT } } }
node { name: "save/Const" op: "Const" attr { key: "dtype" value { type: DT_STRING } } attr { key: "value" value { tensor { dtype: DT_STRING tensor_shape { } string_val: "model" } } } }
node { name: "save/RestoreV2/tensor_names" op: "Const" attr { key: "dtype" value { type: DT_STRING } }
  attr { key: "value" value { tensor { dtype: DT_STRING tensor_shape { dim { size: 1 } } string_val: "w" } } } }
node { name: "save/RestoreV2/shape_and_slices" op: "Const" attr { key: "dtype" value { type: DT_STRING } }
  attr { key: "value" value { tensor { dtype: DT_STRING tensor_shape { dim { size: 1 } } string_val: "4 2 0,2:0,2" } } } }
node { name: "save/RestoreV2" op: "RestoreV2" input: "save/Const" input: "save/RestoreV2/tensor_names" input: "save/RestoreV2/shape_and_slices" }
node { name: "save/Assign" op: "Assign" input: "w/part_0" input: "save/RestoreV2" }
`)
	_, err := Freeze(g, fakeVars{}, Options{Outputs: []string{"w/part_0"}})
	want := `variable "w/part_0" is the slice "4 2 0,2:0,2" of partitioned variable "w"; qcal does not freeze partitioned variables`
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %q", err, want)
	}
}
