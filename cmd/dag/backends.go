package main

import (
	"context"

	"github.com/dagproject/dag/planner"
)

// backends returns the plugins installed for this dag binary.
func (g *globals) backends(ctx context.Context) (planner.Backends, error) {
	return nil, nil
}
