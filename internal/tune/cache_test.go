package tune

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"qcal/internal/dataset"
)

// TestLabelled: an evaluation whose rows all have label -1 cannot judge a
// strategy (every candidate would "pass" at 0% against 0%).
func TestLabelled(t *testing.T) {
	head := "id,label,prediction,top5,score\n"
	if labelled([]byte(head + "a:0,-1,3,3|1,0.9\na:1,-1,2,2,0.8\n")) {
		t.Error("rows with label -1 counted as labelled")
	}
	if !labelled([]byte(head + "a:0,-1,3,3,0.9\na:1,7,7,7,0.8\n")) {
		t.Error("a labelled row was missed")
	}
}

// TestDataKeyFollowsFiles: the cache key changes when a file of a folder
// or the labels file beside IDX images changes, not only the named path.
func TestDataKeyFollowsFiles(t *testing.T) {
	dir := t.TempDir()
	img := filepath.Join(dir, "x-images-idx3-ubyte")
	lab := filepath.Join(dir, "x-labels-idx1-ubyte")
	os.WriteFile(img, []byte("i"), 0o644)
	os.WriteFile(lab, []byte("l"), 0o644)
	d := Data{Path: img, Opt: dataset.Options{BatchSize: 2}}
	k1 := dataKey(d)
	os.WriteFile(lab, []byte("ll"), 0o644)
	if dataKey(d) == k1 {
		t.Error("labels beside the images changed, key did not")
	}
	folder := filepath.Join(dir, "imgs")
	os.Mkdir(folder, 0o755)
	f := filepath.Join(folder, "a.png")
	os.WriteFile(f, []byte("a"), 0o644)
	k2 := dataKey(Data{Path: folder})
	later := time.Now().Add(time.Hour)
	os.Chtimes(f, later, later)
	if dataKey(Data{Path: folder}) == k2 {
		t.Error("an image in the folder changed, key did not")
	}
}
