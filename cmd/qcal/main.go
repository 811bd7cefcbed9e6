// Command qcal calibrates int8 TensorFlow graphs: it reads the min/max logs
// of a calibration run, computes per-node ranges and freezes them into the
// quantized graph. Run `qcal help` for the commands.
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
