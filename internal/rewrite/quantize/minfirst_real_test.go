package quantize

import (
	"errors"
	"io"
	"math"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/proto"

	"qcal/internal/dataset"
	"qcal/internal/exec"
	"qcal/internal/graphio"
	"qcal/internal/tensor"
	"qcal/internal/testutil"
	"qcal/internal/tfpb"
)

// TestWideDeepFashionMNIST quantizes the real Fashion-MNIST dense net
// (graphs/fashion_fcn_frozen.pb: FCN/dense MatMul+BiasAdd+Relu 784→128,
// FCN/output MatMul+BiasAdd 128→10, Softmax) on the Intel path with
// -model-name wide_deep_large_ds: both MatMuls become
// QuantizedMatMulWithBias[AndRelu] fed by MIN_FIRST QuantizeV2s, with no
// input_quant_mode attr, so the op's default MIN_FIRST applies. The
// executor runs FP32 and int8 (dynamic ranges) on the 10,000 test images,
// preprocessed two ways:
//
//   - pixels/255, the net's own input: min_a = 0, no compensation; FP32
//     top-1 must be the 84.92% an independent TF runtime measured
//     (graphs/SOURCES.md);
//   - pixels/255 − 0.5, a signed input for the same weights: min_a ≈ −0.5,
//     the bias compensation Q'a·min_a·Σw carries the first layer.
//
// Measured: pixels/255: FP32 top-1 84.92%, int8 84.84%, 98.88% of
// predictions agree, max |Δp| 0.044; pixels/255 − 0.5 (FP32 top-1 falls to
// 23.46% on the shifted data, int8 24.21%): 98.73% agree, max |Δp| 0.123.
// The signed graph with input_quant_mode SCALED forced on FCN/dense agrees
// with FP32 on 26.59% only: without the compensation the int8 net sees the
// codes as pixels/255 again (its top-1 is back to 84.30%), not the shifted
// input the FP32 net gets. Asserted with margin: agreement ≥ 98%, max |Δp|
// ≤ 0.25, int8 top-1 within 0.5 points of FP32 on the net's own input; the
// forced-SCALED contrast below 50%.
func TestWideDeepFashionMNIST(t *testing.T) {
	if testing.Short() {
		t.Skip("10,000 images through two graphs, three times; skipped in -short")
	}
	g, _, err := graphio.Load(filepath.Join(testutil.RealData(t, "graphs"), "fashion_fcn_frozen.pb"))
	if err != nil {
		t.Fatal(err)
	}
	images := filepath.Join(testutil.FashionMNIST(t), "t10k-images-idx3-ubyte.gz")
	res, err := Quantize(g, Options{Outputs: []string{"Identity"}, Intel: true, ModelName: WideDeep})
	if err != nil {
		t.Fatal(err)
	}
	dense := findNode(res.Graph, "FCN/dense/MatMul_eightbit_quantized_mat_mul")
	if dense == nil || dense.Op != "QuantizedMatMulWithBiasAndRelu" || dense.Attr["input_quant_mode"] != nil {
		t.Fatalf("FCN/dense: %v", dense)
	}
	scaled := proto.Clone(res.Graph).(*tfpb.GraphDef)
	setString(findNode(scaled, dense.Name), "input_quant_mode", "SCALED")

	fp, err := exec.New(g, "fp32")
	if err != nil {
		t.Fatal(err)
	}
	i8, err := exec.New(res.Graph, "int8")
	if err != nil {
		t.Fatal(err)
	}
	i8s, err := exec.New(scaled, "int8 forced SCALED")
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		n, fpTop1, i8Top1, agree int
		maxDiff                  float64
	}
	run := func(mean []float32, gr *exec.Graph) result {
		src, err := dataset.Open(images, dataset.Options{BatchSize: 500, Preprocess: dataset.Preprocess{Scale: 1.0 / 255, Mean: mean, Shape: []int{-1, 28, 28}}})
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		var r result
		var b dataset.Batch
		for {
			n, err := src.Next(&b)
			if errors.Is(err, io.EOF) || n == 0 && err == nil {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			x := tensor.FromF32(b.Shape, b.X)
			pf, err := fp.Run(map[string]*tensor.Tensor{"x": x}, []string{"Identity"})
			if err != nil {
				t.Fatal(err)
			}
			pq, err := gr.Run(map[string]*tensor.Tensor{"x": x}, []string{"Identity"})
			if err != nil {
				t.Fatal(err)
			}
			const classes = 10
			for i := 0; i < n; i++ {
				f, q := pf[0].F32[i*classes:(i+1)*classes], pq[0].F32[i*classes:(i+1)*classes]
				af, aq := argmax(f), argmax(q)
				if af == b.Labels[i] {
					r.fpTop1++
				}
				if aq == b.Labels[i] {
					r.i8Top1++
				}
				if af == aq {
					r.agree++
				}
				for c := range f {
					r.maxDiff = max(r.maxDiff, math.Abs(float64(f[c]-q[c])))
				}
			}
			r.n += n
		}
		return r
	}
	pct := func(k, n int) float64 { return 100 * float64(k) / float64(n) }
	for _, tc := range []struct {
		name string
		mean []float32
	}{{"pixels/255", nil}, {"pixels/255-0.5", []float32{0.5}}} {
		r := run(tc.mean, i8)
		t.Logf("%s: %d images, FP32 top-1 %.2f%%, int8 %.2f%%, %.2f%% agree, max |Δp| %.3g", tc.name, r.n,
			pct(r.fpTop1, r.n), pct(r.i8Top1, r.n), pct(r.agree, r.n), r.maxDiff)
		if r.n != 10000 {
			t.Errorf("%s: %d images, want 10000", tc.name, r.n)
		}
		if tc.mean == nil && r.fpTop1 != 8492 {
			t.Errorf("FP32 top-1 %d of 10000, want 8492 (84.92%%, graphs/SOURCES.md)", r.fpTop1)
		}
		if pct(r.agree, r.n) < 98 || r.maxDiff > 0.25 {
			t.Errorf("%s: int8 agrees with FP32 on %.2f%%, max |Δp| %.3g: want ≥ 98%% and ≤ 0.25", tc.name, pct(r.agree, r.n), r.maxDiff)
		}
		if d := math.Abs(pct(r.i8Top1, r.n) - pct(r.fpTop1, r.n)); tc.mean == nil && d > 0.5 {
			t.Errorf("int8 top-1 %.2f%% vs FP32 %.2f%%: want within 0.5 points", pct(r.i8Top1, r.n), pct(r.fpTop1, r.n))
		}
	}
	r := run([]float32{0.5}, i8s)
	t.Logf("pixels/255-0.5, FCN/dense forced to SCALED: %.2f%% agree, int8 top-1 %.2f%%", pct(r.agree, r.n), pct(r.i8Top1, r.n))
	if pct(r.agree, r.n) >= 50 {
		t.Errorf("forced SCALED agrees on %.2f%%: the signed input should need MIN_FIRST's compensation", pct(r.agree, r.n))
	}
}

func argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}
