package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/dagproject/dag/artifacts"
	"github.com/dagproject/dag/artifacts/filehash"
	fsstore "github.com/dagproject/dag/artifacts/fs"
	"github.com/dagproject/dag/artifacts/s3"
	"github.com/dagproject/dag/errdefs"
)

// openStore opens the store named by --store, traced and metered
// (telemetry.go); ctx bounds what opening does (an S3 store checks its
// bucket).
func (g *globals) openStore(ctx context.Context) (artifacts.Store, error) {
	s, err := g.openBackend(ctx)
	if err != nil {
		return nil, err
	}
	return g.instrumentStore(s), nil
}

// openBackend opens the store named by --store as it is.
func (g *globals) openBackend(ctx context.Context) (artifacts.Store, error) {
	uri := g.store
	switch {
	case strings.HasPrefix(uri, "file://"):
		return fsstore.Open(filepath.FromSlash(strings.TrimPrefix(uri, "file://")))
	case strings.HasPrefix(uri, "s3://"):
		return openS3Store(ctx, uri)
	case !strings.Contains(uri, "://"):
		return fsstore.Open(uri)
	}
	return nil, fmt.Errorf("store %s: want file://DIR or s3://BUCKET/PREFIX: %w", uri, errdefs.ErrInvalidArgument)
}

// openHashMemo opens the memo of local file digests kept under home.
func (g *globals) openHashMemo() (*filehash.Memo, error) {
	return filehash.OpenMemo(filepath.Join(g.home, "cache", "file-hashes.json"))
}

// openS3Store opens s3://BUCKET/PREFIX with the settings of docs/cli.md:
// DAG_S3_ENDPOINT (host:port or URL; default AWS), AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), DAG_S3_INSECURE=1 for
// plain HTTP, AWS_REGION (default us-east-1). A missing bucket is created.
func openS3Store(ctx context.Context, uri string) (artifacts.Store, error) {
	rest := strings.TrimPrefix(uri, "s3://")
	bucket, prefix, _ := strings.Cut(rest, "/")
	if bucket == "" {
		return nil, fmt.Errorf("store %s: want s3://BUCKET/PREFIX: %w", uri, errdefs.ErrInvalidArgument)
	}
	cfg, err := s3ConfigFromEnv()
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", uri, err)
	}
	opts := append(cfg.Options(), s3.WithPrefix(prefix), s3.WithCreateBucket(true))
	s, err := s3.Open(ctx, cfg.EndpointOrDefault(), bucket, opts...)
	if err != nil {
		return nil, fmt.Errorf("store %s at %s: %w", uri, cfg.EndpointOrDefault(), err)
	}
	return s, nil
}
