package hf

import (
	"context"
	"fmt"

	"github.com/dagproject/dag/errdefs"
	"github.com/dagproject/dag/plugins"
)

// Train runs an sft or dpo stage in a worker (see plugins.Trainer).
// Other kinds are InvalidArgument. The worker's progress, metrics,
// checkpoint and log events become ev's events in order; the output
// folder holds the new adapter with its parent under parent/, or merged
// weights with params.merge.
func (b *backend) Train(ctx context.Context, req plugins.TrainRequest, ev plugins.Emitter) (plugins.TrainResult, error) {
	if req.Kind != plugins.KindSFT && req.Kind != plugins.KindDPO {
		return plugins.TrainResult{}, fmt.Errorf("train: kind %q: hf runs sft and dpo: %w", req.Kind, errdefs.ErrInvalidArgument)
	}
	p, err := parseParams(req.Params)
	if err != nil {
		return plugins.TrainResult{}, err
	}
	if req.Inputs[plugins.InputModel] == "" || req.Inputs[plugins.InputData] == "" {
		return plugins.TrainResult{}, fmt.Errorf("train %s: needs model and data inputs: %w", req.Kind, errdefs.ErrInvalidArgument)
	}
	wreq := request{
		Op: "train", Kind: string(req.Kind), Inputs: req.Inputs, Params: &p, ParamsKey: p.key(),
		OutputDir: req.OutputDir, CheckpointDir: req.CheckpointDir,
	}
	done, err := b.call(ctx, wreq, func(e event) error {
		var out plugins.Event
		switch e.Event {
		case evProgress:
			out = plugins.ProgressEvent(e.Step, e.Total)
		case evMetrics:
			out = plugins.MetricsEvent(e.Step, e.Values)
		case evCheckpoint:
			out = plugins.CheckpointEvent(e.Dir, e.Step)
		case evLog:
			out = plugins.LogEvent(e.Line)
		default:
			return nil // events added later are ignored
		}
		return ev.Emit(ctx, out)
	})
	if err != nil {
		return plugins.TrainResult{}, err
	}
	if len(done.Metrics) == 0 {
		done.Metrics = nil
	}
	return plugins.TrainResult{Step: done.Step, Metrics: done.Metrics}, nil
}
