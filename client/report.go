package client

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/dagproject/dag/artifacts"
	"github.com/dagproject/dag/errdefs"
	"github.com/dagproject/dag/report"
	"github.com/dagproject/dag/runs"
	"github.com/dagproject/dag/study"
)

// maxReportSize bounds report.json read into memory.
const maxReportSize = 64 << 20

// LoadReport reads the document a run's report node stored, with the key
// of every node it names (its cells' sources and its curves) as the run
// knows them. A study without evaluations (no report node), or a run whose
// report node has no result, is FailedPrecondition.
func LoadReport(ctx context.Context, s artifacts.Store, v View) (report.Document, error) {
	var doc report.Document
	id := v.Ref.RunID
	var node *runs.NodeState
	for i := range v.State.Nodes {
		if v.State.Nodes[i].Kind == study.KindReport {
			node = &v.State.Nodes[i]
			break
		}
	}
	if node == nil {
		return doc, fmt.Errorf("run %s: the study has no report node (it declares no evaluations): %w", id, errdefs.ErrFailedPrecondition)
	}
	res, ok := node.Outputs[study.OutResult]
	if !ok || res == "" {
		why := string(node.Outcome)
		if node.Error != "" {
			why += ": " + node.Error
		}
		return doc, fmt.Errorf("run %s (%s): report node %s has no result (%s): %w", id, v.Status, node.ID, why, errdefs.ErrFailedPrecondition)
	}
	if err := res.Validate(); err != nil {
		return doc, fmt.Errorf("run %s: report result %q: %v: %w", id, res, err, errdefs.ErrFailedPrecondition)
	}
	m, err := artifacts.ReadManifest(ctx, s, res)
	if err != nil {
		return doc, fmt.Errorf("run %s: report result %s: %w", id, res, err)
	}
	for _, e := range m.Entries {
		if e.Path != report.DocumentFile {
			continue
		}
		b, err := artifacts.ReadAll(ctx, s, e.Digest, maxReportSize)
		if err != nil {
			return doc, fmt.Errorf("run %s: %s: %w", id, report.DocumentFile, err)
		}
		if err := json.Unmarshal(b, &doc); err != nil {
			return doc, fmt.Errorf("run %s: %s: %v: %w", id, report.DocumentFile, err, errdefs.ErrFailedPrecondition)
		}
		doc.Run = id
		addKeys(&doc, v.State.Nodes)
		return doc, nil
	}
	return doc, fmt.Errorf("run %s: report result %s holds no %s: %w", id, res, report.DocumentFile, errdefs.ErrNotFound)
}

// addKeys records the cache key of every node the report names.
func addKeys(doc *report.Document, nodes []runs.NodeState) {
	named := map[string]bool{}
	for _, cols := range doc.Sources {
		for _, id := range cols {
			named[id] = true
		}
	}
	for _, c := range doc.Curves {
		named[c.Node] = true
	}
	for _, n := range nodes {
		if named[n.ID] && n.Key != "" {
			if doc.Keys == nil {
				doc.Keys = map[string]string{}
			}
			doc.Keys[n.ID] = n.Key.String()
		}
	}
}
