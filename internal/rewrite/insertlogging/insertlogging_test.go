package insertlogging

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"qcal/internal/graphinfo"
	"qcal/internal/graphio"
	"qcal/internal/synth"
	"qcal/internal/testutil"
	"qcal/internal/tfpb"
)

func typeAttr(t tfpb.DataType) *tfpb.AttrValue {
	return &tfpb.AttrValue{Value: &tfpb.AttrValue_Type{Type: t}}
}

func nodeNamed(g *tfpb.GraphDef, name string) (int, *tfpb.NodeDef) {
	for i, n := range g.GetNode() {
		if n.GetName() == name {
			return i, n
		}
	}
	return -1, nil
}

// TestInsertLoggingDefaults logs the synthetic eightbit graph with qcal's
// defaults and checks every Print node against TF-FORMATS §4 by hand.
func TestInsertDefaults(t *testing.T) {
	layers := synth.DemoLayers()
	g := synth.Graph(layers)
	orig := proto.CloneOf(g)
	out, res, err := Insert(g, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(g, orig) {
		t.Error("Insert changed its input")
	}
	if len(out.GetNode()) != len(g.GetNode())+len(layers) {
		t.Errorf("%d nodes, want %d + %d Prints", len(out.GetNode()), len(g.GetNode()), len(layers))
	}
	var wantLogged []string
	for _, l := range layers {
		wantLogged = append(wantLogged, l.RequantRange())
	}
	if !slices.Equal(res.Logged, wantLogged) || len(res.AlreadyLogged) != 0 || len(res.Unconsumed) != 0 {
		t.Errorf("result = %+v", res)
	}
	prints := 0
	for _, n := range out.GetNode() {
		if n.GetOp() == "Print" {
			prints++
		}
	}
	if prints != len(layers) {
		t.Errorf("%d Print nodes, want %d", prints, len(layers))
	}
	for _, l := range layers {
		rr := l.RequantRange()
		i, _ := nodeNamed(out, rr)
		p := out.GetNode()[i+1]
		if p.GetName() != rr+"__print__" || p.GetOp() != "Print" {
			t.Fatalf("node after %s is %s (%s), want %s__print__ (Print)", rr, p.GetName(), p.GetOp(), rr)
		}
		if want := []string{rr + ":0", rr + ":0", rr + ":1"}; !slices.Equal(p.GetInput(), want) {
			t.Errorf("%s inputs = %q, want %q", p.GetName(), p.GetInput(), want)
		}
		want := map[string]*tfpb.AttrValue{
			"message":   {Value: &tfpb.AttrValue_S{S: []byte(";" + rr + "__print__;__requant_min_max:")}},
			"first_n":   {Value: &tfpb.AttrValue_I{I: -1}},
			"summarize": {Value: &tfpb.AttrValue_I{I: 1024}},
			"T":         typeAttr(tfpb.DataType_DT_FLOAT),
			"U": {Value: &tfpb.AttrValue_List{List: &tfpb.AttrValue_ListValue{
				Type: []tfpb.DataType{tfpb.DataType_DT_FLOAT, tfpb.DataType_DT_FLOAT}}}},
		}
		if len(p.GetAttr()) != len(want) {
			t.Errorf("%s attrs = %v", p.GetName(), p.GetAttr())
		}
		for k, v := range want {
			if !proto.Equal(p.GetAttr()[k], v) {
				t.Errorf("%s attr %s = %v, want %v", p.GetName(), k, p.GetAttr()[k], v)
			}
		}
		// Requantize read rr and rr:1; now the Print's pass-through and rr:1.
		_, rq := nodeNamed(out, l.Name+"_eightbit_requantize")
		if got := rq.GetInput()[3:]; !slices.Equal(got, []string{rr + "__print__:0", rr + ":1"}) {
			t.Errorf("requantize range inputs = %q", got)
		}
	}
	if err := graphinfo.Check(out).Err(); err != nil {
		t.Errorf("logged graph fails Check: %v", err)
	}
	s := graphinfo.Summarize(out)
	if s.Quantization.Logged != len(layers) || s.Quantization.Dynamic != 0 {
		t.Errorf("summary: %d logged, %d dynamic", s.Quantization.Logged, s.Quantization.Dynamic)
	}

	// Logging again adds nothing and says why.
	again, res2, err := Insert(out, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(again, out) {
		t.Error("logging a logged graph changed it")
	}
	if !slices.Equal(res2.AlreadyLogged, wantLogged) || len(res2.Logged) != 0 {
		t.Errorf("second pass result = %+v", res2)
	}
	// With no op filter the inserted Prints match too, but are not logged.
	all, res3, err := Insert(out, Options{Prefixes: []string{layers[0].Name}, FirstN: -1, Summarize: 1024})
	if err != nil {
		t.Fatal(err)
	}
	if _, n := nodeNamed(all, layers[0].RequantRange()+"__print____print__"); n != nil {
		t.Error("a Print node was logged")
	}
	if slices.Contains(res3.Logged, layers[0].RequantRange()) {
		t.Error("an already logged node was logged again")
	}
}

func TestInsertMinMaxPreset(t *testing.T) {
	g := synth.Graph(synth.DemoLayers())
	out, res, err := InsertPasses(g, MinMaxOptions())
	if err != nil {
		t.Fatal(err)
	}
	q := synth.DemoLayers()[0].Name + "_eightbit_"
	if want := []string{q + "min_input", q + "max_input"}; !slices.Equal(res.Logged, want) {
		t.Fatalf("logged %q, want %q", res.Logged, want)
	}
	for _, c := range []struct{ node, msg string }{{q + "min_input", "__min:"}, {q + "max_input", "__max:"}} {
		i, _ := nodeNamed(out, c.node)
		p := out.GetNode()[i+1]
		if p.GetName() != c.node+"__print__" || !slices.Equal(p.GetInput(), []string{c.node + ":0", c.node + ":0"}) {
			t.Errorf("print for %s: %v", c.node, p)
		}
		if got := string(p.GetAttr()["message"].GetS()); got != ";"+c.node+"__print__;"+c.msg {
			t.Errorf("message = %q", got)
		}
	}
	_, qv2 := nodeNamed(out, q+"quantize_input")
	if want := []string{"input", q + "min_input__print__:0", q + "max_input__print__:0"}; !slices.Equal(qv2.GetInput(), want) {
		t.Errorf("QuantizeV2 inputs = %q, want %q", qv2.GetInput(), want)
	}
	if err := graphinfo.Check(out).Err(); err != nil {
		t.Error(err)
	}
}

func TestInsertRules(t *testing.T) {
	float := typeAttr(tfpb.DataType_DT_FLOAT)
	n := func(name, op string, in ...string) *tfpb.NodeDef {
		return &tfpb.NodeDef{Name: name, Op: op, Input: in, Attr: map[string]*tfpb.AttrValue{"T": float, "dtype": float}}
	}
	conv := &tfpb.NodeDef{Name: "conv", Op: "QuantizedConv2D", Input: []string{"x"}, Attr: map[string]*tfpb.AttrValue{"out_type": typeAttr(tfpb.DataType_DT_QINT32)}}
	g := &tfpb.GraphDef{Node: []*tfpb.NodeDef{
		n("x", "Placeholder"),
		n("a/relu", "Relu", "x"),
		n("b/relu", "Relu", "x"),
		n("c/relu", "Relu", "x"), // consumed only by a control input
		n("dead/relu", "Relu", "x"),
		conv,
		n("use", "AddN", "a/relu", "b/relu:0", "conv:2", "conv", "^c/relu", "^a/relu"),
	}}

	t.Run("op and prefix", func(t *testing.T) {
		out, res, err := Insert(g, Options{Ops: []string{"Relu"}, Prefixes: []string{"b/", "c/", "dead/"}, ShowOp: true, ShowName: true, Message: "m:", FirstN: 5, Summarize: 3})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(res.Logged, []string{"b/relu", "c/relu"}) || !slices.Equal(res.Unconsumed, []string{"dead/relu"}) {
			t.Errorf("result = %+v", res)
		}
		_, p := nodeNamed(out, "b/relu__print__")
		if got := string(p.GetAttr()["message"].GetS()); got != ";Relu;;b/relu__print__;m:" {
			t.Errorf("message = %q", got)
		}
		if p.GetAttr()["first_n"].GetI() != 5 || p.GetAttr()["summarize"].GetI() != 3 {
			t.Errorf("first_n/summarize = %v", p.GetAttr())
		}
		_, pc := nodeNamed(out, "c/relu__print__")
		if !slices.Equal(pc.GetInput(), []string{"c/relu:0", "c/relu:0"}) {
			t.Errorf("control-consumed node's print inputs = %q", pc.GetInput())
		}
		_, use := nodeNamed(out, "use")
		want := []string{"a/relu", "b/relu__print__:0", "conv:2", "conv", "^c/relu", "^a/relu"}
		if !slices.Equal(use.GetInput(), want) {
			t.Errorf("use inputs = %q, want %q (control inputs are not rewired)", use.GetInput(), want)
		}
	})

	t.Run("consumed outputs", func(t *testing.T) {
		out, _, err := Insert(g, Options{Ops: []string{"QuantizedConv2D"}, FirstN: -1, Summarize: 1024})
		if err != nil {
			t.Fatal(err)
		}
		_, p := nodeNamed(out, "conv__print__")
		if want := []string{"conv:0", "conv:0", "conv:2"}; !slices.Equal(p.GetInput(), want) {
			t.Errorf("inputs = %q, want %q", p.GetInput(), want)
		}
		// TF would write U = all three output types; qcal the logged two.
		wantU := []tfpb.DataType{tfpb.DataType_DT_QINT32, tfpb.DataType_DT_FLOAT}
		if got := p.GetAttr()["U"].GetList().GetType(); !slices.Equal(got, wantU) {
			t.Errorf("U = %v, want %v", got, wantU)
		}
		if p.GetAttr()["T"].GetType() != tfpb.DataType_DT_QINT32 {
			t.Errorf("T = %v", p.GetAttr()["T"])
		}
		_, use := nodeNamed(out, "use")
		if got := use.GetInput()[2:4]; !slices.Equal(got, []string{"conv:2", "conv__print__:0"}) {
			t.Errorf("use inputs = %q", got)
		}
		if err := graphinfo.Check(out).Err(); err != nil {
			t.Error(err)
		}
	})

	t.Run("errors", func(t *testing.T) {
		bad := proto.CloneOf(g)
		bad.Node = append(bad.Node, n("odd", "FancyOp", "x"), n("odd_user", "Relu", "odd"))
		_, _, err := Insert(bad, Options{Ops: []string{"FancyOp"}})
		if err == nil || !strings.Contains(err.Error(), `"odd"`) || !strings.Contains(err.Error(), `"FancyOp"`) {
			t.Errorf("unknown op: err = %v", err)
		}
		bad.Node = append(bad.Node, n("broken", "Relu", "x:one"))
		_, _, err = Insert(bad, DefaultOptions())
		if err == nil || !strings.Contains(err.Error(), "Couldn't understand output number in x:one") {
			t.Errorf("bad index: err = %v", err)
		}
		clash := proto.CloneOf(g)
		clash.Node = append(clash.Node, n("b/relu__print__", "Identity", "x"))
		_, _, err = Insert(clash, Options{Ops: []string{"Relu"}})
		if err == nil || !strings.Contains(err.Error(), `"b/relu__print__"`) {
			t.Errorf("name clash: err = %v", err)
		}
	})
}

func realGraphsDir(tb testing.TB) string { return testutil.RealData(tb, "graphs") }

// TestInsertLoggingReluRealGraphs logs the Relu nodes of every real graph
// and checks the result with code of its own.
func TestInsertReluRealGraphs(t *testing.T) {
	dir := realGraphsDir(t)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if ext := filepath.Ext(e.Name()); ext != ".pb" && ext != ".pbtxt" {
			continue
		}
		t.Run(e.Name(), func(t *testing.T) {
			g, _, err := graphio.Load(filepath.Join(dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			// Independently: the Relu nodes something consumes.
			used := map[string]bool{}
			for _, n := range g.GetNode() {
				for _, in := range n.GetInput() {
					used[strings.Split(strings.TrimPrefix(in, "^"), ":")[0]] = true
				}
			}
			var want []string
			for _, n := range g.GetNode() {
				if n.GetOp() == "Relu" && used[n.GetName()] {
					want = append(want, n.GetName())
				}
			}
			opt := TFOptions()
			opt.Ops = []string{"Relu"}
			out, res, err := Insert(g, opt)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(res.Logged, want) {
				t.Errorf("logged %q, want %q", res.Logged, want)
			}
			if len(out.GetNode()) != len(g.GetNode())+len(want) {
				t.Errorf("%d nodes, want %d + %d", len(out.GetNode()), len(g.GetNode()), len(want))
			}
			prints := map[string]int{}
			for i, n := range out.GetNode() {
				if n.GetOp() != "Print" {
					continue
				}
				base := strings.TrimSuffix(n.GetName(), "__print__")
				prints[base]++
				if i == 0 || out.GetNode()[i-1].GetName() != base {
					t.Errorf("Print %s does not follow %s", n.GetName(), base)
				}
			}
			for _, r := range want {
				if prints[r] != 1 {
					t.Errorf("%s has %d Print nodes", r, prints[r])
				}
			}
			// Consumers rewired: nothing but a Print reads a logged Relu's
			// output 0 directly.
			for _, n := range out.GetNode() {
				for _, in := range n.GetInput() {
					name, idx, _ := strings.Cut(in, ":")
					if prints[name] > 0 && (idx == "" || idx == "0") && n.GetName() != name+"__print__" {
						t.Errorf("node %s still reads %s", n.GetName(), in)
					}
				}
			}
			if err := graphinfo.Check(out).Err(); err != nil {
				t.Errorf("Check: %v", err)
			}
			t.Logf("%d Relu nodes logged", len(want))
		})
	}
}
