package logparse

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"testing"
)

// realLogDir is the shared folder of real calibration logs, relative to
// this package's directory (the module root is ..).
const realLogDir = "../../shared/realdata/calib_logs"

func realLogFiles(tb testing.TB) []string {
	tb.Helper()
	if _, err := os.Stat(realLogDir); err != nil {
		tb.Skipf("real logs folder %s is absent (%v); skipping", realLogDir, err)
	}
	files, err := filepath.Glob(filepath.Join(realLogDir, "*.txt"))
	if err != nil || len(files) == 0 {
		tb.Fatalf("no *.txt logs in %s: %v", realLogDir, err)
	}
	sort.Strings(files)
	return files
}

// noisyNames are long eightbit node names like those of Intel's graphs.
var noisyNames = func() []string {
	var names []string
	for b := 1; b <= 4; b++ {
		for u := 1; u <= 6; u++ {
			for c := 1; c <= 6; c++ {
				names = append(names, fmt.Sprintf(
					"resnet_model/block%d/unit_%d/bottleneck_v1/conv%d/Conv2D_eightbit_requant_range", b, u, c))
			}
		}
	}
	return names
}()

var noiseLines = []string{
	"2019-03-12 16:31:29.964490: I tensorflow/core/common_runtime/process_util.cc:71] Creating new thread pool with default inter op setting: 2. Tune using inter_op_parallelism_threads for best performance.",
	"OMP: Info #250: KMP_AFFINITY: pid 1234 tid 5678 thread 12 bound to OS proc set 12",
	"I0108 10:22:14.123 12345 logging_ops.cc:79] Processed 49800 images. (Top1 accuracy, Top5 accuracy) = (0.7386, 0.9168)",
	"WARNING:tensorflow:From /usr/lib/python3/site-packages/tensorflow/python/util/deprecation.py:323: calling ...; use tf.compat.v1",
	"   KMP_BLOCKTIME=0",
	"Iteration 12: 0.045 sec",
	"",
}

// tfFloat formats v the way TF's Print does: %.6g, or %.9g when 6 digits
// do not round-trip.
func tfFloat(v float32) string {
	s := strconv.FormatFloat(float64(v), 'g', 6, 32)
	if f, _ := strconv.ParseFloat(s, 32); float32(f) != v {
		s = strconv.FormatFloat(float64(v), 'g', 9, 32)
	}
	return s
}

// genNoisy builds about size bytes of a realistic calibration log: ~70%
// record lines of ~140 bytes, glog/KMP noise, some joined lines, CRLF
// now and then, and a 100 KiB progress line every ~4 MiB.
func genNoisy(size int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, 7))
	var b bytes.Buffer
	b.Grow(size + 200<<10)
	// Print ops log in graph order every step, shuffled a little by
	// concurrency (the real logs' next-name repeat rate is 0.41-0.90).
	k := 0
	record := func() {
		name := noisyNames[k%len(noisyNames)]
		if rng.IntN(5) == 0 {
			name = noisyNames[rng.IntN(len(noisyNames))]
		} else {
			k++
		}
		lo := -float32(rng.ExpFloat64() * 5)
		if rng.IntN(3) == 0 {
			lo = 0
		}
		hi := float32(rng.ExpFloat64() * 10)
		b.WriteByte(';')
		b.WriteString(name)
		b.WriteString("__print__;__requant_min_max:[")
		b.WriteString(tfFloat(lo))
		b.WriteString("][")
		b.WriteString(tfFloat(hi))
		b.WriteByte(']')
	}
	next100k := 4 << 20
	for b.Len() < size {
		switch r := rng.IntN(100); {
		case r < 70:
			record()
			if rng.IntN(50) == 0 {
				record() // joined line
			}
		case r < 98:
			b.WriteString(noiseLines[rng.IntN(len(noiseLines))])
		default:
			b.WriteString("progress: ")
			for range 20 {
				b.WriteString("=")
				b.WriteString("\r")
			}
		}
		if rng.IntN(20) == 0 {
			b.WriteByte('\r')
		}
		b.WriteByte('\n')
		if b.Len() > next100k {
			next100k += 4 << 20
			for b.Len() < next100k-(4<<20)+100<<10 {
				b.WriteString("(Reading database ... 45%\r")
			}
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}

var (
	noisyOnce sync.Once
	noisyData []byte
	noisyGz   []byte
)

func noisy64M() []byte {
	noisyOnce.Do(func() { noisyData = genNoisy(64<<20, 1) })
	return noisyData
}

var gzOnce sync.Once

func noisyGzip() []byte {
	gzOnce.Do(func() {
		var z bytes.Buffer
		zw := gzip.NewWriter(&z)
		zw.Write(noisy64M())
		zw.Close()
		noisyGz = z.Bytes()
	})
	return noisyGz
}

func benchRead(b *testing.B, data []byte, tf bool) {
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	var c Counts
	for b.Loop() {
		rd := NewReader(bytes.NewReader(data), "bench.log")
		rd.TFCompat = tf
		for rd.Scan() {
		}
		if err := rd.Err(); err != nil {
			b.Fatal(err)
		}
		c = rd.Counts()
	}
	b.ReportMetric(float64(c.Records), "records/op")
}

func BenchmarkReaderRealLogs(b *testing.B) {
	var all []byte
	for _, f := range realLogFiles(b) {
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		all = append(all, data...)
	}
	benchRead(b, all, false)
}

func BenchmarkReaderNoisy(b *testing.B) {
	benchRead(b, noisy64M(), false)
}

func BenchmarkReaderNoisyTFCompat(b *testing.B) {
	benchRead(b, noisy64M(), true)
}

func BenchmarkReaderGzip(b *testing.B) {
	z := noisyGzip()
	b.SetBytes(int64(len(noisy64M()))) // MB/s of log text, as for the others
	b.ReportAllocs()
	for b.Loop() {
		rd := NewReader(bytes.NewReader(z), "bench.log.gz")
		for rd.Scan() {
		}
		if err := rd.Err(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReaderBlockSize shows the effect of the read size.
func BenchmarkReaderBlockSize(b *testing.B) {
	data := noisy64M()
	for _, async := range []int8{-1, 1} {
		for _, bs := range []int{64 << 10, 128 << 10, 256 << 10, 512 << 10, 1 << 20, 4 << 20} {
			b.Run(fmt.Sprintf("%dKiB/async=%v", bs>>10, async > 0), func(b *testing.B) {
				b.SetBytes(int64(len(data)))
				b.ReportAllocs()
				for b.Loop() {
					rd := newTestReader(bytes.NewReader(data), "bench.log", readerOpts{block: bs})
					rd.async = async
					for rd.Scan() {
					}
				}
			})
		}
	}
}

// TestNoisyGenerator checks the benchmark input is what it claims to be.
func TestNoisyGenerator(t *testing.T) {
	data := genNoisy(4<<20, 3)
	_, c, err := readAll(t, data, readerOpts{})
	if err != nil {
		t.Fatal(err)
	}
	frac := float64(c.RecordLines) / float64(c.Lines)
	if c.JoinedLines == 0 || c.Malformed != 0 || frac < 0.6 || frac > 0.75 || math.Abs(float64(len(data))/float64(c.Lines)-130) > 40 {
		t.Errorf("generator mix off: %+v (record-line fraction %.2f, %.0f bytes/line)", c, frac, float64(len(data))/float64(c.Lines))
	}
	checkAgainstReference(t, data, readerOpts{})
}

// BenchmarkReaderFile reads the noisy log from a file (in the page cache
// after the first pass) through Open, at several block sizes, reading ahead
// in a goroutine or not.
func BenchmarkReaderFile(b *testing.B) {
	path := filepath.Join(b.TempDir(), "noisy.log")
	if err := os.WriteFile(path, noisy64M(), 0o644); err != nil {
		b.Fatal(err)
	}
	for _, async := range []int8{-1, 1} {
		for _, bs := range []int{256 << 10, 1 << 20} {
			b.Run(fmt.Sprintf("%dKiB/async=%v", bs>>10, async > 0), func(b *testing.B) {
				b.SetBytes(int64(len(noisy64M())))
				b.ReportAllocs()
				for b.Loop() {
					rd, err := Open(path)
					if err != nil {
						b.Fatal(err)
					}
					rd.blockSize, rd.async = bs, async
					for rd.Scan() {
					}
					if err := rd.Close(); err != nil || rd.Err() != nil {
						b.Fatal(err, rd.Err())
					}
				}
			})
		}
	}
}

// BenchmarkReaderPrefetch compares reading ahead in a goroutine (the
// default for blocks of 64 KiB and more on more than one CPU) with reading
// in the parsing goroutine.
func BenchmarkReaderPrefetch(b *testing.B) {
	for _, in := range []struct {
		name string
		data func() []byte
	}{{"plain", noisy64M}, {"gzip", noisyGzip}} {
		for _, mode := range []struct {
			name  string
			async int8
		}{{"sync", -1}, {"async", 1}} {
			b.Run(in.name+"/"+mode.name, func(b *testing.B) {
				data := in.data()
				b.SetBytes(int64(len(noisy64M())))
				b.ReportAllocs()
				for b.Loop() {
					rd := NewReader(bytes.NewReader(data), "bench.log")
					rd.async = mode.async
					for rd.Scan() {
					}
				}
			})
		}
	}
}
