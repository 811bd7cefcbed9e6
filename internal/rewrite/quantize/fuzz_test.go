package quantize

import (
	"os"
	"path/filepath"
	"testing"

	"qcal/internal/graphinfo"
	"qcal/internal/graphio"
)

// FuzzQuantize: any decodable graph either fails with an error or gives a
// graph without dangling inputs; nothing panics.
func FuzzQuantize(f *testing.F) {
	for _, name := range []string{"intel_conv_relu_pool", "plain_mlp", "intel_perchannel_relu6"} {
		// Seeds: the FP32 sources are not stored, so the quantized graphs
		// serve (they hold every op the rewrite looks at).
		data, err := os.ReadFile(filepath.Join("testdata", name+".pbtxt"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, "pool1", true, false)
		f.Add(data, "out", false, false)
	}
	f.Add([]byte(`node { name: "x" op: "Placeholder" } node { name: "r" op: "Relu" input: "x" input: "^x" input: "" }`), "r", false, false)
	f.Fuzz(func(t *testing.T, data []byte, output string, intel, perChannel bool) {
		g, _, err := graphio.Decode(data, "fuzz")
		if err != nil {
			return
		}
		res, err := Quantize(g, Options{Outputs: []string{output}, Intel: intel, PerChannel: perChannel && intel})
		if err != nil {
			return
		}
		for _, p := range graphinfo.Check(res.Graph).Errors {
			if p.Kind == graphinfo.KindMissingInput {
				t.Fatalf("quantized graph has a dangling input: %s", p.Message)
			}
		}
	})
}
