package tinylm

import (
	"time"

	"github.com/dagproject/dag/plugins"
)

// withThroughput returns a copy of m for a metrics event, with the tokens
// per second trained since began. The copy keeps the wall-clock figure
// out of the step metrics the run returns and logs, which depend only on
// what it computes.
func withThroughput(m map[string]float64, tokens int, began time.Time) map[string]float64 {
	out := make(map[string]float64, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	if el := time.Since(began).Seconds(); el > 0 {
		out[plugins.MetricTokensPerSecond] = float64(tokens) / el
	}
	return out
}
