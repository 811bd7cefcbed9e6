package quantize

import (
	"math"
	"math/rand/v2"
	"testing"

	"qcal/freeze"
	"qcal/internal/exec"
	"qcal/internal/tensor"
	"qcal/internal/tfpb"
	"qcal/stats"
)

// TestWideDeepMinFirstRuns quantizes a one-layer FP32 graph
// x → dnn/hiddenlayer_0/{MatMul, BiasAdd, Relu} (8 → 6, weights and bias in
// [-1, 1]) with Options{Intel, ModelName: WideDeep} — x's QuantizeV2 is
// MIN_FIRST and the QuantizedMatMulWithBiasAndRelu carries
// input_quant_mode MIN_FIRST — and runs it with the executor on a batch of
// 16 against the FP32 graph: first with dynamic ranges, then with the
// RequantizationRange frozen to the extremes of three calibration batches
// (the test batch among them, so nothing is clipped). A signed input
// (x in [-2, 2]: min_a < 0, the bias compensation at work) and a
// non-negative one (x in [0, 3]: min_a = 0, none needed).
//
// Error bound for output (i, j), from the int8 arithmetic
// (INT8-ARITHMETIC §2.4 quirks included):
//
//	B = s_x·Σ_p|w_pj|            x's step: half from rounding the codes,
//	                              half from TF compensating with min_a
//	                              itself rather than min_a rounded to a step
//	  + (s_w/2)·Σ_p|x_ip|         the weight's half step, s_w ≤ max|w|/127
//	  + s_x·s_w·k/2               their product
//	  + 1.01·(Σ_p|x_ip·w_pj| + |b_j|)/254
//	                              Eigen SCALED weights read as [-127, 127]:
//	                              ≈1.0039·matmul + 0.9961·bias
//	  + 1.5·s_h                   Requantize to quint8 and Dequantize
//	                              (s_h = its range / 255)
//
// with s_x and s_h the ranges the int8 graph actually used (fetched).
// Measured: the largest error is 0.2–0.3 of B (logged).
func TestWideDeepMinFirstRuns(t *testing.T) {
	const k, n, batch = 8, 6, 16
	const (
		mm, kernel, bias = "dnn/hiddenlayer_0/MatMul", "dnn/hiddenlayer_0/kernel", "dnn/hiddenlayer_0/bias"
		ba, relu         = "dnn/hiddenlayer_0/BiasAdd", "dnn/hiddenlayer_0/Relu"
	)
	for _, tc := range []struct {
		name   string
		lo, hi float32
	}{{"signed", -2, 2}, {"nonnegative", 0, 3}} {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(3, 4))
			w := make([]float32, k*n)
			for i := range w {
				w[i] = 2*r.Float32() - 1
			}
			b := make([]float32, n)
			for j := range b {
				b[j] = 2*r.Float32() - 1
			}
			g := &builder{g: &tfpb.GraphDef{}}
			g.placeholder("x")
			g.constant(kernel, []int64{k, n}, w...)
			m := g.op("MatMul", mm, "x", kernel)
			setBool(m, "transpose_a", false)
			setBool(m, "transpose_b", false)
			g.constant(bias, []int64{n}, b...)
			g.op("BiasAdd", ba, mm, bias)
			g.op("Relu", relu, ba)
			res := mustQuantize(t, g.g, Options{Outputs: []string{relu}, Intel: true, ModelName: WideDeep})

			q := findNode(res.Graph, mm+"_eightbit_quantized_mat_mul")
			if q == nil || q.Op != "QuantizedMatMulWithBiasAndRelu" || string(q.Attr["input_quant_mode"].GetS()) != "MIN_FIRST" {
				t.Fatalf("quantized matmul: %v", q)
			}
			qx := findNode(res.Graph, nodeName(q.Input[0]))
			if qx.Op != "QuantizeV2" || string(qx.Attr["mode"].GetS()) != "MIN_FIRST" {
				t.Fatalf("input quantization: %v", qx)
			}
			var rr, rq string
			for _, nd := range res.Graph.Node {
				switch nd.Op {
				case "RequantizationRange":
					rr = nd.Name
				case "Requantize":
					rq = nd.Name
				}
			}
			if rr == "" || rq == "" {
				t.Fatalf("no RequantizationRange/Requantize in the quantized graph")
			}

			fp, err := exec.New(g.g, "fp32")
			if err != nil {
				t.Fatal(err)
			}
			dyn, err := exec.New(res.Graph, "int8")
			if err != nil {
				t.Fatal(err)
			}
			batches := make([]*tensor.Tensor, 3)
			for i := range batches {
				x := tensor.New(tfpb.DataType_DT_FLOAT, []int{batch, k})
				for e := range x.F32 {
					x.F32[e] = tc.lo + (tc.hi-tc.lo)*r.Float32()
				}
				batches[i] = x
			}
			x := batches[0]
			want, err := fp.Run(map[string]*tensor.Tensor{"x": x}, []string{relu})
			if err != nil {
				t.Fatal(err)
			}
			check := func(what string, gr *exec.Graph) {
				t.Helper()
				out, err := gr.Run(map[string]*tensor.Tensor{"x": x}, []string{relu, qx.Name + ":1", qx.Name + ":2", rq + ":1", rq + ":2"})
				if err != nil {
					t.Fatalf("%s: %v", what, err)
				}
				minA := float64(out[1].F32[0])
				if (tc.lo < 0) != (minA < 0) {
					t.Errorf("%s: input range starts at %g", what, minA)
				}
				sx := (float64(out[2].F32[0]) - minA) / 255
				sh := float64(out[4].F32[0]-out[3].F32[0]) / 255
				maxW := 0.0
				for _, v := range w {
					maxW = max(maxW, math.Abs(float64(v)))
				}
				sw := maxW / 127
				worst, maxErr, maxY, zeros := 0.0, 0.0, 0.0, 0
				for i := 0; i < batch; i++ {
					for j := 0; j < n; j++ {
						var sumW, sumX, sumXW float64
						for p := 0; p < k; p++ {
							xv, wv := float64(x.F32[i*k+p]), float64(w[p*n+j])
							sumW += math.Abs(wv)
							sumX += math.Abs(xv)
							sumXW += math.Abs(xv * wv)
						}
						bound := sx*sumW + sw/2*sumX + sx*sw*k/2 + 1.01*(sumXW+math.Abs(float64(b[j])))/254 + 1.5*sh
						y, got := float64(want[0].F32[i*n+j]), float64(out[0].F32[i*n+j])
						e := math.Abs(got - y)
						if e > bound {
							t.Errorf("%s [%d,%d]: int8 %g, fp32 %g: error %g over the bound %g", what, i, j, got, y, e, bound)
						}
						worst, maxErr, maxY = max(worst, e/bound), max(maxErr, e), max(maxY, y)
						if y == 0 {
							zeros++
						}
					}
				}
				if maxY < 0.5 || zeros == 0 {
					t.Errorf("%s: outputs up to %g with %d zeros: the test data do not exercise the layer", what, maxY, zeros)
				}
				t.Logf("%s: input range [%g, %g], output range [%g, %g]; max |int8 - fp32| %.4g (max output %.3g), largest error/bound %.3f",
					what, minA, out[2].F32[0], out[3].F32[0], out[4].F32[0], maxErr, maxY, worst)
			}
			check("dynamic", dyn)

			lo, hi := float32(math.Inf(1)), float32(math.Inf(-1))
			for _, xb := range batches {
				out, err := dyn.Run(map[string]*tensor.Tensor{"x": xb}, []string{rr + ":0", rr + ":1"})
				if err != nil {
					t.Fatal(err)
				}
				lo, hi = min(lo, out[0].F32[0]), max(hi, out[1].F32[0])
			}
			fr, err := freeze.Graph(res.Graph, []stats.Range{{Node: rr, Side: stats.Both, Min: lo, Max: hi, Count: len(batches)}}, freeze.Options{Strict: true})
			if err != nil {
				t.Fatal(err)
			}
			if len(fr.Frozen) != 1 || fr.Frozen[0] != rr {
				t.Fatalf("frozen %q, want [%s]", fr.Frozen, rr)
			}
			frozen, err := exec.New(fr.Graph, "int8 frozen")
			if err != nil {
				t.Fatal(err)
			}
			out, err := frozen.Run(map[string]*tensor.Tensor{"x": x}, []string{rq + ":1", rq + ":2"})
			if err != nil {
				t.Fatal(err)
			}
			if out[0].F32[0] != lo || out[1].F32[0] != hi {
				t.Errorf("frozen Requantize range [%g, %g], want the calibrated [%g, %g]", out[0].F32[0], out[1].F32[0], lo, hi)
			}
			check("frozen", frozen)
		})
	}
}
