package stats

import (
	"fmt"
	"runtime"
	"testing"
)

// TestAccumulatorMemoryPerNode holds 10^5 distinct nodes of three min/max
// records each (the shape of the log whose million names took 17.8 GB when
// every node's first record allocated a 4 KiB block per series) and checks
// the heap they keep and the bytes allocated on the way against the bound
// Accumulator's doc states: 8 bytes a record plus nodeOverhead bytes a
// node, names excluded.
func TestAccumulatorMemoryPerNode(t *testing.T) {
	const nodes, records = 100_000, 3
	names := make([]string, nodes)
	for i := range names {
		names[i] = fmt.Sprintf("layer%06d/conv_eightbit_requant_range", i)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	a := NewAccumulator()
	for r := range records {
		for i, name := range names {
			if err := a.Add(name, Both, float32(-r), float32(i), "x.log", int64(r*nodes+i+1)); err != nil {
				t.Fatal(err)
			}
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	kept := float64(after.HeapAlloc-before.HeapAlloc) / nodes
	allocated := float64(after.TotalAlloc-before.TotalAlloc) / nodes
	runtime.KeepAlive(a)
	// The bound: 8 bytes a record and nodeOverhead a node. The old blocks
	// cost 8 KiB a node, 20 times the bound.
	bound := float64(records*8 + nodeOverhead)
	t.Logf("%d nodes × %d records: %.0f bytes kept a node, %.0f allocated (bound %.0f)", nodes, records, kept, allocated, bound)
	if kept > bound {
		t.Errorf("%.0f bytes kept a node, want at most %.0f (8 a record + %d a node)", kept, bound, nodeOverhead)
	}
	// Growth of the map, the order slice and the first blocks allocates
	// garbage too, but at most as much again.
	if allocated > 2*bound {
		t.Errorf("%.0f bytes allocated a node, want at most %.0f", allocated, 2*bound)
	}
	if n := a.Node(names[nodes-1]); n.Count() != records || n.Maxs()[2] != nodes-1 {
		t.Errorf("last node holds %d records, maxs %v; want 3 with max %d", n.Count(), n.Maxs(), nodes-1)
	}
}

// TestSeriesAcrossBlocks checks the growing first block and the full
// blocks after it against a plain slice, at the lengths where the layout
// changes (the first block's doublings, its end at blockLen, later blocks).
func TestSeriesAcrossBlocks(t *testing.T) {
	for _, n := range []int{0, 1, firstLen, firstLen + 1, 100, blockLen - 1, blockLen, blockLen + 1, 3*blockLen + 7} {
		var s series
		var want []float32
		for i := range n {
			v := float32(i)*0.5 - 3
			s.add(v)
			want = append(want, v)
		}
		got := s.appendTo(nil)
		if s.len() != n || len(got) != n {
			t.Fatalf("n=%d: len %d, appendTo %d values", n, s.len(), len(got))
		}
		for i := range want {
			if got[i] != want[i] || s.at(i) != want[i] {
				t.Fatalf("n=%d: value %d is %v (at %v), want %v", n, i, got[i], s.at(i), want[i])
			}
		}
		for b := 0; b+1 < len(s.blocks); b++ {
			if len(s.blocks[b]) != blockLen {
				t.Errorf("n=%d: block %d holds %d values, want a full %d", n, b, len(s.blocks[b]), blockLen)
			}
		}
		// refill with the reversed values reuses the blocks and gives them back.
		s.refill(n, func(i int) float32 { return want[n-1-i] })
		for i := range n {
			if s.at(i) != want[n-1-i] {
				t.Fatalf("n=%d: after refill value %d is %v, want %v", n, i, s.at(i), want[n-1-i])
			}
		}
	}
}
