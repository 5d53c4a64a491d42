package host

import (
	"fmt"
	"time"

	"github.com/dagproject/dag/errdefs"
)

// Option configures Launch and Discover.
type Option func(*options) error

type options struct {
	startTimeout time.Duration
	logPath      string
	tailBytes    int
	parallel     int
	telemetry    telemetryOptions
}

func newOptions(opts []Option) (options, error) {
	o := options{
		startTimeout: time.Minute,
		tailBytes:    4 << 10,
		parallel:     4,
	}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return o, err
		}
	}
	return o, nil
}

// WithStartTimeout bounds the time from starting a plugin process to the
// end of its handshake. Default 1 minute.
func WithStartTimeout(d time.Duration) Option {
	return func(o *options) error {
		if d <= 0 {
			return fmt.Errorf("start timeout %v: must be positive: %w", d, errdefs.ErrInvalidArgument)
		}
		o.startTimeout = d
		return nil
	}
}

// WithLogPath appends the plugin's standard error and output, its log
// events and go-plugin's own messages to the file at path, created if
// needed. Launch only; Discover ignores it. Default: no log file.
func WithLogPath(path string) Option {
	return func(o *options) error {
		o.logPath = path
		return nil
	}
}

// WithStderrTail sets how many trailing bytes of standard error an
// ExitError carries. Default 4096.
func WithStderrTail(n int) Option {
	return func(o *options) error {
		if n <= 0 {
			return fmt.Errorf("stderr tail %d: must be positive: %w", n, errdefs.ErrInvalidArgument)
		}
		o.tailBytes = n
		return nil
	}
}

// WithParallel sets how many plugins Discover launches at once. Default 4.
func WithParallel(n int) Option {
	return func(o *options) error {
		if n <= 0 {
			return fmt.Errorf("parallel %d: must be positive: %w", n, errdefs.ErrInvalidArgument)
		}
		o.parallel = n
		return nil
	}
}
