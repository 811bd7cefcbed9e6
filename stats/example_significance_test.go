package stats_test

import (
	"fmt"

	"qcal/stats"
)

func ExampleMcNemarExact() {
	// 15 images FP32 got right and int8 wrong, 5 the other way round.
	fmt.Printf("p = %.5f\n", stats.McNemarExact(15, 5))
	// Output: p = 0.04139
}

func ExampleWilson() {
	ci := stats.Wilson(80, 100, 1.959963984540054)
	fmt.Printf("[%.4f, %.4f]\n", ci.Lo, ci.Hi)
	// Output: [0.7112, 0.8666]
}
