package logparse_test

import (
	"fmt"
	"strings"

	"qcal/logparse"
)

func ExampleReader() {
	log := "I0108 10:22:14.123 12345 logging_ops.cc:79] ;conv1_eightbit_requant_range__print__;__requant_min_max:[-5.75943518][3.43590856]\n" +
		"KMP_BLOCKTIME=0\n" +
		";conv2__print__;__requant_min_max:[0][6.29];conv3__print__;__requant_min_max:[0][3.73]\r\n" +
		";conv4__print__;__requant_min_max:[1.5][abc]\n" +
		";mul__print__;__max:[nan]\n"

	r := logparse.NewReader(strings.NewReader(log), "calib.log")
	for r.Scan() {
		if err := r.SyntaxError(); err != nil {
			fmt.Println("skipped:", err)
			continue
		}
		rec := r.Record()
		fmt.Printf("line %d: %s %s [%g, %g]\n", rec.Line, rec.Kind, rec.Node, rec.Min, rec.Max)
	}
	if err := r.Err(); err != nil {
		fmt.Println(err)
	}
	c := r.Counts()
	fmt.Printf("%d records on %d of %d lines (%d joined), %d malformed, %d not finite\n",
		c.Records, c.RecordLines, c.Lines, c.JoinedLines, c.Malformed, c.NonFinite)
	// Output:
	// line 1: __requant_min_max conv1_eightbit_requant_range [-5.759435, 3.4359086]
	// line 3: __requant_min_max conv2 [0, 6.29]
	// line 3: __requant_min_max conv3 [0, 3.73]
	// skipped: calib.log:4: bad max value "abc" in __requant_min_max record for node "conv4"
	// line 5: __max mul [0, NaN]
	// 4 records on 3 of 5 lines (1 joined), 1 malformed, 1 not finite
}
