package study

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/dagproject/dag/errdefs"
)

// The params of the node kinds dag computes itself (data, eval and report
// nodes; a safety node's params are its plugin's). Compile builds them and
// stores them in Node.Params through ParamsOf, canonically, so they enter
// keys as every other param does; the code that computes a node reads them
// back with DecodeParams, strictly.

// DataParams are a data node's params.
type DataParams struct {
	// Format is the source's resolved format (jsonl, parquet, json, text,
	// dir).
	Format string `json:"format"`
	// Adapter names how records become the records stages read ("" or
	// "text": the source passes through).
	Adapter string        `json:"adapter,omitempty"`
	Sample  *SampleParams `json:"sample,omitempty"`
	// Options are the adapter's options (AdapterOptions), as written.
	Options map[string]any `json:"options,omitempty"`
	// Role is the output's name when it is not data: model, for the
	// study's checkpoint.
	Role string `json:"role,omitempty"`
}

// SampleParams draw N records with a seeded sample.
type SampleParams struct {
	N    int `json:"n"`
	Seed int `json:"seed"`
}

// EvalParams are an eval node's params.
type EvalParams struct {
	Task string `json:"task"`
	// Shots is the number of few-shot examples (0: none).
	Shots int `json:"shots"`
	// Limit > 0 scores only the first Limit documents.
	Limit int `json:"limit,omitempty"`
}

// ReportParams are the report node's params: what its tables cover, in
// the study's order.
type ReportParams struct {
	Rows   []ReportRow   `json:"rows"`
	Tasks  []string      `json:"tasks"`
	Safety bool          `json:"safety"`
	Curves []ReportCurve `json:"curves"`
	// Reference is the study's reference block with pipelines renamed to
	// their row labels: source, benchmarks and safety values. A study
	// with an empty block has an empty map (encoded {}), one without none.
	Reference map[string]any `json:"reference,omitzero"`
}

// ReportRow is one model of the report: its label, the node that
// produces it and the slug its evaluation node IDs end with.
type ReportRow struct {
	Label string `json:"label"`
	Model string `json:"model"`
	Slug  string `json:"slug"`
}

// ReportCurve is a trained node whose training log the report charts.
type ReportCurve struct {
	Node string `json:"node"`
	Kind Kind   `json:"kind"`
}

// ParamsOf is a params struct as a node's canonical params map.
func ParamsOf(v any) map[string]any {
	b, err := Canonical(v)
	if err != nil {
		panic("study: params are not canonical: " + err.Error())
	}
	var m map[string]any
	if err := unmarshalNumbers(b, &m); err != nil {
		panic("study: params are not an object: " + err.Error())
	}
	return fromJSONNumbers(m).(map[string]any)
}

// DecodeParams reads a node's params map into T strictly: an unknown
// field or a mistyped value is InvalidArgument.
func DecodeParams[T any](params map[string]any) (T, error) {
	var v T
	b, err := json.Marshal(params)
	if err != nil {
		return v, fmt.Errorf("params: %v: %w", err, errdefs.ErrInvalidArgument)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		return v, fmt.Errorf("params: %v: %w", err, errdefs.ErrInvalidArgument)
	}
	return v, nil
}
