package logparse

import (
	"bytes"
	"io"
	"runtime"
	"testing"
)

// synthLog is an io.Reader producing a log on the fly: head, then body
// repeated until n bytes of body have been produced (the last repetition
// cut short), then tail. It never holds the log in memory.
type synthLog struct {
	head, body, tail []byte
	n                int64 // body bytes still to produce
	off              int   // position in the current piece
	stage            int
}

func (s *synthLog) Read(p []byte) (int, error) {
	total := 0
	for len(p) > 0 {
		var piece []byte
		switch s.stage {
		case 0:
			piece = s.head[s.off:]
		case 1:
			piece = s.body[s.off:]
			if int64(len(piece)) > s.n {
				piece = piece[:s.n]
			}
		case 2:
			piece = s.tail[s.off:]
		default:
			if total == 0 {
				return 0, io.EOF
			}
			return total, nil
		}
		if len(piece) == 0 {
			s.off = 0
			if s.stage != 1 || s.n == 0 {
				s.stage++
			}
			continue
		}
		k := copy(p, piece)
		p, total, s.off = p[k:], total+k, s.off+k
		if s.stage == 1 {
			s.n -= int64(k)
		}
	}
	return total, nil
}

type memWatch struct {
	base, maxAlloc uint64
	mallocs        uint64
}

func startWatch() *memWatch {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return &memWatch{base: ms.HeapAlloc, maxAlloc: ms.HeapAlloc, mallocs: ms.Mallocs}
}

func (w *memWatch) sample() {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	w.maxAlloc = max(w.maxAlloc, ms.HeapAlloc)
}

// TestMemoryFlatLongLog streams a 300 MB log through the Reader: the heap
// must not grow with the log, and records must not allocate.
func TestMemoryFlatLongLog(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 300 MB")
	}
	body := genNoisy(1<<20, 11) // ends with '\n'; about 6000 records
	_, per, _ := readAll(t, body, readerOpts{})
	const size = 300 << 20
	reps := int64(size / len(body))
	src := &synthLog{body: body, n: reps * int64(len(body))}

	w := startWatch()
	rd := NewReader(src, "synth.log")
	var n int64
	for rd.Scan() {
		if n++; n%200000 == 0 {
			w.sample()
		}
	}
	w.sample()
	c := rd.Counts()
	if rd.Err() != nil || c.Records != reps*per.Records || c.Lines != reps*per.Lines || c.Bytes != reps*int64(len(body)) {
		t.Fatalf("counts %+v (err %v), want %d × %+v", c, rd.Err(), reps, per)
	}
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	runtime.KeepAlive(rd)
	t.Logf("%d MB, %d records: heap in use %d KiB after GC, max heap growth %d KiB, %d mallocs",
		c.Bytes>>20, c.Records, ms.HeapInuse>>10, (w.maxAlloc-w.base)>>10, ms.Mallocs-w.mallocs)
	if ms.HeapInuse > 32<<20 {
		t.Errorf("heap in use %d MiB after GC, want < 32 MiB", ms.HeapInuse>>20)
	}
	if w.maxAlloc-w.base > 32<<20 {
		t.Errorf("heap grew by %d MiB while reading, want < 32 MiB", (w.maxAlloc-w.base)>>20)
	}
	if m := ms.Mallocs - w.mallocs; m > 2000 { // buffers, names, map: not per record
		t.Errorf("%d allocations for %d records", m, c.Records)
	}
}

// TestMemoryFlatLongLine reads a 200 MB single line with a record at its
// end, in both modes, and one without any ';' (the record's name is then
// the whole line: too long, reported, not buffered).
func TestMemoryFlatLongLine(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 200 MB lines")
	}
	noise := bytes.Repeat([]byte("progress 42% [=====>     ] eta 1s\r"), 1<<10)
	for _, c := range []struct {
		name string
		tail string
		tf   bool
		want []item
	}{
		{"record", ";n__print__;__requant_min_max:[1][2]\nend\n", false, []item{rq(2, "n", 1, 2)}},
		{"record TFCompat", ";n__print__;__requant_min_max:[1][2]\nend\n", true, []item{rq(2, "n", 1, 2)}},
		{"no semicolon", "n__print__;__requant_min_max:[1][2]\nend\n", false,
			[]item{serr(2, "node name longer than 65536 bytes in __requant_min_max record")}},
	} {
		t.Run(c.name, func(t *testing.T) {
			src := &synthLog{head: []byte("start\n"), body: noise, n: 200 << 20, tail: []byte(c.tail)}
			w := startWatch()
			got, counts, err := collect(t, newTestReader(src, "line.log", readerOpts{tf: c.tf}))
			w.sample()
			if wantBytes := int64(len("start\n") + 200<<20 + len(c.tail)); counts.Bytes != wantBytes {
				t.Fatalf("read %d bytes, want %d", counts.Bytes, wantBytes)
			}
			if err != nil || diffItems(got, c.want) != "" || counts.Lines != 3 {
				t.Fatalf("got %v %+v %v", got, counts, err)
			}
			var ms runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > 32<<20 || w.maxAlloc-w.base > 32<<20 {
				t.Errorf("heap in use %d MiB, growth %d MiB; want < 32 MiB", ms.HeapInuse>>20, (w.maxAlloc-w.base)>>20)
			}
		})
	}
}
