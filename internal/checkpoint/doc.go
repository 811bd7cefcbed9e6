// Package checkpoint reads TensorFlow V2 checkpoints (tensor bundles): the
// `.index` table that lists every saved tensor and the `.data-NNNNN-of-NNNNN`
// shards that hold their bytes. It sits under the graph rewrites: the
// freeze-graph step (qcal/internal/rewrite/freezegraph) asks it for the value
// of each variable it turns into a Const.
//
// The `.index` file is a LevelDB-style table (footer, index block, data
// blocks with prefix-compressed keys and restart points, block trailers with
// a masked CRC32C). Open reads it whole, checks every block checksum, and
// keeps the entries (BundleEntryProto: dtype, shape, shard, offset, size,
// CRC32C); it is small, one entry per tensor. Tensor values are read one at a
// time from the data shards at the entry's offset and checked against the
// entry's CRC32C, so memory grows with the largest tensor, not with the
// checkpoint.
//
// Every error names the file and, for a tensor, the variable. Uncompressed and
// snappy-compressed blocks are read (TensorFlow writes bundles uncompressed).
// Partitioned variables (entries with slices) and DT_VARIANT tensors are
// refused with an error that says so.
package checkpoint
