package s3

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/dagproject/dag/errdefs"
)

// retryPolicy is how often and how patiently transient failures are
// retried.
type retryPolicy struct {
	attempts int           // total tries, >= 1
	base     time.Duration // first backoff
	max      time.Duration // backoff cap
}

// do runs fn until it succeeds, fails with an error that is not
// ErrUnavailable, or the attempts are spent; between tries it sleeps an
// exponentially growing, jittered backoff. ctx ending stops the waiting and
// returns the last error.
func (p retryPolicy) do(ctx context.Context, fn func() error) error {
	var err error
	for i := 0; i < max(p.attempts, 1); i++ {
		if i > 0 {
			t := time.NewTimer(p.backoff(i))
			select {
			case <-ctx.Done():
				t.Stop()
				return err
			case <-t.C:
			}
		}
		if err = fn(); err == nil || !errdefs.IsUnavailable(err) {
			return err
		}
	}
	return err
}

// backoff is the wait before try i (i >= 1): base*2^(i-1), capped at max,
// with full jitter in its upper half.
func (p retryPolicy) backoff(i int) time.Duration {
	d := p.base << (i - 1)
	if d <= 0 || d > p.max {
		d = p.max
	}
	return d/2 + rand.N(d/2+1)
}
