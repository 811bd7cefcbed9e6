package insertlogging_test

import (
	"fmt"

	"qcal/internal/rewrite/insertlogging"
	"qcal/internal/tfpb"
)

func ExampleInsert() {
	g := &tfpb.GraphDef{Node: []*tfpb.NodeDef{
		{Name: "conv", Op: "QuantizedConv2D", Input: []string{"x", "w", "x_min", "x_max", "w_min", "w_max"}},
		{Name: "range", Op: "RequantizationRange", Input: []string{"conv", "conv:1", "conv:2"}},
		{Name: "requant", Op: "Requantize", Input: []string{"conv", "conv:1", "conv:2", "range", "range:1"}},
	}}
	logged, res, err := insertlogging.Insert(g, insertlogging.DefaultOptions())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("logged:", res.Logged)
	for _, n := range logged.GetNode() {
		fmt.Println(n.GetName(), n.GetInput())
	}
	p := logged.GetNode()[2]
	fmt.Printf("message %q, T %v, U %v\n", p.GetAttr()["message"].GetS(), p.GetAttr()["T"].GetType(), p.GetAttr()["U"].GetList().GetType())
	// Output:
	// logged: [range]
	// conv [x w x_min x_max w_min w_max]
	// range [conv conv:1 conv:2]
	// range__print__ [range:0 range:0 range:1]
	// requant [conv conv:1 conv:2 range__print__:0 range:1]
	// message ";range__print__;__requant_min_max:", T DT_FLOAT, U [DT_FLOAT DT_FLOAT]
}
