package tinylm

import (
	"context"
	"sync"

	"github.com/dagproject/dag/plugins"
)

// Name and Version identify the plugin.
const (
	Name    = "tinylm"
	Version = "0.1.0"
)

// New returns the tinylm backend.
func New() plugins.Plugin { return &plugin{} }

type plugin struct {
	mu        sync.Mutex // guards the scorer cache and serialises scoring
	scorer    *scorer
	scorerDir string
}

// Describe reports the plugin: ready whenever the backend starts.
func (p *plugin) Describe(ctx context.Context) (plugins.Description, error) {
	d := plugins.Description{
		Name:     Name,
		Version:  Version,
		Kinds:    []plugins.Kind{plugins.KindPretrain, plugins.KindSFT, plugins.KindDPO, plugins.KindEval, plugins.KindSafety},
		Params:   paramSpec,
		Resource: plugins.ResourceCPU,
		Ready:    true,
	}
	if _, err := getBackend(); err != nil {
		d.Ready, d.Problem = false, err.Error()
	}
	return d, nil
}

var _ plugins.Plugin = (*plugin)(nil)
