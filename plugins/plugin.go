package plugins

import "context"

// Describer answers with what a plugin is and whether it can run.
type Describer interface {
	// Describe returns the plugin's description. It answers even when the
	// plugin cannot run (Ready false, Problem set); an error means the
	// plugin could not be asked at all.
	Describe(ctx context.Context) (Description, error)
}

// Trainer runs training stages.
type Trainer interface {
	// Train runs one stage of kind req.Kind (pretrain, sft or dpo), reading
	// req.Inputs and writing its model into req.OutputDir, and reports its
	// events to ev in order. It returns the final step and metrics once the
	// output is complete. An unsupported kind or bad params is
	// InvalidArgument; a plugin that is not ready returns
	// FailedPrecondition. When ctx is done Train stops and returns an error
	// wrapping ctx.Err(); an error from ev.Emit ends the stage with that
	// error. On error the output folder's content is undefined.
	Train(ctx context.Context, req TrainRequest, ev Emitter) (TrainResult, error)
}

// Scorer computes log-likelihoods.
type Scorer interface {
	// Score computes one LoglikelihoodResult per request (docs/plugins.md, "Score")
	// with the model in req.Checkpoint. In inline mode (req.Requests) the
	// results come back in the response, in request order; in file mode
	// (req.RequestsPath) they are written to req.OutputPath, in order, and
	// only the count comes back. A malformed request is InvalidArgument; a
	// missing checkpoint or requests file is NotFound.
	Score(ctx context.Context, req ScoreRequest) (ScoreResponse, error)
}

// Plugin is what a backend implements and what the host hands out for a
// launched one.
type Plugin interface {
	Describer
	Trainer
	Scorer
}

// Emitter receives the events of one Train call.
type Emitter interface {
	// Emit delivers ev. An error (for example ctx done or the host gone)
	// tells the caller to stop the stage and return it.
	Emit(ctx context.Context, ev Event) error
}

// EmitterFunc adapts a function to Emitter.
type EmitterFunc func(ctx context.Context, ev Event) error

// Emit calls f(ctx, ev).
func (f EmitterFunc) Emit(ctx context.Context, ev Event) error { return f(ctx, ev) }

// Discard is an Emitter that drops every event.
var Discard Emitter = EmitterFunc(func(context.Context, Event) error { return nil })
