package activities

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/opencontainers/go-digest"

	"github.com/dagproject/dag/artifacts"
	"github.com/dagproject/dag/errdefs"
	"github.com/dagproject/dag/report"
	"github.com/dagproject/dag/runs"
	"github.com/dagproject/dag/study"
)

// maxResultSize bounds one evaluation's result.json read into memory.
const maxResultSize = 64 << 20

// report runs the built-in report node: it gathers every evaluation and
// safety result into the study's tables, and every trained model's
// training log into its curves (report.json).
func (a *Activities) report(ctx context.Context, studyName string, n *study.Node, in runs.NodeRef, key digest.Digest) (runs.RunResult, error) {
	files := map[string][]byte{}
	for name, d := range in.Inputs {
		m, err := artifacts.ReadManifest(ctx, a.store, d)
		if err != nil {
			return runs.RunResult{}, fmt.Errorf("node %s: input %s: %w", n.ID, name, err)
		}
		want := report.InputFile(name)
		for _, e := range m.Entries {
			if e.Path == want {
				if files[name], err = artifacts.ReadAll(ctx, a.store, e.Digest, maxResultSize); err != nil {
					return runs.RunResult{}, fmt.Errorf("node %s: input %s: %w", n.ID, name, err)
				}
			}
		}
	}
	doc, err := report.BuildNode(studyName, n.Params, files)
	switch {
	case errdefs.IsInvalidArgument(err):
		return runs.RunResult{}, fmt.Errorf("node %s: %w", n.ID, err)
	case err != nil:
		return runs.RunResult{}, fmt.Errorf("node %s: %v: %w", n.ID, err, errdefs.ErrFailedPrecondition)
	}
	dir, err := a.runDir(key)
	if err != nil {
		return runs.RunResult{}, err
	}
	defer os.RemoveAll(dir)
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return runs.RunResult{}, err
	}
	if err := os.WriteFile(filepath.Join(dir, report.DocumentFile), append(b, '\n'), 0o644); err != nil {
		return runs.RunResult{}, err
	}
	d, err := artifacts.PutDir(ctx, a.store, dir)
	if err != nil {
		return runs.RunResult{}, fmt.Errorf("store report: %w", err)
	}
	return runs.RunResult{Outputs: map[string]digest.Digest{study.OutResult: d}}, nil
}
