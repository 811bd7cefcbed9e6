package graphio

import "qcal/internal/atomicfile"

// CheckNotInput reports an error when path names one of inputs (the same
// cleaned absolute path, or the same existing file through a link) or
// exists and is not a regular file (atomicfile.Check). Commands call it
// before doing any work, so that a refused output costs nothing. "-" and
// "/dev/stdout" pass.
func CheckNotInput(path string, inputs []string) error {
	return atomicfile.Check(path, inputs)
}

// WriteFile writes data to path atomically through atomicfile (a
// temporary file in the same directory, then a rename; an existing file
// keeps its permission bits, a new one gets 0644), refusing an output that
// is one of inputs or not a regular file. Commands use it for every output
// that is not a graph, so no output is ever left half-written.
func WriteFile(path string, data []byte, inputs ...string) error {
	return atomicfile.WriteFile(path, data, inputs...)
}
