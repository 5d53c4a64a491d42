package hf

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/dagproject/dag/plugins"
)

// Name and Version identify the plugin.
const (
	Name    = "hf"
	Version = "0.1.0"
)

// describeTimeout bounds Describe: it only checks which packages exist.
const describeTimeout = 30 * time.Second

// New returns the hf backend. A bad option is InvalidArgument.
func New(opts ...Option) (plugins.Plugin, error) {
	o := defaults()
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	if o.cacheDir == "" {
		o.cacheDir = filepath.Join(os.TempDir(), "dag-hf")
	}
	return &backend{o: o}, nil
}

type backend struct {
	o   options
	mu  sync.Mutex // guards src
	src string     // the materialised sources, once written
}

// sources returns the folder of the worker's sources, writing it on first
// use.
func (b *backend) sources() (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.src == "" {
		dir, err := materialize(b.o.cacheDir)
		if err != nil {
			return "", err
		}
		b.src = dir
	}
	return b.src, nil
}

// Describe reports the plugin. It always answers: a missing interpreter,
// missing packages or a worker that fails to answer make it not ready,
// with the reason as the problem.
func (b *backend) Describe(ctx context.Context) (plugins.Description, error) {
	d := plugins.Description{
		Name:     Name,
		Version:  Version,
		Kinds:    []plugins.Kind{plugins.KindSFT, plugins.KindDPO, plugins.KindEval, plugins.KindSafety},
		Params:   paramSpec,
		Resource: plugins.ResourceGPU,
	}
	ctx, cancel := context.WithTimeout(ctx, describeTimeout)
	defer cancel()
	e, err := b.call(ctx, request{Op: "describe"}, func(event) error { return nil })
	switch {
	case errors.Is(err, errNoPython):
		d.Problem = "python interpreter " + b.o.python + " not found (install Python 3 or set DAG_PYTHON)"
	case err != nil:
		d.Problem = "python worker: " + firstLine(err.Error())
	case e.Describe == nil:
		d.Problem = "python worker: no description"
	default:
		d.Ready, d.Problem = e.Describe.Ready, e.Describe.Problem
	}
	return d, nil
}

func firstLine(s string) string {
	for i, c := range s {
		if c == '\n' {
			return s[:i]
		}
	}
	return s
}

var _ plugins.Plugin = (*backend)(nil)
