package activities

import (
	"fmt"

	"go.temporal.io/sdk/client"

	"github.com/dagproject/dag/errdefs"
	"github.com/dagproject/dag/plugins"
)

// Option configures Activities; a bad setting is InvalidArgument from New.
type Option func(*options) error

type options struct {
	identity string
	classes  []plugins.Resource
	temporal client.Client
	observer observer
}

// WithWorker names the worker in producer records and error messages, and
// limits it to stages whose plugin has one of classes (none: any class).
// A stage routed to the wrong worker fails with FailedPrecondition instead
// of running somewhere it was not meant to. Default: the host name, any
// class.
func WithWorker(identity string, classes ...plugins.Resource) Option {
	return func(o *options) error {
		for _, c := range classes {
			if !c.Valid() {
				return fmt.Errorf("worker %s: resource class %q: %w", identity, c, errdefs.ErrInvalidArgument)
			}
		}
		o.identity, o.classes = identity, classes
		return nil
	}
}

// WithTemporal gives the lease steps (Lookup's claim, AwaitLease, Release
// and LeaseOver) the client they start, watch and signal lease workflows
// with. Without it every claim is granted: nothing is deduplicated across
// runs. Default: none.
func WithTemporal(c client.Client) Option {
	return func(o *options) error { o.temporal = c; return nil }
}
