package dataset_test

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"qcal/internal/dataset"
)

// Open reads a data set a batch at a time. Here: an IDX file of three 2×2
// images, scaled to [0, 1] and flattened to a graph input of shape [-1,4].
// Scaling multiplies by float32(1/255) as TF's convert_image_dtype does, so
// 51 becomes 0.20000002, not 51/255 rounded.
func ExampleOpen() {
	dir, _ := os.MkdirTemp("", "dataset")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "tiny-images-idx3-ubyte")
	os.WriteFile(path, []byte{
		0, 0, 0x08, 3, // uint8, rank 3
		0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 2, // 3×2×2
		0, 51, 102, 255, // image 0
		255, 255, 0, 0, // image 1
		0, 0, 0, 0, // image 2
	}, 0o644)
	s, err := dataset.Open(path, dataset.Options{BatchSize: 2, Preprocess: dataset.Preprocess{
		Scale: 1.0 / 255, Shape: []int{-1, 4}}})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	var b dataset.Batch
	for {
		n, err := s.Next(&b)
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(n, b.Shape, b.IDs, b.Labels, b.X)
	}
	// Output:
	// 2 [2 4] [tiny-images-idx3-ubyte:0 tiny-images-idx3-ubyte:1] [-1 -1] [0 0.20000002 0.40000004 1 1 1 0 0]
	// 1 [1 4] [tiny-images-idx3-ubyte:2] [-1] [0 0 0 0]
}
