package main

import (
	"context"
	"sync"

	"github.com/dagproject/dag/planner"
	"github.com/dagproject/dag/plugins/host"
)

// plugins returns the plugins installed for this dag binary. Discovery
// launches each plugin to ask what it is, so it happens on first use only:
// planning a study whose nodes are all blocked on data launches nothing.
func (g *globals) plugins() planner.Plugins { return &lazyPlugins{g: g} }

// lazyPlugins discovers on the first call that needs a plugin, with that
// call's context; a failed discovery is tried again by the next call.
type lazyPlugins struct {
	g     *globals
	mu    sync.Mutex
	found planner.InstalledPlugins
	done  bool
}

func (l *lazyPlugins) Plugin(ctx context.Context, name string) (host.Info, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.done {
		infos, err := l.g.discoverPlugins(ctx)
		if err != nil {
			return host.Info{}, err
		}
		l.found, l.done = infos, true
	}
	return l.found.Plugin(ctx, name)
}
