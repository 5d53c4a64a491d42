package tinylm

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/dagproject/dag/errdefs"
)

// FormatName and FormatVersion identify a tinylm model folder in its
// config.json.
const (
	FormatName    = "tinylm"
	FormatVersion = 1
)

// Config is a model's architecture, stored as config.json in every model
// and checkpoint folder. The model is a pre-LayerNorm decoder-only
// transformer: token and learned position embeddings, Layers blocks of
// causal multi-head attention and a GELU (tanh) MLP of width 4*DModel,
// a final LayerNorm and an untied output projection.
type Config struct {
	Format        string `json:"format"`
	FormatVersion int    `json:"format_version"`
	VocabSize     int    `json:"vocab_size"`
	DModel        int    `json:"d_model"`
	Layers        int    `json:"layers"`
	Heads         int    `json:"heads"`
	Context       int    `json:"context"`
	MLPHidden     int    `json:"mlp_hidden"`
}

// newConfig returns the config of a fresh model.
func newConfig(dModel, layers, heads, context int) Config {
	return Config{
		Format: FormatName, FormatVersion: FormatVersion, VocabSize: VocabSize,
		DModel: dModel, Layers: layers, Heads: heads, Context: context, MLPHidden: 4 * dModel,
	}
}

// Validate checks c; the class is InvalidArgument.
func (c Config) Validate() error {
	switch {
	case c.Format != FormatName || c.FormatVersion != FormatVersion:
		return fmt.Errorf("config: format %q version %d, want %s %d: %w", c.Format, c.FormatVersion, FormatName, FormatVersion, errdefs.ErrInvalidArgument)
	case c.VocabSize != VocabSize:
		return fmt.Errorf("config: vocab_size %d, want %d: %w", c.VocabSize, VocabSize, errdefs.ErrInvalidArgument)
	case c.DModel < 1 || c.Layers < 1 || c.Heads < 1 || c.Context < 2 || c.MLPHidden < 1:
		return fmt.Errorf("config: d_model, layers, heads, mlp_hidden must be >= 1 and context >= 2: %w", errdefs.ErrInvalidArgument)
	case c.DModel%c.Heads != 0:
		return fmt.Errorf("config: d_model %d is not a multiple of heads %d: %w", c.DModel, c.Heads, errdefs.ErrInvalidArgument)
	case c.DModel > 4096 || c.Layers > 64 || c.Context > 8192:
		return fmt.Errorf("config: too large for a CPU toy (d_model <= 4096, layers <= 64, context <= 8192): %w", errdefs.ErrInvalidArgument)
	}
	return nil
}

func (c Config) marshal() []byte {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		panic(err)
	}
	return append(b, '\n')
}

// readConfig reads dir/config.json. A missing file is NotFound, a
// malformed one FailedPrecondition (the folder is not a tinylm model).
func readConfig(dir string) (Config, error) {
	var c Config
	b, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if errors.Is(err, os.ErrNotExist) {
		return c, fmt.Errorf("model %s: no config.json: %w", dir, errdefs.ErrNotFound)
	}
	if err != nil {
		return c, fmt.Errorf("model %s: %w", dir, err)
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("model %s: config.json: %v: %w", dir, err, errdefs.ErrFailedPrecondition)
	}
	if err := c.Validate(); err != nil {
		return c, fmt.Errorf("model %s: %v: %w", dir, err, errdefs.ErrFailedPrecondition)
	}
	return c, nil
}
