package synth

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strings"
)

// ModelLayers returns n layers named like a deep ResNet's convolutions
// (names of 60–100 bytes, as in real logs), every third one without Relu.
func ModelLayers(n int) []Layer {
	out := make([]Layer, n)
	for i := range out {
		out[i] = Layer{
			Name:  fmt.Sprintf("resnet_v1_101/block%d/unit_%d/bottleneck_v1/conv%d/Conv2D", i/69+1, i/3%23+1, i%3+1),
			Relu:  i%3 != 2,
			Scale: 4 + float64(i%17),
		}
	}
	return out
}

// NoisyLog writes about size bytes of a calibration log of the layers, the
// way a long real run looks: glog lines, KMP settings, progress lines with
// '\r', shell output, CRLF line ends now and then, records (one in 50 lines
// joined with the next one), and once every 4 MiB or so a 100 KiB line of
// noise. It returns the number of records written.
func NoisyLog(w io.Writer, layers []Layer, size int64, seed uint64) (int64, error) {
	rng := rand.New(rand.NewPCG(seed, 1))
	bw := bufio.NewWriterSize(w, 1<<16)
	cw := &countWriter{w: bw}
	long := strings.Repeat("progress ", 100<<10/9) + "\n"
	noise := []string{
		"2019-03-12 16:31:29.964490: I tensorflow/core/platform/cpu_feature_guard.cc:141] Your CPU supports instructions that this TensorFlow binary was not compiled to use: AVX512F\n",
		"OMP: Info #250: KMP_AFFINITY: pid 1234 tid 5678 thread 3 bound to OS proc set 3\n",
		"WARNING:tensorflow:From /workspace/run_inference.py:35: The name tf.Session is deprecated.\r\n",
		"Iteration 12: 0.0510 sec\n",
		"(Reading database ... 5%\r(Reading database ... 50%\r(Reading database ... 100%\n",
	}
	var records int64
	var line []byte
	next := int64(4 << 20)
	for b := 0; cw.n < size; b++ {
		for _, l := range layers {
			if rng.IntN(3) == 0 {
				io.WriteString(cw, noise[rng.IntN(len(noise))])
			}
			if cw.n > next {
				io.WriteString(cw, long)
				next += 4 << 20
			}
			hi := float32(l.Scale * math.Exp(0.15*rng.NormFloat64()))
			lo := float32(0)
			if !l.Relu {
				lo = -hi * 0.6
			}
			line = AppendRecord(line, l.RequantRange(), lo, hi)
			records++
			if rng.IntN(50) == 0 {
				continue // joined with the next record
			}
			line = append(line, '\n')
			cw.Write(line)
			line = line[:0]
		}
	}
	if len(line) > 0 {
		cw.Write(append(line, '\n'))
	}
	if cw.err != nil {
		return records, cw.err
	}
	return records, bw.Flush()
}

type countWriter struct {
	w   io.Writer
	n   int64
	err error
}

func (c *countWriter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	c.err = err
	return n, err
}
