package calib

import (
	"errors"
	"fmt"
	"strings"

	"qcal/stats"
)

// Method is one requested strategy: a rule for per-batch extremes, for
// logged tensor values, or both (percentile:P reads the values of nodes that
// logged values and the per-batch extremes of the others).
type Method struct {
	Spec   string
	Batch  stats.Strategy     // nil: the method reads only tensor values
	Values stats.HistStrategy // nil: the method reads only per-batch extremes
}

// Name is the method's name for reports.
func (m Method) Name() string {
	if m.Batch != nil {
		return m.Batch.Name()
	}
	return m.Values.Name()
}

// StrategyError is an entry of a strategy list that names no strategy or
// gives one a bad parameter.
type StrategyError struct {
	Spec string
	// Err is the parser's error: a *stats.UnknownStrategyError when the
	// name is unknown to both parsers.
	Err error
}

func (e *StrategyError) Error() string {
	var u *stats.UnknownStrategyError
	if errors.As(e.Err, &u) && !u.Values {
		return fmt.Sprintf("unknown strategy %q (known: %s; for logged tensor values: %s)", e.Spec, stats.Strategies, stats.HistStrategies)
	}
	return e.Err.Error()
}

func (e *StrategyError) Unwrap() error { return e.Err }

// ParseMethods reads a comma-separated strategy list; minPct and maxPct
// are the tf strategy's percentiles. A bad entry is a *StrategyError.
func ParseMethods(list string, minPct, maxPct float32) ([]Method, error) {
	var out []Method
	for _, spec := range strings.Split(list, ",") {
		spec = strings.TrimSpace(spec)
		m := Method{Spec: spec}
		batchErr := error(nil)
		if m.Batch, batchErr = stats.ParseStrategy(spec, minPct, maxPct); batchErr != nil {
			m.Batch = nil
		}
		if h, err := stats.ParseHistStrategy(spec); err == nil {
			m.Values = h
		}
		if m.Batch == nil && m.Values == nil {
			err := batchErr
			if stats.IsHistStrategy(spec) || strings.HasPrefix(spec, "vpercentile") {
				_, err = stats.ParseHistStrategy(spec)
			}
			return nil, &StrategyError{Spec: spec, Err: err}
		}
		out = append(out, m)
	}
	return out, nil
}

// WantsValues reports whether any method reads tensor values.
func WantsValues(ms []Method) bool {
	for _, m := range ms {
		if m.Values != nil {
			return true
		}
	}
	return false
}
