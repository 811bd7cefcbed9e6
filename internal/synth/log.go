package synth

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
)

// LogOptions shape a synthetic calibration log.
type LogOptions struct {
	Batches int    // inference batches; each logs one record per layer
	Seed    uint64 // same seed, same bytes
	// JoinEvery joins two consecutive records on one line (as concurrent
	// Print ops do) once every JoinEvery records; 0 never.
	JoinEvery int
	// Noise adds the lines a real run prints around the records (glog
	// warnings, KMP settings, progress) when true.
	Noise bool
	// Outliers makes one batch of layer 0 log a range ten times wider.
	Outliers bool
}

// Batch is what one layer logged for one batch.
type Batch struct {
	Layer    int
	Min, Max float32
}

// Log writes a calibration log for the layers and returns the records it
// wrote, in order. Each batch's maximum is Scale·exp(N(0, 0.15²)); Relu
// layers log a min of 0, others a min of about -0.6·max.
func Log(w io.Writer, layers []Layer, opt LogOptions) ([]Batch, error) {
	rng := rand.New(rand.NewPCG(opt.Seed, 0x9e3779b97f4a7c15))
	bw := bufio.NewWriter(w)
	var out []Batch
	if opt.Noise {
		fmt.Fprintf(bw, "2019-03-12 16:31:29.964490: I tensorflow/core/platform/cpu_feature_guard.cc:141] Your CPU supports instructions that this TensorFlow binary was not compiled to use: AVX512F\n")
		fmt.Fprintf(bw, "\nUser settings:\n\n   KMP_AFFINITY=granularity=fine,verbose,compact,1,0\n   KMP_BLOCKTIME=1\n   OMP_NUM_THREADS=28\n\n")
	}
	n := 0
	var line []byte
	for b := 0; b < opt.Batches; b++ {
		if opt.Noise && b%4 == 0 {
			fmt.Fprintf(bw, "Iteration %d: %.4f sec\n", b, 0.05+rng.Float64()/100)
		}
		for i, l := range layers {
			hi := float32(l.Scale * math.Exp(0.15*rng.NormFloat64()))
			lo := float32(0)
			if !l.Relu {
				lo = -hi * float32(0.6*math.Exp(0.1*rng.NormFloat64()))
			}
			if opt.Outliers && i == 0 && b == opt.Batches/2 {
				lo, hi = lo*10, hi*10
			}
			out = append(out, Batch{Layer: i, Min: lo, Max: hi})
			n++
			line = AppendRecord(line, l.RequantRange(), lo, hi)
			if opt.JoinEvery > 0 && n%opt.JoinEvery == 0 {
				continue // the next record shares this line
			}
			line = append(line, '\n')
			if _, err := bw.Write(line); err != nil {
				return nil, err
			}
			line = line[:0]
		}
	}
	if len(line) > 0 {
		bw.Write(append(line, '\n'))
	}
	if opt.Noise {
		fmt.Fprintf(bw, "Average time: %.3f sec\nThroughput: %.2f images/sec\n", 0.051, 19.6)
	}
	return out, bw.Flush()
}

// AppendRecord appends the text TensorFlow's Print op writes for a
// RequantizationRange node logged with insert_logging(show_name=true,
// message="__requant_min_max:"): `;NAME__print__;__requant_min_max:[min][max]`.
func AppendRecord(dst []byte, node string, min, max float32) []byte {
	dst = append(dst, ';')
	dst = append(dst, node...)
	dst = append(dst, "__print__;__requant_min_max:["...)
	dst = AppendFloat(dst, min)
	dst = append(dst, "]["...)
	dst = AppendFloat(dst, max)
	return append(dst, ']')
}
