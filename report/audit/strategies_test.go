package audit

import (
	"strings"
	"testing"

	"qcal/internal/calib"
)

func TestCheckMethods(t *testing.T) {
	for list, want := range map[string]string{
		"tf,kl,percentile:99": "",
		"percentile:99,kl":    "", // percentile:P reads per-batch extremes too
		"kl,tf":               `the audit judges per-batch extremes: the first -strategy must be one of tf, minmax, percentile:P, mean, median, ema:A, got "kl"`,
	} {
		ms, err := calib.ParseMethods(list, 5, 5)
		if err != nil {
			t.Fatal(err)
		}
		err = CheckMethods(ms)
		if got := ""; err != nil {
			got = err.Error()
			if got != want {
				t.Errorf("CheckMethods(%s) = %q, want %q", list, got, want)
			}
		} else if want != "" {
			t.Errorf("CheckMethods(%s) = nil, want %q", list, want)
		}
	}
	// Strategies: the judged method's batch rule first, by name.
	ms, _ := calib.ParseMethods("mean,minmax", 5, 5)
	cal, err := calib.Read([]string{"-"}, calib.Options{Methods: ms,
		Stdin: strings.NewReader(";n__print__;__requant_min_max:[-1][2]\n;n__print__;__requant_min_max:[-3][4]\n")})
	if err != nil {
		t.Fatal(err)
	}
	ss, err := Strategies(cal)
	if err != nil || len(ss) != 2 || ss[0].Name() != "mean" || ss[1].Name() != "minmax" {
		t.Fatalf("Strategies = %v, %v", ss, err)
	}
	// mean of the mins -1, -3 is -2; of the maxes 2, 4 is 3 (worked by hand).
	if r := ss[0].Range(cal.Acc.Node("n")); r.Min != -2 || r.Max != 3 {
		t.Errorf("mean range %+v, want [-2, 3]", r)
	}
}
