package tune

import (
	"os"
	"path/filepath"
	"slices"
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

// TestTunePrune: entries go oldest first until the entries total at most the
// limit; this run's entries and files that are not tune's stay.
func TestTunePrune(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	files := []struct {
		name string
		size int
		age  time.Duration
	}{
		{"notes.txt", 10000, 10 * time.Hour}, // not an entry: neither counted nor removed
		{"fp32-a.csv", 100, 5 * time.Hour},
		{"calib-a.log", 400, 4 * time.Hour}, // this run's
		{"calib-b.log", 300, 3 * time.Hour},
		{"fp32-b.csv", 100, 2 * time.Hour},
		{"calib-c.log", 200, time.Hour},
		// A killed run's temporary file, and a running one's.
		{".calib-d.log.tmp-123", 5000, 25 * time.Hour},
		{".calib-e.log.tmp-456", 5000, 23 * time.Hour},
	}
	for _, f := range files {
		p := filepath.Join(dir, f.name)
		if err := os.WriteFile(p, make([]byte, f.size), 0o644); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(p, now.Add(-f.age), now.Add(-f.age))
	}
	var notes []string
	note := func(s string) { notes = append(notes, s) }
	// Worked by hand: the entries total 1,100 bytes. Limit 1,100: only
	// the stale temporary file goes (temporary files do not count).
	opt := &Options{CacheDir: dir, CacheMax: 1100}
	opt.prune([]string{"calib-a.log"}, note)
	if got := cacheFiles(t, dir); len(got) != len(files)-1 || slices.Contains(got, ".calib-d.log.tmp-123") {
		t.Errorf("at the limit: left %v; want all but the stale temporary file", got)
	}
	if len(notes) != 1 || notes[0] != "cache: 1 temporary file(s) of killed runs removed (0.0 MiB)" {
		t.Errorf("notes %q", notes)
	}
	// Limit 500: fp32-a goes (1,000 left), calib-a is this run's, then
	// calib-b (700), fp32-b (600), calib-c (400 ≤ 500).
	notes = nil
	opt.CacheMax = 500
	opt.prune([]string{"calib-a.log"}, note)
	if got, want := cacheFiles(t, dir), []string{".calib-e.log.tmp-456", "calib-a.log", "notes.txt"}; !slices.Equal(got, want) {
		t.Errorf("left %v, want %v", got, want)
	}
	if len(notes) != 1 || notes[0] != "cache: 4 entries removed (0.0 MiB), least recently used first, to stay within 0.0 MiB" {
		t.Errorf("notes %q", notes)
	}
	// No cache folder yet: nothing to do, no warning.
	notes = nil
	(&Options{CacheDir: filepath.Join(dir, "none"), CacheMax: 1}).prune(nil, note)
	if len(notes) != 0 {
		t.Errorf("missing folder: notes %q", notes)
	}
}
