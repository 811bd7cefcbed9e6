// Package dataset reads real data sets a batch at a time: IDX files (the
// MNIST family), NPY arrays, folders of PNG/JPEG images and TFRecord files of
// tf.Example records. Each example is preprocessed (colour, crop, resize,
// scale, mean/std) and laid out NHWC float32 to the graph input's shape.
//
// Its place in qcal's flow: the executor's batch loop (qcal eval, qcal
// calibrate) calls Open and then Stream.Next; the package knows nothing of
// graphs or kernels, and a Batch is plain Go slices. No reader holds a whole
// data set in memory: memory grows with the batch size and the largest
// example, never with the number of examples (folder readers keep the list
// of file names, and a labels file is read into a map of names). The
// images of a folder or of TFRecord shards are decoded and preprocessed on
// one goroutine per core, a few ahead, and handed out in order, with the
// first error at the record where one-at-a-time reading gives it
// (parallel.go): JPEG decoding costs more than running a small network on
// the image. Record keeps a set in memory when its caller asks.
package dataset
