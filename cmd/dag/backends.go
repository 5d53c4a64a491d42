package main

import (
	"context"
	"sync"

	"github.com/dagproject/dag/planner"
)

// backends returns the plugins installed for this dag binary. Discovery
// launches each plugin to ask what it is, so it happens on first use only:
// planning a study whose nodes are all blocked on data launches nothing.
func (g *globals) backends(ctx context.Context) (planner.Backends, error) {
	return &lazyBackends{g: g}, nil
}

type lazyBackends struct {
	g    *globals
	once sync.Once
	b    planner.Backends
	err  error
}

func (l *lazyBackends) Backend(ctx context.Context, name string) (planner.Backend, error) {
	l.once.Do(func() {
		infos, err := l.g.discoverPlugins(ctx)
		l.b, l.err = installedBackends(infos), err
	})
	if l.err != nil {
		return planner.Backend{}, l.err
	}
	return l.b.Backend(ctx, name)
}
