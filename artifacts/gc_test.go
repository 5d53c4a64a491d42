package artifacts_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/dagproject/dag/artifacts"
	fsstore "github.com/dagproject/dag/artifacts/fs"
	"github.com/dagproject/dag/artifacts/s3"
	"github.com/dagproject/dag/artifacts/s3/s3test"
	"github.com/dagproject/dag/errdefs"
)

func TestGCFS(t *testing.T) {
	root := t.TempDir()
	s, err := fsstore.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(root, "ingest", "blob-stale")
	if err := os.WriteFile(stale, []byte("leftover"), 0o600); err != nil {
		t.Fatal(err)
	}
	testGC(t, s)
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Fatalf("staging leftover survived GC (%v)", err)
	}
}

func TestGCS3(t *testing.T) {
	srv := s3test.Start(t)
	s, err := s3.Open(context.Background(), srv.Endpoint, srv.NewBucket(t),
		s3.WithCredentials(srv.AccessKey, srv.SecretKey, ""), s3.WithPrefix("gc"))
	if err != nil {
		t.Fatal(err)
	}
	testGC(t, s)
}

// putResult stores a result for a node whose output folder holds files
// (name -> contents), finished at fin.
func putResult(t *testing.T, s artifacts.Store, node string, files map[string]string, fin time.Time) artifacts.Result {
	t.Helper()
	ctx := context.Background()
	key, err := artifacts.PutPreimage(ctx, s, fmt.Appendf(nil, `{"node":%q,"files":%q}`, node, files))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	md, err := artifacts.PutDir(ctx, s, dir)
	if err != nil {
		t.Fatal(err)
	}
	r := artifacts.Result{Key: key, Node: node, Outputs: map[string]digest.Digest{"out": md}, Started: fin.Add(-time.Minute), Finished: fin}
	if err := artifacts.PutResult(ctx, s, r); err != nil {
		t.Fatal(err)
	}
	return r
}

func blobSet(t *testing.T, s artifacts.Store) map[digest.Digest]int64 {
	t.Helper()
	m := map[digest.Digest]int64{}
	if err := s.Walk(context.Background(), func(i artifacts.Info) error { m[i.Digest] = i.Size; return nil }); err != nil {
		t.Fatal(err)
	}
	return m
}

func testGC(t *testing.T, s artifacts.Store) {
	ctx := context.Background()
	real := time.Now()
	now := real.Add(48 * time.Hour) // every blob is older than the grace period
	old := real.Add(-72 * time.Hour)

	kept := putResult(t, s, "sft", map[string]string{"model": "weights v2", "shared": "tokenizer"}, old)
	if err := artifacts.SetRef(ctx, s, "default/studies/q/sft", kept.Key); err != nil {
		t.Fatal(err)
	}
	gone := putResult(t, s, "sft", map[string]string{"model": "weights v1", "shared": "tokenizer"}, old.Add(-time.Hour))
	young := putResult(t, s, "dpo", map[string]string{"model": "fresh"}, now.Add(-time.Hour))
	pinned := putResult(t, s, "eval", map[string]string{"scores": "0.5"}, old)
	if err := artifacts.Pin(ctx, s, pinned.Key); err != nil {
		t.Fatal(err)
	}
	orphan, err := artifacts.PutBytes(ctx, s, []byte("a failed attempt's output"))
	if err != nil {
		t.Fatal(err)
	}
	goneManifest := gone.Outputs["out"]
	m, err := artifacts.ReadManifest(ctx, s, goneManifest)
	if err != nil {
		t.Fatal(err)
	}
	var goneModel digest.Digest
	for _, e := range m.Entries {
		if e.Path == "model" {
			goneModel = e.Digest
		}
	}
	before := blobSet(t, s)
	wantFreed := before[orphan] + before[goneModel] + before[goneManifest] + before[gone.Key]

	// ListResults sees all four, with their refs and pins.
	infos, err := artifacts.ListResults(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) != 4 || infos[0].Result.Key != young.Key {
		t.Fatalf("ListResults = %+v, want 4, newest first", infos)
	}
	for _, i := range infos {
		if i.Size <= 0 || i.Missing != 0 || i.Damaged {
			t.Fatalf("ListResults entry %+v", i)
		}
		if (i.Result.Key == kept.Key) != (len(i.Refs) == 1) || (i.Result.Key == pinned.Key) != i.Pinned {
			t.Fatalf("ListResults refs/pins wrong: %+v", i)
		}
	}

	// Dry run: the report, and nothing removed.
	rep, err := artifacts.GC(ctx, s, artifacts.WithNow(now), artifacts.WithDryRun(true))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.ResultsRemoved) != 1 || rep.ResultsRemoved[0] != gone.Key || rep.BlobsRemoved != 4 || rep.BytesFreed < wantFreed {
		t.Fatalf("dry run report %+v, want result %s and 4 blobs (%d bytes)", rep, gone.Key, wantFreed)
	}
	if after := blobSet(t, s); len(after) != len(before) {
		t.Fatalf("dry run removed blobs: %d -> %d", len(before), len(after))
	}
	if _, err := artifacts.GetResult(ctx, s, gone.Key); err != nil {
		t.Fatalf("dry run removed a result: %v", err)
	}

	// With a grace period covering everything, nothing goes.
	rep, err = artifacts.GC(ctx, s, artifacts.WithGrace(100*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.ResultsRemoved) != 0 || rep.BlobsRemoved != 0 {
		t.Fatalf("GC within the grace period removed %+v", rep)
	}

	// The real thing.
	rep, err = artifacts.GC(ctx, s, artifacts.WithNow(now))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.ResultsRemoved) != 1 || rep.BlobsRemoved != 4 || rep.BytesFreed < wantFreed {
		t.Fatalf("GC report %+v", rep)
	}
	if _, err := artifacts.GetResult(ctx, s, gone.Key); !errdefs.IsNotFound(err) {
		t.Fatalf("unreachable result survived: %v", err)
	}
	for _, r := range []artifacts.Result{kept, young, pinned} {
		if _, err := artifacts.GetResult(ctx, s, r.Key); err != nil { // checks every blob it names
			t.Fatalf("reachable result %s (%s) damaged by GC: %v", r.Key, r.Node, err)
		}
	}
	after := blobSet(t, s)
	for _, d := range []digest.Digest{orphan, goneModel, goneManifest, gone.Key} {
		if _, ok := after[d]; ok {
			t.Fatalf("unreachable blob %s survived", d)
		}
	}
	if len(after) != len(before)-4 {
		t.Fatalf("blobs %d -> %d, want 4 fewer", len(before), len(after))
	}

	// Nothing left to collect; unpinning makes the pinned result collectable.
	rep, err = artifacts.GC(ctx, s, artifacts.WithNow(now))
	if err != nil || len(rep.ResultsRemoved) != 0 || rep.BlobsRemoved != 0 {
		t.Fatalf("second GC = %+v, %v; want nothing removed", rep, err)
	}
	if err := artifacts.Unpin(ctx, s, pinned.Key); err != nil {
		t.Fatal(err)
	}
	rep, err = artifacts.GC(ctx, s, artifacts.WithNow(now))
	if err != nil || len(rep.ResultsRemoved) != 1 || rep.ResultsRemoved[0] != pinned.Key {
		t.Fatalf("GC after unpin = %+v, %v", rep, err)
	}
	if _, err := artifacts.GetResult(ctx, s, kept.Key); err != nil {
		t.Fatalf("ref'd result damaged: %v", err)
	}
	if err := artifacts.Unpin(ctx, s, pinned.Key); !errdefs.IsNotFound(err) {
		t.Fatalf("Unpin twice = %v, want NotFound", err)
	}
	if _, err := artifacts.GC(ctx, s, artifacts.WithGrace(-time.Second)); !errdefs.IsInvalidArgument(err) {
		t.Fatalf("negative grace = %v, want InvalidArgument", err)
	}
}
