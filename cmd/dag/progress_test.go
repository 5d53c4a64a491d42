package main

import "testing"

func TestMetricText(t *testing.T) {
	for v, want := range map[float64]string{
		11843.4:  "11843",
		-1500.6:  "-1501",
		2.16834:  "2.168",
		0.875:    "0.875",
		0.000123: "0.000123",
		999.94:   "999.9",
		1e20:     "1e+20",
	} {
		if got := metricText(v); got != want {
			t.Errorf("metricText(%v) = %q, want %q", v, got, want)
		}
	}
}
