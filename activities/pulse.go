package activities

import (
	"context"
	"sync"
	"time"

	"github.com/dagproject/dag/runs"
	"go.temporal.io/sdk/activity"
)

// pulseEvery is how often a running stage heartbeats even when its plugin
// reports nothing (a long step, a slow checkpoint), well inside the
// workflow's HeartbeatTimeout.
const pulseEvery = 5 * time.Second

// pulse holds a running node's progress and heartbeats it: on every
// update and every pulseEvery, so the server can tell a slow stage from a
// dead worker.
type pulse struct {
	mu sync.Mutex
	p  runs.Progress
}

// update changes the progress and heartbeats it at once.
func (b *pulse) update(ctx context.Context, change func(*runs.Progress)) {
	b.mu.Lock()
	change(&b.p)
	p := b.p
	b.mu.Unlock()
	activity.RecordHeartbeat(ctx, p)
}

// start heartbeats every pulseEvery until the returned stop is called.
func (b *pulse) start(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(pulseEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				b.update(ctx, func(*runs.Progress) {})
			}
		}
	}()
	return func() { cancel(); <-done }
}
