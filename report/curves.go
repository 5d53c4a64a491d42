package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
)

// MaxCurvePoints bounds the points a curve keeps: longer training logs
// are thinned to this many steps, evenly spaced, first and last kept.
const MaxCurvePoints = 200

// CurveSource is a trained node whose training log the report charts.
type CurveSource struct {
	Node string `json:"node"`
	Kind string `json:"kind"`
}

// Curve is one trained node's training metrics by step, as its plugin
// logged them in metrics.jsonl (docs/plugins.md). Series are aligned
// with Steps; a metric not logged at a step is null there.
type Curve struct {
	Node string `json:"node"`
	Kind string `json:"kind"`
	// Models are the report rows whose model this node is (none for a
	// step other pipelines build on).
	Models []string              `json:"models,omitempty"`
	Steps  []int64               `json:"steps"`
	Series map[string][]*float64 `json:"series"`
	// Logged is how many steps the log holds, before thinning.
	Logged int `json:"logged"`
}

// Metrics lists the curve's metric names: loss first, then the rest
// sorted.
func (c Curve) Metrics() []string {
	var out []string
	for m := range c.Series {
		if m != "loss" {
			out = append(out, m)
		}
	}
	sort.Strings(out)
	if _, ok := c.Series["loss"]; ok {
		out = append([]string{"loss"}, out...)
	}
	return out
}

// ParseMetrics reads a metrics.jsonl training log: one JSON object per
// line with an integer "step" and numeric metrics. Records are ordered by
// step; a step logged twice keeps its last record; non-numeric fields
// are ignored. The curve is thinned to MaxCurvePoints.
func ParseMetrics(b []byte) (Curve, error) {
	byStep := map[int64]map[string]float64{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	line := 0
	for sc.Scan() {
		line++
		raw := bytes.TrimSpace(sc.Bytes())
		if len(raw) == 0 {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal(raw, &rec); err != nil {
			return Curve{}, fmt.Errorf("metrics.jsonl line %d: %v", line, err)
		}
		s, ok := rec["step"].(float64)
		if !ok || s < 0 || s != math.Trunc(s) {
			return Curve{}, fmt.Errorf("metrics.jsonl line %d: no integer step", line)
		}
		vals := map[string]float64{}
		for k, v := range rec {
			if f, isNum := v.(float64); isNum && k != "step" {
				vals[k] = f
			}
		}
		byStep[int64(s)] = vals
	}
	if err := sc.Err(); err != nil {
		return Curve{}, fmt.Errorf("metrics.jsonl: %v", err)
	}
	steps := make([]int64, 0, len(byStep))
	names := map[string]bool{}
	for s, vals := range byStep {
		steps = append(steps, s)
		for k := range vals {
			names[k] = true
		}
	}
	sort.Slice(steps, func(i, j int) bool { return steps[i] < steps[j] })
	c := Curve{Logged: len(steps), Series: map[string][]*float64{}}
	for _, i := range thin(len(steps), MaxCurvePoints) {
		s := steps[i]
		c.Steps = append(c.Steps, s)
		for k := range names {
			var p *float64
			if v, ok := byStep[s][k]; ok {
				v := v
				p = &v
			}
			c.Series[k] = append(c.Series[k], p)
		}
	}
	if c.Steps == nil {
		c.Steps = []int64{}
	}
	return c, nil
}

// thin returns at most max indices of 0..n-1, evenly spaced, the first
// and last included.
func thin(n, max int) []int {
	if n <= max {
		out := make([]int, n)
		for i := range out {
			out[i] = i
		}
		return out
	}
	out := make([]int, max)
	for i := range out {
		out[i] = int(math.Round(float64(i) * float64(n-1) / float64(max-1)))
	}
	return out
}
