package calib_test

import (
	"fmt"

	"qcal/internal/calib"
)

func ExampleMapName() {
	fmt.Println(calib.MapName("resnet_v1_50/conv1/Conv2D__print__"))
	// Output:
	// resnet_v1_50/conv1/Conv2D_eightbit_requant_range
}
