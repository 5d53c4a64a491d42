package tinylm

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	"github.com/dagproject/dag/errdefs"
)

// The files of a model folder (the output of a training stage):
// config.json (Config), model.safetensors (every weight, adapters merged)
// and tokenizer.json (a description of the byte vocabulary).
const (
	configFile    = "config.json"
	weightsFile   = "model.safetensors"
	tokenizerFile = "tokenizer.json"
)

// writeModel writes a model folder into dir (which exists).
func writeModel(dir string, c Config, w Weights) error {
	if err := os.WriteFile(filepath.Join(dir, configFile), c.marshal(), 0o644); err != nil {
		return fmt.Errorf("model %s: %w", dir, err)
	}
	if err := os.WriteFile(filepath.Join(dir, tokenizerFile), tokenizerJSON(), 0o644); err != nil {
		return fmt.Errorf("model %s: %w", dir, err)
	}
	if err := writeSafetensors(filepath.Join(dir, weightsFile), w); err != nil {
		return fmt.Errorf("model %s: %w", dir, err)
	}
	return nil
}

// readModel reads a model folder and checks that its weights match its
// config. A missing folder or file is NotFound; weights of the wrong
// names or shapes are FailedPrecondition; unreadable weights DataLoss.
func readModel(dir string) (Config, Weights, error) {
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return Config{}, nil, fmt.Errorf("model %s: not a folder: %w", dir, errdefs.ErrNotFound)
	}
	c, err := readConfig(dir)
	if err != nil {
		return c, nil, err
	}
	w, err := readSafetensors(filepath.Join(dir, weightsFile))
	if err != nil {
		return c, nil, fmt.Errorf("model %s: %w", dir, err)
	}
	if err := checkShapes(c, w); err != nil {
		return c, nil, fmt.Errorf("model %s: %v: %w", dir, err, errdefs.ErrFailedPrecondition)
	}
	return c, w, nil
}

// checkShapes reports whether w holds exactly the base weights of c.
func checkShapes(c Config, w Weights) error {
	want := c.shapes()
	if len(w) != len(want) {
		return fmt.Errorf("%d tensors, want %d", len(w), len(want))
	}
	for n, s := range want {
		t, ok := w[n]
		if !ok {
			return fmt.Errorf("no tensor %s", n)
		}
		if !slices.Equal(t.Shape, s) {
			return fmt.Errorf("tensor %s has shape %v, want %v", n, t.Shape, s)
		}
	}
	return nil
}

// folderDigest hashes the named files of dir, in order: it identifies a
// parent model in checkpoint fingerprints.
func folderDigest(dir string, names ...string) (string, error) {
	h := sha256.New()
	for _, n := range names {
		f, err := os.Open(filepath.Join(dir, n))
		if err != nil {
			return "", fmt.Errorf("model %s: %w", dir, err)
		}
		fmt.Fprintf(h, "%s\n", n)
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			return "", fmt.Errorf("model %s: %w", dir, err)
		}
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}
