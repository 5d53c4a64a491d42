package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/opencontainers/go-digest"

	"github.com/dagproject/dag/artifacts"
	"github.com/dagproject/dag/errdefs"
)

// A trained model is stored as its own files plus lineage.json naming the
// model it was trained from (docs/cli.md). A plugin whose output holds
// only an adapter wants its parent beside it: it writes the parent (as it
// received it) into its output under parentDir. The activity drops that
// copy before storing, so each model is stored once, and records in
// lineage.json that materialising this model means putting the parent
// back there; backends storing full weights never see a parent.
const (
	lineageFile = "lineage.json"
	parentDir   = "parent"
)

// lineage is written beside a trained model: what it was trained from.
type lineage struct {
	Kind   string        `json:"kind"`
	Parent digest.Digest `json:"parent,omitempty"`
	Data   digest.Digest `json:"data"`
	// ParentDir is where materialising the model puts its parent ("":
	// the model stands alone).
	ParentDir string `json:"parent_dir,omitempty"`
}

// writeLineage drops the parent copy a plugin left in out (it is the
// input model, stored already) and writes lineage.json.
func writeLineage(out string, lin lineage) error {
	if fi, err := os.Stat(filepath.Join(out, parentDir)); err == nil && fi.IsDir() && lin.Parent != "" {
		if err := os.RemoveAll(filepath.Join(out, parentDir)); err != nil {
			return err
		}
		lin.ParentDir = parentDir
	}
	b, err := json.MarshalIndent(lin, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, lineageFile), append(b, '\n'), 0o644)
}

// materializeModel materialises a stored folder at path and, when it is a
// model whose lineage asks for its parent, the parent chain inside it.
func (a *Activities) materializeModel(ctx context.Context, d digest.Digest, path string) error {
	for depth := 0; ; depth++ {
		if depth > 64 {
			return fmt.Errorf("model %s: lineage deeper than 64 models: %w", d, errdefs.ErrDataLoss)
		}
		if err := artifacts.Materialize(ctx, a.store, d, path); err != nil {
			return err
		}
		b, err := os.ReadFile(filepath.Join(path, lineageFile))
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		var lin lineage
		if err := json.Unmarshal(b, &lin); err != nil {
			return fmt.Errorf("model %s: %s: %v: %w", d, lineageFile, err, errdefs.ErrDataLoss)
		}
		if lin.ParentDir == "" || lin.Parent == "" {
			return nil
		}
		if !filepath.IsLocal(lin.ParentDir) {
			return fmt.Errorf("model %s: parent_dir %q leaves the model folder: %w", d, lin.ParentDir, errdefs.ErrDataLoss)
		}
		d, path = lin.Parent, filepath.Join(path, lin.ParentDir)
	}
}
