package s3

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/opencontainers/go-digest"

	"github.com/dagproject/dag/artifacts"
	"github.com/dagproject/dag/errdefs"
)

// Key folders under the store's prefix.
const (
	blobsDir   = "blobs/sha256/"
	ingestDir  = "ingest/"
	recordsDir = "records/"
)

type store struct {
	core   minio.Core // Core embeds *minio.Client: high-level calls too
	bucket string
	opts   options
}

// Open returns the store in bucket at the S3 endpoint ("host:port", or a
// URL whose http scheme implies WithInsecure(true)). It checks that the
// bucket exists (creating it with WithCreateBucket): a missing bucket is
// ErrNotFound, refused credentials ErrFailedPrecondition, an unreachable
// endpoint ErrUnavailable (after retries), bad options ErrInvalidArgument.
// Open keeps no connection open; the store is safe for concurrent use.
func Open(ctx context.Context, endpoint, bucket string, opts ...Option) (artifacts.Store, error) {
	s, err := open(ctx, endpoint, bucket, opts...)
	if err != nil {
		return nil, err
	}
	return s, nil
}

func open(ctx context.Context, endpoint, bucket string, opts ...Option) (*store, error) {
	o := defaultOptions()
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, fmt.Errorf("open s3 store: %w", err)
		}
	}
	if endpoint == "" || bucket == "" {
		return nil, fmt.Errorf("open s3 store: endpoint %q, bucket %q: both are required: %w", endpoint, bucket, errdefs.ErrInvalidArgument)
	}
	if u, err := url.Parse(endpoint); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
		o.insecure = u.Scheme == "http" // the URL's scheme wins
	}
	tr, err := minio.DefaultTransport(!o.insecure)
	if err != nil {
		return nil, fmt.Errorf("open s3 store: %w", err)
	}
	tr.MaxIdleConnsPerHost = 4 * o.concurrency
	tr.WriteBufferSize = 256 << 10
	tr.ReadBufferSize = 256 << 10
	c, err := newMinio(endpoint, o, tr)
	if err != nil {
		return nil, fmt.Errorf("open s3 store %s/%s: %w", endpoint, bucket, err)
	}
	s := &store{core: minio.Core{Client: c}, bucket: bucket, opts: o}
	var exists bool
	err = s.opts.retry.do(ctx, func() error {
		var err error
		exists, err = c.BucketExists(ctx, bucket)
		return classify("HeadBucket", bucket, err)
	})
	if err != nil {
		return nil, fmt.Errorf("open s3 store: %w", err)
	}
	if !exists {
		if !o.createBucket {
			return nil, fmt.Errorf("open s3 store: bucket %s: %w", bucket, errdefs.ErrNotFound)
		}
		err := s.opts.retry.do(ctx, func() error {
			err := c.MakeBucket(ctx, bucket, minio.MakeBucketOptions{Region: o.region})
			if r := minio.ToErrorResponse(err); r.Code == "BucketAlreadyOwnedByYou" || r.Code == "BucketAlreadyExists" {
				return nil // created concurrently
			}
			return classify("CreateBucket", bucket, err)
		})
		if err != nil {
			return nil, fmt.Errorf("open s3 store: %w", err)
		}
	}
	return s, nil
}

// blobKey is the object key of d. An invalid d is ErrInvalidArgument; a
// digest of another algorithm than sha256 cannot be stored, so it is
// ErrNotFound.
func (s *store) blobKey(d digest.Digest) (string, error) {
	if err := d.Validate(); err != nil {
		return "", fmt.Errorf("blob %q: %w: %v", d, errdefs.ErrInvalidArgument, err)
	}
	if d.Algorithm() != digest.SHA256 {
		return "", fmt.Errorf("blob %s: only sha256 blobs are stored: %w", d, errdefs.ErrNotFound)
	}
	return s.opts.prefix + blobsDir + d.Encoded(), nil
}

// Stat is a HEAD of the blob's object; CreatedAt is its LastModified.
func (s *store) Stat(ctx context.Context, d digest.Digest) (artifacts.Info, error) {
	key, err := s.blobKey(d)
	if err != nil {
		return artifacts.Info{}, err
	}
	var oi minio.ObjectInfo
	err = s.opts.retry.do(ctx, func() error {
		var err error
		oi, err = s.core.StatObject(ctx, s.bucket, key, minio.StatObjectOptions{})
		return classify("HeadObject", key, err)
	})
	if err != nil {
		return artifacts.Info{}, fmt.Errorf("stat blob %s: %w", d, err)
	}
	return artifacts.Info{Digest: d, Size: oi.Size, CreatedAt: oi.LastModified}, nil
}

// Walk lists blobs/sha256/, skipping keys that are not a sha256 hex digest.
func (s *store) Walk(ctx context.Context, fn func(artifacts.Info) error) error {
	return s.list(ctx, s.opts.prefix+blobsDir, func(oi minio.ObjectInfo, rel string) error {
		d := digest.NewDigestFromEncoded(digest.SHA256, rel)
		if d.Validate() != nil {
			return nil
		}
		return fn(artifacts.Info{Digest: d, Size: oi.Size, CreatedAt: oi.LastModified})
	})
}

// list calls fn for every object below prefix (recursively), in key order,
// with the key relative to prefix. A listing error ends it, classified;
// fn's error ends it as is.
func (s *store) list(ctx context.Context, prefix string, fn func(oi minio.ObjectInfo, rel string) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops the lister goroutine when fn fails
	for oi := range s.core.Client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if oi.Err != nil {
			return fmt.Errorf("list %s: %w", prefix, classify("ListObjectsV2", prefix, oi.Err))
		}
		if strings.HasSuffix(oi.Key, "/") { // folder markers
			continue
		}
		if err := fn(oi, strings.TrimPrefix(oi.Key, prefix)); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// Delete checks that the blob exists (S3 deletes are idempotent), then
// removes it.
func (s *store) Delete(ctx context.Context, d digest.Digest) error {
	key, err := s.blobKey(d)
	if err != nil {
		return err
	}
	if _, err := s.Stat(ctx, d); err != nil {
		return fmt.Errorf("delete blob: %w", err)
	}
	if err := s.remove(ctx, key); err != nil {
		return fmt.Errorf("delete blob %s: %w", d, err)
	}
	return nil
}

// remove deletes the object key; a missing one is not an error.
func (s *store) remove(ctx context.Context, key string) error {
	return s.opts.retry.do(ctx, func() error {
		return classify("DeleteObject", key, s.core.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{}))
	})
}

// CleanStaging removes what writes left under ingest/ before cutoff:
// staged objects and multipart uploads never completed or aborted (a
// crashed writer). With dryRun it only counts them. Bytes counts staged
// objects only (S3 does not report the size of unfinished uploads cheaply).
func (s *store) CleanStaging(ctx context.Context, cutoff time.Time, dryRun bool) (n int, bytes int64, err error) {
	prefix := s.opts.prefix + ingestDir
	err = s.list(ctx, prefix, func(oi minio.ObjectInfo, _ string) error {
		if !oi.LastModified.Before(cutoff) {
			return nil
		}
		n++
		bytes += oi.Size
		if dryRun {
			return nil
		}
		return s.remove(ctx, oi.Key)
	})
	if err != nil {
		return n, bytes, fmt.Errorf("clean staging: %w", err)
	}
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for up := range s.core.Client.ListIncompleteUploads(lctx, s.bucket, prefix, true) {
		if up.Err != nil {
			if errdefs.IsNotFound(errorClass(up.Err)) {
				break
			}
			return n, bytes, fmt.Errorf("clean staging: %w", classify("ListMultipartUploads", prefix, up.Err))
		}
		if !up.Initiated.Before(cutoff) {
			continue
		}
		n++
		if dryRun {
			continue
		}
		err := s.opts.retry.do(ctx, func() error {
			err := classify("AbortMultipartUpload", up.Key, s.core.AbortMultipartUpload(ctx, s.bucket, up.Key, up.UploadID))
			if errdefs.IsNotFound(err) {
				return nil
			}
			return err
		})
		if err != nil {
			return n, bytes, fmt.Errorf("clean staging: %w", err)
		}
	}
	return n, bytes, nil
}

var _ artifacts.Store = (*store)(nil)
