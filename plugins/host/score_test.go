package host_test

import (
	"github.com/dagproject/dag/plugins"
	"github.com/dagproject/dag/plugins/internal/exampleplugin"
)

func exampleScore(counter int, q plugins.LoglikelihoodRequest) plugins.LoglikelihoodResult {
	return exampleplugin.Score(counter, true, q)
}
