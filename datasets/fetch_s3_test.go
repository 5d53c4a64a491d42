package datasets

import (
	"bytes"
	"context"
	"io"
	"testing"
	"time"

	"github.com/dagproject/dag/artifacts/s3"

	"github.com/minio/minio-go/v7"
	"github.com/opencontainers/go-digest"

	"github.com/dagproject/dag/artifacts/s3/s3test"
	"github.com/dagproject/dag/errdefs"
	"github.com/dagproject/dag/study"
)

// TestFetchS3 reads s3:// sources from a real S3 server (versitygw on
// loopback): the object's bytes are stored and pinned by digest, a second
// fetch of an unchanged object is served from the cache, a changed object
// gets a new digest, and a missing one is NotFound.
func TestFetchS3(t *testing.T) {
	srv := s3test.Start(t)
	bucket := srv.NewBucket(t)
	c := srv.Client(t)
	ctx := context.Background()
	put := func(b []byte) {
		t.Helper()
		if _, err := c.PutObject(ctx, bucket, "data/pairs.jsonl", bytes.NewReader(b), int64(len(b)), minio.PutObjectOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	v1 := []byte("{\"prompt\":\"p\",\"chosen\":\"a\",\"rejected\":\"b\"}\n")
	put(v1)
	f, err := NewFetcher(newStore(t), WithS3(s3.Config{Endpoint: srv.Endpoint, AccessKey: srv.AccessKey, SecretKey: srv.SecretKey, Region: "us-east-1", Insecure: true}), WithRetry(3, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	src := &study.Source{URI: "s3://" + bucket + "/data/pairs.jsonl", Format: "jsonl"}
	d, err := f.Fetch(ctx, src)
	if err != nil || d != digest.FromBytes(v1) {
		t.Fatalf("fetch: %s %v", d, err)
	}
	r, err := f.store.Open(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(r)
	r.Close()
	if !bytes.Equal(got, v1) {
		t.Fatalf("stored %q", got)
	}
	if again, err := f.Fetch(ctx, src); err != nil || again != d {
		t.Fatalf("unchanged object: %s %v", again, err)
	}
	v2 := append(append([]byte{}, v1...), v1...)
	put(v2)
	if d2, err := f.Fetch(ctx, src); err != nil || d2 != digest.FromBytes(v2) {
		t.Fatalf("changed object: %s %v, want %s", d2, err, digest.FromBytes(v2))
	}
	if _, err := f.Fetch(ctx, &study.Source{URI: "s3://" + bucket + "/nope.jsonl", Format: "jsonl"}); !errdefs.IsNotFound(err) {
		t.Fatalf("missing object: %v, want NotFound", err)
	}
}
