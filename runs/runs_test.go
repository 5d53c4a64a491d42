package runs

import (
	"context"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	fsstore "github.com/dagproject/dag/artifacts/fs"
	"github.com/dagproject/dag/errdefs"
)

func TestRecordRoundTrip(t *testing.T) {
	s, err := fsstore.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	run := "01a221ec-b539-74ec-87c2-3d1a8f1f7acf"
	if _, err := Get(ctx, s, "default", run); !errdefs.IsNotFound(err) {
		t.Fatalf("no record yet: %v, want NotFound", err)
	}
	rec := Record{Namespace: "default", Study: "s", Run: run, Workflow: "dag-s-1", Plan: digest.FromString("plan"),
		Status: StatusFailed, Error: "1 node(s) failed: sft/a", Started: time.Unix(100, 0).UTC(), Finished: time.Unix(200, 0).UTC(),
		Nodes: []NodeRecord{{NodeState: NodeState{ID: "sft/a", Kind: "sft", Outcome: Failed, Error: "boom", Outputs: map[string]digest.Digest{}}}}}
	if err := Put(ctx, s, rec); err != nil {
		t.Fatal(err)
	}
	got, err := Get(ctx, s, "default", run)
	if err != nil {
		t.Fatal(err)
	}
	if got.Format != RecordFormat || got.Status != StatusFailed || got.Error != rec.Error || !got.Finished.Equal(rec.Finished) ||
		len(got.State().Nodes) != 1 || got.State().Nodes[0].Error != "boom" {
		t.Errorf("round trip: %+v", got)
	}
	if _, err := Get(ctx, s, "other", run); !errdefs.IsNotFound(err) {
		t.Errorf("another namespace's run: %v, want NotFound", err)
	}

	// A record under another run's name, or of another format, is DataLoss.
	other := "9f0c1d2e-0000-4000-8000-000000000000"
	b, _ := s.GetRecord(ctx, "runs/default/"+run)
	s.PutRecord(ctx, "runs/default/"+other, b)
	if _, err := Get(ctx, s, "default", other); !errdefs.IsDataLoss(err) {
		t.Errorf("a record naming another run: %v, want DataLoss", err)
	}
	s.PutRecord(ctx, "runs/default/"+other, []byte(`{"format":"dag-run/9","run":"`+other+`"}`))
	if _, err := Get(ctx, s, "default", other); !errdefs.IsDataLoss(err) {
		t.Errorf("a record of another format: %v, want DataLoss", err)
	}
}

func TestValidRunID(t *testing.T) {
	for _, ok := range []string{"01a221ec-b539-74ec-87c2-3d1a8f1f7acf", "abc"} {
		if err := ValidRunID(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "x' OR RunId != '", "a/b", "../x", "a b", string(make([]byte, 65))} {
		if err := ValidRunID(bad); !errdefs.IsInvalidArgument(err) {
			t.Errorf("%q: %v, want InvalidArgument", bad, err)
		}
	}
}
