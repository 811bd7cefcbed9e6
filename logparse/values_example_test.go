package logparse_test

import (
	"fmt"
	"strings"

	"qcal/logparse"
)

// Tensors logged with `qcal insert-logging -op Conv2D -message "__KL:"
// -summarize -1` arrive as Values records, chunk by chunk, next to the
// range records of the same log.
func ExampleReader_values() {
	log := ";conv1__print__;__KL:[[0.5 -1.25][3 nan]]\n" +
		";conv1_eightbit_requant_range__print__;__requant_min_max:[-5.75][3.43]\n" +
		";conv2__print__;__KL:[1 2 3...]\r\n" +
		";q__print__;__KL:[-3 0 127 2147483647][-1.5][2.25]\n" +
		";conv3__print__;__KL:[0.5 1x]\n"

	r := logparse.NewReader(strings.NewReader(log), "kl.log")
	r.Values = []string{"__KL:"}
	for r.Scan() {
		if err := r.SyntaxError(); err != nil {
			fmt.Println("error:", err)
			continue
		}
		rec := r.Record()
		switch {
		case rec.Kind != logparse.Values:
			fmt.Printf("line %d: %s %s [%g, %g]\n", rec.Line, rec.Kind, rec.Node, rec.Min, rec.Max)
		case rec.Values64 != nil:
			fmt.Printf("line %d: %s %s output %d: exact %v last=%v truncated=%v\n",
				rec.Line, rec.Msg, rec.Node, rec.Output, rec.Values64, rec.Last, rec.Truncated)
		default:
			fmt.Printf("line %d: %s %s output %d: %v last=%v truncated=%v bad=%v\n",
				rec.Line, rec.Msg, rec.Node, rec.Output, rec.Values, rec.Last, rec.Truncated, rec.Bad)
		}
	}
	c := r.Counts()
	fmt.Printf("%d tensors, %d values, %d non-finite, %d malformed\n", c.ValueRecords, c.Values, c.NonFinite, c.Malformed)
	fmt.Println(c.TruncationWarning())
	// Output:
	// line 1: __KL: conv1 output 0: [0.5 -1.25 3 NaN] last=true truncated=false bad=false
	// line 2: __requant_min_max conv1_eightbit_requant_range [-5.75, 3.43]
	// line 3: __KL: conv2 output 0: exact [1 2 3] last=true truncated=true
	// line 4: __KL: q output 0: exact [-3 0 127 2.147483647e+09] last=true truncated=false
	// line 4: __KL: q output 1: [-1.5] last=true truncated=false bad=false
	// line 4: __KL: q output 2: [2.25] last=true truncated=false bad=false
	// line 5: __KL: conv3 output 0: [0.5] last=true truncated=false bad=true
	// error: kl.log:5: bad value "1x" in "__KL:" tensor 0 for node "conv3"
	// 6 tensors, 14 values, 1 non-finite, 1 malformed
	// 1 tensor(s) truncated by the Print op's summarize limit; log with -summarize -1
}
