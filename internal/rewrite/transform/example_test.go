package transform_test

import (
	"fmt"

	"qcal/internal/rewrite/transform"
)

func ExampleParse() {
	steps, err := transform.Parse(`strip_unused_nodes(type=float, shape="1,28,28,1") remove_nodes(op=Identity, op=CheckNumerics) fold_old_batch_norms`)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range steps {
		fmt.Println(s.Name, s.Args)
	}
	fmt.Println(transform.Check(steps))
	// Output:
	// strip_unused_nodes [{type float} {shape 1,28,28,1}]
	// remove_nodes [{op Identity} {op CheckNumerics}]
	// fold_old_batch_norms []
	// <nil>
}
