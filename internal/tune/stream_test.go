package tune

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/prototext"

	"qcal/internal/calib"
	"qcal/internal/dataset"
	"qcal/internal/evaluate"
	"qcal/internal/exec"
	"qcal/internal/rewrite/insertlogging"
	"qcal/internal/tfpb"
)

// synthCalib returns options whose calibration runs a graph that logs the
// whole [64, 32, 32] output of a Relu each batch (Summarize -1, as tune
// logs a quantized op's values) on n random 32×32 images scaled by 1/255:
// about 650 KB of log a batch of 64. The graph is the logged one calibrate
// takes.
func synthCalib(t testing.TB, n, batches int) (Options, *tfpb.GraphDef) {
	t.Helper()
	dir := t.TempDir()
	img := filepath.Join(dir, "x-images-idx3-ubyte")
	hdr := []byte{0, 0, 8, 3, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n), 0, 0, 0, 32, 0, 0, 0, 32}
	pixels := make([]byte, n*32*32)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range pixels {
		pixels[i] = byte(rng.IntN(256))
	}
	if err := os.WriteFile(img, append(hdr, pixels...), 0o644); err != nil {
		t.Fatal(err)
	}
	var g tfpb.GraphDef
	err := prototext.Unmarshal([]byte(`node { name: "x" op: "Placeholder" attr { key: "dtype" value { type: DT_FLOAT } } }
node { name: "act" op: "Relu" input: "x" attr { key: "T" value { type: DT_FLOAT } } }
node { name: "out" op: "Identity" input: "act" attr { key: "T" value { type: DT_FLOAT } } }`), &g)
	if err != nil {
		t.Fatal(err)
	}
	lo := insertlogging.DefaultOptions()
	lo.Ops, lo.Message, lo.Summarize = []string{"Relu"}, "__KL:", -1
	logged, r, err := insertlogging.Insert(&g, lo)
	if err != nil || len(r.Logged) != 1 {
		t.Fatalf("logging act: %v, logged %v", err, r)
	}
	return Options{
		Input:   "x",
		Calib:   Data{Path: img, Opt: dataset.Options{BatchSize: 64, Preprocess: dataset.Preprocess{Scale: 1.0 / 255}}},
		Batches: batches,
	}, logged
}

// readLog returns a read function for calibrate that parses the log as Run
// does (every default strategy: kl reads it twice) and keeps a copy of its
// bytes and its path.
func readLog(t testing.TB, copyTo *bytes.Buffer, path *string) func(string) error {
	methods, err := calib.ParseMethods(DefaultStrategies, 5, 5)
	if err != nil {
		t.Fatal(err)
	}
	return func(log string) error {
		*path = log
		if copyTo != nil {
			b, err := os.ReadFile(log)
			if err != nil {
				return err
			}
			copyTo.Write(b)
		}
		cal, err := calib.Read([]string{log}, calib.Options{Methods: methods, Bad: calib.FailBad})
		if err != nil {
			return err
		}
		if h := cal.Hist.Node(calib.MapName("act")); h == nil || h.Count() == 0 {
			return errors.New("no values of act in the log")
		}
		return nil
	}
}

// bufferedLog is the log as tune kept it before it streamed it: the whole
// calibration written to memory.
func bufferedLog(t *testing.T, opt Options, logged *tfpb.GraphDef) []byte {
	t.Helper()
	gr, err := exec.New(logged, "logged")
	if err != nil {
		t.Fatal(err)
	}
	src, err := dataset.Open(opt.Calib.Path, opt.Calib.Opt)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var log bytes.Buffer
	if _, _, err := evaluate.Calibrate(gr, src, evaluate.CalibrateOptions{Input: opt.Input, Batches: opt.Batches, Log: &log}); err != nil {
		t.Fatal(err)
	}
	return log.Bytes()
}

// cacheFiles lists the cache folder (nil when it does not exist).
func cacheFiles(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

// TestTuneCalibrateCache: the log calibrate writes to disk is byte for byte the
// one tune used to hold in memory; it is cached when it fits the limit and
// reused then, and not cached (nothing left behind) when it does not.
func TestTuneCalibrateCache(t *testing.T) {
	opt, logged := synthCalib(t, 192, 3)
	want := bufferedLog(t, opt, logged)
	// 3 batches of 64×1024 values of k/255 as float32 (TF's %.6g, or %.9g
	// when that does not read back, as for most of them): 1 to 12 bytes
	// each with its brackets, so 2–2.5 MiB.
	if len(want) < 2<<20 || len(want) > 5<<19 {
		t.Fatalf("fixture log of %d bytes, want 2–2.5 MiB", len(want))
	}
	opt.CacheDir = filepath.Join(t.TempDir(), "cache")
	var notes []string
	note := func(s string) { notes = append(notes, s) }
	const key = "calib-0123456789abcdef"

	// Over the limit: read sees the whole log, the cache keeps nothing.
	opt.CacheMax = int64(len(want)) - 1
	var got bytes.Buffer
	var path string
	res := &Result{}
	if err := opt.calibrate(logged, key, res, note, readLog(t, &got, &path)); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Errorf("streamed log (%d bytes) differs from the buffered one (%d bytes)", got.Len(), len(want))
	}
	if files := cacheFiles(t, opt.CacheDir); len(files) != 0 {
		t.Errorf("a log over the limit left %v in the cache", files)
	}
	if len(notes) != 2 || !strings.Contains(notes[1], "not cached") {
		t.Errorf("notes %q, want the calibration and why the log was not cached", notes)
	}

	// Within the limit: cached under its key, the same bytes.
	opt.CacheMax = int64(len(want))
	got.Reset()
	if err := opt.calibrate(logged, key, res, note, readLog(t, &got, &path)); err != nil {
		t.Fatal(err)
	}
	entry := filepath.Join(opt.CacheDir, key+".log")
	if files := cacheFiles(t, opt.CacheDir); len(files) != 1 || files[0] != key+".log" {
		t.Fatalf("cache holds %v, want only %s.log", files, key)
	}
	if b, _ := os.ReadFile(entry); !bytes.Equal(b, want) || !bytes.Equal(got.Bytes(), want) {
		t.Error("cached or read log differs from the buffered one")
	}
	if len(res.Cached) != 0 {
		t.Errorf("cached %v on a fresh calibration", res.Cached)
	}

	// A rerun reads the cached entry and marks it used.
	old := time.Now().Add(-time.Hour)
	os.Chtimes(entry, old, old)
	got.Reset()
	if err := opt.calibrate(logged, key, res, note, readLog(t, &got, &path)); err != nil {
		t.Fatal(err)
	}
	if path != entry || len(res.Cached) != 1 || res.Cached[0] != "calibration log" {
		t.Errorf("rerun read %s, cached %v; want %s reused", path, res.Cached, entry)
	}
	if fi, err := os.Stat(entry); err != nil || !fi.ModTime().After(old.Add(time.Minute)) {
		t.Errorf("reused entry's time not renewed: %v %v", fi.ModTime(), err)
	}
}

// TestTuneCalibrateCleansUp: whatever happens, the only file calibrate leaves
// is a committed cache entry: without a cache its temporary log is gone
// after a success and after a failure of read, and a failure leaves the
// cache folder empty.
func TestTuneCalibrateCleansUp(t *testing.T) {
	opt, logged := synthCalib(t, 64, 1)
	boom := errors.New("boom")
	for _, c := range []struct {
		name  string
		cache bool
		err   error
	}{{"no cache, read ok", false, nil}, {"no cache, read fails", false, boom}, {"cache, read fails", true, boom}} {
		o := opt
		if c.cache {
			o.CacheDir = t.TempDir()
		}
		var path string
		err := o.calibrate(logged, "calib-k", &Result{}, func(string) {}, func(log string) error {
			path = log
			if _, err := os.Stat(log); err != nil {
				t.Errorf("%s: read was given %s: %v", c.name, log, err)
			}
			return c.err
		})
		if !errors.Is(err, c.err) {
			t.Errorf("%s: error %v, want %v", c.name, err, c.err)
		}
		if _, err := os.Stat(path); !os.IsNotExist(err) {
			t.Errorf("%s: %s left behind (%v)", c.name, path, err)
		}
		if c.cache {
			if files := cacheFiles(t, o.CacheDir); len(files) != 0 {
				t.Errorf("%s: cache holds %v", c.name, files)
			}
		}
	}
	// A calibration that fails (the input is not in the graph) leaves
	// nothing either, and read is not called.
	o := opt
	o.CacheDir, o.Input = t.TempDir(), "nosuch"
	err := o.calibrate(logged, "calib-k", &Result{}, func(string) {}, func(string) error {
		t.Error("read called after a failed calibration")
		return nil
	})
	if err == nil {
		t.Error("calibration with a missing input succeeded")
	}
	if files := cacheFiles(t, o.CacheDir); len(files) != 0 {
		t.Errorf("failed calibration left %v", files)
	}
}

// TestTuneCalibrateMemoryBounded: a calibration whose log is over 64 MiB
// (from a 5.4 MB data set), written and then parsed with every default
// strategy, never has more than 32 MiB of heap in use. Tune used to hold
// the whole log in a bytes.Buffer (at least 64 MiB then). Heap use is
// sampled every millisecond and once more while read runs, when the old
// code held the whole log: a missed peak can only let the test pass, never
// fail it.
func TestTuneCalibrateMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: writes and parses a 70 MB log")
	}
	// 85 batches of 64×1024 values, about 12.5 bytes a value
	// (TestTuneCalibrateCache): 66 MiB.
	opt, logged := synthCalib(t, 85*64, 85)
	// Less garbage between collections, so that the peak measures what is
	// held rather than when the collector ran (12–16 MiB measured).
	defer debug.SetGCPercent(debug.SetGCPercent(50))
	var peak uint64
	var mu sync.Mutex
	sample := func() {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		mu.Lock()
		peak = max(peak, ms.HeapInuse)
		mu.Unlock()
	}
	runtime.GC()
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				sample()
			}
		}
	}()
	var path string
	var size int64
	parse := readLog(t, nil, &path)
	err := opt.calibrate(logged, "calib-k", &Result{}, func(string) {}, func(log string) error {
		sample()
		fi, err := os.Stat(log)
		if err != nil {
			return err
		}
		size = fi.Size()
		return parse(log)
	})
	close(stop)
	<-done
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("log %.1f MiB, peak heap in use %.1f MiB", float64(size)/(1<<20), float64(peak)/(1<<20))
	if size < 64<<20 {
		t.Fatalf("log of %d bytes: the fixture must be over 64 MiB to mean anything", size)
	}
	if peak > 32<<20 {
		t.Errorf("peak heap in use %.1f MiB for a %.1f MiB log, want at most 32 MiB", float64(peak)/(1<<20), float64(size)/(1<<20))
	}
}

// BenchmarkCalibrateLog runs tune's calibration path on the synthetic
// graph: 8 batches of 64×1024 logged values written to a temporary file
// (about 6.6 MB) and parsed with every default strategy (kl reads the file
// twice). SetBytes is the log's size, so MB/s is log bytes a second.
func BenchmarkCalibrateLog(b *testing.B) {
	opt, logged := synthCalib(b, 8*64, 8)
	var path string
	parse := readLog(b, nil, &path)
	var size int64
	read := func(log string) error {
		fi, err := os.Stat(log)
		if err != nil {
			return err
		}
		size = fi.Size()
		return parse(log)
	}
	if err := opt.calibrate(logged, "calib-k", &Result{}, func(string) {}, read); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		if err := opt.calibrate(logged, "calib-k", &Result{}, func(string) {}, read); err != nil {
			b.Fatal(err)
		}
	}
}
