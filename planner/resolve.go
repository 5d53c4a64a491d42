package planner

import (
	"context"
	"fmt"

	"github.com/dagproject/dag/errdefs"
	"github.com/dagproject/dag/plugins/host"
	"github.com/dagproject/dag/study"
)

// Plugins finds installed plugins by name, as discovery found them.
type Plugins interface {
	// Plugin returns the named plugin, or an errdefs.ErrNotFound-class
	// error when none is installed.
	Plugin(ctx context.Context, name string) (host.Info, error)
}

// InstalledPlugins serves Plugins from a discovery result.
type InstalledPlugins []host.Info

// Plugin returns the named plugin of the list, or NotFound.
func (p InstalledPlugins) Plugin(_ context.Context, name string) (host.Info, error) {
	return host.Lookup(p, name)
}

// Resolution is which code computes a node, and what of it enters the
// node's key.
type Resolution struct {
	Impl study.Impl
	// ExecutionOnly are the dotted param paths the plugin keeps out of
	// keys (none for built-in nodes).
	ExecutionOnly []string
	// Plugin runs the node; zero for the built-in data and report nodes.
	Plugin host.Info
}

// Resolve decides which implementation computes node n: dag's own for
// data and report nodes, otherwise its plugin, which must be installed
// (else NotFound), ready and able to run the node's kind (else
// FailedPrecondition). Both `dag plan` and the worker that runs the node
// call it, so the key plan predicts is the key the worker computes.
// A nil plugins means none are installed.
func Resolve(ctx context.Context, n *study.Node, plugins Plugins) (Resolution, error) {
	if impl, ok := Builtin(n); ok {
		return Resolution{Impl: impl}, nil
	}
	if plugins == nil {
		return Resolution{}, unresolved(errdefs.ErrNotFound, "plugin %s is not installed", n.Plugin)
	}
	info, err := plugins.Plugin(ctx, n.Plugin)
	switch {
	case errdefs.IsNotFound(err):
		return Resolution{}, unresolved(errdefs.ErrNotFound, "plugin %s is not installed", n.Plugin)
	case err != nil:
		return Resolution{}, fmt.Errorf("plugin %s: %w", n.Plugin, err)
	case !info.Ready:
		return Resolution{}, unresolved(errdefs.ErrFailedPrecondition, "plugin %s is not ready: %s", n.Plugin, info.Problem)
	case !info.Supports(n.Kind):
		return Resolution{}, unresolved(errdefs.ErrFailedPrecondition, "plugin %s does not run %s stages", n.Plugin, n.Kind)
	}
	impl := study.Impl{Name: info.Name, Digest: info.Digest, Protocol: info.ProtocolVersion}
	return Resolution{Impl: WithBuiltins(impl, n), ExecutionOnly: info.ExecutionOnlyPaths(), Plugin: info}, nil
}

// Unresolved says why a node's plugin cannot run it; it wraps the class
// (NotFound or FailedPrecondition).
type Unresolved struct {
	// Reason is the sentence for users ("plugin hf is not ready: ...").
	Reason string
	class  error
}

func unresolved(class error, format string, a ...any) *Unresolved {
	return &Unresolved{Reason: fmt.Sprintf(format, a...), class: class}
}

func (u *Unresolved) Error() string { return u.Reason + ": " + u.class.Error() }
func (u *Unresolved) Unwrap() error { return u.class }
