// Package report renders qcal's results for people and programs: tables
// (text via tablewriter, Markdown, CSV) and JSON documents built from one
// model each, so every output format says the same thing.
//
// It is the last stage of qcal's flow and computes nothing itself: ranges
// come from stats, graphs from freeze.
package report
