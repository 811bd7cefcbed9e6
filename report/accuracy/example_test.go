package accuracy_test

import (
	"fmt"
	"strings"

	"qcal/report/accuracy"
)

func ExampleExtract() {
	log := "Iteration 498: 0.021 sec\n" +
		"Processed 49800 images. (Top1 accuracy, Top5 accuracy) = (0.7386, 0.9168)\n"
	acc, err := accuracy.Extract(strings.NewReader(log), "int8.log", accuracy.ExtractOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s = %.2f%% of %d images (line %d), top5 = %.2f%%\n", acc.Metric, acc.Value(), acc.Samples, acc.Line, acc.Metrics["top5"])
	// Output: top1 = 73.86% of 49800 images (line 2), top5 = 91.68%
}

func ExampleCompare() {
	fp32 := accuracy.Source{Name: "fp32", File: "fp32.log", R: strings.NewReader("Accuracy: 0.7612\n")}
	int8 := []accuracy.Source{
		{Name: "kl", File: "kl.log", R: strings.NewReader("Accuracy: 0.7562\n")},
		{Name: "minmax", File: "minmax.log", R: strings.NewReader("Accuracy: 0.7466\n")},
	}
	c, err := accuracy.Compare(fp32, int8, accuracy.Options{Target: accuracy.DefaultTarget})
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
