package sdk

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/dagproject/dag/errdefs"
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
