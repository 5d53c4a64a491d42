package sdk

import (
	"io"
	"os"

	"github.com/dagproject/dag/plugins"
)

// The types of package plugins, under the names authors see in sdk.
type (
	Plugin               = plugins.Plugin
	Description          = plugins.Description
	Param                = plugins.Param
	Kind                 = plugins.Kind
	Resource             = plugins.Resource
	TrainRequest         = plugins.TrainRequest
	TrainResult          = plugins.TrainResult
	Emitter              = plugins.Emitter
	Event                = plugins.Event
	ScoreRequest         = plugins.ScoreRequest
	ScoreResponse        = plugins.ScoreResponse
	LoglikelihoodRequest = plugins.LoglikelihoodRequest
	LoglikelihoodResult  = plugins.LoglikelihoodResult
)

// Stderr is the process's standard error as it was before Serve redirected
// os.Stderr; the host reads it directly, so lines written here survive a
// crash right after them.
var Stderr io.Writer = os.Stderr
