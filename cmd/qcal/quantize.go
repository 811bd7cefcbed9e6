package main

import (
	"fmt"
	"strconv"
	"strings"

	"qcal/internal/atomicfile"
	"qcal/internal/graphinfo"
	"qcal/internal/graphio"
	"qcal/internal/rewrite/quantize"
	"qcal/internal/tfname"
	"qcal/quant"
)

// floatFlag is a float32 flag that remembers whether it was given.
type floatFlag struct {
	v   float32
	set bool
}

func (f *floatFlag) String() string {
	if !f.set {
		return ""
	}
	return strconv.FormatFloat(float64(f.v), 'g', -1, 32)
}

func (f *floatFlag) Set(s string) error {
	v, err := strconv.ParseFloat(s, 32)
	if err != nil {
		return fmt.Errorf("not a number: %q", s)
	}
	f.v, f.set = float32(v), true
	return nil
}

func runQuantize(e *env, args []string) error {
	fs := newFlags(e, "quantize")
	var graph, out, outputs, modelName string
	for _, n := range []string{"graph", "input"} {
		fs.StringVar(&graph, n, "", "FP32 GraphDef to quantize (binary or text; - for stdin)")
	}
	for _, n := range []string{"o", "output"} {
		fs.StringVar(&out, n, "", "output GraphDef (.pbtxt for text; - for stdout)")
	}
	for _, n := range []string{"outputs", "output_node_names"} {
		fs.StringVar(&outputs, n, "", "output node names, comma separated")
	}
	format := fs.String("format", "", "output format: binary or text (default: from -o's name)")
	intel := fs.Bool("intel", true, "Intel's path (--intel_cpu_eightbitize): fused quantized convs for Intel CPUs; false: the plain MIN_FIRST path")
	var perChannel bool
	for _, n := range []string{"per-channel", "per_channel"} {
		fs.BoolVar(&perChannel, n, false, "quantize conv weights per output channel (Intel path)")
	}
	roundWeights := fs.Bool("round-weights", false, weightRoundingHelp)
	for _, n := range []string{"model-name", "model_name"} {
		fs.StringVar(&modelName, n, "", "model-specific rules of Intel's script: "+quantize.WideDeep+" (quantizes MatMul), FasterRCNN, R-FCN")
	}
	var fbMin, fbMax floatFlag
	for _, n := range []string{"fallback-min", "quantized_fallback_min"} {
		fs.Var(&fbMin, n, "with -fallback-max: Requantize to this fixed range instead of adding RequantizationRange nodes")
	}
	for _, n := range []string{"fallback-max", "quantized_fallback_max"} {
		fs.Var(&fbMax, n, "see -fallback-min")
	}
	intelScript := fs.Bool("intel-script", false, "plain path as Intel's copy of quantize_graph.py writes it (Tidx, round_mode, control inputs on the dims Consts, shared prologues)")
	excluded := fs.String("excluded_nodes", "", "comma-separated convolutions and matmuls to leave in FP32 (Intel's --excluded_nodes)")
	keep := fs.Bool("keep-redundant", false, "keep Dequantize→QuantizeV2 pairs and dead nodes (--strip_redundant_quantization=false)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q (give the graph with -graph)", fs.Arg(0))
	}
	if graph == "" {
		return usagef("-graph is required")
	}
	if out == "" {
		return usagef("-o is required")
	}
	var names []string
	for _, n := range strings.Split(outputs, ",") {
		if n = strings.TrimSpace(n); n != "" {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		hint := ""
		if graph != "-" {
			if g, _, err := graphio.Load(graph); err == nil {
				var outs []string
				for _, o := range graphinfo.Summarize(g).Outputs {
					outs = append(outs, o.Name)
				}
				if len(outs) > 0 {
					hint = "; the graph's possible outputs: " + tfname.List(outs, 5)
				}
			}
		}
		return usagef("-outputs is required (the output node names, comma separated%s)", hint)
	}
	if fbMin.set != fbMax.set {
		return usagef("-fallback-min and -fallback-max go together")
	}
	if fbMin.set && !(fbMin.v < fbMax.v) {
		return usagef("invalid fallback range [%g, %g]: min must be below max", fbMin.v, fbMax.v)
	}
	if perChannel && !*intel {
		return usagef("-per-channel needs the Intel path (-intel=true)")
	}
	if *roundWeights && !*intel {
		return usagef("-round-weights needs the Intel path (-intel=true)")
	}
	if *intelScript && *intel {
		return usagef("-intel-script shapes the plain path; use it with -intel=false")
	}
	f, err := outputFormat(*format, out)
	if err != nil {
		return err
	}
	if err := graphio.CheckNotInput(out, []string{graph}); err != nil {
		return err
	}
	g, err := loadGraphArg(e, graph)
	if err != nil {
		return err
	}
	if err := checkGraph(e, graph, g, true); err != nil {
		return err
	}
	res, err := quantize.Quantize(g, quantize.Options{
		Outputs: names, Intel: *intel, PerChannel: perChannel, WeightRounding: weightRounding(*roundWeights), ModelName: modelName,
		Fallback: fbMin.set, FallbackMin: fbMin.v, FallbackMax: fbMax.v,
		IntelScript: *intelScript, KeepRedundant: *keep, ExcludedNodes: splitNames(*excluded),
	})
	if err != nil {
		return fmt.Errorf("%s: %w", graph, err)
	}
	warnProblems(e, out, graphinfo.Check(res.Graph))
	if atomicfile.IsStdout(out) {
		err = graphio.Write(e.stdout, res.Graph, f)
	} else {
		err = graphio.Save(out, res.Graph, f, graph)
	}
	if err != nil {
		return err
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(e.stderr, "qcal: warning: %s\n", w)
	}
	path := "Intel"
	if !*intel {
		path = "plain"
	}
	var fp32 []string
	for _, x := range res.Float {
		if x.Op == "Conv2D" || x.Op == "DepthwiseConv2dNative" || x.Op == "MatMul" {
			fp32 = append(fp32, fmt.Sprintf("%s (%s: %s)", x.Name, x.Op, x.Reason))
		}
	}
	if len(fp32) > 0 {
		fmt.Fprintf(e.stderr, "qcal: left in FP32: %s\n", tfname.List(fp32, 5))
	}
	ranges := 0
	for _, n := range res.Graph.Node {
		if tfname.IsRequantizationRange(n.Op) {
			ranges++
		}
	}
	if ranges == 0 && !fbMin.set {
		hint := ""
		if *intel {
			hint = " (the Intel path quantizes only convolutions fed by a Relu, and MatMul only with -model-name " + quantize.WideDeep + "; -intel=false quantizes MatMul)"
		}
		fmt.Fprintf(e.stderr, "qcal: warning: the graph has no RequantizationRange node: calibration has nothing to do%s\n", hint)
	}
	fmt.Fprintf(e.stderr, "qcal: quantized %d node%s (%s path), %d weight%s, %d left in FP32, %d RequantizationRange node%s; wrote %s\n",
		len(res.Quantized), plural(len(res.Quantized)), path, len(res.Weights), plural(len(res.Weights)),
		len(res.Float), ranges, plural(ranges), out)
	return nil
}

// weightRoundingHelp documents -round-weights (quantize and tune).
const weightRoundingHelp = "round per-channel and depthwise weight codes to the nearest step (half to even) instead of truncating toward zero as Intel's script does (MobileNet v1: 11 points of top-1 back)"

// weightRounding maps -round-weights to the quantizer's choice.
func weightRounding(round bool) quant.WeightRounding {
	if round {
		return quant.RoundHalfEven
	}
	return quant.Truncate
}
