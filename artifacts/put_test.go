package artifacts_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/dagproject/dag/artifacts"
	"github.com/dagproject/dag/errdefs"
)

func TestPutFile(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	dir := t.TempDir()
	b := randBytes(1, 3<<20+5)
	p := filepath.Join(dir, "f")
	noErr(t, os.WriteFile(p, b, 0o644))

	d, n, err := artifacts.PutFile(ctx, s, p)
	noErr(t, err)
	if d != digest.FromBytes(b) || n != int64(len(b)) {
		t.Fatalf("PutFile = %s, %d", d, n)
	}
	d2, _, err := artifacts.PutFile(ctx, s, p) // again: already stored is fine
	noErr(t, err)
	if d2 != d {
		t.Fatalf("second PutFile = %s, want %s", d2, d)
	}
	got, err := artifacts.ReadAll(ctx, s, d, int64(len(b)))
	noErr(t, err)
	if string(got) != string(b) {
		t.Fatal("ReadAll differs from the file")
	}

	_, _, err = artifacts.PutFile(ctx, s, filepath.Join(dir, "missing"))
	wantErr(t, err, errdefs.IsNotFound, "NotFound")
	_, _, err = artifacts.PutFile(ctx, s, dir)
	wantErr(t, err, errdefs.IsInvalidArgument, "InvalidArgument")
}

func TestReadAllLimits(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	empty, err := artifacts.PutBytes(ctx, s, nil)
	noErr(t, err)
	if _, err := artifacts.ReadAll(ctx, s, empty, 0); err != nil {
		t.Fatalf("ReadAll(empty, 0) = %v", err)
	}
	d, err := artifacts.PutBytes(ctx, s, []byte("12345"))
	noErr(t, err)
	_, err = artifacts.ReadAll(ctx, s, d, 4)
	wantErr(t, err, errdefs.IsFailedPrecondition, "FailedPrecondition")
	_, err = artifacts.ReadAll(ctx, s, d, -1)
	wantErr(t, err, errdefs.IsInvalidArgument, "InvalidArgument")
	_, err = artifacts.ReadAll(ctx, s, "md5:x", 10)
	wantErr(t, err, errdefs.IsInvalidArgument, "InvalidArgument")
	if _, err := artifacts.ReadAll(ctx, s, d, 1<<63-1); err != nil {
		t.Fatalf("ReadAll with the largest limit = %v", err)
	}
}

// ReadAll verifies even when the provider does not.
func TestReadAllVerifies(t *testing.T) {
	d := digest.FromString("right")
	_, err := artifacts.ReadAll(context.Background(), mapProvider{d: []byte("wrong")}, d, 100)
	wantErr(t, err, errdefs.IsDataLoss, "DataLoss")
}

func TestPutCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s := newStore(t)
	if _, err := artifacts.PutBytes(ctx, s, []byte("x")); err == nil {
		t.Fatal("PutBytes with a cancelled context succeeded")
	}
	n := 0
	noErr(t, s.Walk(context.Background(), func(artifacts.Info) error { n++; return nil }))
	if n != 0 {
		t.Fatalf("%d blobs after a cancelled put", n)
	}
}
