package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"qcal/internal/checkpoint"
	"qcal/internal/graphio"
	"qcal/internal/testutil"
	"qcal/internal/tfpb"
)

func canonical(t *testing.T, g *tfpb.GraphDef) []byte {
	t.Helper()
	g = proto.Clone(g).(*tfpb.GraphDef)
	g.Versions = nil // qcal keeps versions, TF's converter drops them
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(g)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestFreezeGraphTFFlags runs freeze.sh's command line from the prathmesh
// repository in TensorFlow's --flag=value spelling and compares with the
// repository's own frozen_graph.pb.
func TestFreezeGraphTFFlags(t *testing.T) {
	dir := testutil.RealData(t, "checkpoints/prathmesh_mnist_cnn")
	out := filepath.Join(t.TempDir(), "frozen_graph.pb")
	code, stdout, stderr := qcal(t, "", "freeze-graph",
		"--input_graph="+filepath.Join(dir, "mnist.pb"), "--input_checkpoint="+filepath.Join(dir, "mnist.ckpt-75"),
		"--output_graph="+out, "--output_node_names=predictions,poool2/MaxPool", "--input_binary=true")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	// freeze_graph.py's closing lines, with TF-FILES.md §7's numbers.
	if !strings.Contains(stderr, "Converted 8 variables to const ops.\n") || !strings.Contains(stderr, "41 ops in the final graph.\n") || stdout != "" {
		t.Errorf("stdout %q, stderr %q", stdout, stderr)
	}
	got := loadGraph(t, out)
	want := loadGraph(t, filepath.Join(dir, "frozen_graph.pb"))
	if !bytes.Equal(canonical(t, got), canonical(t, want)) {
		t.Errorf("%s differs from frozen_graph.pb (versions aside)", out)
	}

	// freeze.sh itself names "poool2", which is no node of mnist.pb;
	// TensorFlow's extract_sub_graph refuses it too.
	out2 := filepath.Join(t.TempDir(), "f.pb")
	code, _, stderr = qcal(t, "", "freeze-graph", "--input_graph="+filepath.Join(dir, "mnist.pb"), "--input_checkpoint="+filepath.Join(dir, "mnist.ckpt-75"),
		"--output_graph="+out2, "--output_node_names=predictions,poool2", "--input_binary=true")
	if code != 1 || !strings.Contains(stderr, `mnist.pb: output node "poool2" is not in the graph`) {
		t.Errorf("poool2: exit %d, %s", code, stderr)
	}
	if _, err := os.Stat(out2); err == nil {
		t.Errorf("a failed freeze left %s behind", out2)
	}
}

// TestFreezeGraphSources freezes the same model from the text GraphDef, the
// .meta file and the checkpoint directory: the same graph each time.
func TestFreezeGraphSources(t *testing.T) {
	dir := testutil.RealData(t, "checkpoints/prathmesh_mnist_cnn")
	tmp := t.TempDir()
	want := canonical(t, loadGraph(t, filepath.Join(dir, "frozen_graph.pb")))
	for name, args := range map[string][]string{
		"text graph":  {"-input_graph", filepath.Join(dir, "mnist.pbtxt"), "-input_checkpoint", dir},
		"meta graph":  {"-input_meta_graph", filepath.Join(dir, "mnist.ckpt-75.meta"), "-input_checkpoint", filepath.Join(dir, "checkpoint")},
		"index given": {"-input_graph", filepath.Join(dir, "mnist.pb"), "-input_checkpoint", filepath.Join(dir, "mnist.ckpt-75.index")},
	} {
		out := filepath.Join(tmp, strings.ReplaceAll(name, " ", "_")+".pbtxt")
		code, _, stderr := qcal(t, "", append([]string{"freeze-graph", "-output_graph", out, "-output_node_names", "predictions"}, args...)...)
		if code != 0 {
			t.Errorf("%s: exit %d: %s", name, code, stderr)
			continue
		}
		data, _ := os.ReadFile(out)
		if !bytes.HasPrefix(data, []byte("node {")) {
			t.Errorf("%s: a .pbtxt output is not text: %.20q", name, data)
		}
		got := loadGraph(t, out)
		if name == "meta graph" {
			// The .meta graph is the training graph of the same model with
			// the saver added and _output_shapes on every node (as
			// export_meta_graph writes it); apart from those it is the same.
			for _, n := range got.GetNode() {
				delete(n.GetAttr(), "_output_shapes")
			}
		}
		if !bytes.Equal(canonical(t, got), want) {
			t.Errorf("%s: frozen graph differs from frozen_graph.pb", name)
		}
	}
}

// TestFreezeGraphSavedModel: the mengwanguc SavedModel has no variables/,
// so its checkpoint is given with -input_checkpoint.
func TestFreezeGraphSavedModel(t *testing.T) {
	if testing.Short() {
		t.Skip("reads a 2 MB checkpoint")
	}
	dir := testutil.RealData(t, "batchnorm/mengwanguc_cifar10_resnet_ckpt")
	out := filepath.Join(t.TempDir(), "resnet_frozen.pb")
	code, _, stderr := qcal(t, "", "freeze-graph", "-input_saved_model_dir", dir, "-saved_model_tags", "serve",
		"-output_node_names", "ArgMax, softmax_tensor", "-output_graph", out)
	if code != 1 || !strings.Contains(stderr, dir+": the SavedModel has no variables/variables.index; give the checkpoint with input_checkpoint") {
		t.Errorf("without variables/: exit %d, %s", code, stderr)
	}
	code, _, stderr = qcal(t, "", "freeze-graph", "-input_saved_model_dir", dir, "-input_checkpoint", dir,
		"-output_node_names", "ArgMax, softmax_tensor", "-output_graph", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	// 113 VariableV2 less global_step (TF-FILES.md §6).
	if !strings.Contains(stderr, "Converted 112 variables to const ops.") {
		t.Errorf("stderr %q", stderr)
	}
	g := loadGraph(t, out)
	for _, n := range g.GetNode() {
		if n.GetOp() == "VariableV2" || n.GetDevice() != "" {
			t.Errorf("node %q: op %s device %q left", n.GetName(), n.GetOp(), n.GetDevice())
		}
	}
}

func TestFreezeGraphBadInput(t *testing.T) {
	dir := testutil.RealData(t, "checkpoints/prathmesh_mnist_cnn")
	graph, ckpt := filepath.Join(dir, "mnist.pb"), filepath.Join(dir, "mnist.ckpt-75")
	tmp := t.TempDir()
	// A copy of the checkpoint with one data byte changed.
	bad := filepath.Join(tmp, "bad.ckpt-75")
	idx, _ := os.ReadFile(ckpt + ".index")
	data, _ := os.ReadFile(ckpt + ".data-00000-of-00001")
	r, err := checkpoint.Open(ckpt)
	if err != nil {
		t.Fatal(err)
	}
	e, _ := r.Entry("conv1/kernel")
	r.Close()
	data[e.GetOffset()+10] ^= 1
	os.WriteFile(bad+".index", idx, 0o644)
	os.WriteFile(bad+".data-00000-of-00001", data, 0o644)
	// A graph whose conv1/bias variable has another shape.
	g := loadGraph(t, graph)
	for _, n := range g.GetNode() {
		if n.GetName() == "conv1/bias" {
			n.GetAttr()["shape"].GetShape().GetDim()[0].Size = 9
		}
	}
	wrongShape := filepath.Join(tmp, "wrong_shape.pb")
	if err := graphio.Save(wrongShape, g, graphio.Binary); err != nil {
		t.Fatal(err)
	}
	// A graph whose conv1/bias is int32, and one with a variable "extra"
	// the checkpoint lacks, which predictions waits for.
	g = loadGraph(t, graph)
	for _, n := range g.GetNode() {
		switch n.GetName() {
		case "conv1/bias":
			n.GetAttr()["dtype"].Value = &tfpb.AttrValue_Type{Type: tfpb.DataType_DT_INT32}
		case "predictions":
			n.Input = append(n.Input, "^extra")
		}
	}
	wrongType := filepath.Join(tmp, "wrong_type.pb")
	if err := graphio.Save(wrongType, g, graphio.Binary); err != nil {
		t.Fatal(err)
	}
	g.Node = append(g.Node, &tfpb.NodeDef{Name: "extra", Op: "VariableV2", Attr: map[string]*tfpb.AttrValue{
		"dtype": {Value: &tfpb.AttrValue_Type{Type: tfpb.DataType_DT_FLOAT}}}})
	for _, n := range g.GetNode() {
		if n.GetName() == "conv1/bias" {
			n.GetAttr()["dtype"].Value = &tfpb.AttrValue_Type{Type: tfpb.DataType_DT_FLOAT}
		}
	}
	extraVar := filepath.Join(tmp, "extra_var.pb")
	if err := graphio.Save(extraVar, g, graphio.Binary); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(tmp, "out.pb")
	for _, c := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no graph", []string{"-input_checkpoint", ckpt, "-output_node_names", "predictions", "-output_graph", out}, 2, "give the graph with -input_graph"},
		{"two graphs", []string{"-input_graph", graph, "-input_meta_graph", ckpt + ".meta", "-input_checkpoint", ckpt, "-output_node_names", "predictions", "-output_graph", out}, 2, "give only one of"},
		{"no checkpoint", []string{"-input_graph", graph, "-output_node_names", "predictions", "-output_graph", out}, 2, "-input_checkpoint is required"},
		{"no outputs", []string{"-input_graph", graph, "-input_checkpoint", ckpt, "-output_node_names", " , ", "-output_graph", out}, 2, "you need to supply the name of a node to -output_node_names"},
		{"no output file", []string{"-input_graph", graph, "-input_checkpoint", ckpt, "-output_node_names", "predictions"}, 2, "-output_graph is required"},
		{"missing checkpoint", []string{"-input_graph", graph, "-input_checkpoint", filepath.Join(tmp, "none"), "-output_node_names", "predictions", "-output_graph", out}, 1, "none.index not found"},
		{"corrupt data", []string{"-input_graph", graph, "-input_checkpoint", bad, "-output_node_names", "predictions", "-output_graph", out}, 1,
			`variable "conv1/kernel": data checksum mismatch in ` + bad + `.data-00000-of-00001`},
		{"shape disagrees", []string{"-input_graph", wrongShape, "-input_checkpoint", ckpt, "-output_node_names", "predictions", "-output_graph", out}, 1,
			`variable "conv1/bias": the checkpoint ` + ckpt + ` has shape [8], the graph has [9]`},
		{"dtype disagrees", []string{"-input_graph", wrongType, "-input_checkpoint", ckpt, "-output_node_names", "conv1/BiasAdd", "-output_graph", out}, 1,
			`wrong_type.pb: variable "conv1/bias": the checkpoint ` + ckpt + ` has dtype float, the graph has int32`},
		{"variable missing", []string{"-input_graph", extraVar, "-input_checkpoint", ckpt, "-output_node_names", "predictions", "-output_graph", out}, 1,
			`extra_var.pb: variable "extra": not in the checkpoint ` + ckpt},
		{"output over the graph", []string{"-input_graph", wrongShape, "-input_checkpoint", ckpt, "-output_node_names", "predictions", "-output_graph", wrongShape}, 1, "refusing to overwrite input file"},
		{"output over the index", []string{"-input_graph", graph, "-input_checkpoint", bad, "-output_node_names", "predictions", "-output_graph", bad + ".index"}, 1, "refusing to overwrite input file"},
		{"initializer nodes", []string{"-input_graph", graph, "-input_checkpoint", ckpt, "-output_node_names", "predictions", "-output_graph", out, "-initializer_nodes", "init"}, 2, "not supported"},
	} {
		code, _, stderr := qcal(t, "", append([]string{"freeze-graph"}, c.args...)...)
		if code != c.code || !strings.Contains(stderr, c.want) {
			t.Errorf("%s: exit %d, stderr %q; want exit %d with %q", c.name, code, stderr, c.code, c.want)
		}
		if _, err := os.Stat(out); err == nil {
			t.Fatalf("%s: left %s behind", c.name, out)
		}
	}
	if b, _ := os.ReadFile(bad + ".index"); !bytes.Equal(b, idx) {
		t.Errorf("the checkpoint index was overwritten")
	}
}
