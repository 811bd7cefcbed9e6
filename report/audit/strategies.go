package audit

import (
	"fmt"

	"qcal/internal/calib"
	"qcal/stats"
)

// CheckMethods reports whether a strategy list can be audited: the first
// method, the judged one, must read per-batch extremes, since the
// convergence check resamples batches; the others may read logged tensor
// values.
func CheckMethods(ms []calib.Method) error {
	if len(ms) == 0 {
		return fmt.Errorf("no strategy given")
	}
	if judged := ms[0]; judged.Batch == nil {
		return fmt.Errorf("the audit judges per-batch extremes: the first -strategy must be one of %s, got %q", stats.Strategies, judged.Spec)
	}
	return nil
}

// Strategies returns the audit's strategies for a calibration read with
// methods CheckMethods accepts: the judged method's batch rule, then each
// other method as calib.Calibration.NodeStrategy gives it (value rules for
// the nodes that logged values).
func Strategies(cal *calib.Calibration) ([]stats.Strategy, error) {
	if err := CheckMethods(cal.Methods); err != nil {
		return nil, err
	}
	out := []stats.Strategy{cal.Methods[0].Batch}
	for _, m := range cal.Methods[1:] {
		s, err := cal.NodeStrategy(m)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}
