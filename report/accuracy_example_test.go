package report_test

import (
	"fmt"
	"strings"

	"qcal/report"
)

func ExampleExtractAccuracy() {
	log := "Iteration 498: 0.021 sec\n" +
		"Processed 49800 images. (Top1 accuracy, Top5 accuracy) = (0.7386, 0.9168)\n"
	acc, err := report.ExtractAccuracy(strings.NewReader(log), "int8.log", report.ExtractOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s = %.2f%% of %d images (line %d), top5 = %.2f%%\n", acc.Metric, acc.Value(), acc.Samples, acc.Line, acc.Metrics["top5"])
	// Output: top1 = 73.86% of 49800 images (line 2), top5 = 91.68%
}

func ExampleCompare() {
	fp32 := report.Source{Name: "fp32", File: "fp32.log", R: strings.NewReader("Accuracy: 0.7612\n")}
	int8 := []report.Source{
		{Name: "kl", File: "kl.log", R: strings.NewReader("Accuracy: 0.7562\n")},
		{Name: "minmax", File: "minmax.log", R: strings.NewReader("Accuracy: 0.7466\n")},
	}
	c, err := report.Compare(fp32, int8, report.Options{Target: report.DefaultTarget})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, m := range c.Candidates {
		fmt.Println(c.Line(m))
	}
	// Output:
	// PASS kl: accuracy 75.62 vs FP32 76.12, drop 0.50 points ≤ 0.50
	// FAIL minmax: accuracy 74.66 vs FP32 76.12, drop 1.46 points > 1.00 limit
}

func ExampleMcNemarExact() {
	// 15 images FP32 got right and int8 wrong, 5 the other way round.
	fmt.Printf("p = %.5f\n", report.McNemarExact(15, 5))
	// Output: p = 0.04139
}

func ExampleWilson() {
	ci := report.Wilson(80, 100, 1.959963984540054)
	fmt.Printf("[%.4f, %.4f]\n", ci.Lo, ci.Hi)
	// Output: [0.7112, 0.8666]
}
