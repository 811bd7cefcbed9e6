package main

import (
	"qcal/report"
)

func runRanges(e *env, args []string) error {
	fs := newFlags(e, "ranges")
	var cf calibFlags
	cf.register(fs)
	format := fs.String("format", "text", "output format: text, markdown, csv or json")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch *format {
	case report.FormatText, report.FormatMarkdown, report.FormatCSV, report.FormatJSON:
	default:
		return usagef("unknown -format %q (want text, markdown, csv or json)", *format)
	}
	cal, err := readLogs(e, fs.Args(), &cf)
	if err != nil {
		return err
	}
	var doc *report.RangesDoc
	for _, m := range cal.methods {
		d := report.NewRangesDoc(m.name(), cal.logs, cal.counts.Records, cal.ranges(m))
		for i, e := range d.Ranges {
			if m.hist != nil && cal.hist.Node(e.Node) != nil && (m.batch == nil || cal.acc.Node(e.Node) == nil) {
				d.Ranges[i].Kind = report.KindValues // counted in values, not batches
			}
		}
		if doc == nil {
			doc = d
		} else {
			doc.Append(d)
		}
	}
	if err := doc.Write(e.stdout, *format); err != nil {
		return err
	}
	cal.summary(e, cf.tfCompat)
	return nil
}
