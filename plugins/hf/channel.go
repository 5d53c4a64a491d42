package hf

import (
	"encoding/json"
	"fmt"

	"github.com/dagproject/dag/errdefs"
)

// request is the one line the worker reads (worker/dag_hf_worker/channel.py).
type request struct {
	Op            string            `json:"op"`
	Kind          string            `json:"kind,omitempty"`
	Inputs        map[string]string `json:"inputs,omitempty"`
	Params        *Params           `json:"params,omitempty"`
	ParamsKey     string            `json:"params_key,omitempty"`
	OutputDir     string            `json:"output_dir,omitempty"`
	CheckpointDir string            `json:"checkpoint_dir,omitempty"`
	Checkpoint    string            `json:"checkpoint,omitempty"`
	RequestsPath  string            `json:"requests_path,omitempty"`
	OutputPath    string            `json:"output_path,omitempty"`
}

// The event names; done and error end a call.
const (
	evProgress   = "progress"
	evMetrics    = "metrics"
	evCheckpoint = "checkpoint"
	evLog        = "log"
	evDone       = "done"
	evError      = "error"
)

// event is one line the worker writes. Non-finite numbers arrive as null
// and decode as zero.
type event struct {
	Event    string             `json:"event"`
	Step     int64              `json:"step"`
	Total    int64              `json:"total"`
	Values   map[string]float64 `json:"values"`
	Dir      string             `json:"dir"`
	Line     string             `json:"line"`
	Metrics  map[string]float64 `json:"metrics"`
	Count    int                `json:"count"`
	Describe *probe             `json:"describe"`
	Class    string             `json:"class"`
	Message  string             `json:"message"`
}

// probe is the worker's answer to describe.
type probe struct {
	Ready    bool              `json:"ready"`
	Problem  string            `json:"problem"`
	Packages map[string]string `json:"packages"`
}

// classes maps the worker's error classes onto errdefs; internal (or
// anything unknown) has no class and is retried.
var classes = map[string]error{
	"invalid_argument":    errdefs.ErrInvalidArgument,
	"failed_precondition": errdefs.ErrFailedPrecondition,
	"not_found":           errdefs.ErrNotFound,
	"unavailable":         errdefs.ErrUnavailable,
}

// err turns an error event into an error of its class.
func (e event) err(op string) error {
	if c, ok := classes[e.Class]; ok {
		return fmt.Errorf("hf %s: %s: %w", op, e.Message, c)
	}
	return fmt.Errorf("hf %s: %s", op, e.Message)
}

func decodeEvent(line []byte) (event, error) {
	var e event
	if err := json.Unmarshal(line, &e); err != nil {
		return e, fmt.Errorf("hf worker: malformed event %.200q: %v", line, err)
	}
	return e, nil
}
