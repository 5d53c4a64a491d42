package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/dagproject/dag/artifacts"
	"github.com/dagproject/dag/artifacts/s3/s3test"
	"github.com/dagproject/dag/errdefs"
)

// seedCache records two results of one node in s: an old one the node's
// ref no longer points at, and the current one. It returns their keys.
func seedCache(t *testing.T, s artifacts.Store) (old, cur digest.Digest) {
	t.Helper()
	ctx := context.Background()
	put := func(body string, fin time.Time) digest.Digest {
		key, err := artifacts.PutPreimage(ctx, s, []byte(`{"node":"sft","v":"`+body+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "model"), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		md, err := artifacts.PutDir(ctx, s, dir)
		if err != nil {
			t.Fatal(err)
		}
		r := artifacts.Result{Key: key, Node: "sft/orca", Outputs: map[string]digest.Digest{"model": md}, Started: fin, Finished: fin}
		if err := artifacts.PutResult(ctx, s, r); err != nil {
			t.Fatal(err)
		}
		if err := artifacts.SetRef(ctx, s, "default/studies/quickstart/sft/orca", key); err != nil {
			t.Fatal(err)
		}
		return key
	}
	old = put("weights one", time.Now().Add(-72*time.Hour))
	cur = put("weights two", time.Now().Add(-48*time.Hour))
	return old, cur
}

type cacheLs struct {
	Entries []cacheEntry `json:"entries"`
}

func testCacheCommands(t *testing.T, s artifacts.Store, global ...string) {
	old, cur := seedCache(t, s)
	cmd := func(args ...string) (int, string, string) {
		return dag(t, append(args, global...)...)
	}

	code, out, errs := cmd("cache", "ls", "--json")
	if code != 0 {
		t.Fatalf("cache ls: %d %s", code, errs)
	}
	var ls cacheLs
	if err := json.Unmarshal([]byte(out), &ls); err != nil {
		t.Fatalf("cache ls --json: %v: %s", err, out)
	}
	if len(ls.Entries) != 2 || ls.Entries[0].Key != cur || ls.Entries[1].Key != old {
		t.Fatalf("cache ls = %+v, want %s then %s", ls.Entries, cur, old)
	}
	for _, e := range ls.Entries {
		if e.Node != "sft/orca" || e.Size <= 0 || e.AgeSeconds < 47*3600 {
			t.Fatalf("cache ls entry %+v", e)
		}
	}
	if len(ls.Entries[0].Refs) != 1 || len(ls.Entries[1].Refs) != 0 {
		t.Fatalf("cache ls refs: %+v", ls.Entries)
	}
	if code, out, _ := cmd("cache", "ls"); code != 0 || !strings.Contains(out, "sft/orca") || !strings.Contains(out, "2 entries") {
		t.Fatalf("cache ls text: %d %s", code, out)
	}

	// Dry run: reports, removes nothing. The blobs are fresh: grace 0.
	code, out, errs = cmd("cache", "gc", "--dry-run", "--grace", "0s", "--json")
	if code != 0 {
		t.Fatalf("cache gc --dry-run: %d %s", code, errs)
	}
	var rep artifacts.GCReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if !rep.DryRun || len(rep.ResultsRemoved) != 1 || rep.ResultsRemoved[0] != old || rep.BlobsRemoved != 3 || rep.BytesFreed <= 0 {
		t.Fatalf("gc --dry-run report %+v", rep)
	}
	if _, err := artifacts.GetResult(context.Background(), s, old); err != nil {
		t.Fatalf("dry run removed the old entry: %v", err)
	}

	// The default grace period keeps the fresh blobs, but not the old entry.
	if code, out, errs := cmd("cache", "gc"); code != 0 || !strings.Contains(out, "removed 1 of 2 entries, 0 of") {
		t.Fatalf("cache gc: %d %s %s", code, out, errs)
	}
	if code, out, errs := cmd("cache", "gc", "--grace", "0s"); code != 0 || !strings.Contains(out, "removed 0 of 1 entries, 3 of") {
		t.Fatalf("cache gc --grace 0s: %d %s %s", code, out, errs)
	}
	if _, err := artifacts.GetResult(context.Background(), s, cur); err != nil {
		t.Fatalf("gc damaged the current entry: %v", err)
	}

	// rm, then rm again (an error), pin of bad keys.
	if code, _, errs := cmd("cache", "rm", cur.Encoded()); code != 0 {
		t.Fatalf("cache rm: %s", errs)
	}
	if _, err := artifacts.GetResult(context.Background(), s, cur); !errdefs.IsNotFound(err) {
		t.Fatalf("entry after rm: %v", err)
	}
	if code, _, errs := cmd("cache", "rm", cur.String()); code == 0 || !strings.Contains(errs, "no such entry") {
		t.Fatalf("cache rm twice: %d %s", code, errs)
	}
	if code, _, _ := cmd("cache", "pin", "nonsense"); code == 0 {
		t.Fatal("cache pin of a bad key succeeded")
	}
	if code, _, errs := cmd("cache", "pin", cur.String()); code != 0 {
		t.Fatalf("cache pin: %s", errs)
	}
	if code, _, errs := cmd("cache", "unpin", cur.String()); code != 0 {
		t.Fatalf("cache unpin: %s", errs)
	}
}

func TestCacheFS(t *testing.T) {
	home := t.TempDir()
	g := &globals{home: home}
	if err := g.resolve(); err != nil {
		t.Fatal(err)
	}
	s, err := g.openStore(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	testCacheCommands(t, s, "--home", home)
}

func TestCacheS3(t *testing.T) {
	srv := s3test.Start(t)
	t.Setenv("DAG_S3_ENDPOINT", srv.Addr)
	t.Setenv("AWS_ACCESS_KEY_ID", srv.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", srv.SecretKey)
	t.Setenv("DAG_S3_INSECURE", "1")
	uri := "s3://dag-cache/team/v1" // created by the first open
	g := &globals{home: t.TempDir(), store: uri}
	if err := g.resolve(); err != nil {
		t.Fatal(err)
	}
	s, err := g.openStore(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	testCacheCommands(t, s, "--store", uri, "--home", g.home)

	// Bad settings fail with one line.
	t.Setenv("DAG_S3_INSECURE", "maybe")
	if code, _, errs := dag(t, "cache", "ls", "--store", uri); code == 0 || !strings.Contains(errs, "DAG_S3_INSECURE") {
		t.Fatalf("bad DAG_S3_INSECURE: %d %s", code, errs)
	}
	t.Setenv("DAG_S3_INSECURE", "1")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "wrong")
	if code, _, errs := dag(t, "cache", "ls", "--store", uri); code == 0 || strings.Count(strings.TrimSpace(errs), "\n") != 0 {
		t.Fatalf("wrong secret: %d %q", code, errs)
	}
}
