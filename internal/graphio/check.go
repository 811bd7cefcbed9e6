package graphio

// CheckNotInput reports an error when path names one of inputs (the same
// cleaned absolute path, or the same existing file through a link). Commands
// call it before doing any work, so that a refused output costs nothing.
func CheckNotInput(path string, inputs []string) error {
	if path == "-" {
		return nil
	}
	return checkNotInput(path, inputs)
}

// WriteFile writes data to path atomically (a temporary file in the same
// directory, then a rename), with mode 0644. Commands use it for every
// output that is not a graph, so no output is ever left half-written.
func WriteFile(path string, data []byte) error {
	return writeFileAtomic(path, data, 0o644)
}
