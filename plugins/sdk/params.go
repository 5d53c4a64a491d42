package sdk

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"github.com/dagproject/dag/errdefs"
	"github.com/dagproject/dag/plugins"
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
		if err := setPath(into, p.Path, p.Default); err != nil {
			return fmt.Errorf("default of %s: %v", p.Path, err)
		}
	}
	return nil
}

// WithoutExecutionOnly encodes v (a stage's params struct after
// defaults) as JSON with spec's execution-only fields set to their zero
// value: what a stage's work depends on, for checkpoint fingerprints, so
// that a checkpoint resumes under other logging or batching settings.
// The fields keep the struct's order, so the bytes are stable across
// releases.
func WithoutExecutionOnly(spec []plugins.Param, v any) ([]byte, error) {
	rv := reflect.ValueOf(v)
	cp := reflect.New(rv.Type())
	cp.Elem().Set(rv)
	for _, p := range spec {
		if !p.ExecutionOnly {
			continue
		}
		zero, ok := zeroJSON[p.Type]
		if !ok {
			return nil, fmt.Errorf("param %s: type %q has no zero value", p.Path, p.Type)
		}
		if err := setPath(cp.Interface(), p.Path, json.RawMessage(zero)); err != nil {
			return nil, fmt.Errorf("param %s: %v", p.Path, err)
		}
	}
	return json.Marshal(cp.Elem().Interface())
}

// zeroJSON is each param type's zero value as JSON.
var zeroJSON = map[plugins.ParamType]string{
	plugins.TypeInt: "0", plugins.TypeFloat: "0", plugins.TypeBool: "false",
	plugins.TypeString: `""`, plugins.TypeList: "[]",
}

// setPath decodes v into the field of into at a dotted path, by building
// the nested object and decoding it over into.
func setPath(into any, path string, v json.RawMessage) error {
	obj := v
	parts := strings.Split(path, ".")
	for i := len(parts) - 1; i >= 0; i-- {
		k, _ := json.Marshal(parts[i])
		obj = json.RawMessage(fmt.Sprintf("{%s:%s}", k, obj))
	}
	return json.Unmarshal(obj, into)
}
