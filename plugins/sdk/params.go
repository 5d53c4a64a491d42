package sdk

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/dagproject/dag/errdefs"
	"github.com/dagproject/dag/plugins"
	"github.com/dagproject/dag/study"
)

// DecodeParams decodes a stage's params over into, which holds the
// defaults: fields absent from raw keep them, and an empty raw changes
// nothing. Unknown fields and wrong types are InvalidArgument, so a typo
// in a study fails the stage instead of silently using a default.
func DecodeParams(raw json.RawMessage, into any) error {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		return fmt.Errorf("params: %v: %w", err, errdefs.ErrInvalidArgument)
	}
	return nil
}

// ParseParams fills into with the defaults spec declares (Defaults), then
// decodes raw over them (DecodeParams): what a plugin's Train and Score do
// with their request's params before checking ranges.
func ParseParams(spec []plugins.Param, raw json.RawMessage, into any) error {
	if err := Defaults(spec, into); err != nil {
		return err
	}
	return DecodeParams(raw, into)
}

// Defaults decodes each param's default into the field at its dotted path
// (into's JSON names follow the paths: "lora.rank" is field rank of field
// lora). A default that does not decode is an error of the spec itself.
func Defaults(spec []plugins.Param, into any) error {
	for _, p := range spec {
		if p.Default == nil {
			continue
		}
		obj := p.Default
		parts := strings.Split(p.Path, ".")
		for i := len(parts) - 1; i >= 0; i-- {
			k, _ := json.Marshal(parts[i])
			obj = json.RawMessage(fmt.Sprintf("{%s:%s}", k, obj))
		}
		if err := json.Unmarshal(obj, into); err != nil {
			return fmt.Errorf("default of %s: %v", p.Path, err)
		}
	}
	return nil
}

// WithoutExecutionOnly encodes v (a stage's params after defaults) as JSON
// with spec's execution-only paths left out and keys sorted: what a
// stage's work depends on, for checkpoint fingerprints, so that a
// checkpoint resumes under other logging or batching settings.
func WithoutExecutionOnly(spec []plugins.Param, v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("params are not a JSON object: %v", err)
	}
	for _, p := range spec {
		if p.ExecutionOnly {
			study.DeletePath(m, p.Path)
		}
	}
	return json.Marshal(m) // map keys come out sorted
}
