package mnistcnn_test

import (
	"fmt"

	"qcal/internal/synth/mnistcnn"
)

// Graph writes a network's weights as a frozen GraphDef; here untrained
// weights, listed node by node. graphio.Save stores it.
func ExampleGraph() {
	p := mnistcnn.NewParams(mnistcnn.MNIST, 14)
	g := mnistcnn.Graph(p)
	fmt.Println(p.Count(), "parameters, producer", g.GetVersions().GetProducer())
	for _, n := range g.Node {
		if n.Op != "Const" {
			fmt.Println(n.Op, n.Name, n.Input)
		}
	}
	// Output:
	// 9098 parameters, producer 134
	// Placeholder input []
	// Conv2D conv1/Conv2D [input conv1/kernel]
	// BiasAdd conv1/BiasAdd [conv1/Conv2D conv1/bias]
	// Relu conv1/Relu [conv1/BiasAdd]
	// MaxPool pool1/MaxPool [conv1/Relu]
	// Conv2D conv2/Conv2D [pool1/MaxPool conv2/kernel]
	// BiasAdd conv2/BiasAdd [conv2/Conv2D conv2/bias]
	// Relu conv2/Relu [conv2/BiasAdd]
	// MaxPool pool2/MaxPool [conv2/Relu]
	// Reshape flatten/Reshape [pool2/MaxPool flatten/Reshape/shape]
	// MatMul logits/MatMul [flatten/Reshape logits/kernel]
	// BiasAdd logits/BiasAdd [logits/MatMul logits/bias]
	// Softmax probs [logits/BiasAdd]
}
