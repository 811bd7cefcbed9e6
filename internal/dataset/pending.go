package dataset

import "errors"

// The image and TFRecord readers come in the next commits; until then
// Open says so instead of guessing.
var errPending = errors.New("not implemented yet")

func isImage(h []byte) bool        { return false }
func validLengthCRC(h []byte) bool { return false }
func openImages(path string, files []string, labels, col string) (reader, error) {
	return nil, errPending
}
func openTFRecords(files []string, ik, lk string) reader { return nil }
