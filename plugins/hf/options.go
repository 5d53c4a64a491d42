package hf

import (
	"fmt"
	"io"
	"time"

	"github.com/dagproject/dag/errdefs"
)

// Option configures the backend.
type Option func(*options) error

type options struct {
	python     string
	cacheDir   string
	log        io.Writer
	env        []string
	pythonPath []string
	grace      time.Duration
}

func defaults() options {
	return options{python: "python3", log: io.Discard, grace: 5 * time.Second}
}

// WithPython sets the Python interpreter that runs the worker: a name
// looked up in PATH or a path. Default "python3".
func WithPython(python string) Option {
	return func(o *options) error {
		if python == "" {
			return fmt.Errorf("hf: empty python interpreter: %w", errdefs.ErrInvalidArgument)
		}
		o.python = python
		return nil
	}
}

// WithCacheDir sets the folder the worker's sources are written to (one
// sub-folder per sources digest). Default: a dag-hf folder under the
// system's temporary folder.
func WithCacheDir(dir string) Option {
	return func(o *options) error { o.cacheDir = dir; return nil }
}

// WithLog sets where the worker's stderr (its log) is copied. Default:
// discarded.
func WithLog(w io.Writer) Option {
	return func(o *options) error {
		if w == nil {
			w = io.Discard
		}
		o.log = w
		return nil
	}
}

// WithEnv adds KEY=VALUE pairs to the worker's environment, which is
// otherwise the plugin's own. Default: none.
func WithEnv(kv ...string) Option {
	return func(o *options) error { o.env = append(o.env, kv...); return nil }
}

// WithPythonPath adds folders to the worker's PYTHONPATH after its own
// sources. Default: none.
func WithPythonPath(dirs ...string) Option {
	return func(o *options) error { o.pythonPath = append(o.pythonPath, dirs...); return nil }
}

// WithGrace sets how long a cancelled worker gets between SIGTERM and
// SIGKILL. Default 5s.
func WithGrace(d time.Duration) Option {
	return func(o *options) error { o.grace = d; return nil }
}
