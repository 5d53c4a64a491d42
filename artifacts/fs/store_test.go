package fs

import (
	"bytes"
	"context"
	_ "crypto/sha512" // digest.SHA512 below
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/dagproject/dag/artifacts"
	"github.com/dagproject/dag/artifacts/artifactstest"
	"github.com/dagproject/dag/errdefs"
)

// corruptor overwrites a committed blob's file in place.
func corruptor(root string) func(d digest.Digest, data []byte) error {
	return func(d digest.Digest, data []byte) error {
		p := filepath.Join(root, "blobs", d.Algorithm().String(), d.Encoded())
		if err := os.Chmod(p, 0o644); err != nil {
			return err
		}
		return os.WriteFile(p, data, 0o644)
	}
}

func TestConformance(t *testing.T) {
	artifactstest.TestStore(t, func(t *testing.T) artifactstest.Harness {
		root := filepath.Join(t.TempDir(), "store")
		s, err := Open(root)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { wantNoStaging(t, root) })
		return artifactstest.Harness{Store: s, Corrupt: corruptor(root)}
	})
}

// wantNoStaging fails if ingest/ holds files: every write cleans up.
func wantNoStaging(t *testing.T, root string) {
	t.Helper()
	des, err := os.ReadDir(filepath.Join(root, "ingest"))
	if err != nil {
		t.Fatal(err)
	}
	for _, de := range des {
		t.Errorf("staging file left behind: %s", de.Name())
	}
}

func TestLayout(t *testing.T) {
	ctx := context.Background()
	root := filepath.Join(t.TempDir(), "a", "b")
	s, err := Open(root) // creates missing parents
	if err != nil {
		t.Fatal(err)
	}
	b := []byte("hello")
	d, err := artifacts.PutBytes(ctx, s, b)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(root, "blobs", "sha256", d.Encoded())
	got, err := os.ReadFile(p)
	if err != nil || !bytes.Equal(got, b) {
		t.Fatalf("blob file %s = %q, %v", p, got, err)
	}
	fi, err := os.Stat(p)
	if err != nil || fi.Mode().Perm() != blobMode {
		t.Fatalf("blob file mode = %v, %v; want %v", fi.Mode().Perm(), err, os.FileMode(blobMode))
	}
	if err := s.PutRecord(ctx, "refs/x/y", []byte("r")); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(filepath.Join(root, "records", "refs", "x", "y")); err != nil || string(got) != "r" {
		t.Fatalf("record file = %q, %v", got, err)
	}
	wantNoStaging(t, root)

	// A second Open of the same root sees the same store.
	s2, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s2.Stat(ctx, d); err != nil {
		t.Fatal(err)
	}

	// Stray files in blobs/sha256 are not blobs.
	if err := os.WriteFile(filepath.Join(root, "blobs", "sha256", "stray"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	n := 0
	if err := s2.Walk(ctx, func(artifacts.Info) error { n++; return nil }); err != nil || n != 1 {
		t.Fatalf("Walk = %d blobs, %v; want 1", n, err)
	}

	// Another algorithm can never be stored here.
	if _, err := s2.Stat(ctx, digest.SHA512.FromBytes(b)); !errdefs.IsNotFound(err) {
		t.Fatalf("Stat(sha512) = %v, want NotFound", err)
	}
	w, err := s2.Writer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(b)
	if err := w.Commit(ctx, -1, digest.SHA512.FromBytes(b)); !errdefs.IsInvalidArgument(err) {
		t.Fatalf("Commit(sha512) = %v, want InvalidArgument", err)
	}
	if _, err := w.Write(b); !errdefs.IsFailedPrecondition(err) {
		t.Fatalf("Write after Commit = %v, want FailedPrecondition", err)
	}
	if err := w.Commit(ctx, -1, ""); !errdefs.IsFailedPrecondition(err) {
		t.Fatalf("second Commit = %v, want FailedPrecondition", err)
	}
	wantNoStaging(t, root)
}

func TestOpenRemovesStaleStaging(t *testing.T) {
	root := t.TempDir()
	if _, err := Open(root); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(root, "ingest", "blob-stale")
	fresh := filepath.Join(root, "ingest", "blob-fresh")
	for _, p := range []string{stale, fresh} {
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-2 * staleIngest)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(root); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Fatalf("stale staging file survived Open (%v)", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Fatalf("fresh staging file removed: %v", err)
	}
}

// A record name cannot be both a document and a folder of documents here.
func TestRecordConflicts(t *testing.T) {
	ctx := context.Background()
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PutRecord(ctx, "a/b", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := s.PutRecord(ctx, "a", []byte("x")); !errdefs.IsFailedPrecondition(err) {
		t.Fatalf("PutRecord over a folder = %v, want FailedPrecondition", err)
	}
	if err := s.PutRecord(ctx, "a/b/c", []byte("x")); !errdefs.IsFailedPrecondition(err) {
		t.Fatalf("PutRecord below a record = %v, want FailedPrecondition", err)
	}
	if _, err := s.GetRecord(ctx, "a"); !errdefs.IsNotFound(err) {
		t.Fatalf("GetRecord of a folder = %v, want NotFound", err)
	}
	if _, err := s.GetRecord(ctx, "a/b/c"); !errdefs.IsNotFound(err) {
		t.Fatalf("GetRecord below a record = %v, want NotFound", err)
	}
	if err := s.DeleteRecord(ctx, "a"); !errdefs.IsNotFound(err) {
		t.Fatalf("DeleteRecord of a folder = %v, want NotFound", err)
	}
	var names []string
	if err := s.WalkRecords(ctx, "a/b/", func(n string) error { names = append(names, n); return nil }); err != nil || len(names) != 0 {
		t.Fatalf("WalkRecords(a/b/) = %q, %v; want none", names, err)
	}
	if err := s.WalkRecords(ctx, "../", func(string) error { return nil }); !errdefs.IsInvalidArgument(err) {
		t.Fatalf("WalkRecords(../) = %v, want InvalidArgument", err)
	}
}
