package stats_test

import (
	"fmt"

	"qcal/stats"
)

func ExampleHistogram() {
	h := stats.NewHistogram()
	// Values arrive in chunks (one tensor of a `__KL:` line, say); the
	// histogram keeps none of them.
	h.AddSlice([]float32{0.5, 1.5, -0.25})
	h.AddSlice([]float32{3, 0})
	fmt.Println("T:", h.T(), "bin width:", h.BinWidth())
	fmt.Println("count:", h.Count(), "sum:", h.Sum(), "min:", h.Min(), "max:", h.Max())
	for j, c := range h.Counts() {
		if c != 0 {
			fmt.Printf("bin %d [%g, %g): %d\n", j, h.Edges()[j], h.Edges()[j+1], c)
		}
	}
	// Output:
	// T: 4 bin width: 0.00390625
	// count: 5 sum: 4.75 min: -0.25 max: 3
	// bin 960 [-0.25, -0.24609375): 1
	// bin 1024 [0, 0.00390625): 1
	// bin 1152 [0.5, 0.50390625): 1
	// bin 1408 [1.5, 1.50390625): 1
	// bin 1792 [3, 3.00390625): 1
}

func ExampleHistogram_Merge() {
	// Two workers histogram halves of one stream; merged, they equal the
	// histogram of the whole stream, bin for bin.
	a, b, whole := stats.NewHistogram(), stats.NewHistogram(), stats.NewHistogram()
	values := []float32{0.1, 7, -2, 0.3, 100, -0.5}
	a.AddSlice(values[:3])
	b.AddSlice(values[3:])
	whole.AddSlice(values)
	a.Merge(b)
	same := a.T() == whole.T() && a.Sum() == whole.Sum()
	for j, c := range a.Counts() {
		same = same && c == whole.Counts()[j]
	}
	fmt.Println("T:", a.T(), "same:", same)
	// Output:
	// T: 128 same: true
}

func ExampleParseHistStrategy() {
	h := stats.NewHistogram()
	for i := range 1000 {
		h.Add(float32(i%100) / 10) // 0, 0.1, ..., 9.9, ten times over
	}
	h.Add(500) // one outlier
	for _, spec := range []string{"kl", "vpercentile:99.9", "vpercentile:100"} {
		s, err := stats.ParseHistStrategy(spec)
		if err != nil {
			fmt.Println(err)
			return
		}
		lo, hi := s.Range(h)
		fmt.Printf("%s: [%.3g, %.3g]\n", s.Name(), lo, hi)
	}
	fmt.Println(stats.IsHistStrategy("kl"), stats.IsHistStrategy("percentile:99"))
	// The bins are 0.5 wide here (T = 512). KL drops the outlier and ends at
	// the center of the bin [9.5, 10). The value percentiles spread each
	// bin's count evenly over it, so they are exact to a bin: the 99.9th
	// (rank 999.999 of 1001) falls at the top of [9.5, 10), where the true
	// value is 9.9.
	// Output:
	// kl: [0, 9.75]
	// vpercentile:99.9: [0.01, 10]
	// vpercentile:100: [0, 500]
	// true false
}
