package main

import (
	"slices"
	"time"

	"qcal/internal/calib"
	"qcal/report"
)

func runRanges(e *env, args []string) error {
	fs := newFlags(e, "ranges")
	var cf calibFlags
	cf.register(fs, strategyUsage)
	format := fs.String("format", "text", "output format: text, markdown, csv or json")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	f, err := pickFormat(*format, "", (*report.RangesDoc)(nil))
	if err != nil {
		return err
	}
	if err := checkDistinct(append(slices.Clone(fs.Args()), cf.mapFile)...); err != nil {
		return err
	}
	start := time.Now()
	cal, err := readCalibFlags(e, fs.Args(), &cf, calib.FailBad)
	if err != nil {
		return err
	}
	var doc *report.RangesDoc
	for _, m := range cal.Methods {
		d := report.NewRangesDoc(m.Name(), cal.Logs, cal.Counts.Records, cal.Ranges(m))
		for i, e := range d.Ranges {
			if cal.FromValues(m, e.Node) {
				d.Ranges[i].Kind = report.KindValues // counted in values, not batches
			}
		}
		if doc == nil {
			doc = d
		} else {
			doc.Append(d)
		}
	}
	if err := report.Write(e.stdout, doc, f); err != nil {
		return err
	}
	printSummary(e, cal, cf.tfCompat, start)
	return nil
}
