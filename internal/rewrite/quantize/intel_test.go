package quantize

import (
	"bufio"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"qcal/internal/graphio"
	"qcal/internal/testutil"
	"qcal/internal/tfpb"
)

// resnetBlock builds the stem and first block of tf_cnn_benchmarks'
// ResNet-50 v1 with the node names of the calibration log
// resnet50_min_max_log.txt: conv0 → Relu → MaxPool, a shortcut conv1, the
// main path conv2, conv3, conv4, and Relu(shortcut + main). With bn, each
// conv is followed by a FusedBatchNorm (not folded); otherwise by a
// BiasAdd (batch norm folded).
func resnetBlock(bn bool) *tfpb.GraphDef {
	b := &builder{g: &tfpb.GraphDef{}}
	b.placeholder("input")
	post := func(name, conv string) string {
		if !bn {
			b.biasAdd(name+"/BiasAdd", conv, 0.1)
			return name + "/BiasAdd"
		}
		for _, p := range []string{"gamma", "beta", "mean", "variance"} {
			b.constant(name+"/batchnorm/"+p, []int64{1}, 1)
		}
		b.op("FusedBatchNorm", name+"/batchnorm/FusedBatchNorm", conv, name+"/batchnorm/gamma", name+"/batchnorm/beta", name+"/batchnorm/mean", name+"/batchnorm/variance")
		return name + "/batchnorm/FusedBatchNorm"
	}
	b.conv("v0/cg/conv0/conv2d/Conv2D", "input", 0.5)
	b.op("Relu", "v0/cg/conv0/Relu", post("v0/cg/conv0", "v0/cg/conv0/conv2d/Conv2D"))
	b.pool("MaxPool", "v0/cg/mpool0/MaxPool", "v0/cg/conv0/Relu")
	b.conv("v0/resnet_v10/conv1/conv2d/Conv2D", "v0/cg/mpool0/MaxPool", 0.25)
	shortcut := post("v0/resnet_v10/conv1", "v0/resnet_v10/conv1/conv2d/Conv2D")
	in := "v0/cg/mpool0/MaxPool"
	for _, c := range []string{"conv2", "conv3"} {
		name := "v0/resnet_v10/" + c
		b.conv(name+"/conv2d/Conv2D", in, 0.75)
		b.op("Relu", name+"/Relu", post(name, name+"/conv2d/Conv2D"))
		in = name + "/Relu"
	}
	b.conv("v0/resnet_v10/conv4/conv2d/Conv2D", in, -0.5)
	main := post("v0/resnet_v10/conv4", "v0/resnet_v10/conv4/conv2d/Conv2D")
	b.op("Add", "v0/resnet_v10/add", shortcut, main)
	b.op("Relu", "v0/resnet_v10/Relu", "v0/resnet_v10/add")
	return b.g
}

// logNames returns the node names a calibration log logs, without the
// _eightbit_requant_range suffix, that start with prefix.
func logNames(t *testing.T, path, prefix string) []string {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	re := regexp.MustCompile(`;([^;]*)_eightbit_requant_range__print__;`)
	seen := map[string]bool{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<22)
	for sc.Scan() {
		for _, m := range re.FindAllStringSubmatch(sc.Text(), -1) {
			if strings.HasPrefix(m[1], prefix) {
				seen[m[1]] = true
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	var names []string
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// rangeNodes returns the FP32 names behind the graph's
// RequantizationRange nodes, sorted.
func rangeNodes(g *tfpb.GraphDef) []string {
	var names []string
	for _, n := range g.Node {
		if n.Op == "RequantizationRange" || n.Op == "RequantizationRangePerChannel" {
			names = append(names, strings.TrimSuffix(n.Name, "_eightbit_requant_range"))
		}
	}
	sort.Strings(names)
	return names
}

// TestIntelResNetLogNames quantizes graphs shaped like the first ResNet-50
// block of the real log and checks the RequantizationRange names against
// the names the log holds: the four convs of resnet_v10 and not the stem
// conv0, which reads the image (Intel leaves a first conv in FP32).
func TestIntelResNetLogNames(t *testing.T) {
	log := filepath.Join(testutil.RealData(t, "calib_logs"), "resnet50_min_max_log.txt")
	want := logNames(t, log, "v0/resnet_v10/")
	if !slices.Equal(want, []string{
		"v0/resnet_v10/conv1/conv2d/Conv2D", "v0/resnet_v10/conv2/conv2d/Conv2D",
		"v0/resnet_v10/conv3/conv2d/Conv2D", "v0/resnet_v10/conv4/conv2d/Conv2D",
	}) {
		t.Fatalf("log names for resnet_v10 = %q", want)
	}
	if stem := logNames(t, log, "v0/cg/"); len(stem) != 0 {
		t.Fatalf("the log has stem ranges %q; the first conv should have none", stem)
	}
	for _, bn := range []bool{false, true} {
		res := mustQuantize(t, resnetBlock(bn), Options{Outputs: []string{"v0/resnet_v10/Relu"}, Intel: true})
		if got := rangeNodes(res.Graph); !slices.Equal(got, want) {
			t.Errorf("bn=%v: RequantizationRange nodes %q, want the log's %q", bn, got, want)
		}
		o := ops(res.Graph)
		if o["v0/cg/conv0/conv2d/Conv2D"] != "Conv2D" {
			t.Errorf("bn=%v: the stem conv is %q, want FP32 Conv2D", bn, o["v0/cg/conv0/conv2d/Conv2D"])
		}
		if o["v0/cg/mpool0/MaxPool_eightbit_quantized"] != "QuantizedMaxPool" {
			t.Errorf("bn=%v: no QuantizedMaxPool", bn)
		}
	}

	// Batch norm folded (BiasAdd): the fusions. The Add reads the shortcut
	// first, so the shortcut conv1 is reached first through Add → Relu and
	// becomes the Sum conv with the main path's BiasAdd as summand; conv4,
	// reached second, finds the Relu taken and fuses only its BiasAdd.
	res := mustQuantize(t, resnetBlock(false), Options{Outputs: []string{"v0/resnet_v10/Relu"}, Intel: true})
	o := ops(res.Graph)
	for name, op := range map[string]string{
		"v0/resnet_v10/conv1/conv2d/Conv2D_eightbit_quantized_conv": "QuantizedConv2DWithBiasSumAndRelu",
		"v0/resnet_v10/conv2/conv2d/Conv2D_eightbit_quantized_conv": "QuantizedConv2DWithBiasAndRelu",
		"v0/resnet_v10/conv3/conv2d/Conv2D_eightbit_quantized_conv": "QuantizedConv2DWithBiasAndRelu",
		"v0/resnet_v10/conv4/conv2d/Conv2D_eightbit_quantized_conv": "QuantizedConv2DWithBias",
		"v0/resnet_v10/conv1/conv2d/Conv2D_eightbit_requant_range":  "RequantizationRange",
		"v0/resnet_v10/Relu":          "Dequantize", // the Sum conv's result, named after the Relu
		"v0/resnet_v10/conv4/BiasAdd": "Dequantize", // the summand, in float
		"v0/cg/conv0/Relu":            "Relu",
		"v0/cg/mpool0/MaxPool":        "", // its Dequantize is bypassed by both convs, then dead
	} {
		if o[name] != op {
			t.Errorf("node %q: op %q, want %q", name, o[name], op)
		}
	}
	sum := findNode(res.Graph, "v0/resnet_v10/conv1/conv2d/Conv2D_eightbit_quantized_conv")
	wantIn := []string{
		"v0/cg/mpool0/MaxPool_eightbit_quantized", // the redundant Dequantize → QuantizeV2 pair is gone
		"v0/resnet_v10/conv1/conv2d/Conv2D/weight_qint8_const",
		"v0/resnet_v10/conv1/BiasAdd/bias",
		"v0/cg/mpool0/MaxPool_eightbit_quantized:1",
		"v0/cg/mpool0/MaxPool_eightbit_quantized:2",
		"v0/resnet_v10/conv1/conv2d/Conv2D/weight_min",
		"v0/resnet_v10/conv1/conv2d/Conv2D/weight_max",
		"v0/resnet_v10/conv4/BiasAdd",
	}
	if !slices.Equal(sum.Input, wantIn) {
		t.Errorf("sum conv inputs\n got  %q\n want %q", sum.Input, wantIn)
	}
	kept := mustQuantize(t, resnetBlock(false), Options{Outputs: []string{"v0/resnet_v10/Relu"}, Intel: true, KeepRedundant: true})
	deq := findNode(kept.Graph, "v0/cg/mpool0/MaxPool")
	if string(deq.Attr["mode"].GetS()) != "SCALED" || attrType(deq, "T") != tfpb.DataType_DT_QUINT8 {
		t.Errorf("MaxPool Dequantize: %v", deq.Attr)
	}
	r := findNode(res.Graph, "v0/resnet_v10/Relu")
	if string(r.Attr["mode"].GetS()) != "MIN_FIRST" {
		t.Errorf("fused conv Dequantize mode %q, want MIN_FIRST", r.Attr["mode"].GetS())
	}
	var reasons []string
	for _, f := range res.Float {
		if f.Op == "Conv2D" {
			reasons = append(reasons, f.Name+": "+f.Reason)
		}
	}
	if len(reasons) != 1 || !strings.HasPrefix(reasons[0], "v0/cg/conv0/conv2d/Conv2D: input 0 is not a Relu") {
		t.Errorf("FP32 convs: %q", reasons)
	}
}

// TestIntelMNIST checks INT8-ARITHMETIC §1d on the two real MNIST CNNs.
func TestIntelMNIST(t *testing.T) {
	dir := testutil.RealData(t, "graphs")
	t.Run("mnist_cnn", func(t *testing.T) {
		g, _, err := graphio.Load(filepath.Join(dir, "mnist_cnn_frozen.pb"))
		if err != nil {
			t.Fatal(err)
		}
		res := mustQuantize(t, g, Options{Outputs: []string{"output"}, Intel: true})
		o := ops(res.Graph)
		if o["layer_1_conv/Conv2D"] != "Conv2D" {
			t.Errorf("layer_1_conv/Conv2D is %q, want FP32 Conv2D", o["layer_1_conv/Conv2D"])
		}
		for _, l := range []string{"layer_2_conv", "layer_3_conv"} {
			q := findNode(res.Graph, l+"/Conv2D_eightbit_quantized_conv")
			if q == nil || q.Op != "QuantizedConv2DWithBiasAndRelu" {
				t.Fatalf("%s: %v, want QuantizedConv2DWithBiasAndRelu", l, q)
			}
			if string(q.Attr["padding"].GetS()) != "SAME" || !slices.Equal(q.Attr["strides"].GetList().GetI(), []int64{1, 2, 2, 1}) {
				t.Errorf("%s: padding %s strides %v, want SAME [1 2 2 1]", l, q.Attr["padding"].GetS(), q.Attr["strides"].GetList().GetI())
			}
			if attrType(q, "Tinput") != tfpb.DataType_DT_QUINT8 || attrType(q, "Tfilter") != tfpb.DataType_DT_QINT8 || attrType(q, "out_type") != tfpb.DataType_DT_QINT32 {
				t.Errorf("%s: types %v", l, q.Attr)
			}
			if _, ok := q.Attr["Tbias"]; ok {
				t.Errorf("%s: Tbias set; the tool sets none", l)
			}
			checkScaledWeights(t, res.Graph, l+"/weight", g)
		}
		// layer_2 reads the FP32 Relu of layer_1 through a SCALED quint8
		// QuantizeV2; layer_3 reads layer_2's Requantize directly.
		q := findNode(res.Graph, "layer_2_conv/Conv2D_eightbit_quantize_layer_1_conv/Relu")
		if q == nil || string(q.Attr["mode"].GetS()) != "SCALED" || string(q.Attr["round_mode"].GetS()) != "HALF_TO_EVEN" || attrType(q, "T") != tfpb.DataType_DT_QUINT8 {
			t.Errorf("layer_2 input QuantizeV2: %v", q)
		}
		if in := findNode(res.Graph, "layer_3_conv/Conv2D_eightbit_quantized_conv").Input[0]; in != "layer_2_conv/Conv2D_eightbit_requantize" {
			t.Errorf("layer_3 input 0 = %q, want layer_2_conv/Conv2D_eightbit_requantize", in)
		}
		if got := rangeNodes(res.Graph); !slices.Equal(got, []string{"layer_2_conv/Conv2D", "layer_3_conv/Conv2D"}) {
			t.Errorf("ranges %q", got)
		}
		for _, m := range []string{"layer_4_fc/MatMul", "layer_5_fc/MatMul"} {
			if o[m] != "MatMul" {
				t.Errorf("%s is %q, want FP32 MatMul", m, o[m])
			}
		}
	})
	t.Run("mnist_keras_cnn", func(t *testing.T) {
		g, _, err := graphio.Load(filepath.Join(dir, "mnist_keras_cnn_frozen.pb"))
		if err != nil {
			t.Fatal(err)
		}
		res := mustQuantize(t, g, Options{Outputs: []string{"dense_1/Softmax"}, Intel: true})
		o := ops(res.Graph)
		if o["conv2d/Conv2D"] != "Conv2D" {
			t.Errorf("conv2d/Conv2D is %q, want FP32", o["conv2d/Conv2D"])
		}
		q := findNode(res.Graph, "conv2d_1/Conv2D_eightbit_quantized_conv")
		if q == nil || q.Op != "QuantizedConv2DWithBiasAndRelu" || string(q.Attr["padding"].GetS()) != "VALID" {
			t.Fatalf("conv2d_1: %v", q)
		}
		checkScaledWeights(t, res.Graph, "conv2d_1/kernel", g)
		mp := findNode(res.Graph, "max_pooling2d/MaxPool_eightbit_quantized")
		if mp == nil || mp.Op != "QuantizedMaxPool" || !slices.Equal(mp.Input, []string{
			"conv2d_1/Conv2D_eightbit_requantize", "conv2d_1/Conv2D_eightbit_requantize:1", "conv2d_1/Conv2D_eightbit_requantize:2"}) {
			t.Fatalf("QuantizedMaxPool: %v", mp)
		}
		d := findNode(res.Graph, "max_pooling2d/MaxPool")
		if d.Op != "Dequantize" || string(d.Attr["mode"].GetS()) != "SCALED" || attrType(d, "T") != tfpb.DataType_DT_QUINT8 {
			t.Errorf("max_pooling2d/MaxPool: %v", d)
		}
		if o["conv2d_1/Relu"] != "" {
			t.Errorf("conv2d_1/Relu survives as %q; its Dequantize is unused after stripping", o["conv2d_1/Relu"])
		}
	})
}

// checkScaledWeights recomputes Intel's SCALED qint8 weights from the FP32
// Const by the slow obvious rule and compares with the graph's Consts:
// s = min(-128/min, 127/max) over min = min(0, min w), max = max w;
// code = round-half-even(w·s); the Consts hold -128/s and 127/s.
func checkScaledWeights(t *testing.T, g *tfpb.GraphDef, w string, fp32 *tfpb.GraphDef) {
	t.Helper()
	src := findNode(fp32, w)
	if src == nil || src.Op != "Const" {
		// frozen graphs read weights through w/read Identity nodes
		t.Fatalf("no FP32 Const %q", w)
	}
	c, err := readFloatConst(src)
	if err != nil {
		t.Fatal(err)
	}
	lo, hi := float32(0), float32(0)
	for _, v := range c.values {
		lo, hi = min(lo, v), max(hi, v)
	}
	s := min(float32(-128)/lo, float32(127)/hi)
	codes := findNode(g, w+"_qint8_const").Attr["value"].GetTensor().TensorContent
	if len(codes) != len(c.values) {
		t.Fatalf("%s: %d codes for %d weights", w, len(codes), len(c.values))
	}
	for i, v := range c.values {
		want := int8(math.RoundToEven(float64(float32(v * s))))
		if int8(codes[i]) != want {
			t.Fatalf("%s[%d] = %g: code %d, want %d", w, i, v, int8(codes[i]), want)
		}
	}
	mn := findNode(g, w+"_min").Attr["value"].GetTensor().FloatVal[0]
	mx := findNode(g, w+"_max").Attr["value"].GetTensor().FloatVal[0]
	if mn != -128/s || mx != 127/s {
		t.Errorf("%s range [%g, %g], want [%g, %g]", w, mn, mx, -128/s, 127/s)
	}
}

// TestIntelResNet101LogNames does the same for TF-slim's ResNet-101 names
// (resnet101_min_max_log.txt): the stem resnet_v1_101/conv1 reads the
// image and has no range in the log; block1/unit_1 has the shortcut and
// conv1..conv3.
func TestIntelResNet101LogNames(t *testing.T) {
	log := filepath.Join(testutil.RealData(t, "calib_logs"), "resnet101_min_max_log.txt")
	const unit = "resnet_v1_101/block1/unit_1/bottleneck_v1/"
	want := logNames(t, log, unit)
	if stem := logNames(t, log, "resnet_v1_101/conv1/"); len(stem) != 0 {
		t.Fatalf("the log has stem ranges %q", stem)
	}
	b := &builder{g: &tfpb.GraphDef{}}
	b.placeholder("input")
	b.conv("resnet_v1_101/conv1/Conv2D", "input", 0.5)
	b.biasAdd("resnet_v1_101/conv1/BiasAdd", "resnet_v1_101/conv1/Conv2D", 0)
	b.op("Relu", "resnet_v1_101/conv1/Relu", "resnet_v1_101/conv1/BiasAdd")
	b.pool("MaxPool", "resnet_v1_101/pool1/MaxPool", "resnet_v1_101/conv1/Relu")
	b.conv(unit+"shortcut/Conv2D", "resnet_v1_101/pool1/MaxPool", 1)
	b.biasAdd(unit+"shortcut/BiasAdd", unit+"shortcut/Conv2D", 0)
	in := "resnet_v1_101/pool1/MaxPool"
	for _, c := range []string{"conv1", "conv2"} {
		b.conv(unit+c+"/Conv2D", in, 1)
		b.biasAdd(unit+c+"/BiasAdd", unit+c+"/Conv2D", 0)
		b.op("Relu", unit+c+"/Relu", unit+c+"/BiasAdd")
		in = unit + c + "/Relu"
	}
	b.conv(unit+"conv3/Conv2D", in, 1)
	b.biasAdd(unit+"conv3/BiasAdd", unit+"conv3/Conv2D", 0)
	b.op("Add", unit+"add", unit+"shortcut/BiasAdd", unit+"conv3/BiasAdd")
	b.op("Relu", unit+"Relu", unit+"add")
	res := mustQuantize(t, b.g, Options{Outputs: []string{unit + "Relu"}, Intel: true})
	if got := rangeNodes(res.Graph); !slices.Equal(got, want) || len(want) != 4 {
		t.Errorf("RequantizationRange nodes %q, want the log's %q", got, want)
	}
}
