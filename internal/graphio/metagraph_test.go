package graphio

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"

	"qcal/internal/testutil"
	"qcal/internal/tfpb"
)

func countOp(g *tfpb.GraphDef, op string) int {
	n := 0
	for _, node := range g.GetNode() {
		if node.GetOp() == op {
			n++
		}
	}
	return n
}

// TestPrathmeshMeta checks the worked example of TF-FILES.md §5
// (mnist.ckpt-75.meta, TF 1.8.0).
func TestPrathmeshMeta(t *testing.T) {
	dir := testutil.RealData(t, "checkpoints/prathmesh_mnist_cnn")
	mg, err := LoadMetaGraph(filepath.Join(dir, "mnist.ckpt-75.meta"))
	if err != nil {
		t.Fatal(err)
	}
	if v := mg.GetMetaInfoDef().GetTensorflowVersion(); v != "1.8.0" {
		t.Errorf("tensorflow_version %q, want 1.8.0", v)
	}
	want := &tfpb.SaverDef{FilenameTensorName: "save/Const:0", SaveTensorName: "save/control_dependency:0", RestoreOpName: "save/restore_all",
		MaxToKeep: 5, KeepCheckpointEveryNHours: 10000, Version: tfpb.SaverDef_V2}
	if !proto.Equal(mg.GetSaverDef(), want) {
		t.Errorf("saver_def = %v, want %v", mg.GetSaverDef(), want)
	}
	if n := len(mg.GetGraphDef().GetNode()); n != 332 {
		t.Errorf("%d nodes, want 332", n)
	}
	if mg.GetCollectionDef()["train_op"].GetNodeList() == nil {
		t.Errorf("train_op is not a node_list")
	}
	vars, err := Variables(mg, "variables")
	if err != nil {
		t.Fatal(err)
	}
	trainable, _ := Variables(mg, "trainable_variables")
	if len(vars) != 26 || len(trainable) != 8 {
		t.Fatalf("%d variables, %d trainable; want 26, 8", len(vars), len(trainable))
	}
	v0 := &tfpb.VariableDef{VariableName: "conv1/kernel:0", InitializerName: "conv1/kernel/Assign", SnapshotName: "conv1/kernel/read:0",
		InitialValueName: "conv1/kernel/Initializer/random_uniform:0"}
	if !proto.Equal(vars[0], v0) {
		t.Errorf("variables[0] = %v, want %v", vars[0], v0)
	}
	// Every field of the real file is declared in qcal's schema.
	if u := mg.ProtoReflect().GetUnknown(); len(u) > 0 {
		t.Errorf("MetaGraphDef has unknown fields: %s", describeFields(u))
	}
	if u := mg.GetMetaInfoDef().ProtoReflect().GetUnknown(); len(u) > 0 {
		t.Errorf("MetaInfoDef has unknown fields: %s", describeFields(u))
	}
}

// TestEstimatorMeta: TF-FILES.md §5, the Estimator's training meta graph
// (TF 1.12.0, resource variables).
func TestEstimatorMeta(t *testing.T) {
	dir := testutil.RealData(t, "batchnorm/mengwanguc_cifar10_resnet_ckpt")
	mg, err := LoadMetaGraph(filepath.Join(dir, "model.ckpt-19540.meta"))
	if err != nil {
		t.Fatal(err)
	}
	mi := mg.GetMetaInfoDef()
	if mi.GetTensorflowVersion() != "1.12.0" || mi.GetTensorflowGitVersion() != "v1.12.0-0-ga6d8ffae09" {
		t.Errorf("versions %q %q", mi.GetTensorflowVersion(), mi.GetTensorflowGitVersion())
	}
	if s := mg.GetSaverDef(); !s.GetSharded() || s.GetSaveTensorName() != "save/Identity:0" {
		t.Errorf("saver_def = %v, want sharded, save/Identity:0", s)
	}
	if n := len(mg.GetCollectionDef()); n != 18 {
		t.Errorf("%d collections, want 18", n)
	}
	vars, err := Variables(mg, "variables")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, v := range vars {
		if v.GetSnapshotName() == "global_step/Read/ReadVariableOp:0" {
			found = v.GetIsResource()
		}
	}
	if !found {
		t.Errorf("no resource VariableDef with snapshot global_step/Read/ReadVariableOp:0")
	}
	g := mg.GetGraphDef()
	if len(g.GetNode()) != 3939 || countOp(g, "VarHandleOp") != 185 || countOp(g, "ReadVariableOp") != 540 {
		t.Errorf("%d nodes, %d VarHandleOp, %d ReadVariableOp; want 3939, 185, 540", len(g.GetNode()), countOp(g, "VarHandleOp"), countOp(g, "ReadVariableOp"))
	}
}

// TestSavedModel: TF-FILES.md §6, mengwanguc saved_model.pb. The directory
// in the repository has no variables/, so the test builds a SavedModel
// directory from links to the file and the checkpoint.
func TestSavedModel(t *testing.T) {
	src := testutil.RealData(t, "batchnorm/mengwanguc_cifar10_resnet_ckpt")
	dir := t.TempDir()
	if err := os.Symlink(filepath.Join(src, "saved_model.pb"), filepath.Join(dir, "saved_model.pb")); err != nil {
		t.Fatal(err)
	}
	sm, err := LoadSavedModel(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if sm.Variables != "" {
		t.Errorf("Variables = %q without a variables/ directory", sm.Variables)
	}
	mg := sm.MetaGraph
	mi := mg.GetMetaInfoDef()
	if strings.Join(mi.GetTags(), ",") != "serve" || mi.GetTensorflowVersion() != "1.12.0-rc2" || !mi.GetStrippedDefaultAttrs() {
		t.Errorf("meta_info_def tags %q version %q stripped %v", mi.GetTags(), mi.GetTensorflowVersion(), mi.GetStrippedDefaultAttrs())
	}
	sig := mg.GetSignatureDef()["serving_default"]
	if sig.GetMethodName() != "tensorflow/serving/predict" || mg.GetSignatureDef()["predict"] == nil {
		t.Errorf("signatures %v", mg.GetSignatureDef())
	}
	in := sig.GetInputs()["input"]
	if in.GetName() != "input_tensor:0" || in.GetDtype() != tfpb.DataType_DT_FLOAT || prototext.Format(in.GetTensorShape()) != prototext.Format(shape(128, 32, 32, 3)) {
		t.Errorf("input = %v", in)
	}
	if c := sig.GetOutputs()["classes"]; c.GetName() != "ArgMax:0" || c.GetDtype() != tfpb.DataType_DT_INT64 {
		t.Errorf("classes = %v", c)
	}
	if p := sig.GetOutputs()["probabilities"]; p.GetName() != "softmax_tensor:0" || prototext.Format(p.GetTensorShape()) != prototext.Format(shape(128, 10)) {
		t.Errorf("probabilities = %v", p)
	}
	g := mg.GetGraphDef()
	if len(g.GetNode()) != 846 || countOp(g, "VariableV2") != 113 {
		t.Errorf("%d nodes, %d VariableV2; want 846, 113", len(g.GetNode()), countOp(g, "VariableV2"))
	}

	// With the checkpoint linked in as variables/variables.*.
	os.Mkdir(filepath.Join(dir, "variables"), 0o755)
	for _, ext := range []string{".index", ".data-00000-of-00001"} {
		os.Symlink(filepath.Join(src, "model.ckpt-19540"+ext), filepath.Join(dir, "variables", "variables"+ext))
	}
	sm, err = LoadSavedModel(dir, []string{"serve"})
	if err != nil {
		t.Fatal(err)
	}
	if sm.Variables != filepath.Join(dir, "variables", "variables") {
		t.Errorf("Variables = %q", sm.Variables)
	}
	if _, err := LoadSavedModel(dir, []string{"serve", "train"}); err == nil || !strings.Contains(err.Error(), "no meta graph with tags [serve,train]; the SavedModel has [serve]") {
		t.Errorf("wrong tags: %v", err)
	}
	if _, err := LoadSavedModel(t.TempDir(), nil); err == nil || !strings.Contains(err.Error(), "no saved_model.pb or saved_model.pbtxt") {
		t.Errorf("empty dir: %v", err)
	}
}

func shape(dims ...int64) *tfpb.TensorShapeProto {
	s := &tfpb.TensorShapeProto{}
	for _, d := range dims {
		s.Dim = append(s.Dim, &tfpb.TensorShapeProto_Dim{Size: d})
	}
	return s
}

func TestPickMetaGraph(t *testing.T) {
	g := &tfpb.GraphDef{Node: []*tfpb.NodeDef{{Name: "a", Op: "NoOp"}}}
	mk := func(tags ...string) *tfpb.MetaGraphDef {
		return &tfpb.MetaGraphDef{MetaInfoDef: &tfpb.MetaGraphDef_MetaInfoDef{Tags: tags}, GraphDef: g}
	}
	train, serve, both := mk("train"), mk("serve"), mk("serve", "gpu")
	sm := &tfpb.SavedModel{MetaGraphs: []*tfpb.MetaGraphDef{train, serve, both}}
	for _, c := range []struct {
		tags []string
		want *tfpb.MetaGraphDef
	}{{nil, serve}, {[]string{"train"}, train}, {[]string{"gpu", "serve"}, both}} {
		if got, err := pickMetaGraph(sm, c.tags); err != nil || got != c.want {
			t.Errorf("tags %q: %v, %v", c.tags, got.GetMetaInfoDef().GetTags(), err)
		}
	}
	if got, err := pickMetaGraph(&tfpb.SavedModel{MetaGraphs: []*tfpb.MetaGraphDef{train}}, nil); err != nil || got != train {
		t.Errorf("the only meta graph: %v, %v", got, err)
	}
	if _, err := pickMetaGraph(sm, []string{"tpu"}); err == nil || err.Error() != "no meta graph with tags [tpu]; the SavedModel has [train], [serve], [gpu,serve]" {
		t.Errorf("missing tag: %v", err)
	}
	// Text format works too.
	text := []byte(prototext.Format(sm))
	if got, err := DecodeSavedModel(text, "sm.pbtxt"); err != nil || len(got.GetMetaGraphs()) != 3 {
		t.Errorf("text SavedModel: %v", err)
	}
}

func TestNotMetaGraph(t *testing.T) {
	dir := testutil.RealData(t, "checkpoints/prathmesh_mnist_cnn")
	for _, c := range []struct{ file, want string }{
		{"mnist.pb", "this is a binary GraphDef, not a MetaGraphDef"},
		{"mnist.pbtxt", "this is a text GraphDef, not a MetaGraphDef"},
		{"mnist.ckpt-75.index", "not a TensorFlow MetaGraphDef"},
	} {
		_, err := LoadMetaGraph(filepath.Join(dir, c.file))
		if !errors.Is(err, ErrNotMetaGraph) || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), filepath.Join(dir, c.file)+": ") {
			t.Errorf("%s: %v, want %q", c.file, err, c.want)
		}
	}
	sm := filepath.Join(testutil.RealData(t, "batchnorm/mengwanguc_cifar10_resnet_ckpt"), "saved_model.pb")
	if _, err := LoadMetaGraph(sm); err == nil || !strings.Contains(err.Error(), "this is a SavedModel (saved_model.pb), not a MetaGraphDef") {
		t.Errorf("saved_model.pb as a meta graph: %v", err)
	}
}

// FuzzDecodeMetaGraph: arbitrary bytes never panic and errors wrap
// ErrNotMetaGraph.
func FuzzDecodeMetaGraph(f *testing.F) {
	mg := &tfpb.MetaGraphDef{GraphDef: smallGraph(), SaverDef: &tfpb.SaverDef{Version: tfpb.SaverDef_V2}}
	b, _ := proto.Marshal(mg)
	f.Add(b)
	sb, _ := proto.Marshal(&tfpb.SavedModel{SavedModelSchemaVersion: 1, MetaGraphs: []*tfpb.MetaGraphDef{mg}})
	f.Add(sb)
	f.Add([]byte(prototext.Format(mg)))
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, err := DecodeMetaGraph(data, "in"); err != nil && !errors.Is(err, ErrNotMetaGraph) {
			t.Fatalf("error %v does not wrap ErrNotMetaGraph", err)
		}
		if _, err := DecodeSavedModel(data, "in"); err != nil && !errors.Is(err, ErrNotMetaGraph) {
			t.Fatalf("error %v does not wrap ErrNotMetaGraph", err)
		}
	})
}
