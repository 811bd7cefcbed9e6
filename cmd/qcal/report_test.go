package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Accuracy lines as IntelAI's inference scripts print them
// (TF-FORMATS.md §7).
const (
	reportFP32 = "Processed 50000 images. (Top1 accuracy, Top5 accuracy) = (0.7612, 0.9290)\n"
	reportPass = "Processed 50000 images. (Top1 accuracy, Top5 accuracy) = (0.7562, 0.9250)\n" // drop 0.50 exactly
	reportWarn = "Processed 50000 images. (Top1 accuracy, Top5 accuracy) = (0.7512, 0.9240)\n" // drop 1.00 exactly
	reportFail = "Processed 50000 images. (Top1 accuracy, Top5 accuracy) = (0.7466, 0.9188)\n"
)

func TestReportVerdictExitStatus(t *testing.T) {
	dir := t.TempDir()
	fp32 := writeText(t, dir, "fp32.log", reportFP32)
	tests := []struct {
		name, int8 string
		code       int
		verdict    string
	}{
		{"pass at 0.5", reportPass, 0, "VERDICT: PASS int8: top1 75.62 vs FP32 76.12, drop 0.50 points ≤ 0.50"},
		{"warn at 1.0", reportWarn, 0, "VERDICT: WARN int8: top1 75.12 vs FP32 76.12, drop 1.00 points > 0.50 target, ≤ 1.00 limit"},
		{"fail", reportFail, 1, "VERDICT: FAIL int8: top1 74.66 vs FP32 76.12, drop 1.46 points > 1.00 limit"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			int8 := writeText(t, dir, "int8.log", tc.int8)
			code, stdout, stderr := qcal(t, "", "report", "-fp32", fp32, "-int8", int8)
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stderr: %s", code, tc.code, stderr)
			}
			if !strings.Contains(stdout, tc.verdict) || !strings.Contains(stdout, "┌") {
				t.Errorf("stdout lacks the verdict %q or the table:\n%s", tc.verdict, stdout)
			}
			if tc.code == 1 && stderr != "qcal report: "+tc.verdict+"\n" {
				t.Errorf("stderr %q, want the verdict line", stderr)
			}
			if tc.code == 0 && stderr != "" {
				t.Errorf("stderr %q", stderr)
			}
		})
	}
}

func TestReportCandidatesMarkdown(t *testing.T) {
	dir := t.TempDir()
	fp32 := writeText(t, dir, "fp32.log", reportFP32)
	tf := writeText(t, dir, "int8_tf.log", reportWarn)
	kl := writeText(t, dir, "int8_kl.log", reportPass)
	minmax := writeText(t, dir, "int8_minmax.log", reportFail)
	code, stdout, stderr := qcal(t, "", "report", "-fp32", fp32, "-int8", "tf="+tf, "-int8", "kl="+kl, "-int8", "minmax="+minmax, "-format", "markdown")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"# FP32 vs int8 accuracy", "**VERDICT: PASS kl:", "| 1 | kl | 75.62 |", "| 2 | tf | 75.12 |", "| 3 | minmax | 74.66 |", "- FAIL minmax:"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("markdown lacks %q:\n%s", want, stdout)
		}
	}
	// Unnamed candidates are named after their files.
	code, stdout, _ = qcal(t, "", "report", "-fp32", fp32, "-int8", tf, "-int8", kl, "-format", "json")
	var doc struct {
		Verdict    string
		Candidates []struct {
			Name    string
			Verdict string
			Drop    float64
			Metrics map[string]float64
		}
	}
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatalf("%v:\n%s", err, stdout)
	}
	if code != 0 || doc.Verdict != "pass" || len(doc.Candidates) != 2 || doc.Candidates[0].Name != "int8_kl" ||
		doc.Candidates[0].Drop != 0.5 || doc.Candidates[1].Verdict != "warn" || doc.Candidates[1].Metrics["top5"] != 92.4 {
		t.Errorf("exit %d, document %+v", code, doc)
	}
}

func TestReportPredictionsHTML(t *testing.T) {
	dir := t.TempDir()
	var fp, q strings.Builder
	fp.WriteString("id,label,pred\n")
	q.WriteString("id,label,pred\n")
	// 100 images: FP32 right on 85, int8 on 75; b = 15, c = 5 gives
	// McNemar p = 0.04139.
	for i := range 100 {
		label := []string{"cat", "dog"}[i%2]
		wrong := []string{"dog", "cat"}[i%2]
		fpPred, qPred := label, label
		if i >= 85 {
			fpPred = wrong
		}
		if i >= 70 && i < 85 || i >= 90 {
			qPred = wrong
		}
		fmt.Fprintf(&fp, "img%03d,%s,%s\n", i, label, fpPred)
		fmt.Fprintf(&q, "img%03d,%s,%s\n", i, label, qPred)
	}
	fp32 := writeText(t, dir, "fp32_predictions.csv", fp.String())
	int8 := writeText(t, dir, "int8_predictions.csv", q.String())
	out := filepath.Join(dir, "report.html")
	code, stdout, stderr := qcal(t, "", "report", "-fp32", fp32, "-int8", int8, "-max-drop", "0.5", "-o", out)
	if code != 1 {
		t.Fatalf("exit %d, want 1 (a 10-point drop fails); stderr %s", code, stderr)
	}
	if stdout != "" {
		t.Errorf("stdout %q with -o", stdout)
	}
	if !strings.Contains(stderr, "qcal: wrote "+out) || !strings.Contains(stderr, "McNemar exact p = 0.0414") {
		t.Errorf("stderr %q", stderr)
	}
	page, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<!DOCTYPE html>", `id="summary"`, `id="table"`, `id="chart"`, "<svg", "statistically significant"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
}

func TestReportStdinAndRelative(t *testing.T) {
	dir := t.TempDir()
	int8 := writeText(t, dir, "int8.log", "Accuracy: 0.7574\n")
	// Relative: (76.12 − 75.74)/76.12 = 0.4992% passes; in points 0.38.
	code, stdout, stderr := qcal(t, "Accuracy: 0.7612\n", "report", "-fp32", "-", "-int8", int8, "-relative", "-max-drop", "0.5")
	if code != 0 || !strings.Contains(stdout, "drop 0.50 % of FP32 ≤ 0.50") || !strings.Contains(stdout, "<stdin>") {
		t.Errorf("exit %d, stdout:\n%s\nstderr: %s", code, stdout, stderr)
	}
}

func TestReportErrors(t *testing.T) {
	dir := t.TempDir()
	fp32 := writeText(t, dir, "fp32.log", reportFP32)
	int8 := writeText(t, dir, "int8.log", reportPass)
	empty := writeText(t, dir, "empty.log", "")
	noacc := writeText(t, dir, "noacc.log", "loading graph\n")
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no fp32", []string{"-int8", int8}, 2, "-fp32 is required"},
		{"no int8", []string{"-fp32", fp32}, 2, "-int8 is required"},
		{"bad format", []string{"-fp32", fp32, "-int8", int8, "-format", "pdf"}, 2, `unknown -format "pdf"`},
		{"drops reversed", []string{"-fp32", fp32, "-int8", int8, "-max-drop", "1", "-warn-drop", "0.5"}, 2, "want 0 ≤ -max-drop ≤ -warn-drop"},
		{"same file twice", []string{"-fp32", fp32, "-int8", "a=" + int8, "-int8", "a=" + int8}, 2, "int8.log given twice for a"},
		{"duplicate unnamed", []string{"-fp32", fp32, "-int8", int8, "-int8", filepath.Join(dir, ".", "int8.log")}, 2, `candidate name "int8" used twice`},
		{"glob matches nothing", []string{"-fp32", filepath.Join(dir, "none-*.csv"), "-int8", int8}, 1, "none-*.csv: no file matches"},
		{"two stdins", []string{"-fp32", "-", "-int8", "-"}, 2, "only one input can be -"},
		{"positional", []string{"-fp32", fp32, "-int8", int8, "extra"}, 2, `unexpected argument "extra"`},
		{"missing file", []string{"-fp32", filepath.Join(dir, "nope.log"), "-int8", int8}, 1, "nope.log: no such file"},
		{"empty file", []string{"-fp32", fp32, "-int8", empty}, 1, "empty.log: empty file"},
		{"no accuracy", []string{"-fp32", fp32, "-int8", noacc}, 1, `noacc.log: no accuracy found (looked for: "Processed N images. (Top1 accuracy, Top5 accuracy) = (a, b)"`},
		{"output over input", []string{"-fp32", fp32, "-int8", int8, "-o", int8}, 1, "int8.log"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := qcal(t, "", append([]string{"report"}, tc.args...)...)
			if code != tc.code || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d (want %d), stderr %q lacks %q", code, tc.code, stderr, tc.want)
			}
		})
	}
	if b, _ := os.ReadFile(int8); string(b) != reportPass {
		t.Error("the input was overwritten")
	}
}
