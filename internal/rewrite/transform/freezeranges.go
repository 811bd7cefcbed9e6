package transform

import (
	"errors"
	"fmt"

	"qcal/freeze"
	"qcal/internal/tfpb"
	"qcal/stats"
)

// RangeReader reads a calibration log for freeze_requantization_ranges.
// qcal's calibration pipeline implements it (cmd/qcal wires it in); tests
// use fakes.
type RangeReader interface {
	// ReadRanges returns one range per logged node of the log at path,
	// computed with TensorFlow's percentile rule (TF-FORMATS §3) from the
	// given min_percentile and max_percentile.
	ReadRanges(path string, minPercentile, maxPercentile float32) ([]stats.Range, error)
}

func init() {
	register(&Transform{
		Name:    "freeze_requantization_ranges",
		Args:    []string{"min_max_log_file", "min_percentile", "max_percentile"},
		Summary: "replace logged RequantizationRange nodes by Consts of their calibrated ranges (package freeze)",
		run:     freezeRequantizationRanges,
	})
}

// freezeRequantizationRanges is TensorFlow's freeze_requantization_ranges
// (TF-FORMATS §3): min_max_log_file (required), min_percentile and
// max_percentile (default 5). The log is read by the Options' RangeReader
// and the graph rewritten by freeze.Graph, with freeze's fixes over
// TensorFlow; its warnings become the step's notes. A logged node the graph
// lacks is an error, as in TensorFlow.
func freezeRequantizationRanges(c *call, g *tfpb.GraphDef) (*tfpb.GraphDef, error) {
	path, ok, err := c.one("min_max_log_file", "")
	if err != nil {
		return nil, err
	}
	if !ok || path == "" {
		return nil, errors.New("you must pass a file name to min_max_log_file")
	}
	minPct, err := c.floatArg("min_percentile", 5)
	if err != nil {
		return nil, err
	}
	maxPct, err := c.floatArg("max_percentile", 5)
	if err != nil {
		return nil, err
	}
	if c.opt.Ranges == nil {
		return nil, errors.New("no log reader was given to read min_max_log_file (a caller of package transform must set Options.Ranges)")
	}
	ranges, err := c.opt.Ranges.ReadRanges(path, minPct, maxPct)
	if err != nil {
		return nil, err
	}
	if len(ranges) == 0 {
		return nil, fmt.Errorf("%s: no min/max range logs were found in the log file", path)
	}
	res, err := freeze.Graph(g, ranges, freeze.Options{})
	if err != nil {
		return nil, err
	}
	c.notes = append(c.notes, res.Warnings...)
	c.notef("froze %d of %d logged nodes", len(res.Frozen), len(ranges))
	return res.Graph, nil
}
