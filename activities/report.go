package activities

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/opencontainers/go-digest"

	"github.com/dagproject/dag/artifacts"
	"github.com/dagproject/dag/errdefs"
	"github.com/dagproject/dag/plugins"
	"github.com/dagproject/dag/report"
	"github.com/dagproject/dag/study"
)

// maxResultSize bounds one evaluation's result.json read into memory.
const maxResultSize = 64 << 20

// report runs the built-in report node: it gathers every evaluation and
// safety result into the study's tables, and every trained model's
// training log into its curves (report.json).
func (a *Activities) report(ctx context.Context, studyName string, n *study.Node, in NodeInput, key digest.Digest) (RunResult, error) {
	spec, err := reportSpec(studyName, n.Params)
	if err != nil {
		return RunResult{}, fmt.Errorf("node %s: %v: %w", n.ID, err, errdefs.ErrInvalidArgument)
	}
	results, logs := map[string][]byte{}, map[string][]byte{}
	for name, d := range in.Inputs {
		m, err := artifacts.ReadManifest(ctx, a.store, d)
		if err != nil {
			return RunResult{}, fmt.Errorf("node %s: input %s: %w", n.ID, name, err)
		}
		// A trained model's input is read for its training log only.
		file, into, key := "result.json", results, name
		if node, ok := strings.CutPrefix(name, study.CurveInput); ok {
			file, into, key = plugins.MetricsFile, logs, node
		}
		for _, e := range m.Entries {
			if e.Path == file {
				if into[key], err = artifacts.ReadAll(ctx, a.store, e.Digest, maxResultSize); err != nil {
					return RunResult{}, fmt.Errorf("node %s: input %s: %w", n.ID, name, err)
				}
			}
		}
	}
	doc, err := report.Build(spec, results, logs)
	if err != nil {
		return RunResult{}, fmt.Errorf("node %s: %v: %w", n.ID, err, errdefs.ErrFailedPrecondition)
	}
	dir, err := a.runDir(key)
	if err != nil {
		return RunResult{}, err
	}
	defer os.RemoveAll(dir)
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return RunResult{}, err
	}
	if err := os.WriteFile(filepath.Join(dir, "report.json"), append(b, '\n'), 0o644); err != nil {
		return RunResult{}, err
	}
	d, err := artifacts.PutDir(ctx, a.store, dir)
	if err != nil {
		return RunResult{}, fmt.Errorf("store report: %w", err)
	}
	return RunResult{Outputs: map[string]digest.Digest{study.OutResult: d}}, nil
}

// reportSpec reads the report node's params (study.Compile writes them).
func reportSpec(studyName string, params map[string]any) (report.Spec, error) {
	spec := report.Spec{Study: studyName}
	b, err := json.Marshal(params)
	if err != nil {
		return spec, err
	}
	var p struct {
		Rows      []report.Row         `json:"rows"`
		Tasks     []string             `json:"tasks"`
		Safety    bool                 `json:"safety"`
		Curves    []report.CurveSource `json:"curves"`
		Reference report.Reference     `json:"reference"`
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return spec, fmt.Errorf("report params: %v", err)
	}
	spec.Rows, spec.Tasks, spec.Safety = p.Rows, p.Tasks, p.Safety
	spec.Curves, spec.Reference = p.Curves, p.Reference
	return spec, nil
}
