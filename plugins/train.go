package plugins

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/dagproject/dag/errdefs"
	"github.com/dagproject/dag/study"
)

// The roles of TrainRequest.Inputs.
const (
	InputModel  = study.InputModel // the parent model's folder
	InputData   = study.InputData  // the prepared data's folder
	InputResume = "resume"         // a checkpoint folder to resume from
)

// Metric names a Train reports. DPO stages add the reward ones
// (the usual DPO reward statistics).
const (
	MetricLoss           = "loss"
	MetricRewardMargin   = "reward_margin"
	MetricRewardAccuracy = "reward_accuracy"
	MetricRewardChosen   = "reward_chosen"
	MetricRewardRejected = "reward_rejected"
)

// MetricsFile is the training log a Train writes into its output folder:
// one JSON object per line, {"step": N, METRIC: NUMBER, ...}, for every
// step it reports metrics at, in step order, the steps of every earlier
// attempt included when it resumed from a checkpoint. Reports chart it
// (docs/plugins.md).
const MetricsFile = "metrics.jsonl"

// TrainRequest asks for one training stage.
type TrainRequest struct {
	// Kind is pretrain, sft or dpo.
	Kind Kind
	// Inputs maps roles (InputModel, InputData, InputResume) to folders.
	Inputs map[string]string
	// Params is one JSON object; nil means {}.
	Params json.RawMessage
	// OutputDir exists and is empty; the stage writes its model there.
	OutputDir string
	// CheckpointDir exists; each checkpoint is a sub-folder of it. Empty
	// means the stage writes no checkpoints.
	CheckpointDir string
}

// Validate checks that r names a training kind, an output folder and a
// params object. The class is InvalidArgument.
func (r TrainRequest) Validate() error {
	if !r.Kind.Trains() {
		return fmt.Errorf("train: kind %q is not pretrain, sft or dpo: %w", r.Kind, errdefs.ErrInvalidArgument)
	}
	if r.OutputDir == "" {
		return fmt.Errorf("train: no output folder: %w", errdefs.ErrInvalidArgument)
	}
	return checkObject("train", r.Params)
}

// TrainResult is what a completed stage reports last.
type TrainResult struct {
	// Step is the last step run.
	Step int64
	// Metrics are the final metrics; nil when none.
	Metrics map[string]float64
}

// EventType says which fields of an Event are set.
type EventType int

// The event types.
const (
	// EventProgress sets Step and Total.
	EventProgress EventType = iota + 1
	// EventMetrics sets Step and Metrics.
	EventMetrics
	// EventCheckpoint sets Dir and Step: a checkpoint folder is complete.
	EventCheckpoint
	// EventLog sets Line.
	EventLog
)

// Event is one event of a Train call.
type Event struct {
	Type    EventType
	Step    int64
	Total   int64
	Metrics map[string]float64
	Dir     string
	Line    string
}

// ProgressEvent reports that step of total steps is done.
func ProgressEvent(step, total int64) Event {
	return Event{Type: EventProgress, Step: step, Total: total}
}

// MetricsEvent reports metrics at a step.
func MetricsEvent(step int64, m map[string]float64) Event {
	return Event{Type: EventMetrics, Step: step, Metrics: m}
}

// CheckpointEvent reports a complete checkpoint folder at a step.
func CheckpointEvent(dir string, step int64) Event {
	return Event{Type: EventCheckpoint, Dir: dir, Step: step}
}

// LogEvent reports one log line.
func LogEvent(line string) Event { return Event{Type: EventLog, Line: line} }

// checkObject reports whether raw is empty or one JSON object.
func checkObject(what string, raw json.RawMessage) error {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil
	}
	v, err := decodeJSON(raw)
	if err != nil {
		return fmt.Errorf("%s: params: %v: %w", what, err, errdefs.ErrInvalidArgument)
	}
	if _, ok := v.(map[string]any); !ok {
		return fmt.Errorf("%s: params are not a JSON object: %w", what, errdefs.ErrInvalidArgument)
	}
	return nil
}

// decodeJSON decodes exactly one JSON value, numbers as json.Number.
func decodeJSON(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("trailing data after JSON value")
	}
	return v, nil
}
