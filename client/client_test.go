package client

import (
	"context"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/dagproject/dag/artifacts"
	fsstore "github.com/dagproject/dag/artifacts/fs"
	"github.com/dagproject/dag/errdefs"
	"github.com/dagproject/dag/report"
	"github.com/dagproject/dag/runs"
	"github.com/dagproject/dag/study"
)

// TestWorkflowIDIsTheSubmissionsIdentity: identical submissions share a
// workflow ID (so a resubmit attaches); another source, plan or forced
// node gives another.
func TestWorkflowIDIsTheSubmissionsIdentity(t *testing.T) {
	in := runs.StudyInput{Study: "s", Plan: digest.FromString("plan"), Sources: map[string]digest.Digest{"data/a": digest.FromString("a"), "data/b": digest.FromString("b")}}
	id := WorkflowID(in)
	same := in
	same.Sources = map[string]digest.Digest{"data/b": digest.FromString("b"), "data/a": digest.FromString("a")}
	same.Parallelism = 8
	if WorkflowID(same) != id {
		t.Errorf("the same submission got %s and %s", id, WorkflowID(same))
	}
	for name, other := range map[string]runs.StudyInput{
		"source": {Study: "s", Plan: in.Plan, Sources: map[string]digest.Digest{"data/a": digest.FromString("a2"), "data/b": digest.FromString("b")}},
		"plan":   {Study: "s", Plan: digest.FromString("plan2"), Sources: in.Sources},
		"force":  {Study: "s", Plan: in.Plan, Sources: in.Sources, Force: []string{"sft/a"}},
	} {
		if WorkflowID(other) == id {
			t.Errorf("another %s kept workflow ID %s", name, id)
		}
	}
}

func store(t *testing.T) artifacts.Store {
	t.Helper()
	s, err := fsstore.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestRecordViewAndReport reads an ended run from its record alone and
// its report from the store, and says why when there is none.
func TestRecordViewAndReport(t *testing.T) {
	ctx := context.Background()
	s := store(t)
	run := "0a1b2c3d-0000-4000-8000-000000000001"
	if _, err := RecordView(ctx, s, "default", run); !errdefs.IsNotFound(err) {
		t.Fatalf("no record: %v, want NotFound", err)
	}
	b := []byte(`{"study":"s","sources":{"Base":{"mmlu":"eval/mmlu@base"}}}`)
	blob, err := artifacts.PutBytes(ctx, s, b)
	if err != nil {
		t.Fatal(err)
	}
	m := artifacts.Manifest{MediaType: artifacts.ManifestMediaType, Entries: []artifacts.Entry{{Path: report.DocumentFile, Digest: blob, Size: int64(len(b)), Mode: 0o644}}}
	folder, err := artifacts.PutBytes(ctx, s, m.Encode())
	if err != nil {
		t.Fatal(err)
	}
	evalKey := digest.FromString("eval key")
	rec := runs.Record{Namespace: "default", Study: "s", Run: run, Workflow: "dag-s-1", Status: runs.StatusCompleted, Nodes: []runs.NodeRecord{
		{NodeState: runs.NodeState{ID: "eval/mmlu@base", Kind: study.KindEval, Key: evalKey, Outcome: runs.Executed}},
		{NodeState: runs.NodeState{ID: "report", Kind: study.KindReport, Outcome: runs.Executed, Outputs: map[string]digest.Digest{study.OutResult: folder}}},
	}}
	if err := runs.Put(ctx, s, rec); err != nil {
		t.Fatal(err)
	}
	v, err := RecordView(ctx, s, "default", run)
	if err != nil || !v.Closed || !v.FromRecord || v.Status != runs.StatusCompleted || v.Ref.WorkflowID != "dag-s-1" || len(v.State.Nodes) != 2 {
		t.Fatalf("record view: %+v %v", v, err)
	}
	got, err := LoadReport(ctx, s, v)
	if err != nil || got.Run != run || got.Keys["eval/mmlu@base"] != evalKey.String() {
		t.Fatalf("report: %+v %v", got, err)
	}

	v.State.Nodes[1].Outputs = map[string]digest.Digest{}
	v.State.Nodes[1].Outcome, v.State.Nodes[1].Error = runs.Failed, "boom"
	if _, err := LoadReport(ctx, s, v); !errdefs.IsFailedPrecondition(err) {
		t.Errorf("a failed report node: %v, want FailedPrecondition", err)
	}
	v.State.Nodes = v.State.Nodes[:1]
	if _, err := LoadReport(ctx, s, v); !errdefs.IsFailedPrecondition(err) {
		t.Errorf("no report node: %v, want FailedPrecondition", err)
	}
}
