package dataset

import "errors"

// The TFRecord reader comes in the next commit; until then Open says so.
var errPending = errors.New("not implemented yet")

func validLengthCRC(h []byte) bool { return false }

func openTFRecords(files []string, ik, lk string) (reader, error) { return nil, errPending }
