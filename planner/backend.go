package planner

import (
	"context"

	"github.com/opencontainers/go-digest"
)

// Backend is what planning needs to know about an installed plugin.
type Backend struct {
	Name     string
	Digest   digest.Digest // sha256 of the plugin binary
	Protocol int
	Kinds    []string
	// ExecutionOnly are dotted param paths that stay out of cache keys.
	ExecutionOnly []string
	Ready         bool
	Problem       string // why it is not ready
}

// Backends finds installed backends by name.
type Backends interface {
	// Backend returns the named backend, or an errdefs.ErrNotFound-class
	// error when none is installed.
	Backend(ctx context.Context, name string) (Backend, error)
}

func (b Backend) runs(kind string) bool {
	for _, k := range b.Kinds {
		if k == kind {
			return true
		}
	}
	return false
}
