package tfname

import (
	"fmt"
	"strings"
)

// Op names qcal looks for.
const (
	OpRequantizationRange           = "RequantizationRange"
	OpRequantizationRangePerChannel = "RequantizationRangePerChannel"
	OpMin                           = "Min"
	OpMax                           = "Max"
	OpPrint                         = "Print"
	OpConst                         = "Const"
)

// PrintSuffix ends the name of the Print node insert_logging adds for a
// node (NAME + PrintSuffix) and, in a calibration log, the node name before
// a record's message: `;NAME__print__;__requant_min_max:[a][b]`.
const PrintSuffix = "__print__"

// RequantRangeSuffix ends the name of the RequantizationRange node that
// Intel's quantize_graph adds after each quantized op (TF-FORMATS §6).
const RequantRangeSuffix = "_eightbit_requant_range"

// IsRequantizationRange reports whether op computes a requantization range
// at run time: RequantizationRange or RequantizationRangePerChannel.
func IsRequantizationRange(op string) bool {
	return op == OpRequantizationRange || op == OpRequantizationRangePerChannel
}

// List joins the first k node names with ", " and says how many more
// there are: "a, b (and 3 more)". Messages naming many nodes use it.
func List(names []string, k int) string {
	if len(names) <= k {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s (and %d more)", strings.Join(names[:k], ", "), len(names)-k)
}
