// Command genlog writes a large noisy calibration log for measuring qcal:
//
//	go run ./internal/synth/genlog -size 1073741824 -o /tmp/big.log
//	qcal ranges /tmp/big.log
package main

import (
	"flag"
	"fmt"
	"os"

	"qcal/internal/graphio"
	"qcal/internal/synth"
)

func main() {
	size := flag.Int64("size", 1<<30, "bytes of log to write (about)")
	nodes := flag.Int("nodes", 250, "RequantizationRange nodes in the model")
	out := flag.String("o", "", "output log file")
	graph := flag.String("graph", "", "also write the matching quantized graph here")
	seed := flag.Uint64("seed", 1, "random seed")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "genlog: -o is required")
		os.Exit(2)
	}
	if err := gen(*out, *graph, *size, *nodes, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "genlog:", err)
		os.Exit(1)
	}
}

func gen(out, graph string, size int64, nodes int, seed uint64) error {
	layers := synth.ModelLayers(nodes)
	if graph != "" {
		if err := graphio.Save(graph, synth.Graph(layers), graphio.FormatForPath(graph)); err != nil {
			return err
		}
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	n, err := synth.NoisyLog(f, layers, size, seed)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(out)
		return err
	}
	fmt.Fprintf(os.Stderr, "genlog: %d records for %d nodes in %s\n", n, nodes, out)
	return nil
}
